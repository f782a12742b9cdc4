package io.sluice.server.handle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ConfigException;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Handlers on a real server running real scripts (from the test resources) on real events. */
class HandlersTest {
    @TempDir
    Path dir;

    private SluiceServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** Copies the test scripts next to the configuration, as a deployment would have them. */
    private void start(String yaml) throws IOException {
        for (String script : List.of("record.sh", "fail.sh", "span.sh", "spawn.sh", "handler.py")) {
            try (InputStream in = HandlersTest.class.getResourceAsStream("/handlers/" + script)) {
                Files.copy(in, dir.resolve(script));
            }
        }
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, yaml);
        server = SluiceServer.start(ServerConfig.load(config).withPort(0));
    }

    private JsonNode send(String json) throws Exception {
        return call("POST", "/v1/events", json, 200);
    }

    private JsonNode call(String method, String path, String body, int expected) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path));
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(expected);
        return Json.parse(r.body());
    }

    private JsonNode runs(String handler) throws Exception {
        return call("GET", "/v1/handler-runs?handler=" + handler, null, 200).path("runs");
    }

    @Test
    void aShellHandlerGetsTheEventAsItsLastArgumentAndItsRunIsRecorded() throws Exception {
        start("handlers:\n" + "  - {name: record, on: \"zmq.*\", driver: shell, handler: \"sh record.sh got.json\"}\n");
        JsonNode sent = send("{\"id\":\"e-1\",\"type\":\"zmq.test\",\"data\":{\"n\":1}}");
        send("{\"id\":\"e-2\",\"type\":\"other.thing\"}"); // not selected: no run
        Path got = dir.resolve("got.json");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(got));
        JsonNode event = Json.parse(Files.readString(got));
        assertThat(event.path("id").asText()).isEqualTo("e-1");
        assertThat(event.path("data").path("n").asInt()).isEqualTo(1);
        assertThat(Json.parse(Files.readString(dir.resolve("got.json.stdin")))).isEqualTo(event);
        assertThat(Files.readString(dir.resolve("got.json.env")).strip())
                .isEqualTo("e-1 zmq.test " + sent.path("first_offset").asLong() + " record");

        await().atMost(Duration.ofSeconds(5)).until(() -> runs("record").size() == 1);
        JsonNode run = runs("record").get(0);
        assertThat(run.path("status").asText()).isEqualTo("ok");
        assertThat(run.path("code").asInt()).isZero();
        assertThat(run.path("output").asText()).isEqualTo("recorded e-1\n");
        assertThat(run.path("event_id").asText()).isEqualTo("e-1");
        JsonNode h = call("GET", "/v1/handlers/record", null, 200);
        assertThat(h.path("runs").asLong()).isEqualTo(1);
        assertThat(h.path("failures").asLong()).isZero();
    }

    @Test
    void aFailingHandlerIsRetriedThenDeadLetteredAndReplayRunsItAgain() throws Exception {
        start("handlers:\n"
                + "  - {name: flaky, driver: shell, handler: \"sh fail.sh fixed.flag\", max_attempts: 3,"
                + " backoff: 10ms}\n");
        send("{\"id\":\"f-1\",\"type\":\"disk.check\"}");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> call("GET", "/v1/deadletters?reader=handler:flaky", null, 200)
                                .path("deadletters")
                                .size()
                        == 1);
        JsonNode runs = runs("flaky");
        assertThat(runs).hasSize(3);
        for (JsonNode r : runs) {
            assertThat(r.path("status").asText()).isEqualTo("failed");
            assertThat(r.path("code").asInt()).isEqualTo(3);
            assertThat(r.path("error").asText()).isEqualTo("disk on fire\n");
        }
        assertThat(runs.get(0).path("attempt").asInt()).isEqualTo(3);
        JsonNode letter = call("GET", "/v1/deadletters?reader=handler:flaky", null, 200)
                .path("deadletters")
                .get(0);
        assertThat(letter.path("event_id").asText()).isEqualTo("f-1");
        assertThat(letter.path("attempts").asInt()).isEqualTo(3);
        assertThat(letter.path("last_error").asText()).contains("code 3").contains("disk on fire");
        assertThat(call("GET", "/v1/handlers/flaky", null, 200)
                        .path("dead_lettered")
                        .asLong())
                .isEqualTo(1);

        // Still failing: the replay says why and the letter stays.
        long id = letter.path("id").asLong();
        call("POST", "/v1/deadletters/" + id + "/replay", null, 503);
        Files.writeString(dir.resolve("fixed.flag"), "");
        call("POST", "/v1/deadletters/" + id + "/replay", null, 200);
        assertThat(call("GET", "/v1/deadletters?reader=handler:flaky", null, 200)
                        .path("deadletters"))
                .isEmpty();
        JsonNode last = runs("flaky").get(0);
        assertThat(last.path("status").asText()).isEqualTo("ok");
        assertThat(last.path("output").asText()).isEqualTo("fixed\n");
        assertThat(call("GET", "/v1/handler-runs?handler=flaky&status=failed", null, 200)
                        .path("runs"))
                .hasSize(4);
    }

    @Test
    void shellMetacharactersInAnEventAreOnlyText() throws Exception {
        start("handlers:\n  - {name: record, driver: shell, handler: \"sh record.sh 'got it.json'\"}\n");
        Path pwned = dir.resolve("pwned");
        String payload = "; touch " + pwned + " $(touch " + pwned + ") `touch " + pwned + "` | touch " + pwned
                + " && touch " + pwned + " 'single' \"double\" back\\\\slash \\n ünïcødé 日本語 🎉 $HOME *";
        com.fasterxml.jackson.databind.node.ObjectNode event = Json.object();
        event.put("id", "m-1");
        event.put("type", "shell.test");
        event.put("payload", payload);
        send(Json.write(event));
        Path got = dir.resolve("got it.json");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(got));
        HttpResponse<String> stored = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/events/m-1"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        String asStored =
                stored.body().replaceFirst("^\\{\"offset\":\\d+,\"event\":", "").replaceFirst("}$", "");
        assertThat(Json.parse(Files.readString(got)).path("payload").asText()).isEqualTo(payload);
        assertThat(Files.readString(got, StandardCharsets.UTF_8)).isEqualTo(asStored); // byte for byte
        assertThat(pwned).doesNotExist();
    }

    @Test
    void anExclusiveHandlerRunsOneAtATimeInLogOrderAndOthersOverlapUpToTheirConcurrency() throws Exception {
        start("handlers:\n"
                + "  - {name: one, driver: shell, handler: \"sh span.sh one.log\", exclusive: true,"
                + " concurrency: 8}\n"
                + "  - {name: four, driver: shell, handler: \"sh span.sh four.log\", concurrency: 4}\n");
        StringBuilder ndjson = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            ndjson.append("{\"type\":\"t\",\"n\":").append(i).append("}\n");
        }
        HttpRequest post = HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(ndjson.toString()))
                .build();
        assertThat(http.send(post, HttpResponse.BodyHandlers.ofString()).statusCode())
                .isEqualTo(200);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> lines(dir.resolve("one.log")).size() == 100
                        && lines(dir.resolve("four.log")).size() == 100);

        List<long[]> one = spans(dir.resolve("one.log"));
        for (int i = 1; i < one.size(); i++) {
            assertThat(one.get(i)[0])
                    .as("run %d starts after run %d ended", i, i - 1)
                    .isGreaterThan(one.get(i - 1)[1]);
            assertThat(one.get(i)[2]).as("log order").isGreaterThan(one.get(i - 1)[2]);
        }
        int most = mostAtOnce(spans(dir.resolve("four.log")));
        assertThat(most).isGreaterThan(1).isLessThanOrEqualTo(4);
        assertThat(call("GET", "/v1/handlers/one", null, 200)
                        .path("concurrency")
                        .asInt())
                .isEqualTo(1);
    }

    private static List<String> lines(Path file) throws IOException {
        return Files.exists(file) ? Files.readAllLines(file) : List.of();
    }

    /** Each run as {start, end, offset}, in the order they started. */
    private static List<long[]> spans(Path file) throws IOException {
        java.util.Map<Long, long[]> byOffset = new java.util.LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            String[] p = line.split(" ");
            long[] span = byOffset.computeIfAbsent(Long.parseLong(p[2]), o -> new long[] {0, 0, o});
            span[p[0].equals("start") ? 0 : 1] = Long.parseLong(p[1]);
        }
        List<long[]> out = new ArrayList<>(byOffset.values());
        out.sort(java.util.Comparator.comparingLong(s -> s[0]));
        return out;
    }

    private static int mostAtOnce(List<long[]> spans) {
        int most = 0;
        for (long[] s : spans) {
            int at = 0;
            for (long[] t : spans) {
                if (t[0] <= s[0] && s[0] < t[1]) {
                    at++;
                }
            }
            most = Math.max(most, at);
        }
        return most;
    }

    @Test
    void aTimeoutKillsTheCommandAndItsChildren() throws Exception {
        start("handlers:\n"
                + "  - {name: slow, driver: shell, handler: \"sh spawn.sh child.pid\", timeout: 1s,"
                + " max_attempts: 1}\n");
        send("{\"id\":\"s-1\",\"type\":\"slow\"}");
        Path pidFile = dir.resolve("child.pid");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(pidFile) && Files.size(pidFile) > 0);
        long child = Long.parseLong(Files.readString(pidFile).strip());
        await().atMost(Duration.ofSeconds(10)).until(() -> runs("slow").size() == 1);
        assertThat(runs("slow").get(0).path("status").asText()).isEqualTo("timeout");
        await().atMost(Duration.ofSeconds(5))
                .until(() -> ProcessHandle.of(child).map(h -> !h.isAlive()).orElse(true));
    }

    @Test
    void eventReactorsHandlerFileLoadsAndAPyfuncEntrySaysWhatToDoInstead() throws Exception {
        Files.writeString(
                dir.resolve("event-handlers.json"),
                "{\"local:zmq.test\": [{\"driver\": \"pyfunc\", \"handler\": \"testing.handler\"}]}");
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, "envelope: eventreactor\nevent_handlers: event-handlers.json\n");
        assertThatThrownBy(() -> ServerConfig.load(config))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("event-handlers.json")
                .hasMessageContaining("\"local:zmq.test\"[0]")
                .hasMessageContaining("pyfunc")
                .hasMessageContaining("driver: shell")
                .hasMessageContaining("python3 handler.py");

        // The equivalent that works: the function as a script, through the shell driver.
        Files.writeString(
                dir.resolve("event-handlers.json"),
                "{\"local:zmq.test\": [{\"driver\": \"shell\", \"handler\": \"python3 handler.py seen.json\"}]}");
        start("envelope: eventreactor\nevent_handlers: event-handlers.json\n");
        send("{\"namespace\":\"other\",\"event_type\":\"zmq.test\",\"data\":\"not mine\"}");
        send("{\"namespace\":\"local\",\"event_type\":\"zmq.test\",\"data\":\"hello\"}");
        Path seen = dir.resolve("seen.json");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(seen));
        JsonNode s = Json.parse(Files.readString(seen));
        assertThat(s.path("seen").asText()).isEqualTo("zmq.test");
        assertThat(s.path("data").asText()).isEqualTo("hello");
        await().atMost(Duration.ofSeconds(5)).until(() -> runs("local:zmq.test").size() == 1);
        assertThat(runs("local:zmq.test").get(0).path("output").asText()).isEqualTo("handled zmq.test\n");
    }

    @Test
    void handlersAreAddedChangedAndRemovedAtRunTimeWithoutTouchingTheOthers() throws Exception {
        start("handlers:\n  - {name: steady, driver: java, handler: " + CountingHandler.class.getName() + "}\n");
        CountingHandler.reset();
        send("{\"id\":\"a-1\",\"type\":\"x\"}");
        await().atMost(Duration.ofSeconds(5)).until(() -> CountingHandler.seen().size() == 1);

        // Added through the API: starts at the head, runs for what comes next.
        call(
                "POST",
                "/v1/handlers",
                "{\"name\":\"late\",\"driver\":\"shell\",\"handler\":\"sh record.sh late.json\"}",
                201);
        send("{\"id\":\"a-2\",\"type\":\"x\"}");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(dir.resolve("late.json")));
        assertThat(Json.parse(Files.readString(dir.resolve("late.json")))
                        .path("id")
                        .asText())
                .isEqualTo("a-2");

        // Changed: continues from its checkpoint with the new definition.
        call(
                "POST",
                "/v1/handlers",
                "{\"name\":\"late\",\"driver\":\"shell\",\"on\":\"y\",\"handler\":\"sh record.sh late2.json\"}",
                200);
        send("{\"id\":\"a-3\",\"type\":\"x\"}");
        send("{\"id\":\"a-4\",\"type\":\"y\"}");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(dir.resolve("late2.json")));
        assertThat(Json.parse(Files.readString(dir.resolve("late2.json")))
                        .path("id")
                        .asText())
                .isEqualTo("a-4");

        // Bad definitions change nothing and say what is wrong.
        JsonNode bad = call(
                "POST", "/v1/handlers", "{\"name\":\"late\",\"driver\":\"java\",\"handler\":\"no.such.Class\"}", 400);
        assertThat(bad.path("error").asText()).contains("no.such.Class");
        bad = call(
                "POST",
                "/v1/handlers",
                "{\"name\":\"x\",\"driver\":\"shell\",\"handler\":\"a\",\"concurency\":2}",
                400);
        assertThat(bad.path("error").asText()).contains("concurency").contains("known:");
        call("POST", "/v1/handlers", "{\"name\":\"steady\",\"driver\":\"shell\",\"handler\":\"true\"}", 400);
        call("DELETE", "/v1/handlers/steady", null, 409);

        List<String> names = new ArrayList<>();
        call("GET", "/v1/handlers", null, 200)
                .path("handlers")
                .forEach(h -> names.add(h.path("name").asText()));
        assertThat(names).containsExactly("steady", "late");

        // API handlers survive a restart; removed ones are gone.
        server.close();
        server =
                SluiceServer.start(ServerConfig.load(dir.resolve("sluice.yaml")).withPort(0));
        assertThat(call("GET", "/v1/handlers/late", null, 200).path("on").asText())
                .isEqualTo("y");
        call("DELETE", "/v1/handlers/late", null, 200);
        call("GET", "/v1/handlers/late", null, 404);
        call("DELETE", "/v1/handlers/late", null, 404);
        assertThat(CountingHandler.seen()).containsExactly("a-1", "a-2", "a-3", "a-4");
    }

    @Test
    void aConfigurationReloadAddsChangesAndRemovesHandlersWithoutTouchingTheOthers() throws Exception {
        start("handlers:\n"
                + "  - {name: keep, driver: shell, handler: \"sh record.sh keep.json\"}\n"
                + "  - {name: change, driver: shell, handler: \"sh record.sh before.json\"}\n"
                + "  - {name: drop, driver: shell, handler: \"sh record.sh drop.json\"}\n");
        send("{\"id\":\"r-1\",\"type\":\"t\"}");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> Files.exists(dir.resolve("keep.json"))
                        && Files.exists(dir.resolve("before.json"))
                        && Files.exists(dir.resolve("drop.json")));
        long keepRunsBefore =
                call("GET", "/v1/handlers/keep", null, 200).path("runs").asLong();

        Path config = dir.resolve("sluice.yaml");
        Files.writeString(
                config,
                "handlers:\n"
                        + "  - {name: keep, driver: shell, handler: \"sh record.sh keep.json\"}\n"
                        + "  - {name: change, driver: shell, handler: \"sh record.sh after.json\"}\n"
                        + "  - {name: new, driver: shell, handler: \"sh record.sh new.json\"}\n");
        var reloaded = server.reload(ServerConfig.load(config));
        assertThat(reloaded.added()).containsExactly("new");
        assertThat(reloaded.changed()).containsExactly("change");
        assertThat(reloaded.removed()).containsExactly("drop");
        assertThat(call("GET", "/v1/handlers", null, 200).path("handlers").findValuesAsText("name"))
                .containsExactlyInAnyOrder("keep", "change", "new");
        assertThat(call("GET", "/v1/handlers/keep", null, 200).path("runs").asLong())
                .isEqualTo(keepRunsBefore);

        send("{\"id\":\"r-2\",\"type\":\"t\"}");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> Files.exists(dir.resolve("after.json")) && Files.exists(dir.resolve("new.json")));
        // the changed handler went on from its checkpoint: r-2 only, not r-1 again
        assertThat(Json.parse(Files.readString(dir.resolve("after.json")))
                        .path("id")
                        .asText())
                .isEqualTo("r-2");
        await().atMost(Duration.ofSeconds(10)).until(() -> Json.parse(Files.readString(dir.resolve("keep.json")))
                .path("id")
                .asText()
                .equals("r-2"));
        assertThat(Json.parse(Files.readString(dir.resolve("drop.json")))
                        .path("id")
                        .asText())
                .as("the removed handler ran no more")
                .isEqualTo("r-1");

        // a definition that cannot be made changes nothing
        Files.writeString(config, "handlers:\n  - {name: keep, driver: java, handler: no.such.Handler}\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> server.reload(ServerConfig.load(config)))
                .hasMessageContaining("handler keep");
        assertThat(call("GET", "/v1/handlers", null, 200).path("handlers").findValuesAsText("name"))
                .containsExactlyInAnyOrder("keep", "change", "new");
    }

    @Test
    void anHttpHandlerPostsTheEvent() throws Exception {
        List<String> got = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer receiver =
                com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", ex -> {
            got.add(ex.getRequestHeaders().getFirst("Idempotency-Key") + " "
                    + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            byte[] body = "thanks".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        receiver.start();
        try {
            start("handlers:\n  - {name: hook, driver: http, filter: {level: error}, handler: \"http://127.0.0.1:"
                    + receiver.getAddress().getPort() + "/hook\"}\n");
            send("{\"id\":\"h-1\",\"level\":\"info\"}");
            send("{\"id\":\"h-2\",\"level\":\"error\"}");
            await().atMost(Duration.ofSeconds(10)).until(() -> runs("hook").size() == 1);
            assertThat(got).hasSize(1);
            assertThat(got.get(0)).startsWith("h-2:hook {").contains("\"level\":\"error\"");
            assertThat(runs("hook").get(0).path("output").asText()).isEqualTo("thanks");
            assertThat(runs("hook").get(0).path("code").asInt()).isEqualTo(200);
        } finally {
            receiver.stop(0);
        }
    }

    @Test
    void theReadmesExampleHandlerReactsToAnUrgentEvent() throws Exception {
        Path examples = Path.of("..", "examples").toAbsolutePath().normalize();
        server = SluiceServer.start(ServerConfig.load(examples.resolve("handlers.yaml"))
                .withDataDir(dir.resolve("data"))
                .withPort(0));
        send("{\"@fields\":{\"priority\":\"6\"},\"@message\":\"user ada logged in\"}");
        JsonNode urgent = send("{\"@fields\":{\"priority\":\"1\"},\"@message\":\"kernel panic\"}");
        await().atMost(Duration.ofSeconds(10)).until(() -> runs("alert").size() == 1);
        JsonNode run = runs("alert").get(0);
        assertThat(run.path("status").asText()).isEqualTo("ok");
        assertThat(run.path("output").asText())
                .startsWith("ALERT (event " + urgent.path("ids").get(0).asText() + " at offset 2): {")
                .contains("kernel panic");
    }
}
