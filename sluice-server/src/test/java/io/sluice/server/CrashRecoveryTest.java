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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real server process is killed with SIGKILL while producers append, three times on the same
 * data directory; after each restart every acknowledged event is there once, offsets are
 * gap-free, and nothing half-written is visible. Servers listen on port 0 and the test reads
 * the port they got from their log, so no port is released and bound again.
 */
class CrashRecoveryTest {
    private static final Pattern SERVING = Pattern.compile("Sluice serving on http://[^:]+:(\\d+)");

    @TempDir
    Path data;

    @TempDir
    Path logs;

    private final AtomicInteger starts = new AtomicInteger();

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** A server process and the port it serves on. */
    private record Server(Process process, int port) {}

    @Test
    void everyAcknowledgedEventSurvivesThreeRoundsOfKillDashNine() throws Exception {
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        // Requests whose answer was lost with the server: sent again in the next round, as a
        // producer would, so their ids may already be stored and must not be stored twice.
        Queue<List<String>> unanswered = new ConcurrentLinkedQueue<>();
        AtomicInteger nextRequest = new AtomicInteger();
        for (int round = 1; round <= 3; round++) {
            Server server = start();
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService producers = Executors.newFixedThreadPool(4);
            int before = acknowledged.size();
            try {
                for (int p = 0; p < 4; p++) {
                    producers.submit(() -> {
                        while (!stop.get()) {
                            List<String> ids = unanswered.poll();
                            if (ids == null) {
                                int request = nextRequest.getAndIncrement();
                                ids = new ArrayList<>();
                                for (int i = 0; i < 20; i++) {
                                    ids.add("r" + request + "-" + i);
                                }
                            }
                            try {
                                HttpResponse<String> r = postNdjson(server.port, padded(ids));
                                if (r.statusCode() == 200) {
                                    acknowledged.addAll(ids); // only what the server answered for
                                } else {
                                    unanswered.add(ids);
                                }
                            } catch (IOException | InterruptedException e) {
                                unanswered.add(ids); // the server is gone: unknown whether stored
                                return;
                            }
                        }
                    });
                }
                await("3,000 more events acknowledged under load in round " + round)
                        .atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(10))
                        .until(() -> acknowledged.size() >= before + 3_000);
                server.process.destroyForcibly(); // SIGKILL
                assertThat(server.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
            } finally {
                stop.set(true);
                producers.shutdown();
                producers.awaitTermination(30, TimeUnit.SECONDS);
                server.process.destroyForcibly();
            }
            assertEveryAcknowledgedEventStoredOnce(acknowledged);
        }
        assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(9_000);
    }

    /** Restarts on the data directory and reads the whole log back. */
    private void assertEveryAcknowledgedEventStoredOnce(Set<String> acknowledged) throws Exception {
        Server restarted = start();
        try {
            HttpResponse<String> all = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + restarted.port + "/v1/events"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            Map<String, Integer> stored = new HashMap<>();
            long expected = 1;
            for (String line : all.body().lines().toList()) {
                JsonNode e = Json.parse(line);
                assertThat(e.get("offset").asLong()).as("gap-free offsets").isEqualTo(expected++);
                assertThat(e.at("/event/pad").asText()).hasSize(200); // no half-written event
                stored.merge(e.at("/event/id").asText(), 1, Integer::sum);
            }
            assertThat(stored.keySet()).containsAll(acknowledged);
            assertThat(stored)
                    .allSatisfy((id, times) ->
                            assertThat(times).as("times id %s is stored", id).isEqualTo(1));
        } finally {
            restarted.process.destroy();
            restarted.process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static String padded(List<String> ids) {
        StringBuilder body = new StringBuilder();
        for (String id : ids) {
            body.append("{\"id\":\"")
                    .append(id)
                    .append("\",\"pad\":\"")
                    .append("x".repeat(200))
                    .append("\"}\n");
        }
        return body.toString();
    }

    /**
     * Startup does not grow with the log: with 10 million events in it, a server serves again
     * after a {@code kill -9} about as soon as one on an empty log does. The limit is relative to
     * that empty start measured here (five times it, and never under 5 s), so a loaded machine
     * slows both alike; reading the whole log or its ids at startup takes far longer. The log is
     * filled directly in SQLite (a real server wrote its schema first) with small events, as
     * startup reads only the store's meta rows and the ids not yet in its id table.
     */
    @Test
    void startupTimeDoesNotGrowWithTheLogTenMillionEvents() throws Exception {
        Path empty = Files.createDirectories(logs.resolve("empty-data"));
        long emptyStart = System.nanoTime();
        Server first = start(empty);
        Duration baseline = Duration.ofNanos(System.nanoTime() - emptyStart);
        first.process.destroyForcibly();
        first.process.waitFor(30, TimeUnit.SECONDS);
        Duration limit = Duration.ofSeconds(5).compareTo(baseline.multipliedBy(5)) > 0
                ? Duration.ofSeconds(5)
                : baseline.multipliedBy(5);

        long events = 10_000_000;
        SqliteBulkLoad.load(data, events, 1763800000000L);
        Server server = startWithin(limit);
        try {
            StringBuilder body = new StringBuilder();
            for (int i = 0; i < 200; i++) {
                body.append("{\"id\":\"late-").append(i).append("\",\"type\":\"late\"}\n");
            }
            HttpResponse<String> posted = postNdjson(server.port, body.toString());
            assertThat(posted.statusCode()).isEqualTo(200);
            assertThat(Json.parse(posted.body()).get("last_offset").asLong()).isEqualTo(events + 200);
            server.process.destroyForcibly(); // SIGKILL
            assertThat(server.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            server.process.destroyForcibly();
        }
        Server restarted = startWithin(limit);
        try {
            HttpResponse<String> tail = http.send(
                    HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + restarted.port + "/v1/events?after=" + events))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            List<String> lines = tail.body().lines().toList();
            assertThat(lines).hasSize(200);
            assertThat(Json.parse(lines.getFirst()).at("/event/id").asText()).isEqualTo("late-0");
            assertThat(Json.parse(lines.getLast()).get("offset").asLong()).isEqualTo(events + 200);
        } finally {
            restarted.process.destroy();
            restarted.process.waitFor(30, TimeUnit.SECONDS);
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

    private Server startWithin(Duration limit) throws IOException {
        long started = System.nanoTime();
        Server server = start();
        assertThat(Duration.ofNanos(System.nanoTime() - started))
                .as("time to serve (the empty log's start times five, at least 5 s)")
                .isLessThan(limit);
        return server;
    }

    private Server start() throws IOException {
        return start(data);
    }

    /** Starts a server process on port 0 and waits until it serves, reading its port from its log. */
    private Server start(Path dataDir) throws IOException {
        ServerProcess p = ServerProcess.start(logs, starts.incrementAndGet(), "--data", dataDir.toString());
        return new Server(p.process(), p.port());
    }
}
