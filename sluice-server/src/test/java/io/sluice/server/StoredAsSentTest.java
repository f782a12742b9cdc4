package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.core.log.StoredEvent;
import io.sluice.query.Query;
import io.sluice.server.cli.SluiceCommand;
import io.sluice.server.config.ServerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An event is stored exactly as sent, whatever path it came by: the same fields posted as a
 * JSON object, in a JSON array, as NDJSON, as CloudEvents (structured and batch) and with
 * {@code sluice send} are stored byte for byte as sent — numbers, escapes, whitespace inside
 * and key order — with only a missing time (and id) added in front, the same way everywhere.
 */
class StoredAsSentTest {
    /**
     * Fields that a round trip through {@code double} or a re-serialisation would change: a
     * decimal of 19 significant digits, numbers beyond double range, negative zero, an exponent
     * with a sign, an integer beyond 64 bits, escapes ({@code \u0000}, an escaped slash, a
     * surrogate pair), raw non-BMP and accented text, whitespace inside, keys out of order.
     */
    private static final String FIELDS = "\"amount\":12345678901234567.89, \"big\":1e999,\"neg\":-1E999,"
            + "\"z\":-0,\"p\":0.1000000000000000055511151231257827,\"e\":1E+2,\"tiny\":5e-400,"
            + "\"long\":123456789012345678901234567890,"
            + "\"s\":\"nul \\u0000 tab \\t quote \\\" slash \\/ pair \\ud83d\\ude00 raw \uD83D\uDE00 \u00e9\","
            + "\"order\":{\"z\":1,  \"a\":2,\"m\":[3,{\"y\":true,\"b\":null}]}";

    @TempDir
    Path data;

    private SluiceServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() {
        server = SluiceServer.start(ServerConfig.defaults(data).withPort(0));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static String plain(String id) {
        return "{\"id\":\"" + id + "\",\"type\":\"money\"," + FIELDS + "}";
    }

    private static String cloud(String id) {
        return "{\"specversion\":\"1.0\",\"id\":\"" + id + "\",\"source\":\"/test\",\"type\":\"money\",\"data\":{"
                + FIELDS + "}}";
    }

    @Test
    void everyPathStoresTheEventsBytesAsSentWithTheAddedTimeInFront() throws Exception {
        post("application/json", plain("json-object"));
        post("application/json", "[ " + plain("json-array-0") + " ,\n" + plain("json-array-1") + "]");
        post("application/x-ndjson", plain("ndjson-0") + "\n" + plain("ndjson-1") + "\n");
        post("application/cloudevents+json", cloud("cloud-event"));
        post("application/cloudevents-batch+json", "[" + cloud("cloud-batch-0") + "," + cloud("cloud-batch-1") + "]");
        send(plain("send-argument"));

        Map<String, String> sent = new java.util.LinkedHashMap<>();
        for (String id :
                List.of("json-object", "json-array-0", "json-array-1", "ndjson-0", "ndjson-1", "send-argument")) {
            sent.put(id, plain(id));
        }
        for (String id : List.of("cloud-event", "cloud-batch-0", "cloud-batch-1")) {
            sent.put(id, cloud(id));
        }
        for (Map.Entry<String, String> e : sent.entrySet()) {
            String stored = stored(e.getKey());
            String time = Json.parse(stored).get("time").textValue();
            assertThat(stored)
                    .as("event %s as stored", e.getKey())
                    .isEqualTo("{\"time\":\"" + time + "\"," + e.getValue().substring(1));
        }
        // The plain paths agree byte for byte but for the id and the time.
        assertThat(sent.keySet().stream()
                        .filter(id -> !id.startsWith("cloud"))
                        .map(id -> withoutTime(stored(id)).replace(id, "ID"))
                        .distinct())
                .hasSize(1);
    }

    @Test
    void addedIdsAndTimesAreSplicedInTheSameWayForMissingAndNullFields() throws Exception {
        post("application/json", "[{\"type\":\"a\",\"n\":1.50}, {\"id\":null,\"n\":1.50,\"time\":null}]");
        post("application/x-ndjson", "{\"id\":null,\"type\":\"b\",\"n\":1.50}\n{}\n");
        List<StoredEvent> events = server.log().store().read(0, 10, e -> true).events();
        assertThat(events).hasSize(4);
        for (StoredEvent e : events) {
            JsonNode doc = Json.parse(e.json());
            assertThat(doc.get("id").isTextual()).as(e.json()).isTrue();
            assertThat(doc.get("time").isTextual()).as(e.json()).isTrue();
        }
        String id0 = events.get(0).id();
        String time0 = Json.parse(events.get(0).json()).get("time").textValue();
        assertThat(events.get(0).json())
                .as("both added in front")
                .isEqualTo("{\"id\":\"" + id0 + "\",\"time\":\"" + time0 + "\",\"type\":\"a\",\"n\":1.50}");
        String id1 = events.get(1).id();
        String time1 = Json.parse(events.get(1).json()).get("time").textValue();
        assertThat(events.get(1).json())
                .as("nulls filled in where they were")
                .isEqualTo("{\"id\":\"" + id1 + "\",\"n\":1.50,\"time\":\"" + time1 + "\"}");
        String id2 = events.get(2).id();
        String time2 = Json.parse(events.get(2).json()).get("time").textValue();
        assertThat(events.get(2).json())
                .isEqualTo("{\"time\":\"" + time2 + "\",\"id\":\"" + id2 + "\",\"type\":\"b\",\"n\":1.50}");
        assertThat(Json.parse(events.get(3).json()).size())
                .as("an empty event gets both")
                .isEqualTo(2);
    }

    @Test
    void matchingComparesTheStoredNumbersByValueAsMongoDbWould() throws Exception {
        post("application/json", plain("m"));
        JsonNode event = Json.parse(stored("m"));
        // Beyond double range reads as infinity; a decimal compares by its nearest double;
        // integers beyond 64 bits compare exactly; -0 equals 0.
        assertThat(Query.parse("{\"big\":{\"$gt\":1e308}}").matches(event)).isTrue();
        assertThat(Query.parse("{\"neg\":{\"$lt\":-1e308}}").matches(event)).isTrue();
        assertThat(Query.parse("{\"amount\":12345678901234567.89}").matches(event))
                .isTrue();
        assertThat(Query.parse("{\"amount\":{\"$gt\":12345678901234560}}").matches(event))
                .isTrue();
        assertThat(Query.parse("{\"long\":{\"$gt\":123456789012345678901234567889}}")
                        .matches(event))
                .isTrue();
        assertThat(Query.parse("{\"long\":{\"$gt\":123456789012345678901234567890}}")
                        .matches(event))
                .isFalse();
        assertThat(Query.parse("{\"z\":0}").matches(event)).isTrue();
        assertThat(Query.parse("{\"e\":100}").matches(event)).isTrue();
        assertThat(Query.parse("{\"tiny\":0}").matches(event))
                .as("underflow reads as zero")
                .isTrue();
    }

    private static String withoutTime(String stored) {
        return stored.replaceFirst("^\\{\"time\":\"[^\"]*\",", "{");
    }

    private String stored(String id) {
        return server.log().store().byId(id).map(StoredEvent::json).orElseThrow(() -> new AssertionError(id));
    }

    private void post(String contentType, String body) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                        .header("Content-Type", contentType)
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    private void send(String event) {
        StringWriter out = new StringWriter();
        PrintWriter both = new PrintWriter(out, true);
        int exit = SluiceCommand.commandLine(both, both).execute("send", "--url", server.url(), event);
        assertThat(exit).as(out.toString()).isZero();
    }
}
