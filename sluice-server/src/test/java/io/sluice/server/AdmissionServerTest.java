package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.api.Json;
import io.sluice.server.config.ServerConfig;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real server whose in-flight budget ({@code server.limits.max_inflight_bytes}) is full: the
 * next request waits for room, then is stored; the budget shows in {@code /metrics}.
 */
class AdmissionServerTest {
    private static final int BUDGET = 64 * 1024;

    /** How long the server lets a request wait for room before answering 503. */
    private static final Duration WAIT_FOR_ROOM = Duration.ofSeconds(30);

    @TempDir
    Path data;

    private SluiceServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() {
        server = SluiceServer.start(ServerConfig.defaults(data)
                .withPort(0)
                .withLimits(new ServerConfig.Limits(1 << 20, 1 << 20, 100_000, BUDGET)));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private String metrics() throws Exception {
        return http.send(
                        HttpRequest.newBuilder(URI.create(server.url() + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    @Test
    void closingTheServerDoesNotWaitForRequestsWaitingForRoom() throws Exception {
        URI uri = URI.create(server.url());
        try (Socket slow = new Socket(uri.getHost(), uri.getPort())) {
            slow.getOutputStream()
                    .write(("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                                    + "Content-Length: 60000\r\n\r\n{\"type\":\"slow\"}\n")
                            .getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> metrics().contains("sluice_http_inflight_bytes 60416.0"));
            CompletableFuture<HttpResponse<String>> waiting = http.sendAsync(
                    HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                            .header("Content-Type", "application/x-ndjson")
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"type\":\"t\",\"pad\":\"" + "y".repeat(10_000) + "\"}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !waiting.isDone());

            long started = System.nanoTime();
            server.close();
            server = null;

            // Well within the 30 s a request may wait for room: the waiting one is cut off,
            // unanswered (its producer sends it again), not waited for.
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(WAIT_FOR_ROOM);
            // Either the connection is cut (no answer) or the answer is 503 (Jetty may still
            // write one while it stops): never 200, and nothing of the request is stored.
            Integer status =
                    waiting.handle((r, e) -> r == null ? null : r.statusCode()).get(10, TimeUnit.SECONDS);
            assertThat((Object) status).as("answer to the request cut off").isNotEqualTo(200);
        }
        try (SluiceServer reopened =
                SluiceServer.start(ServerConfig.defaults(data).withPort(0))) {
            assertThat(reopened.log().store().lastOffset())
                    .as("the cut-off request stored nothing")
                    .isZero();
        }
    }

    @Test
    void aRequestWaitsWhileASlowProducersBodyHoldsTheBudgetAndIsStoredAfterIt() throws Exception {
        // A slow producer declares 60,000 bytes and sends the first line only: admitted, it
        // holds nearly the whole budget while the rest of its body is on its way.
        String first = "{\"id\":\"slow-1\",\"type\":\"slow\"}\n";
        String rest =
                "{\"id\":\"slow-2\",\"type\":\"slow\",\"pad\":\"" + "x".repeat(60_000 - first.length() - 40) + "\"}";
        rest = rest + " ".repeat(60_000 - first.length() - rest.length() - 1) + "\n";
        URI uri = URI.create(server.url());
        try (Socket slow = new Socket(uri.getHost(), uri.getPort())) {
            OutputStream out = slow.getOutputStream();
            out.write(
                    ("POST /v1/events HTTP/1.1\r\nHost: " + uri.getHost() + "\r\nContent-Type: application/x-ndjson\r\n"
                                    + "Content-Length: 60000\r\nConnection: close\r\n\r\n" + first)
                            .getBytes(StandardCharsets.UTF_8));
            out.flush();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> metrics().contains("sluice_http_inflight_bytes 60416.0")); // 59 KiB

            // Another producer's 10 KB finds no room: it waits, unread, instead of piling up.
            String other = "{\"id\":\"other\",\"type\":\"other\",\"pad\":\"" + "y".repeat(10_000) + "\"}\n";
            CompletableFuture<HttpResponse<String>> waiting = http.sendAsync(
                    HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                            .header("Content-Type", "application/x-ndjson")
                            .POST(HttpRequest.BodyPublishers.ofString(other))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> !waiting.isDone());
            assertThat(server.log().store().lastOffset()).isZero();

            // What the headers alone refuse does not wait for room.
            HttpResponse<String> wrongType = http.send(
                    HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                            .header("Content-Type", "text/plain")
                            .POST(HttpRequest.BodyPublishers.ofString(other))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(wrongType.statusCode()).isEqualTo(415);

            // The slow body completes: it is stored and answered, and the waiting one goes in.
            out.write(rest.getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = slow.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 200").contains("\"accepted\":2");

            HttpResponse<String> otherAnswer = waiting.get(10, TimeUnit.SECONDS);
            assertThat(otherAnswer.statusCode()).isEqualTo(200);
            assertThat(Json.parse(otherAnswer.body()).path("first_offset").asLong())
                    .isEqualTo(3);
        }
        assertThat(metrics()).contains("sluice_http_inflight_bytes 0.0").contains("sluice_http_busy_total 0.0");
    }
}
