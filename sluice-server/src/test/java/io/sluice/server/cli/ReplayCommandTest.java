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
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice replay}: a server's history (raw notifications of 2014, long expired by the wall
 * clock) run through the sandbox's definitions on event time, into a separate state.
 */
class ReplayCommandTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    void historyThroughDefinitionsReportsWhatWouldFire() throws Exception {
        try (SluiceServer server = SluiceServer.start(ServerConfig.defaults(dir)
                .withHandling(ServerConfig.Handling.NONE)
                .withPort(0))) {
            List<JsonNode> history = new ArrayList<>();
            for (String line : Files.readAllLines(ROOT.resolve("examples/winchester/notifications.ndjson"))) {
                history.add(Json.parse(line));
            }
            for (int i = 0; i < 5; i++) {
                history.add(Json.parse("{\"id\":\"other-" + i + "\",\"type\":\"unrelated\"}"));
            }
            server.log().append(history).get();

            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int exit = SluiceCommand.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
                    .execute(
                            "replay",
                            "--url",
                            server.url(),
                            "--definitions",
                            ROOT.resolve("examples/winchester/tests/winchester.yaml")
                                    .toString());
            assertThat(exit).as(err.toString()).isZero();
            List<String> lines = out.toString().lines().toList();
            assertThat(lines).hasSize(1);
            JsonNode stream = Json.parse(lines.getFirst());
            assertThat(stream.path("trigger").asText()).isEqualTo("test_trigger");
            assertThat(stream.path("outcome").asText()).isEqualTo("fired");
            assertThat(stream.path("distinguished_by").path("instance_id").asText())
                    .isEqualTo("2b1b1f2e-7c58-4b39-9f0b-5a8a4a7d3e11");
            assertThat(err.toString())
                    .contains("replayed 7 events (offsets 1 to 7) through 1 triggers: 1 streams would fire, 0 expire");

            StringWriter later = new StringWriter();
            exit = SluiceCommand.commandLine(new PrintWriter(later, true), new PrintWriter(err, true))
                    .execute(
                            "replay",
                            "--url",
                            server.url(),
                            "--from",
                            "2014-08-02T00:00:00Z",
                            "--definitions",
                            ROOT.resolve("examples/winchester/tests/winchester.yaml")
                                    .toString());
            assertThat(exit).isZero();
            assertThat(err.toString())
                    .contains("replayed 6 events"); // the create.end was before; events without a time pass
            assertThat(server.log().store().read(0, 100, e -> true).events()).hasSize(7); // untouched
        }
    }
}
