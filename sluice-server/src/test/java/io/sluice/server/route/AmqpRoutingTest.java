package io.sluice.server.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import io.sluice.api.Json;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Routing by key on a real AMQP broker (the machine's RabbitMQ, else an embedded one): events
 * in through an AMQP input, query documents through a control queue, matches out to queues
 * named by each query's key.
 */
class AmqpRoutingTest {
    @TempDir
    Path dir;

    private TestBroker broker;
    private Connection connection;
    private Channel channel;
    private SluiceServer server;
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void connect() throws Exception {
        broker = TestBroker.get();
        connection = broker.connect();
        channel = connection.createChannel();
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        for (String q : List.of("events", "queries", "low", "high", "all")) {
            try (Channel c = connection.createChannel()) {
                c.queueDelete(name(q));
            } catch (IOException | java.util.concurrent.TimeoutException notThere) {
                // a queue this test did not use (Qpid refuses to delete what does not exist)
            }
        }
        connection.close();
    }

    private String name(String base) {
        return "sluice-test-" + run + "-" + base;
    }

    private void start() throws IOException {
        // The queues exist before the server does, as a deployment's would: a message
        // published to a queue nobody has declared yet is dropped by the broker.
        channel.queueDeclare(name("events"), true, false, false, null);
        channel.queueDeclare(name("queries"), true, false, false, null);
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(
                config,
                "inputs:\n"
                        + "  - {type: amqp, url: \"" + broker.url() + "\", queue: " + name("events")
                        + ", prefetch: 500}\n"
                        + "  - {type: amqp, url: \"" + broker.url() + "\", queue: " + name("queries")
                        + ", messages: queries}\n"
                        + "outputs:\n"
                        + "  broker: {type: amqp, url: \"" + broker.url()
                        + "\", max_attempts: 3, backoff: 50ms, max_backoff: 1s}\n"
                        + "default_output: broker\n");
        server = SluiceServer.start(ServerConfig.load(config).withPort(0));
    }

    private void publish(String queue, String body) throws IOException {
        channel.basicPublish(
                "",
                queue,
                new AMQP.BasicProperties.Builder().deliveryMode(2).build(),
                body.getBytes(StandardCharsets.UTF_8));
    }

    /** Collects what arrives on a queue: message id to body. */
    private Map<String, JsonNode> collect(String queue) throws IOException {
        channel.queueDeclare(queue, true, false, false, null);
        Map<String, JsonNode> got = new ConcurrentHashMap<>();
        Channel c = connection.createChannel();
        c.basicConsume(queue, true, new DefaultConsumer(c) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
                got.put(props.getMessageId(), Json.parse(new String(body, StandardCharsets.UTF_8)));
            }
        });
        return got;
    }

    private JsonNode get(String path) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + path)).build(), HttpResponse.BodyHandlers.ofString());
        return Json.parse(r.body());
    }

    @Test
    void theSeedsQueriesThroughTheControlQueueRouteEachEventToItsKeysQueue() throws Exception {
        start();
        Map<String, JsonNode> low = collect(name("low"));
        Map<String, JsonNode> high = collect(name("high"));
        String batch = "07fb983f-ca15-4e38-a3b7-b1e544dc64ce";
        publish(
                name("queries"),
                "{\"id\":\"" + batch + "\",\"name\":\"NonInformational\",\"key\":\"" + name("low")
                        + "\",\"query\":{\"@fields.priority\":{\"$in\":[\"1\",\"2\",\"3\",\"4\"]}}}");
        publish(
                name("queries"),
                "{\"id\":\"" + batch + "\",\"name\":\"Informational\",\"key\":\"" + name("high")
                        + "\",\"query\":{\"@fields.priority\":{\"$in\":[\"5\",\"6\",\"7\"]}}}");
        publish(name("queries"), "{\"id\":\"" + batch + "\",\"name\":\"Bad\",\"query\":{\"x\":{\"$foo\":1}}}");
        await().atMost(Duration.ofSeconds(20))
                .until(() -> get("/v1/queries").get("queries").size() == 2);

        publish(name("events"), "this is not JSON");
        publish(name("events"), "[1,2,3]");
        for (int p = 1; p <= 7; p++) {
            publish(
                    name("events"),
                    "{\"id\":\"" + run + "-" + p + "\",\"@message\":\"event " + p + "\",\"@fields\":{\"priority\":\""
                            + p + "\",\"host\":\"web1\"}}");
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> low.size() == 4 && high.size() == 3);
        for (int p = 1; p <= 7; p++) {
            String id = run + "-" + p;
            Map<String, JsonNode> expected = p <= 4 ? low : high;
            String query = p <= 4 ? "NonInformational" : "Informational";
            ObjectNode body = (ObjectNode) expected.get(id + ":" + query);
            assertThat(body).as("event %d", p).isNotNull();
            assertThat(body.remove("time")).isNotNull(); // added on ingest; the rest is as sent
            assertThat(body)
                    .isEqualTo(Json.parse("{\"id\":\"" + id + "\",\"@message\":\"event " + p
                            + "\",\"@fields\":{\"priority\":\"" + p + "\",\"host\":\"web1\"}}"));
        }
        assertThat(get("/v1/queries/NonInformational").get("delivered").asLong())
                .isEqualTo(4);
        assertThat(
                        get("/v1/queries/Informational").get("batch") == null
                                ? get("/v1/queries/Informational").get("id").asText()
                                : "")
                .isEqualTo(batch);
        String metrics = http.send(
                        HttpRequest.newBuilder(URI.create(server.url() + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        assertThat(metrics.lines().filter(l -> l.startsWith("sluice_input_rejected_total")))
                .as("rejections")
                .containsExactlyInAnyOrder(
                        "sluice_input_rejected_total{input=\"inputs[0]\"} 2.0",
                        "sluice_input_rejected_total{input=\"inputs[1]\"} 1.0");
        // Nothing was requeued: once Sluice lets go of the queue, nothing is left in it (RabbitMQ
        // drops or dead-letters a message nacked without requeue; Qpid Broker-J keeps it for
        // other consumers unless the queue has an alternate binding, so only RabbitMQ says here).
        server.close();
        server = null;
        if (!broker.embedded()) {
            assertThat(channel.basicGet(name("events"), true)).isNull();
        }
    }

    @Test
    void theReadmesRoutingExampleSendsTheToursEventsToTheirKeysQueues() throws Exception {
        // examples/routing.yaml as it is, pointed at the test's broker and with keys of this run
        // (the broker is shared): alerts, info and perf become sluice-test-RUN-alerts, ...
        Path examples = Path.of("..", "examples").toAbsolutePath().normalize();
        Files.writeString(
                dir.resolve("routing.yaml"),
                Files.readString(examples.resolve("routing.yaml"))
                        .replace("amqp://guest:guest@127.0.0.1:5672/%2F", broker.url()));
        String queries = Files.readString(examples.resolve("queries.ndjson"));
        for (String key : List.of("alerts", "info", "perf")) {
            queries = queries.replace("\"key\":\"" + key + "\"", "\"key\":\"" + name(key) + "\"");
        }
        Files.writeString(dir.resolve("queries.ndjson"), queries);
        Map<String, Map<String, JsonNode>> got = new java.util.HashMap<>();
        for (String key : List.of("alerts", "info", "perf")) {
            got.put(key, collect(name(key)));
        }
        server = SluiceServer.start(
                ServerConfig.load(dir.resolve("routing.yaml")).withPort(0));
        HttpResponse<String> sent = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                        .header("Content-Type", "application/x-ndjson")
                        .POST(HttpRequest.BodyPublishers.ofFile(examples.resolve("events.ndjson")))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> got.get("alerts").size() == 3
                        && got.get("info").size() == 2
                        && got.get("perf").size() == 1);
        assertThat(got.get("alerts").values())
                .extracting(e -> e.path("@message").asText())
                .containsExactlyInAnyOrder("disk almost full", "kernel panic", "slow request");
        assertThat(got.get("perf").values())
                .extracting(e -> e.path("duration_ms").asInt())
                .containsExactly(2300);
        for (String key : List.of("alerts", "info", "perf")) {
            try (Channel c = connection.createChannel()) {
                c.queueDelete(name(key));
            }
        }
    }

    @Test
    void allMatchesArriveWhenTheBrokerClosesSluicesConnectionsMidStream() throws Exception {
        start();
        Map<String, JsonNode> all = collect(name("all"));
        HttpRequest apply = HttpRequest.newBuilder(URI.create(server.url() + "/v1/queries"))
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"name\":\"all\",\"key\":\"" + name("all") + "\",\"query\":{\"run\":\"" + run + "\"}}"))
                .build();
        assertThat(http.send(apply, HttpResponse.BodyHandlers.ofString()).statusCode())
                .isEqualTo(200);
        Thread sender = Thread.ofVirtual().start(() -> {
            try {
                for (int batch = 0; batch < 100; batch++) {
                    StringBuilder body = new StringBuilder();
                    for (int i = 0; i < 100; i++) {
                        body.append("{\"id\":\"")
                                .append(run)
                                .append('-')
                                .append(batch * 100 + i)
                                .append("\",\"run\":\"")
                                .append(run)
                                .append("\"}\n");
                    }
                    http.send(
                            HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                                    .header("Content-Type", "application/x-ndjson")
                                    .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    Thread.sleep(10);
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> all.size() >= 1_000);
        broker.breakSluiceConnections();
        sender.join();
        await().atMost(Duration.ofSeconds(60)).until(() -> all.size() == 10_000);
        Set<String> expected = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < 10_000; i++) {
            expected.add(run + "-" + i + ":all");
        }
        assertThat(all.keySet()).isEqualTo(expected);
    }
}
