package io.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice send --zmq}, EventReactor's {@code fire-event}, against a real router. */
class SendZmqCommandTest {
    @TempDir
    Path dir;

    private SluiceServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private record Result(int exit, String out, String err) {}

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = SluiceCommand.commandLine(new PrintWriter(out), new PrintWriter(err))
                .execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void fireEventsFlagsBuildTheEventAndTheStoredEventIsPrinted() throws Exception {
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, "envelope: eventreactor\nzeromq: {rep: \"tcp://127.0.0.1:*\"}\n");
        server = SluiceServer.start(ServerConfig.load(config).withPort(0));
        String endpoint = server.zeromq().endpoint("rep");

        Result r = run("send", "--zmq", endpoint, "-e", "zmq.test", "-n", "local", "-d", "{\"disk\":\"sda\"}");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode answer = Json.parse(r.out());
        assertThat(answer.path("offset").asLong()).isEqualTo(1);
        JsonNode event = answer.path("event");
        assertThat(event.path("namespace").asText()).isEqualTo("local");
        assertThat(event.path("event_type").asText()).isEqualTo("zmq.test");
        assertThat(event.path("data").path("disk").asText()).isEqualTo("sda");
        assertThat(event.path("timestamp").asText()).isNotEmpty();
        assertThat(server.log().store().byId(event.path("id").asText())).isPresent();

        r = run("send", "--zmq", endpoint, "--type", "t2", "{\"id\":\"given\",\"data\":\"text\"}");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(Json.parse(r.out()).path("event").path("namespace").asText()).isEqualTo("default");
        assertThat(Json.parse(r.out()).path("event").path("id").asText()).isEqualTo("given");

        r = run("send", "--zmq", endpoint, "-d", "no type");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("refused").contains("event_type");
        assertThat(run("send", "--zmq", "http://nope", "{}").exit()).isEqualTo(2);
    }
}
