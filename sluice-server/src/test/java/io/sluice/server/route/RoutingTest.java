package io.sluice.server.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.sluice.api.Json;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ConfigException;
import io.sluice.server.config.ServerConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Standing queries on a real server, routed to real outputs (a file, a webhook receiver). */
class RoutingTest {
    @TempDir
    Path dir;

    private SluiceServer server;
    private HttpServer receiver;
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (receiver != null) {
            receiver.stop(0);
        }
        afterStop();
    }

    /** Runs once the server has stopped. */
    void afterStop() {}

    /** The store section of the configuration; the embedded store by default. */
    String storeYaml() {
        return "";
    }

    private SluiceServer start(String yaml) throws IOException {
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, storeYaml() + yaml);
        server = SluiceServer.start(ServerConfig.load(config).withPort(0));
        return server;
    }

    record Response(int status, JsonNode json) {}

    private Response call(String method, String path, String body) throws Exception {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(URI.create(server.url() + path)).header("Content-Type", "application/json");
        b = body == null
                ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.method(method, HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body().isEmpty() ? null : Json.parse(r.body()));
    }

    private void sendEvents(int from, int to) throws Exception {
        StringBuilder body = new StringBuilder();
        for (int n = from; n <= to; n++) {
            body.append("{\"id\":\"e")
                    .append(n)
                    .append("\",\"type\":\"t\",\"n\":")
                    .append(n)
                    .append("}\n");
        }
        HttpRequest r = HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build();
        assertThat(http.send(r, HttpResponse.BodyHandlers.ofString()).statusCode())
                .isEqualTo(200);
    }

    private static List<JsonNode> lines(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            out.add(Json.parse(line));
        }
        return out;
    }

    @Test
    void aNewBatchReplacesTheActiveSetAtOneOffset() throws Exception {
        Path matches = dir.resolve("matches.ndjson");
        start("outputs:\n  archive: {type: file, path: matches.ndjson}\ndefault_output: archive\n");
        Response a = call(
                "POST",
                "/v1/queries",
                "{\"id\":\"A\",\"name\":\"Q1\",\"key\":\"low\",\"query\":{\"n\":{\"$lt\":1000}}}\n"
                        + "{\"id\":\"A\",\"name\":\"Q2\",\"key\":\"even\",\"query\":{\"n\":{\"$mod\":[2,0]}}}\n");
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json().get("batch").asText()).isEqualTo("A");

        // Events flow while batch B replaces batch A: each is matched by one batch only.
        Thread sender = Thread.ofVirtual().start(() -> {
            try {
                for (int i = 0; i < 20; i++) {
                    sendEvents(i * 50 + 1, i * 50 + 50);
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(20);
        Response b = call("POST", "/v1/queries", "{\"id\":\"B\",\"name\":\"Q3\",\"key\":\"all\",\"query\":{}}");
        sender.join();
        assertThat(b.json().get("removed")).extracting(JsonNode::asText).containsExactlyInAnyOrder("Q1", "Q2");
        long switchedAt = b.json().get("switched_at").asLong();

        await().atMost(Duration.ofSeconds(20)).until(() -> lines(matches).stream()
                .anyMatch(l -> l.get("offset").asLong() == 1000));
        Map<Long, Set<String>> byOffset = new HashMap<>();
        for (JsonNode l : lines(matches)) {
            byOffset.computeIfAbsent(l.get("offset").asLong(), k -> ConcurrentHashMap.newKeySet())
                    .add(l.get("query").asText());
        }
        for (long offset = 1; offset <= 1000; offset++) {
            long n = offset; // events are numbered as their offsets
            Set<String> got = byOffset.getOrDefault(offset, Set.of());
            if (offset > switchedAt) {
                assertThat(got)
                        .as("offset %d after the switch at %d", offset, switchedAt)
                        .containsExactly("Q3");
            } else {
                Set<String> expected = new java.util.HashSet<>();
                expected.add("Q1"); // every n < 1000 ... and 1000 itself is not
                if (n >= 1000) {
                    expected.remove("Q1");
                }
                if (n % 2 == 0) {
                    expected.add("Q2");
                }
                assertThat(got)
                        .as("offset %d before the switch at %d", offset, switchedAt)
                        .isEqualTo(expected);
            }
        }
        Response list = call("GET", "/v1/queries", null);
        assertThat(list.json().get("batch").asText()).isEqualTo("B");
        assertThat(list.json().get("switched_at").asLong()).isEqualTo(switchedAt);
        assertThat(list.json().at("/queries/0/name").asText()).isEqualTo("Q3");
        assertThat(list.json().at("/queries/0/matches").asLong()).isEqualTo(1000 - switchedAt);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> call("GET", "/v1/queries/Q3", null)
                                .json()
                                .get("delivered")
                                .asLong()
                        == 1000 - switchedAt);
    }

    @Test
    void anExplicitEmptyBatchAndDeletesByName() throws Exception {
        start("");
        call("POST", "/v1/queries", "[{\"name\":\"x\",\"query\":{\"n\":1}},{\"name\":\"y\",\"query\":{\"n\":2}}]");
        assertThat(call("DELETE", "/v1/queries/x", null)
                        .json()
                        .get("removed")
                        .get(0)
                        .asText())
                .isEqualTo("x");
        assertThat(call("DELETE", "/v1/queries/x", null).status()).isEqualTo(404);
        Response empty = call("POST", "/v1/queries", "{\"id\":\"E\",\"queries\":[]}");
        assertThat(empty.json().get("removed")).extracting(JsonNode::asText).containsExactly("y");
        Response list = call("GET", "/v1/queries", null);
        assertThat(list.json().get("batch").asText()).isEqualTo("E");
        assertThat(list.json().get("queries")).isEmpty();
    }

    @Test
    void withoutAnOutputQueriesCountTheirMatchesAndCanBeFollowedLive() throws Exception {
        start("");
        call("POST", "/v1/queries", "{\"name\":\"odd\",\"key\":\"k\",\"query\":{\"n\":{\"$mod\":[2,1]}}}");
        List<String> streamed = new CopyOnWriteArrayList<>();
        HttpRequest follow = HttpRequest.newBuilder(URI.create(server.url() + "/v1/stream?query=odd"))
                .GET()
                .build();
        var response = http.sendAsync(follow, HttpResponse.BodyHandlers.ofLines());
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                response.get().body().filter(l -> l.startsWith("data:")).forEach(streamed::add);
            } catch (Exception ignored) {
                // the test ends the stream by stopping the server
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(response::isDone);
        sendEvents(1, 10);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> call("GET", "/v1/queries/odd", null)
                                .json()
                                .get("matches")
                                .asLong()
                        == 5);
        await().atMost(Duration.ofSeconds(10)).until(() -> streamed.size() == 5);
        assertThat(streamed.getFirst()).contains("\"n\":1");
        assertThat(call("GET", "/v1/queries/odd", null).json().get("output").isNull())
                .isTrue();
        assertThat(call("GET", "/v1/stream?query=nope", null).status()).isEqualTo(404);
        reader.interrupt();
    }

    @Test
    void aRefusedEventIsDeadLetteredAndReplayedOnceTheReceiverIsFixed() throws Exception {
        AtomicBoolean fixed = new AtomicBoolean();
        List<String> received = new CopyOnWriteArrayList<>();
        List<String> idempotencyKeys = new CopyOnWriteArrayList<>();
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            boolean bad = body.contains("\"n\":3") && !fixed.get();
            if (!bad) {
                received.add(body);
                idempotencyKeys.add(exchange.getRequestHeaders().getFirst("Idempotency-Key"));
            }
            byte[] answer = (bad ? "n=3 is not acceptable" : "ok").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(bad ? 400 : 200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        receiver.start();
        start("outputs:\n  hook: {type: webhook, url: \"http://127.0.0.1:"
                + receiver.getAddress().getPort() + "/hook\", max_attempts: 3, backoff: 10ms}\ndefault_output: hook\n");
        call("POST", "/v1/queries", "{\"name\":\"all\",\"key\":\"k\",\"query\":{\"n\":{\"$gte\":1}}}");
        sendEvents(1, 5);

        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 4);
        Response letters = call("GET", "/v1/deadletters", null);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> call("GET", "/v1/deadletters", null)
                                .json()
                                .get("deadletters")
                                .size()
                        == 1);
        letters = call("GET", "/v1/deadletters", null);
        JsonNode letter = letters.json().get("deadletters").get(0);
        assertThat(letter.get("query").asText()).isEqualTo("all");
        assertThat(letter.get("reader").asText()).isEqualTo("output:hook");
        assertThat(letter.get("attempts").asInt()).isEqualTo(3);
        assertThat(letter.get("last_error").asText()).contains("400").contains("n=3 is not acceptable");
        assertThat(letter.at("/event/n").asInt()).isEqualTo(3);
        assertThat(call("GET", "/v1/queries/all", null)
                        .json()
                        .get("dead_lettered")
                        .asLong())
                .isEqualTo(1);
        long id = letter.get("id").asLong();

        assertThat(call("POST", "/v1/deadletters/" + id + "/replay", null).status())
                .isEqualTo(503);
        fixed.set(true);
        Response replay = call("POST", "/v1/deadletters/" + id + "/replay", null);
        assertThat(replay.status()).isEqualTo(200);
        assertThat(received).hasSize(5).anyMatch(b -> b.contains("\"n\":3"));
        assertThat(idempotencyKeys).contains("e3:all");
        assertThat(call("GET", "/v1/deadletters", null).json().get("deadletters"))
                .isEmpty();
        assertThat(call("GET", "/v1/queries/all", null)
                        .json()
                        .get("dead_lettered")
                        .asLong())
                .isEqualTo(0);
        assertThat(call("POST", "/v1/deadletters/" + id + "/replay", null).status())
                .isEqualTo(404);
    }

    @Test
    void queriesAndProgressSurviveARestart() throws Exception {
        Path matches = dir.resolve("matches.ndjson");
        String yaml = "outputs:\n  archive: {type: file, path: matches.ndjson}\ndefault_output: archive\n";
        start(yaml);
        call("POST", "/v1/queries", "{\"id\":\"1\",\"name\":\"big\",\"key\":\"big\",\"query\":{\"n\":{\"$gt\":5}}}");
        sendEvents(1, 10);
        await().atMost(Duration.ofSeconds(10)).until(() -> lines(matches).size() == 5);
        server.close();
        server = null;

        start(yaml);
        assertThat(call("GET", "/v1/queries/big", null).json().get("matches").asLong())
                .isEqualTo(5);
        sendEvents(11, 20);
        await().atMost(Duration.ofSeconds(10)).until(() -> lines(matches).size() == 15);
        List<Long> offsets =
                lines(matches).stream().map(l -> l.get("offset").asLong()).toList();
        assertThat(offsets).doesNotHaveDuplicates();
        assertThat(call("GET", "/v1/queries/big", null).json().get("matches").asLong())
                .isEqualTo(15);
    }

    @Test
    void badQueriesAndUnknownOutputsAreRejectedAndChangeNothing() throws Exception {
        start("outputs:\n  archive: {type: file, path: m.ndjson}\n");
        Response foo = call("POST", "/v1/queries", "{\"name\":\"f\",\"query\":{\"n\":{\"$foo\":1}}}");
        assertThat(foo.status()).isEqualTo(400);
        assertThat(foo.json().get("code").asText()).isEqualTo("invalid_query");
        assertThat(foo.json().get("error").asText()).contains("$foo");
        Response output = call("POST", "/v1/queries", "{\"name\":\"o\",\"output\":\"nowhere\",\"query\":{}}");
        assertThat(output.status()).isEqualTo(400);
        assertThat(output.json().get("error").asText()).contains("nowhere").contains("archive");
        Response json = call("POST", "/v1/queries", "{\"name\":");
        assertThat(json.status()).isEqualTo(400);
        assertThat(call("GET", "/v1/queries", null).json().get("queries")).isEmpty();
    }

    @Test
    void configurationErrorsNameTheKey() throws IOException {
        Path config = dir.resolve("bad.yaml");
        Files.writeString(config, "outputs:\n  broker: {type: amqp}\n");
        Assertions.assertThatThrownBy(() -> ServerConfig.load(config))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("bad.yaml")
                .hasMessageContaining("outputs.broker.url");
        Files.writeString(config, "outputs:\n  hook: {type: webhook, url: \"http://x\", retries: 3}\n");
        Assertions.assertThatThrownBy(() -> ServerConfig.load(config)).hasMessageContaining("outputs.hook.retries");
        Files.writeString(config, "outputs:\n  hook: {type: webhook, url: \"http://x\", linger: 2s}\n");
        Assertions.assertThatThrownBy(() -> ServerConfig.load(config))
                .hasMessageContaining("outputs.hook.linger")
                .hasMessageContaining("from 0 to 1s");
        Files.writeString(config, "outputs:\n  hook: {type: webhook, url: \"http://x\", max_attempts: 0}\n");
        Assertions.assertThatThrownBy(() -> ServerConfig.load(config))
                .hasMessageContaining("outputs.hook.max_attempts");
        Files.writeString(config, "default_output: broker\n");
        Assertions.assertThatThrownBy(() -> ServerConfig.load(config)).hasMessageContaining("default_output");
        Files.writeString(config, "queries:\n  - {name: q, output: nowhere, query: {}}\n");
        Assertions.assertThatThrownBy(() -> ServerConfig.load(config)).hasMessageContaining("nowhere");
        Files.writeString(config, "queries:\n  - {name: q, query: {a: {$foo: 1}}}\n");
        Assertions.assertThatThrownBy(() -> ServerConfig.load(config)).hasMessageContaining("$foo");
    }
}
