package io.sluice.server.trigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's Winchester tour: the sandbox files fire a stream from two raw notifications. */
class WinchesterExampleTest {
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

    /**
     * The tour's sed: the notifications' day becomes yesterday, so that the stream is not past
     * its expiry ($last + 2d) by the server's clock (Winchester's own rule, which needed a time
     * service to replay old events).
     */
    private static String recent(String notifications) {
        java.time.LocalDate today = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
        return notifications
                .replace("2014-08-01", today.minusDays(1).toString())
                .replace("2014-08-02", today.toString());
    }

    @Test
    void theSandboxFiresTheInstancesDayAndTheUsageIsVerified() throws Exception {
        Path examples = Path.of("..", "examples", "winchester").toAbsolutePath().normalize();
        server = SluiceServer.start(ServerConfig.load(examples.resolve("sluice.yaml"))
                .withDataDir(dir.resolve("data"))
                .withPort(0));
        HttpResponse<String> sent = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                        .header("Content-Type", "application/x-ndjson")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                recent(Files.readString(examples.resolve("notifications.ndjson")))))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        String filter =
                URLEncoder.encode("{\"event_type\":\"compute.instance.exists.verified\"}", StandardCharsets.UTF_8);
        await().atMost(Duration.ofSeconds(20)).until(() -> !http.send(
                        HttpRequest.newBuilder(URI.create(server.url() + "/v1/events?filter=" + filter))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body()
                .isBlank());
        JsonNode streams = Json.parse(http.send(
                                HttpRequest.newBuilder(URI.create(server.url() + "/v1/streams"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body())
                .path("streams");
        assertThat(streams).hasSize(1);
        assertThat(streams.get(0).path("state").asText()).isEqualTo("completed");
        assertThat(streams.get(0).path("events").asInt()).isEqualTo(2);
    }
}
