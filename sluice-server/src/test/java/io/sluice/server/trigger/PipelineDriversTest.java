package io.sluice.server.trigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.sluice.api.Json;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code shell} and {@code webhook} pipeline handlers on a real server: a fired stream's
 * events go through a real command and a real HTTP endpoint; a failing endpoint fails the
 * pipeline, and a retry calls it again.
 */
class PipelineDriversTest {
    @TempDir
    Path dir;

    private SluiceServer server;
    private HttpServer hook;
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<JsonNode> posted = new CopyOnWriteArrayList<>();
    private final AtomicInteger status = new AtomicInteger(500);

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (hook != null) {
            hook.stop(0);
        }
    }

    private JsonNode call(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path));
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return Json.parse(
                http.send(b.build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    @Test
    void shellAndWebhookHandlersRunInThePipelineAndFailItWhenTheyFail() throws Exception {
        hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hook.createContext("/hook", ex -> {
            posted.add(Json.parse(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            ex.sendResponseHeaders(status.get(), -1);
            ex.close();
        });
        hook.start();
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        Path script = dir.resolve("enrich.sh");
        // reads the events on stdin (counting them) and prints them plus one new event
        Files.writeString(script, """
                #!/bin/sh
                n=$(cat | grep -o '"message_id"' | wc -l | tr -d ' ')
                printf '[{"message_id":"summary-%s","event_type":"instance.summary","timestamp":"%s","count":%s}]' \
                  "$SLUICE_STREAM_ID" "NOW" "$n"
                """.replace("NOW", now));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(dir.resolve("triggers.yaml"), """
                - name: per_instance
                  distinguished_by: [instance_id]
                  expiration: "$last + 1h"
                  fire_pipeline: fire
                  match_criteria: [{event_type: "compute.instance.*"}]
                  fire_criteria: [{event_type: compute.instance.delete.end}]
                """);
        Files.writeString(
                dir.resolve("pipelines.yaml"), """
                fire:
                  - {name: enrich, params: {command: ./enrich.sh}}
                  - {name: notify, params: {url: "http://127.0.0.1:%d/hook", timeout: 5s}}
                """.formatted(hook.getAddress().getPort()));
        Files.writeString(dir.resolve("winchester.yaml"), """
                trigger_definitions: triggers.yaml
                pipeline_config: pipelines.yaml
                pipeline_handlers: {enrich: shell, notify: webhook}
                """);
        Files.writeString(dir.resolve("sluice.yaml"), "envelope: winchester\nwinchester: winchester.yaml\n");
        server =
                SluiceServer.start(ServerConfig.load(dir.resolve("sluice.yaml")).withPort(0));

        call(
                "POST",
                "/v1/events",
                ("[{\"event_type\":\"compute.instance.create.end\",\"instance_id\":\"i-1\",\"timestamp\":\"T\"},"
                                + "{\"event_type\":\"compute.instance.delete.end\",\"instance_id\":\"i-1\",\"timestamp\":\"T\"}]")
                        .replace("T", now));
        await().atMost(Duration.ofSeconds(20))
                .until(() -> call("GET", "/v1/streams?state=error", null)
                                .path("streams")
                                .size()
                        == 1);
        JsonNode failed =
                call("GET", "/v1/streams?state=error", null).path("streams").get(0);
        long id = failed.path("id").asLong();
        assertThat(call("GET", "/v1/streams/" + id, null).path("last_error").asText())
                .contains("HTTP 500");
        assertThat(posted).hasSize(1);
        JsonNode body = posted.get(0);
        assertThat(body.path("stream_id").asText()).isEqualTo(Long.toString(id));
        assertThat(body.path("trigger").asText()).isEqualTo("per_instance");
        assertThat(body.path("events")).hasSize(1); // what the command printed
        assertThat(body.path("events").get(0).path("count").asInt()).isEqualTo(2);
        // rolled back: the command's new event is not in the log
        assertThat(server.log()
                        .store()
                        .read(0, 100, e -> e.json().contains("summary-"))
                        .events())
                .isEmpty();

        status.set(204);
        call("POST", "/v1/streams/" + id + "/retry", null);
        assertThat(call("GET", "/v1/streams/" + id, null).path("state").asText())
                .isEqualTo("completed");
        assertThat(posted).hasSize(2);
        // committed: the command's new event is in the log
        await().atMost(Duration.ofSeconds(10))
                .until(() -> server.log()
                                .store()
                                .read(0, 100, e -> e.json().contains("\"summary-" + id + "\""))
                                .events()
                                .size()
                        == 1);
    }
}
