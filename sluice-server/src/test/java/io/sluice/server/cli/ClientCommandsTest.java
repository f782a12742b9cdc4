package io.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.api.Json;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice send} and {@code sluice find} against a real server. */
class ClientCommandsTest {
    @TempDir
    Path data;

    private SluiceServer server;

    @BeforeEach
    void start() {
        server = SluiceServer.start(ServerConfig.defaults(data).withPort(0));
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

    private Result run(String stdin, String... args) {
        InputStream original = System.in;
        try {
            if (stdin != null) {
                System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
            }
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int exit = SluiceCommand.commandLine(new PrintWriter(out), new PrintWriter(err))
                    .execute(args);
            return new Result(exit, out.toString(), err.toString());
        } finally {
            System.setIn(original);
        }
    }

    @Test
    void sendPrintsOffsetAndIdPerEventAndFindPrintsThem() {
        Result sent = run(
                null,
                "send",
                "--url",
                server.url(),
                "--type",
                "user.signup",
                "{\"id\":\"u1\",\"user\":\"ada\"}",
                "{\"user\":\"bob\"}");
        assertThat(sent.exit()).isZero();
        assertThat(sent.lines()).hasSize(2);
        assertThat(sent.lines().get(0)).isEqualTo("{\"offset\":1,\"id\":\"u1\"}");
        assertThat(Json.parse(sent.lines().get(1)).get("offset").asLong()).isEqualTo(2);

        Result found = run(null, "find", "--url", server.url(), "--filter", "{\"user\":\"bob\"}");
        assertThat(found.exit()).isZero();
        assertThat(found.lines()).hasSize(1);
        assertThat(Json.parse(found.lines().getFirst()).at("/event/type").asText())
                .isEqualTo("user.signup");
        assertThat(run(null, "find", "--url", server.url(), "--after", "1").lines())
                .hasSize(1);
        assertThat(run(null, "find", "--url", server.url(), "--limit", "1").lines())
                .hasSize(1);
    }

    @Test
    void sendReadsNdjsonInBatchesAndKeepsWhatCameBeforeABadLine() {
        StringBuilder in = new StringBuilder();
        for (int i = 1; i <= 25; i++) {
            in.append("{\"n\":").append(i).append("}\n");
        }
        in.append("not json\n{\"n\":99}\n");
        Result r = run(in.toString(), "send", "--url", server.url(), "--batch", "10");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.lines()).hasSize(25);
        assertThat(r.err()).contains("line 26: invalid JSON").contains("the events before it were stored");
        assertThat(run(null, "find", "--url", server.url()).lines()).hasSize(25);
    }

    @Test
    void errorsExit2ForBadInputAnd1WhenTheServerIsUnreachable() {
        Result bad = run(null, "find", "--url", server.url(), "--filter", "{\"$nope\":1}");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("unknown top level operator $nope");
        Result badEvent = run(null, "send", "--url", server.url(), "{\"time\":1}");
        assertThat(badEvent.exit()).isEqualTo(2);
        assertThat(badEvent.err()).contains("event 0: field 'time'");
        Result down = run(null, "find", "--url", "http://127.0.0.1:1");
        assertThat(down.exit()).isEqualTo(1);
        assertThat(down.err()).contains("cannot reach Sluice at http://127.0.0.1:1");
    }
}
