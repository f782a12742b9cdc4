package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.server.config.ServerConfig;
import io.sluice.store.postgres.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Standing queries with two servers on one PostgreSQL database: a batch applied on the server
 * that does not route the output switches, for the server that does, at the offset the first
 * one reported, while events keep coming to both: every event before it is matched by the old
 * batch only, every event after it by the new one only, none twice and none missed. Both list
 * the same active set.
 */
class SharedQueriesTest {
    private final String schema = TestPostgres.newSchema();
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    private SluiceServer a;
    private SluiceServer b;

    @AfterEach
    void stop() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        TestPostgres.drop(schema);
    }

    private JsonNode call(SluiceServer server, String method, String path, String body) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + path))
                        .header("Content-Type", "application/x-ndjson")
                        .method(
                                method,
                                body == null
                                        ? HttpRequest.BodyPublishers.noBody()
                                        : HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Json.parse(r.body());
    }

    @Test
    void aBatchAppliedOnOneServerSwitchesAtItsOffsetForTheServerThatRoutes() throws Exception {
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, """
                outputs:
                  archive: {type: file, path: matches.ndjson}
                default_output: archive
                """);
        ServerConfig c = ServerConfig.load(config)
                .withStore(ServerConfig.Store.postgres(TestPostgres.url(), schema))
                .withPort(0);
        a = SluiceServer.start(c);
        b = SluiceServer.start(c);
        await().atMost(Duration.ofSeconds(30)).until(() -> routes(a) || routes(b));
        SluiceServer routing = routes(a) ? a : b;
        SluiceServer other = routing == a ? b : a;

        call(
                other,
                "POST",
                "/v1/queries",
                "{\"id\":\"A\",\"name\":\"old\",\"key\":\"a\",\"query\":{\"n\":{\"$gte\":0}}}");
        int total = 3_000;
        AtomicInteger sent = new AtomicInteger();
        Thread sender = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 0; i < total; i += 25) {
                    StringBuilder body = new StringBuilder();
                    for (int j = i; j < i + 25; j++) {
                        body.append("{\"id\":\"e-")
                                .append(j)
                                .append("\",\"n\":")
                                .append(j)
                                .append("}\n");
                    }
                    call(i % 50 == 0 ? a : b, "POST", "/v1/events", body.toString());
                    sent.addAndGet(25);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(60)).until(() -> sent.get() >= 1_000);
        // the new batch, applied on the server that does not route, while events flow
        JsonNode applied = call(
                other,
                "POST",
                "/v1/queries",
                "{\"id\":\"B\",\"name\":\"new\",\"key\":\"b\",\"query\":{\"n\":{\"$gte\":0}}}");
        long switchedAt = applied.path("switched_at").asLong();
        sender.join();

        await().atMost(Duration.ofSeconds(60)).until(() -> matches().size() >= total);
        // the route has read through the last event: whatever it would write twice is written
        await().atMost(Duration.ofSeconds(60))
                .until(() -> routing.router()
                                .summary()
                                .path("outputs")
                                .path("archive")
                                .path("position")
                                .asLong()
                        >= total);
        Map<Long, String> byOffset = new HashMap<>();
        for (JsonNode m : matches()) {
            String before =
                    byOffset.put(m.path("offset").asLong(), m.path("query").asText());
            assertThat(before)
                    .as("offset %d matched twice", m.path("offset").asLong())
                    .isNull();
        }
        assertThat(byOffset).as("every event matched once").hasSize(total);
        assertThat(switchedAt).as("the switch came mid-stream").isBetween(1L, (long) total - 1);
        byOffset.forEach((offset, query) -> assertThat(query)
                .as("event at offset %d (switch at %d)", offset, switchedAt)
                .isEqualTo(offset <= switchedAt ? "old" : "new"));
        for (SluiceServer s : List.of(a, b)) {
            JsonNode listed = call(s, "GET", "/v1/queries", null);
            assertThat(listed.path("batch").asText()).isEqualTo("B");
            assertThat(listed.path("switched_at").asLong()).isEqualTo(switchedAt);
        }
    }

    private static boolean routes(SluiceServer s) {
        return s.router()
                .summary()
                .path("outputs")
                .path("archive")
                .path("routed_here")
                .asBoolean();
    }

    private List<JsonNode> matches() throws Exception {
        Path p = dir.resolve("matches.ndjson");
        return Files.exists(p) ? Files.readAllLines(p).stream().map(Json::parse).toList() : List.of();
    }
}
