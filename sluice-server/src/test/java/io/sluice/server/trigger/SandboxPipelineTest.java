package io.sluice.server.trigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import io.sluice.api.Json;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import io.sluice.server.route.TestBroker;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Winchester's sandbox triggers and pipelines (logger, usage, notabene) on a real server and a
 * real broker: an instance's day fires on its end-of-day exists, the usage handler's verified
 * event is appended to the log, and notabene publishes it to the exchange on commit — and
 * publishes nothing when the pipeline rolls back.
 */
class SandboxPipelineTest {
    private static final Path SANDBOX =
            Path.of("..", "sluice-core", "src", "test", "resources", "openstack", "sandbox");

    @TempDir
    Path dir;

    private SluiceServer server;
    private Connection connection;
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (connection != null) {
            try (Channel c = connection.createChannel()) {
                c.queueDelete("sluice-test-" + run + "-monitor");
                c.exchangeDelete("sluice-test-" + run + "-nova");
            } catch (Exception notThere) {
                // nothing was declared
            }
            connection.close();
        }
    }

    private void start(String extraHandler) throws Exception {
        TestBroker broker = TestBroker.get();
        connection = broker.connect();
        // The monitoring queue exists beforehand, bound as notabene binds it: a publish on
        // rollback would land in it.
        try (Channel c = connection.createChannel()) {
            c.exchangeDeclare("sluice-test-" + run + "-nova", "topic", true);
            c.queueDeclare("sluice-test-" + run + "-monitor", true, false, false, null);
            c.queueBind(
                    "sluice-test-" + run + "-monitor",
                    "sluice-test-" + run + "-nova",
                    "sluice-test-" + run + "-monitor");
        }
        URI amqp = URI.create(broker.url());
        Files.copy(SANDBOX.resolve("winchester.yaml"), dir.resolve("winchester.yaml"));
        Files.copy(SANDBOX.resolve("triggers.yaml"), dir.resolve("triggers.yaml"));
        Files.copy(SANDBOX.resolve("event_definitions.yaml"), dir.resolve("event_definitions.yaml"));
        // The sandbox's pipelines, pointed at the test broker and a unique exchange and queue.
        String pipelines = Files.readString(SANDBOX.resolve("pipelines.yaml"))
                .replace("host: localhost", "host: " + amqp.getHost())
                .replace("port: 5672", "port: " + amqp.getPort())
                .replace("exchange: nova", "exchange: sluice-test-" + run + "-nova")
                .replace("queue_name: monitor.info", "queue_name: sluice-test-" + run + "-monitor");
        if (extraHandler != null) {
            pipelines = pipelines.replaceFirst("    - usage\n", "    - usage\n    - " + extraHandler + "\n");
            Files.writeString(
                    dir.resolve("winchester.yaml"),
                    Files.readString(dir.resolve("winchester.yaml")) + "    flaky: " + Recording.Flaky.class.getName()
                            + "\n");
        }
        Files.writeString(dir.resolve("pipelines.yaml"), pipelines);
        Files.writeString(dir.resolve("sluice.yaml"), "envelope: winchester\nwinchester: winchester.yaml\n");
        server =
                SluiceServer.start(ServerConfig.load(dir.resolve("sluice.yaml")).withPort(0));
    }

    private String day(LocalDate d, String time) {
        return d + "T" + time + "Z";
    }

    private void sendDay(String instance) throws Exception {
        LocalDate d = LocalDate.now(ZoneOffset.UTC).minusDays(1);
        String common = "\"instance_id\":\"" + instance
                + "\",\"tenant_id\":\"t-1\",\"state\":\"active\",\"launched_at\":\"" + day(d, "09:59:00") + "\"";
        String body = "[{\"message_id\":\"" + run
                + "-c\",\"event_type\":\"compute.instance.create.end\",\"timestamp\":\""
                + day(d, "10:00:00") + "\"," + common + "},"
                + "{\"message_id\":\"" + run + "-x\",\"event_type\":\"compute.instance.exists\",\"timestamp\":\""
                + day(d.plusDays(1), "00:05:00") + "\"," + common + ",\"audit_period_beginning\":\""
                + day(d, "00:00:00")
                + "\",\"audit_period_ending\":\"" + day(d.plusDays(1), "00:00:00") + "\"}]";
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    private List<JsonNode> find(String type) throws Exception {
        String filter = URLEncoder.encode("{\"event_type\":\"" + type + "\"}", StandardCharsets.UTF_8);
        List<JsonNode> out = new ArrayList<>();
        http.send(
                        HttpRequest.newBuilder(URI.create(server.url() + "/v1/events?filter=" + filter))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body()
                .lines()
                .forEach(l -> out.add(Json.parse(l).path("event")));
        return out;
    }

    private List<JsonNode> published() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        try (Channel c = connection.createChannel()) {
            GetResponse g;
            while ((g = c.basicGet("sluice-test-" + run + "-monitor", true)) != null) {
                out.add(Json.parse(new String(g.getBody(), StandardCharsets.UTF_8)));
            }
        }
        return out;
    }

    private JsonNode streams(String state) throws Exception {
        return Json.parse(http.send(
                                HttpRequest.newBuilder(URI.create(server.url() + "/v1/streams?state=" + state))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body())
                .path("streams");
    }

    @Test
    void theEndOfDayExistsFiresUsageVerifiesAndNotabenePublishesOnCommit() throws Exception {
        start(null);
        sendDay("i-1");
        await().atMost(Duration.ofSeconds(20))
                .until(() -> find("compute.instance.exists.verified").size() == 1);
        JsonNode verified = find("compute.instance.exists.verified").getFirst();
        assertThat(verified.path("original_message_id").asText()).isEqualTo(run + "-x");
        assertThat(verified.path("payload").path("instance_id").asText()).isEqualTo("i-1");
        assertThat(verified.path("error_code").isNull()).isTrue();
        assertThat(streams("completed")).hasSize(1);
        List<JsonNode> sent = new ArrayList<>();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            sent.addAll(published());
            return !sent.isEmpty();
        });
        assertThat(sent).hasSize(1);
        assertThat(sent.getFirst().path("message_id").asText())
                .isEqualTo(verified.path("message_id").asText());
    }

    @Test
    void notabenePublishesOnCommitAndNothingOnRollback() throws Exception {
        Recording.reset();
        Recording.failing = true;
        start("flaky");
        sendDay("i-2");
        await().atMost(Duration.ofSeconds(20)).until(() -> streams("error").size() == 1);
        // The error state is saved after the rollback: a publish on commit would have happened by now.
        assertThat(Recording.CALLS).contains("flaky.handle", "flaky.rollback");
        assertThat(published()).isEmpty();
        assertThat(find("compute.instance.exists.verified")).isEmpty();

        Recording.failing = false;
        long id = streams("error").get(0).path("id").asLong();
        HttpResponse<String> retry = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/streams/" + id + "/retry"))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(retry.statusCode()).as(retry.body()).isEqualTo(200);
        List<JsonNode> sent = published();
        assertThat(sent).hasSize(1);
        assertThat(sent.getFirst().path("event_type").asText()).isEqualTo("compute.instance.exists.verified");
        assertThat(find("compute.instance.exists.verified")).hasSize(1);
    }

    @Test
    void rawNotificationsAreDistilledByTheSandboxDefinitionsAndFireTheSame() throws Exception {
        start(null);
        LocalDate d = LocalDate.now(ZoneOffset.UTC).minusDays(1);
        // OpenStack's own form: the traits are inside payload, times without a zone.
        String payload = "\"instance_id\":\"i-3\",\"tenant_id\":\"t-1\",\"state\":\"active\",\"launched_at\":\"" + d
                + " 09:59:00\",\"deleted_at\":\"\",\"image_meta\":{\"org.openstack__1__os_distro\":\"ubuntu\"}";
        String body = "[{\"message_id\":\"" + run + "-n1\",\"event_type\":\"compute.instance.create.end\","
                + "\"publisher_id\":\"compute.host-1\",\"timestamp\":\"" + d + " 10:00:00.000000\",\"payload\":{"
                + payload
                + "}},{\"message_id\":\"" + run + "-n2\",\"event_type\":\"compute.instance.exists\","
                + "\"publisher_id\":\"compute.host-1\",\"timestamp\":\"" + d.plusDays(1) + " 00:05:00.000000\","
                + "\"payload\":{" + payload + ",\"audit_period_beginning\":\"" + d + " 00:00:00\","
                + "\"audit_period_ending\":\"" + d.plusDays(1) + " 00:00:00\"}}]";
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20))
                .until(() -> find("compute.instance.exists.verified").size() == 1);
        JsonNode verified = find("compute.instance.exists.verified").getFirst();
        assertThat(verified.path("original_message_id").asText()).isEqualTo(run + "-n2");
        assertThat(verified.path("payload").path("os_distro").asText()).isEmpty(); // usage's own payload shape
        assertThat(verified.path("payload")
                        .path("image_meta")
                        .path("org.openstack__1__os_distro")
                        .asText())
                .isEqualTo("ubuntu");
        JsonNode stream = streams("completed").get(0);
        assertThat(stream.path("distinguishing_traits").path("instance_id").asText())
                .isEqualTo("i-3");
        // The log keeps the notifications as they were sent.
        assertThat(find("compute.instance.exists")
                        .getFirst()
                        .path("payload")
                        .path("instance_id")
                        .asText())
                .isEqualTo("i-3");
    }
}
