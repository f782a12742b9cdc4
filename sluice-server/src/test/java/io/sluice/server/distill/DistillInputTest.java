package io.sluice.server.distill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.sluice.api.Json;
import io.sluice.core.log.StoredEvent;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ConfigException;
import io.sluice.server.config.ServerConfig;
import io.sluice.server.route.TestBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code distill:} on an input: raw OpenStack notifications from a real AMQP queue are stored as
 * the events StackDistiller's definitions make of them; a notification no definition covers is
 * acknowledged and dropped; anything else is stored as it came.
 */
class DistillInputTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    private SluiceServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void rawNotificationsAreStoredDistilledAndUncoveredOnesDropped() throws Exception {
        Files.copy(ROOT.resolve("examples/winchester/event_definitions.yaml"), dir.resolve("event_definitions.yaml"));
        TestBroker broker = TestBroker.get();
        String queue = "sluice-test-" + UUID.randomUUID().toString().substring(0, 8) + "-notifications";
        try (Connection connection = broker.connect();
                Channel channel = connection.createChannel()) {
            channel.queueDeclare(queue, true, false, false, null);
            Files.writeString(dir.resolve("sluice.yaml"), """
                    envelope: winchester
                    inputs:
                      - {type: amqp, url: "%s", queue: %s, distill: event_definitions.yaml}
                    """.formatted(broker.url(), queue));
            server = SluiceServer.start(
                    ServerConfig.load(dir.resolve("sluice.yaml")).withPort(0));
            List<String> raw = Files.readAllLines(ROOT.resolve("examples/winchester/notifications.ndjson"));
            for (String n : raw) {
                publish(channel, queue, n);
            }
            publish(
                    channel,
                    queue,
                    "{\"message_id\":\"m-uncovered\",\"event_type\":\"nobody.covers.this\",\"publisher_id\":\"x\","
                            + "\"timestamp\":\"2014-08-01 10:00:00.000000\",\"payload\":{}}");
            publish(
                    channel,
                    queue,
                    "{\"message_id\":\"m-flat\",\"event_type\":\"already.flat\",\"timestamp\":\"2014-08-01T10:00:00Z\"}");
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> server.log().store().byId("m-flat").isPresent());
            List<StoredEvent> stored =
                    server.log().store().read(0, 100, e -> true).events();
            assertThat(stored).hasSize(raw.size() + 1);
            for (int i = 0; i < raw.size(); i++) {
                JsonNode sent = Json.parse(raw.get(i));
                JsonNode event = stored.get(i).document();
                assertThat(event.path("message_id").asText())
                        .isEqualTo(sent.path("message_id").asText());
                assertThat(event.path("event_type").asText())
                        .isEqualTo(sent.path("event_type").asText());
                assertThat(event.has("payload"))
                        .as("distilled: flat traits, no payload")
                        .isFalse();
                assertThat(event.path("instance_id").asText())
                        .isEqualTo(sent.path("payload").path("instance_id").asText());
            }
            assertThat(server.log().store().byId("m-uncovered")).isEmpty();
            await().atMost(Duration.ofSeconds(10)).until(() -> channel.messageCount(queue) == 0);
            server.close();
            server = null;
            assertThat(channel.messageCount(queue))
                    .as("everything acknowledged")
                    .isZero();
            channel.queueDelete(queue);
        }
    }

    @Test
    void aBrokenDefinitionsFileIsAConfigurationError() throws Exception {
        Files.writeString(dir.resolve("defs.yaml"), "- event_type: [unclosed\n");
        Files.writeString(
                dir.resolve("sluice.yaml"),
                "inputs:\n  - {type: amqp, url: \"amqp://127.0.0.1\", queue: q, distill: defs.yaml}\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ServerConfig.load(dir.resolve("sluice.yaml")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("inputs[0].distill")
                .hasMessageContaining("defs.yaml");
    }

    private static void publish(Channel channel, String queue, String body) throws Exception {
        channel.basicPublish(
                "",
                queue,
                new AMQP.BasicProperties.Builder().deliveryMode(2).build(),
                body.getBytes(StandardCharsets.UTF_8));
    }
}
