package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.api.Json;
import io.sluice.server.config.ServerConfig;
import io.sluice.store.postgres.TestPostgres;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two servers on one PostgreSQL database with the same handler and the same routed output: each
 * event's handler run and match delivery happen once, in whichever server holds that reader's
 * lease; when that server stops, the other takes over from the shared checkpoint.
 */
class SharedReadersTest {
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

    private void post(SluiceServer server, int from, int to) throws Exception {
        StringBuilder body = new StringBuilder();
        for (int i = from; i < to; i++) {
            body.append("{\"id\":\"e-").append(i).append("\",\"type\":\"t\"}\n");
        }
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                        .header("Content-Type", "application/x-ndjson")
                        .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    private List<String> lines(String file) throws Exception {
        Path p = dir.resolve(file);
        return Files.exists(p) ? Files.readAllLines(p) : List.of();
    }

    private List<String> matchedIds() throws Exception {
        return lines("matches.ndjson").stream()
                .map(l -> Json.parse(l).path("event").path("id").asText())
                .toList();
    }

    @Test
    void oneServerRunsTheTriggersAndTheOtherTakesOverTheStreamsAsTheyWere() throws Exception {
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
                        + io.sluice.server.trigger.FiringHandler.class.getName() + "}\n");
        Files.writeString(dir.resolve("sluice.yaml"), "envelope: winchester\nwinchester: winchester.yaml\n");
        ServerConfig c = ServerConfig.load(dir.resolve("sluice.yaml"))
                .withStore(ServerConfig.Store.postgres(TestPostgres.url(), schema))
                .withPort(0);
        a = SluiceServer.start(c);
        b = SluiceServer.start(c);
        String now = java.time.Instant.now()
                .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                .toString();
        StringBuilder starts = new StringBuilder();
        StringBuilder ends = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            starts.append(event("s-" + i, "compute.instance.create.end", "i-" + i, now));
            ends.append(event("d-" + i, "compute.instance.delete.end", "i-" + i, now));
        }
        postRaw(a, starts.toString());
        postRaw(b, ends.toString());
        // stop whichever runs the triggers while it is firing: the other one takes over
        await().atMost(Duration.ofSeconds(30))
                .until(() -> a.triggers().leading() || b.triggers().leading());
        assertThat(a.triggers().leading() && b.triggers().leading())
                .as("one leader")
                .isFalse();
        SluiceServer leader = a.triggers().leading() ? a : b;
        await().atMost(Duration.ofSeconds(60)).until(() -> fired(leader) >= 10);
        SluiceServer other = leader == a ? b : a;
        leader.close();
        if (leader == a) {
            a = null;
        } else {
            b = null;
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> fired(other) == 60);
        assertThat(other.log()
                        .store()
                        .read(0, 10_000, e -> e.json().contains("\"instance.fired\""))
                        .events())
                .as("one pipeline event per stream")
                .hasSize(60);
        assertThat(other.triggers()
                        .streams(new io.sluice.core.trigger.TriggerEngine.StreamQuery(
                                null, null, null, null, null, Long.MAX_VALUE, 1_000))
                        .size())
                .as("one stream per instance")
                .isEqualTo(60);
    }

    private static String event(String id, String type, String instance, String time) {
        return "{\"message_id\":\"" + id + "\",\"event_type\":\"" + type + "\",\"instance_id\":\"" + instance
                + "\",\"timestamp\":\"" + time + "\"}\n";
    }

    /** Completed streams, as the store has them (whichever server wrote them). */
    private static long fired(SluiceServer s) {
        return s.triggers()
                .streams(new io.sluice.core.trigger.TriggerEngine.StreamQuery(
                        null, "completed", null, null, null, Long.MAX_VALUE, 1_000))
                .size();
    }

    private void postRaw(SluiceServer server, String ndjson) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                        .header("Content-Type", "application/x-ndjson")
                        .POST(HttpRequest.BodyPublishers.ofString(ndjson))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    @Test
    void eachEventIsHandledAndDeliveredOnceAcrossServersAndTheOtherTakesOver() throws Exception {
        try (InputStream in = SharedReadersTest.class.getResourceAsStream("/handlers/append.sh")) {
            Files.copy(in, dir.resolve("append.sh"));
        }
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, """
                handlers:
                  - {name: record, driver: shell, handler: "sh append.sh runs.log", start: earliest}
                outputs:
                  archive: {type: file, path: matches.ndjson}
                queries:
                  - {name: all, output: archive, query: {type: t}}
                """);
        ServerConfig c = ServerConfig.load(config)
                .withStore(ServerConfig.Store.postgres(TestPostgres.url(), schema))
                .withPort(0);
        a = SluiceServer.start(c);
        b = SluiceServer.start(c);
        for (int i = 0; i < 100; i += 10) {
            post(i % 20 == 0 ? a : b, i, i + 10);
        }
        await().atMost(Duration.ofSeconds(60))
                .until(() -> lines("runs.log").size() >= 100 && matchedIds().size() >= 100);
        assertThat(new HashSet<>(lines("runs.log"))).hasSize(100);
        assertThat(lines("runs.log")).as("each event's handler ran once").hasSize(100);
        assertThat(matchedIds())
                .as("each match delivered once: %s", lines("matches.ndjson").get(0))
                .hasSize(100)
                .doesNotHaveDuplicates();

        a.close(); // whichever held the leases, the other runs the readers now
        a = null;
        post(b, 100, 150);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> lines("runs.log").size() >= 150 && matchedIds().size() >= 150);
        assertThat(lines("runs.log")).doesNotHaveDuplicates().hasSize(150);
        assertThat(matchedIds()).doesNotHaveDuplicates().hasSize(150);
    }
}
