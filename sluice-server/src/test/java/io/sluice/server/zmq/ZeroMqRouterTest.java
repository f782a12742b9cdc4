package io.sluice.server.zmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import java.io.IOException;
import java.io.InputStream;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/** The ZeroMQ router on a real server, with real ZeroMQ peers (PUSH feeders, a REQ client, a SUB). */
class ZeroMqRouterTest {
    @TempDir
    Path dir;

    private SluiceServer server;
    private final ZContext zmq = new ZContext(1);
    private final HttpClient http = HttpClient.newHttpClient();
    private int pull;
    private int rep;
    private int pub;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        zmq.close();
    }

    private void start(String more) throws IOException {
        try (InputStream in = ZeroMqRouterTest.class.getResourceAsStream("/handlers/record.sh")) {
            Files.copy(in, dir.resolve("record.sh"));
        }
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(
                config,
                "envelope: eventreactor\n"
                        + "zeromq: {pull: \"tcp://127.0.0.1:*\", rep: \"tcp://127.0.0.1:*\","
                        + " pub: \"tcp://127.0.0.1:*\", namespace: local, pub_topic: type,"
                        + " max_message_bytes: 64KB, high_water_mark: 0}\n" + more);
        server = SluiceServer.start(ServerConfig.load(config).withPort(0));
        // Bound to ports the system chose: no race with other sockets for a port picked beforehand.
        rep = port(server.zeromq().endpoint("rep"));
        pub = port(server.zeromq().endpoint("pub"));
        await().atMost(Duration.ofSeconds(10)).until(() -> server.zeromq().endpoint("pull") != null);
        pull = port(server.zeromq().endpoint("pull"));
    }

    private static int port(String endpoint) {
        return Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
    }

    /** One REQ/REP exchange; a request left unanswered is sent again on a fresh socket (lazy pirate). */
    private JsonNode request(String json) {
        for (int attempt = 0; attempt < 5; attempt++) {
            try (ZMQ.Socket req = zmq.createSocket(SocketType.REQ)) {
                req.setLinger(0);
                req.setReceiveTimeOut(2_000);
                req.connect("tcp://127.0.0.1:" + rep);
                req.send(json);
                String answer = req.recvStr();
                if (answer != null) {
                    return Json.parse(answer);
                }
            }
        }
        throw new AssertionError("no answer to " + json + " within 10 s");
    }

    private JsonNode get(String path) throws Exception {
        return Json.parse(http.send(
                        HttpRequest.newBuilder(URI.create(server.url() + path)).build(),
                        HttpResponse.BodyHandlers.ofString())
                .body());
    }

    @Test
    void aFireEventRequestReachesAShellHandlerAndIsAnsweredAsStored() throws Exception {
        start("handlers:\n"
                + "  - {name: zmqtest, filter: {namespace: local, event_type: zmq.test}, driver: shell,"
                + " handler: \"sh record.sh got.json\"}\n");
        // EventReactor's fire-event: {"namespace", "event_type", "data"}; here without a namespace.
        JsonNode answer = request("{\"event_type\":\"zmq.test\",\"data\":{\"disk\":\"sda\",\"free\":3}}");
        assertThat(answer.path("offset").asLong()).isEqualTo(1);
        JsonNode stored = answer.path("event");
        assertThat(stored.path("namespace").asText()).isEqualTo("local");
        assertThat(stored.path("id").asText()).isNotEmpty();
        assertThat(stored.path("timestamp").asText()).endsWith("Z");

        Path got = dir.resolve("got.json");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(got));
        assertThat(Json.parse(Files.readString(got))).isEqualTo(stored);
        await().atMost(Duration.ofSeconds(5))
                .until(() ->
                        get("/v1/handler-runs?handler=zmqtest").path("runs").size() == 1);
        JsonNode run = get("/v1/handler-runs?handler=zmqtest").path("runs").get(0);
        assertThat(run.path("code").asInt()).isZero();
        assertThat(run.path("output").asText())
                .isEqualTo("recorded " + stored.path("id").asText() + "\n");

        // Rejected ones answer an error object and store nothing.
        JsonNode bad = request("{\"namespace\":\"local\",\"data\":1}");
        assertThat(bad.path("code").asText()).isEqualTo("invalid_event");
        assertThat(bad.path("error").asText()).contains("event_type");
        assertThat(request("not json").path("code").asText()).isEqualTo("invalid_event");
        assertThat(request("[1]").path("error").asText()).contains("JSON object");
        assertThat(get("/healthz").path("last_offset").asLong()).isEqualTo(1);
    }

    @Test
    void fourFeedersPushFortyThousandEventsStoredOnceAndPublished() throws Exception {
        start("");
        Set<String> published = ConcurrentHashMap.newKeySet();
        AtomicBoolean wrongTopic = new AtomicBoolean();
        ZMQ.Socket sub = zmq.createSocket(SocketType.SUB);
        sub.setRcvHWM(0);
        sub.setReceiveTimeOut(100);
        sub.connect("tcp://127.0.0.1:" + pub);
        sub.subscribe("feed.");
        Thread subscriber = Thread.ofPlatform().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                String topic = sub.recvStr();
                if (topic == null) {
                    continue;
                }
                String body = sub.recvStr();
                JsonNode e = Json.parse(body);
                if (!topic.equals(e.path("event_type").asText())) {
                    wrongTopic.set(true);
                }
                published.add(e.path("id").asText());
            }
        });
        // A SUB's subscription reaches the PUB asynchronously: wait until it is there.
        request("{\"id\":\"probe\",\"event_type\":\"probe\"}"); // not under the SUB's prefix
        // A subscription reaches the PUB asynchronously: send ready-probes until the SUB gets one.
        int probes = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (published.stream().noneMatch(id -> id.startsWith("ready-"))) {
            assertThat(System.nanoTime())
                    .as("the subscription reached the PUB socket")
                    .isLessThan(deadline);
            request("{\"id\":\"ready-" + probes++ + "\",\"event_type\":\"feed.ready\"}");
            try {
                await().atMost(Duration.ofMillis(200))
                        .pollInterval(Duration.ofMillis(10))
                        .until(() -> published.stream().anyMatch(id -> id.startsWith("ready-")));
            } catch (org.awaitility.core.ConditionTimeoutException notYet) {
                // the subscription was not there yet: probe again
            }
        }
        long before = 1 + probes; // the probe and the ready-probes, stored before the feeders start

        List<Thread> feeders = new ArrayList<>();
        for (int f = 0; f < 4; f++) {
            int feeder = f;
            feeders.add(Thread.ofPlatform().start(() -> {
                try (ZMQ.Socket push = zmq.createSocket(SocketType.PUSH)) {
                    push.setSndHWM(0);
                    push.setLinger(10_000);
                    push.connect("tcp://127.0.0.1:" + pull);
                    for (int i = 0; i < 10_000; i++) {
                        push.send("{\"id\":\"f" + feeder + "-" + i + "\",\"event_type\":\"feed." + feeder + "\",\"n\":"
                                + i + "}");
                    }
                }
            }));
        }
        for (Thread t : feeders) {
            t.join();
        }
        await().atMost(Duration.ofSeconds(60))
                .until(() -> get("/healthz").path("last_offset").asLong() == 40_000 + before);
        // Sent again: acknowledged as duplicates, not stored twice.
        try (ZMQ.Socket push = zmq.createSocket(SocketType.PUSH)) {
            push.setLinger(5_000);
            push.connect("tcp://127.0.0.1:" + pull);
            for (int i = 0; i < 100; i++) {
                push.send("{\"id\":\"f0-" + i + "\",\"event_type\":\"feed.0\",\"n\":" + i + "}");
            }
            push.send("{\"id\":\"last\",\"event_type\":\"feed.last\"}");
        }
        await().atMost(Duration.ofSeconds(60))
                .until(() -> get("/healthz").path("last_offset").asLong() == 40_001 + before);
        assertThat(get("/v1/events/f0-0").path("offset").asLong()).isLessThan(40_001 + before);

        await().atMost(Duration.ofSeconds(60)).until(() -> published.size() >= 40_000);
        subscriber.interrupt();
        subscriber.join(5_000);
        Set<String> missing = new java.util.HashSet<>();
        for (int f = 0; f < 4; f++) {
            for (int i = 0; i < 10_000; i++) {
                missing.add("f" + f + "-" + i);
            }
        }
        missing.removeAll(published);
        assertThat(missing).as("stored but not published").isEmpty();
        assertThat(published).doesNotContain("probe"); // filtered by the SUB's prefix
        assertThat(wrongTopic).isFalse();
        sub.close();
    }

    @Test
    void malformedMessagesAreCountedAndTheRouterKeepsGoing() throws Exception {
        start("");
        try (ZMQ.Socket push = zmq.createSocket(SocketType.PUSH)) {
            push.setLinger(5_000);
            push.connect("tcp://127.0.0.1:" + pull);
            push.send("this is not JSON");
            push.send("[1,2]");
            push.sendMore("{\"event_type\":\"two\",");
            push.send("\"frames\":1}");
            push.send("{\"namespace\":\"x\"}"); // no event_type
            push.send("{\"event_type\":\"ok.1\"}");
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() -> get("/healthz").path("last_offset").asLong() == 1);
        try (ZMQ.Socket push = zmq.createSocket(SocketType.PUSH)) {
            push.setLinger(5_000);
            push.connect("tcp://127.0.0.1:" + pull);
            push.send(("{\"event_type\":\"big\",\"pad\":\"" + "x".repeat(100_000) + "\"}")
                    .getBytes(StandardCharsets.UTF_8));
        }
        try (ZMQ.Socket push = zmq.createSocket(SocketType.PUSH)) {
            push.setLinger(5_000);
            push.connect("tcp://127.0.0.1:" + pull);
            push.send("{\"event_type\":\"ok.2\"}");
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() -> get("/healthz").path("last_offset").asLong() == 2);
        String metrics = http.send(
                        HttpRequest.newBuilder(URI.create(server.url() + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        assertThat(metrics).containsPattern("sluice_input_rejected_total\\{input=\"zeromq.pull\"[^}]*} 5.0");
        List<String> types = new ArrayList<>();
        http.send(
                        HttpRequest.newBuilder(URI.create(server.url() + "/v1/events?after=0&limit=10"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body()
                .lines()
                .forEach(l ->
                        types.add(Json.parse(l).path("event").path("event_type").asText()));
        assertThat(types).containsExactly("ok.1", "ok.2");
    }
}
