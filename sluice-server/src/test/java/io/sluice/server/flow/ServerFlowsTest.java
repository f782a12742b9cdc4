package io.sluice.server.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.sluice.api.Json;
import io.sluice.core.log.StoredEvent;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import io.sluice.server.route.TestBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flows inside a server: an ingest flow from a real AMQP broker into the log (messages
 * acknowledged only once appended), an output flow tapping the log from a durable checkpoint,
 * and their figures over HTTP and on {@code /metrics}.
 */
class ServerFlowsTest {
    @TempDir
    Path dir;

    private SluiceServer server;
    private final HttpClient http = HttpClient.newHttpClient();
    private final String run = UUID.randomUUID().toString().substring(0, 8);

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private SluiceServer start(String yaml) throws Exception {
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, yaml);
        server = SluiceServer.start(ServerConfig.load(config).withPort(0));
        return server;
    }

    private List<StoredEvent> events(Predicate<StoredEvent> which) {
        List<StoredEvent> all = new ArrayList<>();
        all.addAll(server.log().store().read(0, 100_000, which).events());
        return all;
    }

    private String get(String path) throws Exception {
        return http.send(
                        HttpRequest.newBuilder(URI.create(server.url() + path)).build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    @Test
    void anIngestFlowFromRabbitMqAppendsToTheLogAndAcknowledgesOnceDurable() throws Exception {
        TestBroker broker = TestBroker.get();
        String queue = "sluice-test-" + run + "-flow-in";
        try (Connection connection = broker.connect();
                Channel channel = connection.createChannel()) {
            channel.queueDeclare(queue, true, false, false, null);
            start("""
                    flows:
                      - name: ingest
                        modules:
                          broker: {module: amqp_input, arguments: {url: "%s", queue: %s, prefetch: 50}}
                          mark: {module: transform, arguments: {set: {via: flow}, remove: [secret]}}
                          log: {module: sluice.log}
                        routingtable:
                          - broker.outbox -> mark.inbox
                          - mark.outbox -> log.inbox
                    """.formatted(broker.url(), queue));
            for (int i = 0; i < 300; i++) {
                channel.basicPublish(
                        "",
                        queue,
                        new AMQP.BasicProperties.Builder().deliveryMode(2).build(),
                        ("{\"type\": \"reading\", \"n\": " + i + ", \"secret\": \"x\"}")
                                .getBytes(StandardCharsets.UTF_8));
            }
            channel.basicPublish("", queue, null, "not json".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(30))
                    .until(() ->
                            events(e -> e.json().contains("\"via\":\"flow\"")).size() == 300);
            List<StoredEvent> stored = events(e -> true);
            assertThat(stored).hasSize(300);
            assertThat(stored).allSatisfy(e -> assertThat(e.json()).doesNotContain("secret"));
            // every message was acknowledged (the bad one rejected): nothing is left on the queue
            await().atMost(Duration.ofSeconds(10)).until(() -> channel.messageCount(queue) == 0);
            server.close();
            server = null;
            assertThat(channel.messageCount(queue)).isZero();
            channel.queueDelete(queue);
        }
    }

    @Test
    void anOutputFlowTapsTheLogFromADurableCheckpoint() throws Exception {
        String config = """
                flows:
                  - name: export
                    modules:
                      tap: {module: sluice.tap, arguments: {filter: {type: order}}}
                      out: {module: file_output, arguments: {path: orders.ndjson}}
                    routingtable:
                      - tap.outbox -> out.inbox
                """;
        start(config);
        List<JsonNode> batch = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            batch.add(Json.parse("{\"type\": \"" + (i % 2 == 0 ? "order" : "refund") + "\", \"n\": " + i + "}"));
        }
        server.log().append(batch).get();
        Path out = dir.resolve("orders.ndjson");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> Files.exists(out) && Files.readAllLines(out).size() == 5);

        String flows = get("/v1/flows");
        JsonNode export = Json.parse(flows).get("flows").get(0);
        assertThat(export.get("name").asText()).isEqualTo("export");
        assertThat(export.get("modules").get("out").get("hits").asLong()).isEqualTo(5);
        assertThat(export.get("queues").get(0).get("to").asText()).isEqualTo("out.inbox");
        assertThat(get("/v1/flows/export")).contains("\"name\":\"export\"");
        assertThat(get("/v1/flows/nothing")).contains("no flow named 'nothing'");
        assertThat(get("/metrics"))
                .contains("sluice_flow_queue_size{flow=\"export\",module=\"out\",queue=\"inbox\"}")
                .contains("sluice_flow_module_hits_total{flow=\"export\",module=\"out\"} 5.0");

        server.close(); // the checkpoint is saved on the clean stop
        start(config);
        List<JsonNode> more = new ArrayList<>();
        for (int i = 10; i < 14; i++) {
            more.add(Json.parse("{\"type\": \"order\", \"n\": " + i + "}"));
        }
        server.log().append(more).get();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> Files.readAllLines(out).size() == 9);
        assertThat(Files.readAllLines(out).stream()
                        .map(l -> Json.parse(l).get("n").asInt())
                        .toList())
                .containsExactly(0, 2, 4, 6, 8, 10, 11, 12, 13);
    }

    @Test
    void aPluginJarInPluginsDirOffersModuleTypesAndOutputsAreModules() throws Exception {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        try (java.util.jar.JarOutputStream jar =
                new java.util.jar.JarOutputStream(Files.newOutputStream(plugins.resolve("upper.jar")))) {
            jar.putNextEntry(new java.util.jar.JarEntry("META-INF/services/io.sluice.api.flow.ModuleProvider"));
            jar.write((UpperModules.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
            jar.closeEntry();
        }
        List<String> posted = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer hook =
                com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        hook.createContext("/in", ex -> {
            posted.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        hook.start();
        try {
            start("""
                    plugins_dir: plugins
                    flows:
                      - name: shout
                        modules:
                          words: {module: testevent, arguments: {interval: 0, count: 3, message: hi}}
                          loud: {module: upper}
                          split: {module: fanout}
                          file: {module: file_output, arguments: {path: loud.ndjson}}
                          hook: {module: webhook_output, arguments: {url: "http://127.0.0.1:%d/in"}}
                        routingtable:
                          - words.outbox -> loud.inbox
                          - loud.outbox -> split.inbox
                          - split.a -> file.inbox
                          - split.b -> hook.inbox
                    """.formatted(hook.getAddress().getPort()));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> server.flows().flow("shout").orElseThrow().ended());
            assertThat(Files.readAllLines(dir.resolve("loud.ndjson"))).containsExactly("\"HI\"", "\"HI\"", "\"HI\"");
            assertThat(posted).containsExactly("\"HI\"", "\"HI\"", "\"HI\"");
        } finally {
            hook.stop(0);
        }
    }

    @Test
    void aFlowThatCannotRunStopsTheServerFromStartingWithTheReason() throws Exception {
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, """
                flows:
                  - name: broken
                    modules:
                      a: {module: testevent}
                      b: {module: fanot}
                """);
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> SluiceServer.start(ServerConfig.load(config).withPort(0)))
                .hasMessageContaining("flows[0]")
                .hasMessageContaining("unknown module type 'fanot'");
    }
}
