package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.api.Json;
import io.sluice.server.config.ServerConfig;
import io.sluice.store.postgres.TestPostgres;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two servers on one PostgreSQL database: events posted to either are streamed by both, in
 * offset order, none skipped, and consumers on one see what was posted to the other.
 */
class SharedPostgresServersTest {
    private final String schema = TestPostgres.newSchema();
    private final HttpClient http = HttpClient.newHttpClient();
    private SluiceServer a;
    private SluiceServer b;

    @BeforeEach
    void start() {
        ServerConfig config = ServerConfig.defaults(Path.of("unused"))
                .withStore(ServerConfig.Store.postgres(TestPostgres.url(), schema))
                .withPort(0);
        a = SluiceServer.start(config);
        b = SluiceServer.start(config);
    }

    @AfterEach
    void stop() {
        a.close();
        b.close();
        TestPostgres.drop(schema);
    }

    private HttpResponse<String> post(SluiceServer server, String ndjson) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                        .header("Content-Type", "application/x-ndjson")
                        .POST(HttpRequest.BodyPublishers.ofString(ndjson))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(SluiceServer server, String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(server.url() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Polls a server's metrics every 50 ms until a line reads {@code line}, for at most 30 seconds. */
    private void awaitMetric(SluiceServer server, String line) {
        await("metric line '" + line + "'")
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> get(server, "/metrics").body().lines().anyMatch(line::equals));
    }

    /** The SSE ids of the first {@code n} events streamed by {@code server}. */
    private CompletableFuture<List<Long>> streamIds(SluiceServer server, int n) throws Exception {
        HttpResponse<InputStream> response = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/stream?from=earliest"))
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        return CompletableFuture.supplyAsync(() -> {
            List<Long> ids = new ArrayList<>();
            try (InputStream body = response.body()) {
                BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
                String line;
                while (ids.size() < n && (line = reader.readLine()) != null) {
                    if (line.startsWith("id:")) {
                        ids.add(Long.parseLong(line.substring(3).strip()));
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return ids;
        });
    }

    @Test
    void bothServersStreamEveryEventInOffsetOrderWhileBothAreWritten() throws Exception {
        int producers = 4;
        int requests = 25;
        int perRequest = 5;
        int total = producers * requests * perRequest;
        CompletableFuture<List<Long>> fromA = streamIds(a, total);
        CompletableFuture<List<Long>> fromB = streamIds(b, total);
        ExecutorService pool = Executors.newFixedThreadPool(producers);
        try {
            List<Future<?>> sent = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                SluiceServer target = p % 2 == 0 ? a : b;
                int producer = p;
                sent.add(pool.submit(() -> {
                    for (int r = 0; r < requests; r++) {
                        StringBuilder body = new StringBuilder();
                        for (int i = 0; i < perRequest; i++) {
                            body.append("{\"type\":\"load\",\"p\":")
                                    .append(producer)
                                    .append("}\n");
                        }
                        assertThat(post(target, body.toString()).statusCode()).isEqualTo(200);
                    }
                    return null;
                }));
            }
            for (Future<?> f : sent) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdown();
        }
        List<Long> expected = new ArrayList<>();
        for (long o = 1; o <= total; o++) {
            expected.add(o);
        }
        assertThat(fromA.get(60, TimeUnit.SECONDS)).containsExactlyElementsOf(expected);
        assertThat(fromB.get(60, TimeUnit.SECONDS)).containsExactlyElementsOf(expected);
    }

    @Test
    void metricsShowTheSharedStoresHeadLockCommitsAndPool() throws Exception {
        assertThat(post(a, "{\"type\":\"one\"}\n{\"type\":\"two\"}").statusCode())
                .isEqualTo(200);

        String metrics = get(a, "/metrics").body();
        assertThat(metrics)
                .contains("sluice_postgres_head_lock_seconds_count")
                .contains("sluice_postgres_commit_seconds_count 1\n")
                .contains("sluice_postgres_connections{state=\"active\"}")
                .contains("sluice_postgres_connections{state=\"idle\"}")
                .contains("sluice_postgres_connections{state=\"pending\"} 0.0")
                .contains("sluice_postgres_listener_reconnects_total 0.0")
                .doesNotContain("sluice_sqlite_");
        assertThat(get(b, "/metrics").body()).contains("sluice_postgres_commit_seconds_count 0\n");
    }

    @Test
    void aConsumerWaitingOnOneServerGetsWhatIsPostedToTheOther() throws Exception {
        post(a, "{\"type\":\"first\"}");
        assertThat(Json.parse(get(a, "/v1/consumers/worker/next?max=10&wait=1").body())
                        .path("events")
                        .size())
                .isEqualTo(1);
        CompletableFuture<HttpResponse<String>> waiting = http.sendAsync(
                HttpRequest.newBuilder(URI.create(a.url() + "/v1/consumers/worker/next?max=10&wait=20"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        awaitMetric(a, "sluice_consumers_waiting 1.0"); // the long poll is waiting on server a
        long started = System.nanoTime();
        assertThat(post(b, "{\"type\":\"second\"}").statusCode()).isEqualTo(200);
        HttpResponse<String> got = waiting.get(60, TimeUnit.SECONDS);
        // Woken by the other server's append: a poll nobody wakes ends after its 20 s with nothing.
        assertThat(got.body()).contains("\"second\"");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isLessThan(19_000);
    }

    @Test
    void oneConsumerNameServedByBothServersGetsEachEventOnce() throws Exception {
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            body.append("{\"type\":\"job\",\"n\":").append(i).append("}\n");
        }
        assertThat(post(a, body.toString()).statusCode()).isEqualTo(200);
        List<Long> received = new ArrayList<>();
        boolean fromA = true;
        while (true) { // alternate between the servers, acknowledging each batch where it came from
            SluiceServer server = fromA ? a : b;
            fromA = !fromA;
            var events = Json.parse(get(server, "/v1/consumers/jobs/next?max=7").body())
                    .path("events");
            if (events.isEmpty()) {
                break;
            }
            StringBuilder offsets = new StringBuilder();
            for (var e : events) {
                received.add(e.path("offset").asLong());
                offsets.append(offsets.isEmpty() ? "" : ",")
                        .append(e.path("offset").asLong());
            }
            HttpResponse<String> ack = http.send(
                    HttpRequest.newBuilder(URI.create(server.url() + "/v1/consumers/jobs/ack"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"offsets\":[" + offsets + "]}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ack.statusCode()).isEqualTo(200);
        }
        List<Long> expected = new ArrayList<>();
        for (long o = 1; o <= 60; o++) {
            expected.add(o);
        }
        assertThat(received).containsExactlyElementsOf(expected);
        for (SluiceServer server : List.of(a, b)) {
            var jobs = Json.parse(get(server, "/v1/consumers").body())
                    .path("consumers")
                    .get(0);
            assertThat(jobs.path("position").asLong()).isEqualTo(60);
            assertThat(jobs.path("in_flight").asInt()).isZero();
        }
    }
}
