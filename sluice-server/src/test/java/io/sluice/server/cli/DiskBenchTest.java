package io.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice bench disk} on a real directory: it commits on schedule, reports, and cleans up. */
class DiskBenchTest {
    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {}

    private static Run sluice(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = SluiceCommand.commandLine(new PrintWriter(out), new PrintWriter(err))
                .execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** One measured second without warm-up over a 1 MB scratch file in {@code data}, with {@code options}. */
    private static Run disk(Path data, String... options) {
        List<String> args = new ArrayList<>(List.of(
                "bench", "disk", "--data", data.toString(), "--seconds", "1", "--warmup", "0", "--file-mb", "1"));
        args.addAll(List.of(options));
        return sluice(args.toArray(String[]::new));
    }

    @Test
    void commitsOnScheduleReportsTheirLatencyAndLeavesNothingBehind() throws Exception {
        Path data = dir.resolve("data");
        Run run = disk(data, "--bytes", "8192", "--rate", "100");

        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out())
                .contains("sluice bench disk: " + data.toAbsolutePath())
                .contains("8,192 bytes per commit, fsync, 100 commits/s, 1 s after 0 s warm-up")
                .contains("commits/s", "p99 ms", "max ms");
        // Every scheduled commit of the measured second is counted, however slow the disk.
        assertThat(run.out().lines().filter(l -> l.trim().matches("[0-9,]+ .*")).findFirst())
                .hasValueSatisfying(row -> assertThat(row.trim()).startsWith("100 "));
        try (Stream<Path> left = Files.list(data)) {
            assertThat(left).isEmpty(); // the scratch file is gone
        }
    }

    @Test
    void backToBackWithFdatasync() {
        Run run = disk(dir, "--bytes", "4096", "--rate", "0", "--sync", "fdatasync");

        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).contains("4,096 bytes per commit, fdatasync, back to back");
        assertThat(run.out().lines().filter(l -> l.trim().matches("[0-9,]+ .*")).findFirst())
                .hasValueSatisfying(row -> assertThat(row.trim()).doesNotStartWith("0 "));
    }

    @Test
    void badOptionsAreNamed() throws Exception {
        Run zero = sluice("bench", "disk", "--data", dir.toString(), "--bytes", "0");
        assertThat(zero.exit()).isEqualTo(2);
        assertThat(zero.err()).contains("--bytes");

        Path file = Files.writeString(dir.resolve("a-file"), "x");
        Run notDir = sluice("bench", "disk", "--data", file.toString(), "--seconds", "1");
        assertThat(notDir.exit()).isEqualTo(2);
        assertThat(notDir.err()).contains("--data: not a directory: " + file);

        Run tooSmall = sluice("bench", "disk", "--data", dir.toString(), "--bytes", "2000000", "--file-mb", "1");
        assertThat(tooSmall.exit()).isEqualTo(2);
        assertThat(tooSmall.err()).contains("--file-mb");
    }
}
