package io.sluice.server.trigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code winchester:} on a real server: events over HTTP fill streams; /v1/streams shows, retries them. */
class WinchesterServerTest {
    @TempDir
    Path dir;

    private SluiceServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private JsonNode call(String method, String path, String body, int expected) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path));
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(expected);
        return Json.parse(r.body());
    }

    @Test
    void eventsFillStreamsThatFireAndFailedOnesAreRetried() throws Exception {
        Recording.reset();
        Files.writeString(dir.resolve("triggers.yaml"), """
                - name: per_instance
                  distinguished_by: [instance_id]
                  expiration: "$last + 1h"
                  fire_pipeline: fire
                  match_criteria: [{event_type: "compute.instance.*"}]
                  fire_criteria: [{event_type: compute.instance.delete.end}]
                """);
        Files.writeString(dir.resolve("pipelines.yaml"), "fire:\n  - logger\n  - flaky\n");
        Files.writeString(
                dir.resolve("winchester.yaml"),
                "trigger_definitions: triggers.yaml\n"
                        + "pipeline_config: pipelines.yaml\ndatabase: {url: \"mysql://winchester@localhost/winchester\"}\n"
                        + "pipeline_handlers:\n  logger: winchester.pipeline_handler:LoggingHandler\n  flaky: "
                        + Recording.Flaky.class.getName() + "\n");
        Files.writeString(dir.resolve("sluice.yaml"), "envelope: winchester\nwinchester: winchester.yaml\n");
        server =
                SluiceServer.start(ServerConfig.load(dir.resolve("sluice.yaml")).withPort(0));

        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        call(
                "POST",
                "/v1/events",
                "[{\"event_type\":\"compute.instance.create.end\",\"instance_id\":\"i-1\",\"timestamp\":\""
                        + now
                        + "\"},{\"event_type\":\"compute.instance.create.end\",\"instance_id\":\"i-2\",\"timestamp\":\""
                        + now + "\"}]",
                200);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> call("GET", "/v1/streams?state=active", null, 200)
                                .path("streams")
                                .size()
                        == 2);

        // Winchester's find_streams filters: distinguishing traits, first event older, last younger
        assertThat(call("GET", "/v1/streams?trait.instance_id=i-2", null, 200).path("streams"))
                .singleElement()
                .satisfies(st -> assertThat(st.path("distinguishing_traits")
                                .path("instance_id")
                                .asText())
                        .isEqualTo("i-2"));
        assertThat(call("GET", "/v1/streams?trait.instance_id=i-9", null, 200).path("streams"))
                .isEmpty();
        assertThat(call("GET", "/v1/streams?older_than=2000-01-01T00:00:00Z", null, 200)
                        .path("streams"))
                .isEmpty();
        assertThat(call("GET", "/v1/streams?younger_than=2000-01-01T00:00:00Z&trigger=per_instance", null, 200)
                        .path("streams"))
                .hasSize(2);
        assertThat(call("GET", "/v1/streams?older_than=2999-01-01T00:00&limit=1", null, 200)
                        .path("streams"))
                .hasSize(1);
        assertThat(call("GET", "/v1/streams?older_than=yesterday", null, 400)
                        .path("error")
                        .asText())
                .contains("older_than must be an ISO-8601 time");

        Recording.failing = true;
        call(
                "POST",
                "/v1/events",
                "{\"event_type\":\"compute.instance.delete.end\",\"instance_id\":\"i-1\",\"timestamp\":\"" + now
                        + "\"}",
                200);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> call("GET", "/v1/streams?state=error&trigger=per_instance", null, 200)
                                .path("streams")
                                .size()
                        == 1);
        JsonNode failed = call("GET", "/v1/streams?state=error", null, 200)
                .path("streams")
                .get(0);
        long id = failed.path("id").asLong();
        assertThat(failed.path("distinguishing_traits").path("instance_id").asText())
                .isEqualTo("i-1");
        JsonNode shown = call("GET", "/v1/streams/" + id, null, 200);
        assertThat(shown.path("event_list")).hasSize(2);
        assertThat(shown.path("last_error").asText()).contains("flaky on purpose");

        call("POST", "/v1/streams/" + id + "/retry", null, 409); // fails again
        Recording.failing = false;
        call("POST", "/v1/streams/" + id + "/retry", null, 200);
        assertThat(call("GET", "/v1/streams/" + id, null, 200).path("state").asText())
                .isEqualTo("completed");
        call("POST", "/v1/streams/" + id + "/retry", null, 409); // completed: nothing to retry
        call("POST", "/v1/streams/999/retry", null, 404);
        call("GET", "/v1/streams/999", null, 404);
        call("GET", "/v1/streams?state=nope", null, 400);
        assertThat(call("GET", "/v1/triggers", null, 200)
                        .path("triggers")
                        .get(0)
                        .path("name")
                        .asText())
                .isEqualTo("per_instance");
    }

    @Test
    void withoutWinchesterTheStreamEndpointsSaySo() throws Exception {
        server = SluiceServer.start(ServerConfig.defaults(dir.resolve("data")).withPort(0));
        assertThat(call("GET", "/v1/streams", null, 404).path("error").asText()).contains("winchester");
    }
}
