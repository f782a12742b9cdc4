package io.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice queries}, {@code sluice deadletters} and {@code sluice tail --query} against a real server. */
class QueriesCommandTest {
    @TempDir
    Path dir;

    private SluiceServer server;

    @BeforeEach
    void start() {
        server = SluiceServer.start(ServerConfig.defaults(dir.resolve("data")).withPort(0));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    record Result(int exit, String out, String err) {
        List<String> lines() {
            return out.lines().toList();
        }
    }

    private Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = SluiceCommand.commandLine(new PrintWriter(out), new PrintWriter(err))
                .execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void applyListTailAndDelete() throws Exception {
        Path queries = Path.of("..", "examples", "queries.ndjson");
        Result applied = run("queries", "apply", "--url", server.url(), queries.toString());
        assertThat(applied.exit()).as(applied.err()).isZero();
        JsonNode answer = Json.parse(applied.out());
        assertThat(answer.get("batch").asText()).isEqualTo("07fb983f-ca15-4e38-a3b7-b1e544dc64ce");
        assertThat(answer.get("put")).hasSize(3);

        StringWriter tailed = new StringWriter();
        Thread tail = Thread.ofVirtual()
                .start(() -> SluiceCommand.commandLine(new PrintWriter(tailed), new PrintWriter(new StringWriter()))
                        .execute(
                                "tail",
                                "--url",
                                server.url(),
                                "--query",
                                "Informational",
                                "--from",
                                "earliest",
                                "--limit",
                                "2"));
        for (String line : Files.readAllLines(Path.of("..", "examples", "events.ndjson"))) {
            assertThat(run("send", "--url", server.url(), line).exit()).isZero();
        }
        tail.join(Duration.ofSeconds(20));
        assertThat(tailed.toString().lines().toList())
                .hasSize(2)
                .allMatch(l -> l.contains("\"priority\":\"6\"") || l.contains("\"priority\":\"7\""));

        await().atMost(Duration.ofSeconds(10))
                .until(() -> run("queries", "list", "--url", server.url()).lines().stream()
                                .map(Json::parse)
                                .mapToLong(q -> q.get("matches").asLong())
                                .sum()
                        == 6);
        Result deleted = run("queries", "delete", "--url", server.url(), "SlowWeb");
        assertThat(Json.parse(deleted.out()).get("removed").get(0).asText()).isEqualTo("SlowWeb");
        assertThat(run("queries", "list", "--url", server.url()).lines()).hasSize(2);
        Result missing = run("queries", "delete", "--url", server.url(), "SlowWeb");
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("no standing query named 'SlowWeb'");
    }

    @Test
    void badQueryFilesAreNamedWithExitCode2() throws Exception {
        Path bad = dir.resolve("bad.ndjson");
        Files.writeString(bad, "{\"name\":\"ok\",\"query\":{}}\n{\"name\":\"x\",\"query\":{\"a\":{\"$foo\":1}}}\n");
        Result r = run("queries", "apply", "--url", server.url(), bad.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("request body:2").contains("$foo");
        assertThat(run("queries", "list", "--url", server.url()).lines()).isEmpty();
        assertThat(run(
                                "queries",
                                "apply",
                                "--url",
                                server.url(),
                                dir.resolve("none.ndjson").toString())
                        .err())
                .contains("no such file");
        assertThat(run("deadletters", "list", "--url", server.url()).lines()).isEmpty();
        assertThat(run("deadletters", "replay", "--url", server.url(), "7").err())
                .contains("no dead letter 7");
    }
}
