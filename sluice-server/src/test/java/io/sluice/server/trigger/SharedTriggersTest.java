package io.sluice.server.trigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.server.ServerProcess;
import io.sluice.store.postgres.TestPostgres;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Triggers at scale: two server processes on one PostgreSQL database share the pipeline work of
 * the streams made due (each run exactly once, by either), a process killed with SIGKILL in the
 * middle of a pipeline leaves its streams to the other after the claim's term, and events of the
 * same streams arriving at both processes make exactly one stream each with all its events.
 */
class SharedTriggersTest {
    private final String schema = TestPostgres.newSchema();
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<ServerProcess> servers = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void stop() throws Exception {
        for (ServerProcess s : servers) {
            s.kill();
        }
        TestPostgres.drop(schema);
    }

    /** The configuration both processes run: one trigger per instance, fired by RunRecorder. */
    private Path config(String fireCriteria, String params) throws Exception {
        Files.writeString(dir.resolve("triggers.yaml"), """
                - name: per_instance
                  distinguished_by: [instance_id]
                  expiration: "$last + 1d"
                  fire_pipeline: fire
                  match_criteria: [{event_type: "compute.instance.*"}]
                  fire_criteria: [%s]
                """.formatted(fireCriteria));
        Files.writeString(dir.resolve("pipelines.yaml"), "fire:\n  - {name: ran, params: " + params + "}\n");
        Files.writeString(dir.resolve("winchester.yaml"), """
                trigger_definitions: triggers.yaml
                pipeline_config: pipelines.yaml
                pipeline_handlers: {ran: %s}
                pipeline_worker_batch_size: 20
                pipeline_worker_delay: 0.2
                """.formatted(RunRecorder.class.getName()));
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, """
                envelope: winchester
                winchester: winchester.yaml
                store: {type: postgres, url: "%s", schema: %s}
                """.formatted(TestPostgres.url(), schema));
        return config;
    }

    private ServerProcess start(Path config) throws Exception {
        ServerProcess s = ServerProcess.start(config, dir, servers.size() + 1);
        servers.add(s);
        return s;
    }

    private static String event(String id, String type, String instance, String time) {
        return "{\"message_id\":\"" + id + "\",\"event_type\":\"" + type + "\",\"instance_id\":\"" + instance
                + "\",\"timestamp\":\"" + time + "\"}\n";
    }

    /** One instance's delete.end each: as many streams, each ready to fire at once. */
    private static String readyStreams(int streams) {
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < streams; i++) {
            all.append(event("d-" + i, "compute.instance.delete.end", "i-" + i, now));
        }
        return all.toString();
    }

    /**
     * Waits until every stream has settled as completed: a run's event is appended before its
     * stream settles, so every run there will be is in the log then.
     */
    private void awaitCompleted(ServerProcess server, int streams) {
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> get(server, "/v1/streams?state=completed&limit=10000")
                                .path("streams")
                                .size()
                        == streams);
    }

    private void post(ServerProcess server, String ndjson) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                        .header("Content-Type", "application/x-ndjson")
                        .POST(HttpRequest.BodyPublishers.ofString(ndjson))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    /** Every pipeline run, as the {@code stream.ran} events in the log. */
    private List<JsonNode> runs(ServerProcess server) throws Exception {
        String filter = URLEncoder.encode("{\"event_type\":\"stream.ran\"}", StandardCharsets.UTF_8);
        List<JsonNode> out = new ArrayList<>();
        long after = 0;
        while (true) {
            List<String> lines = http.send(
                            HttpRequest.newBuilder(URI.create(server.url() + "/v1/events?limit=10000&after=" + after
                                            + "&filter=" + filter))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body()
                    .lines()
                    .filter(l -> !l.isBlank())
                    .toList();
            if (lines.isEmpty()) {
                return out;
            }
            for (String l : lines) {
                JsonNode rec = Json.parse(l);
                after = rec.path("offset").asLong();
                out.add(rec.path("event"));
            }
        }
    }

    private JsonNode get(ServerProcess server, String path) throws Exception {
        return Json.parse(http.send(
                        HttpRequest.newBuilder(URI.create(server.url() + path)).build(),
                        HttpResponse.BodyHandlers.ofString())
                .body());
    }

    @Test
    void tenThousandStreamsMadeReadyAtOnceAreEachFiredOnceByOneOfTwoProcesses() throws Exception {
        Path config = config("{event_type: compute.instance.delete.end}", "{}");
        ServerProcess a = start(config);
        ServerProcess b = start(config);
        int streams = 10_000;
        post(a, readyStreams(streams));
        await().atMost(Duration.ofSeconds(240))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> runs(a).size() >= streams);
        awaitCompleted(b, streams);
        List<JsonNode> runs = runs(b);
        Map<Long, Integer> perStream = new HashMap<>();
        Map<Long, Integer> perProcess = new HashMap<>();
        for (JsonNode r : runs) {
            perStream.merge(r.path("stream_id").asLong(), 1, Integer::sum);
            perProcess.merge(r.path("pid").asLong(), 1, Integer::sum);
        }
        assertThat(perStream).as("streams fired").hasSize(streams);
        assertThat(perStream.values()).as("each fired once").containsOnly(1);
        assertThat(perProcess).as("runs by process: %s", perProcess).hasSize(2);
        assertThat(perProcess.keySet())
                .containsExactlyInAnyOrder(a.process().pid(), b.process().pid());
        JsonNode listed = get(a, "/v1/streams?state=completed&limit=10000").path("streams");
        Set<String> firedBy = new HashSet<>();
        listed.forEach(s -> firedBy.add(s.path("fired_by").asText()));
        assertThat(firedBy)
                .as("GET /v1/streams names the process that fired each")
                .hasSize(2)
                .allMatch(o -> o.startsWith(a.process().pid() + "@")
                        || o.startsWith(b.process().pid() + "@"));
    }

    @Test
    void aProcessKilledMidPipelineLeavesItsStreamsToTheOtherWhichFiresThemOnce() throws Exception {
        Path markers = Files.createDirectory(dir.resolve("markers"));
        Path config = config(
                "{event_type: compute.instance.delete.end}",
                "{sleep_ms: 1500, markers: \"" + markers.toString().replace("\\", "/") + "\"}");
        ServerProcess a = start(config);
        ServerProcess b = start(config);
        int streams = 8;
        post(b, readyStreams(streams));
        // the first process seen mid-pipeline is killed there
        Path started = await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(20))
                .until(
                        () -> {
                            try (var l = Files.list(markers)) {
                                return l.findFirst().orElse(null);
                            }
                        },
                        p -> p != null);
        long victim = Long.parseLong(started.getFileName().toString().split("-")[1]);
        long stream = Long.parseLong(started.getFileName().toString().split("-")[2]);
        ServerProcess killed = victim == a.process().pid() ? a : b;
        ServerProcess survivor = killed == a ? b : a;
        killed.kill();
        servers.remove(killed);

        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> runs(survivor).size() >= streams);
        awaitCompleted(survivor, streams);
        List<JsonNode> runs = runs(survivor);
        Map<Long, Integer> perStream = new HashMap<>();
        for (JsonNode r : runs) {
            perStream.merge(r.path("stream_id").asLong(), 1, Integer::sum);
        }
        assertThat(perStream).hasSize(streams);
        assertThat(perStream.values()).as("each fired once in the end").containsOnly(1);
        JsonNode shown = get(survivor, "/v1/streams/" + stream);
        assertThat(shown.path("state").asText()).isEqualTo("completed");
        assertThat(shown.path("fired_by").asText())
                .as("the stream the killed process was running was fired by the other")
                .startsWith(survivor.process().pid() + "@");
        assertThat(shown.path("attempts").asInt()).as("its second run").isEqualTo(2);
    }

    @Test
    void eventsOfTheSameStreamsArrivingAtBothProcessesMakeOneExactStreamEach() throws Exception {
        Path config = config("{event_type: compute.instance.update, number: 4}", "{}");
        ServerProcess a = start(config);
        ServerProcess b = start(config);
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        int streams = 1_000;
        List<CompletableFuture<Void>> sending = new ArrayList<>();
        for (ServerProcess to : List.of(a, b)) {
            sending.add(CompletableFuture.runAsync(() -> {
                try {
                    for (int round = 0; round < 2; round++) { // two events of each stream from each process
                        StringBuilder batch = new StringBuilder();
                        for (int i = 0; i < streams; i++) {
                            String id = "u-" + i + "-" + (to == a ? "a" : "b") + round;
                            batch.append(event(id, "compute.instance.update", "i-" + i, now));
                            if (batch.length() > 40_000) {
                                post(to, batch.toString());
                                batch.setLength(0);
                            }
                        }
                        post(to, batch.toString());
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        CompletableFuture.allOf(sending.toArray(CompletableFuture[]::new)).join();
        await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> runs(a).size() >= streams);
        awaitCompleted(b, streams);
        Map<String, Integer> perInstance = new HashMap<>();
        for (JsonNode r : runs(b)) {
            assertThat(r.path("events").asInt())
                    .as("events of %s", r.path("instance_id").asText())
                    .isEqualTo(4);
            perInstance.merge(r.path("instance_id").asText(), 1, Integer::sum);
        }
        assertThat(perInstance).hasSize(streams);
        assertThat(perInstance.values())
                .as("one stream, fired once, per instance")
                .containsOnly(1);
        assertThat(get(a, "/v1/streams?limit=10000").path("streams")).hasSize(streams);
    }
}
