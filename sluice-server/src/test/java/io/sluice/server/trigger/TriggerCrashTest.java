package io.sluice.server.trigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.server.ServerProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 5 of the triggers: a server is killed with SIGKILL during a burst that fills and
 * fires streams, and restarted on the same data. Afterwards every stream is exact: one per
 * instance, with all of its events, fired once (its pipeline's event is in the log once, naming
 * that stream), none lost and none left half done.
 */
class TriggerCrashTest {
    private static final int INSTANCES = 200;
    private static final int EVENTS_EACH = 5;

    @TempDir
    Path dir;

    private ServerProcess server;
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.kill();
        }
    }

    private JsonNode get(String path) throws Exception {
        return Json.parse(http.send(
                        HttpRequest.newBuilder(URI.create(server.url() + path)).build(),
                        HttpResponse.BodyHandlers.ofString())
                .body());
    }

    private int completed() throws Exception {
        return get("/v1/streams?state=completed&limit=10000").path("streams").size();
    }

    @Test
    void streamsAndFiredCountsAreExactAfterAKillMidBurst() throws Exception {
        Files.writeString(dir.resolve("triggers.yaml"), """
                - name: per_instance
                  distinguished_by: [instance_id]
                  expiration: "$last + 1d"
                  fire_pipeline: fire
                  match_criteria: [{event_type: "compute.instance.*"}]
                  fire_criteria: [{event_type: compute.instance.delete.end}]
                """);
        Files.writeString(dir.resolve("pipelines.yaml"), "fire:\n  - firing\n");
        Files.writeString(
                dir.resolve("winchester.yaml"),
                "trigger_definitions: triggers.yaml\npipeline_config: pipelines.yaml\n" + "pipeline_handlers: {firing: "
                        + FiringHandler.class.getName() + "}\n");
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, "envelope: winchester\nwinchester: winchester.yaml\n");

        server = ServerProcess.start(config, dir, 1);
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        StringBuilder burst = new StringBuilder();
        for (int i = 0; i < INSTANCES; i++) {
            for (int e = 0; e < EVENTS_EACH; e++) {
                String type = e == EVENTS_EACH - 1 ? "compute.instance.delete.end" : "compute.instance.update";
                burst.append("{\"message_id\":\"m-")
                        .append(i)
                        .append('-')
                        .append(e)
                        .append("\",\"event_type\":\"")
                        .append(type)
                        .append("\",\"timestamp\":\"")
                        .append(now)
                        .append("\",\"instance_id\":\"i-")
                        .append(i)
                        .append("\"}\n");
            }
        }
        HttpResponse<String> sent = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                        .header("Content-Type", "application/x-ndjson")
                        .POST(HttpRequest.BodyPublishers.ofString(burst.toString()))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> completed() >= 20);
        server.kill();

        server = ServerProcess.start(config, dir, 2);
        await().atMost(Duration.ofSeconds(120)).until(() -> completed() == INSTANCES);
        JsonNode all = get("/v1/streams?limit=10000").path("streams");
        assertThat(all).as("one stream per instance, none in another state").hasSize(INSTANCES);
        Set<String> instances = new HashSet<>();
        Map<String, Long> streamOf = new HashMap<>();
        for (JsonNode s : all) {
            assertThat(s.path("state").asText()).isEqualTo("completed");
            String instance =
                    s.path("distinguishing_traits").path("instance_id").asText();
            assertThat(instances.add(instance))
                    .as("a second stream for %s", instance)
                    .isTrue();
            streamOf.put(instance, s.path("id").asLong());
            JsonNode shown = get("/v1/streams/" + s.path("id").asLong());
            assertThat(shown.path("event_list")).as("events of %s", instance).hasSize(EVENTS_EACH);
        }
        JsonNode fired = Json.parse("["
                + String.join(
                        ",",
                        http.send(
                                        HttpRequest.newBuilder(
                                                        URI.create(server.url() + "/v1/events?limit=100000&filter="
                                                                + java.net.URLEncoder.encode(
                                                                        "{\"event_type\":\"instance.fired\"}",
                                                                        java.nio.charset.StandardCharsets.UTF_8)))
                                                .build(),
                                        HttpResponse.BodyHandlers.ofString())
                                .body()
                                .lines()
                                .toList())
                + "]");
        assertThat(fired).as("each stream's pipeline event, once").hasSize(INSTANCES);
        for (JsonNode line : fired) {
            JsonNode event = line.path("event");
            assertThat(event.path("events").asInt()).isEqualTo(EVENTS_EACH);
            assertThat(event.path("stream_id").asLong())
                    .as(
                            "the pipeline event of %s names its one stream",
                            event.path("instance_id").asText())
                    .isEqualTo(streamOf.get(event.path("instance_id").asText()));
        }
    }
}
