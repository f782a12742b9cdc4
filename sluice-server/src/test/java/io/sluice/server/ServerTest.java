package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Envelope;
import io.sluice.api.Json;
import io.sluice.server.config.ServerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API of a real server on a random port, over a real SQLite store. */
class ServerTest {
    @TempDir
    Path data;

    private SluiceServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() {
        server = SluiceServer.start(
                ServerConfig.defaults(data).withPort(0).withLimits(new ServerConfig.Limits(64 * 1024, 1024, 100)));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    record Response(int status, String body) {
        JsonNode json() {
            return Json.parse(body);
        }

        List<String> lines() {
            return body.lines().toList();
        }
    }

    Response post(String contentType, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body());
    }

    /** Posts without a Content-Length (chunked transfer encoding). */
    Response postChunked(String contentType, String body) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(
                        () -> new java.io.ByteArrayInputStream(body.getBytes(java.nio.charset.StandardCharsets.UTF_8))))
                .header("Content-Type", contentType)
                .build();
        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body());
    }

    Response get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + path)).build(), HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body());
    }

    @Test
    void idsTheServerAssignsAreTimeOrderedUuids() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int request = 0; request < 3; request++) {
            Response r = post("application/x-ndjson", "{\"type\":\"a\"}\n{\"type\":\"b\"}\n");
            r.json().get("ids").forEach(id -> ids.add(id.asText()));
        }
        assertThat(ids).hasSize(6).allSatisfy(id -> {
            assertThat(java.util.UUID.fromString(id).version()).isEqualTo(7);
        });
        assertThat(ids).isSorted(); // in the order the events were accepted
        assertThat(new HashSet<>(ids)).hasSize(6);
    }

    @Test
    void ndjsonEventsAreStoredAsReceivedWithAMissingIdOrTimeAddedInFront() throws Exception {
        // Serialising the parsed event again would write 1.5 and drop the spaces.
        post(
                "application/x-ndjson",
                "{\"id\":\"kept\",\"time\":\"2026-01-01T00:00:00Z\", \"n\": 1.50}\n{\"type\": \"t\", \"n\": 2.0}\n");
        assertThat(get("/v1/events/kept").body()).contains("\"time\":\"2026-01-01T00:00:00Z\", \"n\": 1.50}");
        String second = get("/v1/events?after=1").lines().get(0);
        assertThat(second)
                .matches(
                        "\\{\"offset\":2,\"event\":\\{\"id\":\"[^\"]+\",\"time\":\"[^\"]+\",\"type\": \"t\", \"n\": 2.0}}");
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    @Test
    void acceptsAnObjectAnArrayNdjsonAndCloudEventsAndAnswersWithOffsets() throws Exception {
        Response one = post("application/json", "{\"id\":\"a\",\"type\":\"t\"}");
        assertThat(one.status()).isEqualTo(200);
        assertThat(one.json().get("accepted").asInt()).isEqualTo(1);
        assertThat(one.json().get("first_offset").asLong()).isEqualTo(1);
        assertThat(one.json().get("ids").get(0).asText()).isEqualTo("a");

        Response array = post("application/json", "[{\"id\":\"b\"},{\"id\":\"c\"}]");
        assertThat(array.json().get("first_offset").asLong()).isEqualTo(2);
        assertThat(array.json().get("last_offset").asLong()).isEqualTo(3);

        Response ndjson = post("application/x-ndjson", "{\"id\":\"d\"}\n\n{\"id\":\"e\"}\n");
        assertThat(ndjson.json().get("offsets").toString()).isEqualTo("[4,5]");

        Response ce = post(
                "application/cloudevents+json",
                "{\"specversion\":\"1.0\",\"id\":\"ce-1\",\"source\":\"/shop\",\"type\":\"order.placed\",\"data\":{\"n\":1}}");
        assertThat(ce.status()).isEqualTo(200);
        Response batch = post(
                "application/cloudevents-batch+json",
                "[{\"specversion\":\"1.0\",\"id\":\"ce-2\",\"source\":\"/shop\",\"type\":\"order.paid\"}]");
        assertThat(batch.json().get("last_offset").asLong()).isEqualTo(7);

        Response all = get("/v1/events");
        assertThat(all.status()).isEqualTo(200);
        assertThat(all.lines()).hasSize(7);
        assertThat(Json.parse(all.lines().get(5)).at("/event/type").asText()).isEqualTo("order.placed");
        assertThat(Json.parse(all.lines().get(5)).at("/event/time").isTextual()).isTrue();
    }

    @Test
    void findFiltersPagesAndFindsById() throws Exception {
        StringBuilder body = new StringBuilder();
        for (int i = 1; i <= 50; i++) {
            body.append("{\"id\":\"e").append(i).append("\",\"n\":").append(i).append("}\n");
        }
        post("application/x-ndjson", body.toString());
        assertThat(get("/v1/events?after=45").lines()).hasSize(5);
        assertThat(get("/v1/events?after=10&limit=3").lines())
                .containsExactly(
                        get("/v1/events/e11").body(),
                        get("/v1/events/e12").body(),
                        get("/v1/events/e13").body());
        Response filtered = get("/v1/events?filter=" + enc("{\"n\":{\"$mod\":[10,0]}}"));
        assertThat(filtered.lines())
                .extracting(l -> Json.parse(l).get("offset").asLong())
                .containsExactly(10L, 20L, 30L, 40L, 50L);
        assertThat(get("/v1/events/e7").json().get("offset").asLong()).isEqualTo(7);

        Response missing = get("/v1/events/nope");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.json().get("code").asText()).isEqualTo("not_found");
        Response badFilter = get("/v1/events?filter=" + enc("{\"n\":{\"$bogus\":1}}"));
        assertThat(badFilter.status()).isEqualTo(400);
        assertThat(badFilter.json().get("code").asText()).isEqualTo("invalid_query");
        assertThat(badFilter.json().get("error").asText()).contains("$bogus").contains("path 'n'");
        assertThat(get("/v1/events?after=-1").status()).isEqualTo(400);
        assertThat(get("/nowhere").json().get("code").asText()).isEqualTo("not_found");
    }

    @Test
    void anIdLongerThanTheLimitIsRefusedNamingTheEvent() throws Exception {
        String longest = "i".repeat(Envelope.MAX_ID_LENGTH);
        Response r = post("application/x-ndjson", "{\"id\":\"" + longest + "\"}\n{\"id\":\"" + longest + "x\"}\n");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().at("/detail/index").asInt()).isEqualTo(1);
        assertThat(r.json().get("error").asText())
                .isEqualTo("event 1: field 'id' must be at most 512 characters; this one has 513");
        assertThat(post("application/json", "{\"id\":\"" + longest + "\"}").status())
                .isEqualTo(200);
    }

    @Test
    void aRequestWithAnInvalidEventStoresNothingAndNamesIt() throws Exception {
        Response r = post("application/json", "[{\"id\":\"ok\"},{\"id\":\"ok2\"},{\"time\":7}]");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("code").asText()).isEqualTo("invalid_event");
        assertThat(r.json().at("/detail/index").asInt()).isEqualTo(2);
        assertThat(r.json().get("error").asText()).startsWith("event 2: field 'time'");

        Response line = post("application/x-ndjson", "{\"a\":1}\n{\"a\":\n");
        assertThat(line.status()).isEqualTo(400);
        assertThat(line.json().get("error").asText()).startsWith("event 1 (line 2) is not valid JSON");

        Response ce =
                post("application/cloudevents-batch+json", "[{\"specversion\":\"1.0\",\"id\":\"x\",\"type\":\"t\"}]");
        assertThat(ce.status()).isEqualTo(400);
        assertThat(ce.json().get("error").asText()).contains("cloud event 0").contains("'source'");
        String good = "{\"specversion\":\"1.0\",\"id\":\"g\",\"source\":\"/s\",\"type\":\"t\"}";
        Response badTime = post(
                "application/cloudevents-batch+json",
                "[" + good + ",{\"specversion\":\"1.0\",\"id\":\"y\",\"source\":\"/s\",\"type\":\"t\","
                        + "\"time\":\"yesterday\"}]");
        assertThat(badTime.status()).isEqualTo(400);
        assertThat(badTime.json().at("/detail/index").asInt()).isEqualTo(1);
        assertThat(badTime.json().get("error").asText())
                .startsWith("event 1: cloud event 1 is not valid")
                .contains("time");
        Response twoData = post(
                "application/cloudevents+json",
                "{\"specversion\":\"1.0\",\"id\":\"z\",\"source\":\"/s\",\"type\":\"t\",\"data\":1,"
                        + "\"data_base64\":\"AQ==\"}");
        assertThat(twoData.status()).isEqualTo(400);
        assertThat(twoData.json().get("error").asText()).contains("the cloud event is not valid");

        assertThat(post("application/json", "[1]").json().get("error").asText())
                .isEqualTo("event 0: an event must be a JSON object, not number");
        assertThat(post("application/json", "\"text\"").status()).isEqualTo(400);
        assertThat(get("/healthz").json().get("last_offset").asLong()).isZero();
    }

    /**
     * NDJSON events are read only as far as their envelope fields, yet everything a full parse
     * refuses is still refused, naming the event, and nothing of the request is stored.
     */
    @Test
    void ndjsonIsCheckedWholeThoughOnlyItsEnvelopeIsRead() throws Exception {
        String good = "{\"id\":\"g\",\"deep\":{\"a\":[1,{\"b\":true}]}}\n";
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("{\"a\":{\"b\":1,\"b\":2}}", "Duplicate field 'b'");
        refused.put("{\"a\":[1,2}", "Unexpected close marker");
        refused.put("{\"a\":1} {\"b\":2}", "Trailing token");
        refused.put("{\"a\":\"x\"}}", "Unexpected close marker");
        refused.put("{\"a\":01}", "Leading zeroes");
        refused.put("{\"a\":\"" + "\u0001" + "\"}", "Illegal unquoted character");
        refused.put("{\"a\":" + "[".repeat(300) + "]".repeat(300) + "}", "Document nesting depth");
        for (Map.Entry<String, String> bad : refused.entrySet()) {
            Response r = post("application/x-ndjson", good + bad.getKey() + "\n");
            assertThat(r.status()).as(bad.getKey()).isEqualTo(400);
            assertThat(r.json().get("error").asText())
                    .as(bad.getKey())
                    .startsWith("event 1 (line 2) is not valid JSON")
                    .contains(bad.getValue());
        }
        assertThat(post("application/x-ndjson", good + "[1]\n")
                        .json()
                        .get("error")
                        .asText())
                .isEqualTo("event 1: an event must be a JSON object, not array");
        assertThat(post("application/x-ndjson", good + "{\"type\":3}\n")
                        .json()
                        .get("error")
                        .asText())
                .startsWith("event 1: field 'type' must be a string");
        assertThat(get("/healthz").json().get("last_offset").asLong()).isZero();

        // Envelope values other than strings take the full parse: an integer id, a null id.
        Response stored = post("application/x-ndjson", "{\"id\":42,\"n\":1}\n{\"id\":null,\"type\":\"t\"}\n");
        assertThat(stored.status()).isEqualTo(200);
        assertThat(stored.json().get("ids").get(0).asText()).isEqualTo("42");
        String assigned = stored.json().get("ids").get(1).asText();
        assertThat(java.util.UUID.fromString(assigned).version()).isEqualTo(7);
        assertThat(get("/v1/events/" + assigned).json().at("/event/type").asText())
                .isEqualTo("t");
    }

    @Test
    void limitsAnswer413AndUnknownTypes415() throws Exception {
        Response body = post("application/json", "{\"pad\":\"" + "x".repeat(70 * 1024) + "\"}");
        assertThat(body.status()).isEqualTo(413);
        assertThat(body.json().get("error").asText()).contains("max_body_bytes");
        // Without a declared length the limit holds as the body arrives; within it, the body is read.
        Response chunked = postChunked("application/json", "{\"pad\":\"" + "x".repeat(70 * 1024) + "\"}");
        assertThat(chunked.status()).isEqualTo(413);
        assertThat(chunked.json().get("error").asText()).contains("max_body_bytes");
        Response small = postChunked("application/x-ndjson", "{\"id\":\"c1\"}\n{\"id\":\"c2\"}\n");
        assertThat(small.status()).isEqualTo(200);
        assertThat(small.json().get("accepted").asInt()).isEqualTo(2);

        Response event = post("application/json", "[{\"a\":1},{\"pad\":\"" + "x".repeat(2_000) + "\"}]");
        assertThat(event.status()).isEqualTo(413);
        assertThat(event.json().at("/detail/index").asInt()).isEqualTo(1);

        Response many = post("application/x-ndjson", "{}\n".repeat(101));
        assertThat(many.status()).isEqualTo(413);
        assertThat(many.json().get("error").asText()).contains("101 events").contains("at most 100");

        Response type = post("text/plain", "{}");
        assertThat(type.status()).isEqualTo(415);
        assertThat(type.json().get("code").asText()).isEqualTo("unsupported_media_type");

        Response deep = post("application/json", "[".repeat(300) + "]".repeat(300));
        assertThat(deep.status()).isEqualTo(400);
        assertThat(get("/healthz").json().get("last_offset").asLong()).isEqualTo(2); // the two chunked events
    }

    @Test
    void aResentIdIsAcknowledgedAndNotStoredTwice() throws Exception {
        post("application/json", "{\"id\":\"once\",\"v\":1}");
        Response again = post("application/json", "[{\"id\":\"once\",\"v\":2},{\"id\":\"new\"}]");
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().get("duplicates").asInt()).isEqualTo(1);
        assertThat(again.json().get("offsets").toString()).isEqualTo("[1,2]");
        assertThat(get("/v1/events").lines()).hasSize(2);
        assertThat(get("/v1/events/once").body()).contains("\"v\":1");
    }

    @Test
    void eventsSurviveARestart() throws Exception {
        post("application/x-ndjson", "{\"id\":\"x1\"}\n{\"id\":\"x2\"}");
        server.close();
        server = SluiceServer.start(ServerConfig.defaults(data).withPort(0));
        assertThat(get("/v1/events").lines()).hasSize(2);
        assertThat(post("application/json", "{\"id\":\"x3\"}")
                        .json()
                        .get("first_offset")
                        .asLong())
                .isEqualTo(3);
    }

    @Test
    void retentionKeepsTheNewestAndNamesTheEarliestOffsetToLateReaders() throws Exception {
        server.close();
        server = SluiceServer.start(
                ServerConfig.defaults(data).withPort(0).withRetention(new ServerConfig.Retention(10, 0, null)));
        post("application/x-ndjson", "{}\n".repeat(25));
        await("retention to keep the newest 10") // it runs every second
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> get("/healthz").json().get("first_offset").asLong() == 16);
        assertThat(get("/v1/events").lines()).hasSize(10);
        Response late = get("/v1/events?after=3");
        assertThat(late.status()).isEqualTo(410);
        assertThat(late.json().get("code").asText()).isEqualTo("offset_out_of_range");
        assertThat(late.json().at("/detail/earliest").asLong()).isEqualTo(16);
        assertThat(late.json().get("error").asText()).contains("earliest retained offset is 16");
    }

    @Test
    void healthAndPrometheusMetrics() throws Exception {
        post("application/json", "{}");
        assertThat(post("text/plain", "{}").status()).isEqualTo(415);
        assertThat(get("/healthz").json().get("status").asText()).isEqualTo("ok");
        Response metrics = get("/metrics");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.body())
                .contains("sluice_log_appended_total 1.0")
                .contains("sluice_log_append_latency_seconds_bucket")
                .contains("sluice_log_commit_events")
                .contains("sluice_log_commit_seconds_bucket")
                .contains("sluice_http_append_seconds_count{status=\"2xx\"} 1")
                .contains("sluice_http_append_seconds_count{status=\"4xx\"} 1")
                .contains("sluice_sqlite_checkpoint_seconds_count")
                .contains("sluice_sqlite_event_bytes_total")
                .contains("sluice_sqlite_stored_bytes_total")
                .contains("sluice_sqlite_wal_restart_seconds_count")
                .contains("sluice_sqlite_wal_bytes")
                .contains("jvm_memory_used_bytes");
    }
}
