package io.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.api.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice flow run} in a process of its own, under load, stopped with SIGTERM: it stops
 * cleanly, flushing what a tipping bucket held, and every event the source made is in the file.
 */
class FlowSigtermTest {
    @TempDir
    Path dir;

    @Test
    void sigtermStopsARunningFlowCleanlyWithNothingLost() throws Exception {
        Path flow = dir.resolve("endless.yaml");
        Files.writeString(flow, """
                modules:
                  source: {module: testevent, arguments: {interval: 0, message: {n: 1}}}
                  bucket: {module: tippingbucket, arguments: {events: 7}}
                  out: {module: file_output, arguments: {path: out.ndjson}}
                routingtable:
                  - source.outbox -> bucket.inbox
                  - bucket.outbox -> out.inbox
                """);
        Path log = dir.resolve("flow.log");
        Process p = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        "io.sluice.server.Main",
                        "flow",
                        "run",
                        flow.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            Path out = dir.resolve("out.ndjson");
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(out) && Files.size(out) > 100_000);
            p.destroy(); // SIGTERM
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String printed = Files.readString(log);
            assertThat(p.exitValue()).as(printed).isZero();
            assertThat(printed).contains("flow endless ended: nothing lost");
            Matcher made = Pattern.compile("source \\(testevent\\): consumed 0, submitted (\\d+)")
                    .matcher(printed);
            assertThat(made.find()).as(printed).isTrue();
            List<String> lines = Files.readAllLines(out);
            long written = lines.stream().mapToLong(l -> Json.parse(l).size()).sum();
            assertThat(written).isEqualTo(Long.parseLong(made.group(1)));
            assertThat(Json.parse(lines.getLast()).size()).isBetween(1, 7);
        } finally {
            p.destroyForcibly();
        }
    }
}
