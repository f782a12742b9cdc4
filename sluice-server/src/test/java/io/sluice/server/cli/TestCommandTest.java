package io.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice test} on the shipped sandbox tests, on a failing file and on malformed ones. */
class TestCommandTest {
    private static final Path TESTS =
            Path.of("..", "examples", "winchester", "tests").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();

    private int sluice(String... args) {
        PrintWriter w = new PrintWriter(out, true);
        return SluiceCommand.commandLine(w, w).execute(args);
    }

    @Test
    void theShippedSandboxTestsPass() {
        assertThat(sluice("test", TESTS.resolve("sandbox.test.yaml").toString()))
                .as(out.toString())
                .isZero();
        assertThat(out.toString())
                .contains("PASS sandbox.test.yaml: an instance's day fires on its end-of-day exists")
                .contains("PASS sandbox.test.yaml: without the exists, the day's stream expires")
                .contains("2 passed, 0 failed");
    }

    @Test
    void aFailingCaseShowsWhatDiffered() throws Exception {
        Path f = dir.resolve("wrong.test.yaml");
        Files.writeString(f, """
                winchester: %s
                cases:
                  - name: expects the wrong things
                    events:
                      - file: %s
                    expect:
                      fired: [{trigger: test_trigger, distinguished_by: {instance_id: someone-else}}]
                      emitted: [{event_type: compute.instance.exists.failed}]
                """.formatted(TESTS.resolve("winchester.yaml"), TESTS.resolve("create.ndjson")));
        assertThat(sluice("test", f.toString())).isEqualTo(SluiceCommand.FAILURE);
        assertThat(out.toString())
                .contains("FAIL wrong.test.yaml: expects the wrong things")
                .contains(
                        "fired: expected {\"trigger\":\"test_trigger\",\"distinguished_by\":{\"instance_id\":\"someone-else\"}}, not among none")
                .contains(
                        "emitted: expected an event like {\"event_type\":\"compute.instance.exists.failed\"}, not among the 0 new events")
                .contains("0 passed, 1 failed");
    }

    @Test
    void aMalformedFileGetsExitTwoNamingTheLine() throws Exception {
        Path f = dir.resolve("bad.test.yaml");
        Files.writeString(f, """
                winchester: %s
                cases:
                  - name: a step that is not one
                    steps:
                      - advance: soon
                """.formatted(TESTS.resolve("winchester.yaml")));
        assertThat(sluice("test", f.toString())).isEqualTo(SluiceCommand.USAGE);
        assertThat(out.toString()).contains("bad.test.yaml:5: cases[0].steps[0].advance: must be a duration");

        Files.writeString(
                f, "winchester: %s\ncases:\n  - name: x\n    expcet: {}\n".formatted(TESTS.resolve("winchester.yaml")));
        assertThat(sluice("test", f.toString())).isEqualTo(SluiceCommand.USAGE);
        assertThat(out.toString()).contains("bad.test.yaml:4: cases[0].expcet: unknown key");
    }
}
