package io.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.api.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice flow run|list|show} and {@code sluice check} on real files. */
class FlowCommandTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int sluice(String... args) {
        return SluiceCommand.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute(args);
    }

    /** The example flow, writing into the test's directory instead of /tmp/sluice-tour. */
    private Path exampleFlow() throws Exception {
        Files.copy(ROOT.resolve("examples/events.ndjson"), dir.resolve("events.ndjson"));
        Path flows = Files.createDirectories(dir.resolve("flows"));
        String text = Files.readString(ROOT.resolve("examples/flows/alerts.yaml"))
                .replace("/tmp/sluice-tour", dir.resolve("out").toString());
        Path file = flows.resolve("alerts.yaml");
        Files.writeString(file, text);
        return file;
    }

    @Test
    void fileInputFilterFanoutToTwoFileOutputsGivesExactlyTheMatchingLinesInEach() throws Exception {
        Path flow = exampleFlow();
        int exit = sluice("flow", "run", flow.toString());
        assertThat(exit).as(err.toString()).isZero();
        List<String> urgent = Files.readAllLines(ROOT.resolve("examples/events.ndjson")).stream()
                .filter(l -> List.of("0", "1", "2", "3")
                        .contains(Json.parse(l).get("@fields").get("priority").asText()))
                .map(l -> Json.write(Json.parse(l)))
                .toList();
        assertThat(urgent).hasSize(2);
        assertThat(Files.readAllLines(dir.resolve("out/alerts.ndjson"))).isEqualTo(urgent);
        assertThat(Files.readAllLines(dir.resolve("out/audit.ndjson"))).isEqualTo(urgent);
        assertThat(Files.readAllLines(dir.resolve("out/rest.ndjson"))).hasSize(3);
        assertThat(err.toString())
                .contains("[informational] alerts/flow: started 6 modules, 5 routes")
                .contains("flow alerts ended: nothing lost")
                .contains("  urgent (filter): consumed 5, submitted 5")
                .contains("  split (fanout): consumed 2, submitted 4");
    }

    @Test
    void flowListAndShowDocumentTheModuleTypes() {
        assertThat(sluice("flow", "list")).isZero();
        assertThat(out.toString())
                .contains("fanout ")
                .contains("tippingbucket ")
                .contains("sluice.log ")
                .contains("amqp_input ")
                .contains("webhook_output ");
        out.getBuffer().setLength(0);
        assertThat(sluice("flow", "show", "wishbone.flow.tippingbucket")).isZero();
        assertThat(out.toString())
                .startsWith("### `tippingbucket`")
                .contains("| `age` | duration | `0` |")
                .contains("| `queue_size` | integer | `1000` |");
        assertThat(sluice("flow", "show", "teleport")).isEqualTo(SluiceCommand.USAGE);
        assertThat(err.toString()).contains("no module type 'teleport'");
    }

    @Test
    void checkValidatesFlowsAndConfigurations() throws Exception {
        Path flow = exampleFlow();
        assertThat(sluice("check", flow.toString())).isZero();
        assertThat(out.toString()).contains(flow + ": ok");

        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, """
                modules:
                  a: {module: testevent}
                  b: {module: stdout, arguments: {prefix: 3, colour: red}}
                routingtable:
                  - a.outbox -> b.inbox
                """);
        assertThat(sluice("check", bad.toString())).isEqualTo(SluiceCommand.USAGE);
        assertThat(err.toString())
                .contains("bad.yaml:3: modules.b.arguments.colour: unknown setting of a stdout module");

        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, "flows: [flows/alerts.yaml]\n");
        out.getBuffer().setLength(0);
        assertThat(sluice("check", "--config", config.toString()))
                .as(err.toString())
                .isZero();
        assertThat(out.toString()).contains("sluice.yaml: ok (").contains("1 flows)");

        Files.writeString(config, "flows: [flows/missing.yaml]\n");
        assertThat(sluice("check", "--config", config.toString())).isEqualTo(SluiceCommand.USAGE);
        assertThat(err.toString()).contains("flows[0]: no such file");
    }
}
