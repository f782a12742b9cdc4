package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.store.sqlite.SqliteBulkLoad;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real server process is killed with SIGKILL while producers append; after a restart every
 * acknowledged event is there, offsets are gap-free, and nothing half-written is visible.
 */
class CrashRecoveryTest {
    @TempDir
    Path data;

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void everyAcknowledgedEventSurvivesKillDashNine() throws Exception {
        int port = freePort();
        Process server = startServer(port);
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService producers = Executors.newFixedThreadPool(4);
        try {
            waitUntilServing(port);
            for (int p = 0; p < 4; p++) {
                int producer = p;
                producers.submit(() -> {
                    int request = 0;
                    while (!stop.get()) {
                        StringBuilder body = new StringBuilder();
                        List<String> ids = new ArrayList<>();
                        for (int i = 0; i < 20; i++) {
                            String id = "p" + producer + "-" + request + "-" + i;
                            ids.add(id);
                            body.append("{\"id\":\"")
                                    .append(id)
                                    .append("\",\"pad\":\"")
                                    .append("x".repeat(200))
                                    .append("\"}\n");
                        }
                        request++;
                        try {
                            HttpResponse<String> r = postNdjson(port, body.toString());
                            if (r.statusCode() == 200) {
                                acknowledged.addAll(ids); // only what the server answered for
                            }
                        } catch (IOException | InterruptedException e) {
                            return; // the server is gone
                        }
                    }
                });
            }
            await("3,000 events acknowledged under load")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(10))
                    .until(() -> acknowledged.size() >= 3_000);
            server.destroyForcibly(); // SIGKILL
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            stop.set(true);
            producers.shutdown();
            producers.awaitTermination(30, TimeUnit.SECONDS);
            server.destroyForcibly();
        }
        assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(3_000);

        Process restarted = startServer(port);
        try {
            long started = System.nanoTime();
            waitUntilServing(port);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
            HttpResponse<String> all = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/events"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            Set<String> stored = new HashSet<>();
            long expected = 1;
            for (String line : all.body().lines().toList()) {
                JsonNode e = Json.parse(line);
                assertThat(e.get("offset").asLong()).as("gap-free offsets").isEqualTo(expected++);
                assertThat(e.at("/event/pad").asText()).hasSize(200); // no half-written event
                stored.add(e.at("/event/id").asText());
            }
            assertThat(stored).containsAll(acknowledged);
        } finally {
            restarted.destroy();
            restarted.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /**
     * The bar: serving again within 5 s of a {@code kill -9} with 10 million events in
     * the log. The log is filled directly in SQLite (a real server wrote its schema first) with
     * small events, as startup reads only the store's meta rows and the ids not yet in its id
     * table.
     */
    @Test
    void servesWithinFiveSecondsOfARestartWithTenMillionEvents() throws Exception {
        long events = 10_000_000;
        SqliteBulkLoad.load(data, events, 1763800000000L);
        int port = freePort();
        Process server = startServer(port);
        try {
            assertServingWithin(port, Duration.ofSeconds(5));
            StringBuilder body = new StringBuilder();
            for (int i = 0; i < 200; i++) {
                body.append("{\"id\":\"late-").append(i).append("\",\"type\":\"late\"}\n");
            }
            HttpResponse<String> posted = postNdjson(port, body.toString());
            assertThat(posted.statusCode()).isEqualTo(200);
            assertThat(Json.parse(posted.body()).get("last_offset").asLong()).isEqualTo(events + 200);
            server.destroyForcibly(); // SIGKILL
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            server.destroyForcibly();
        }
        Process restarted = startServer(port);
        try {
            assertServingWithin(port, Duration.ofSeconds(5));
            HttpResponse<String> tail = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/events?after=" + events))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            List<String> lines = tail.body().lines().toList();
            assertThat(lines).hasSize(200);
            assertThat(Json.parse(lines.getFirst()).at("/event/id").asText()).isEqualTo("late-0");
            assertThat(Json.parse(lines.getLast()).get("offset").asLong()).isEqualTo(events + 200);
        } finally {
            restarted.destroy();
            restarted.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private HttpResponse<String> postNdjson(int port, String body) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/events"))
                        .header("Content-Type", "application/x-ndjson")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Waits for /healthz and checks it answered within {@code limit} of the process starting. */
    private void assertServingWithin(int port, Duration limit) {
        long started = System.nanoTime();
        waitUntilServing(port);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(limit);
    }

    private Process startServer(int port) throws IOException {
        return new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        "io.sluice.server.Main",
                        "server",
                        "--data",
                        data.toString(),
                        "--port",
                        String.valueOf(port))
                .redirectErrorStream(true)
                .redirectOutput(
                        data.resolveSibling(data.getFileName() + "-server.log").toFile())
                .start();
    }

    private void waitUntilServing(int port) {
        await("the server serving on port " + port)
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptionsInstanceOf(IOException.class)
                .until(() -> http.send(
                                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
                                                .build(),
                                        HttpResponse.BodyHandlers.ofString())
                                .statusCode()
                        == 200);
    }

    private static int freePort() throws IOException {
        try (var socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
