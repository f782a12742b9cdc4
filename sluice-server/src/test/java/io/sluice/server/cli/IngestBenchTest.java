package io.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice bench ingest} against a real server: it loads it and reports what it measured. */
class IngestBenchTest {
    @TempDir
    Path data;

    /** Runs {@code sluice bench ingest} for one measured second without warm-up, with {@code options}. */
    private static String benchIngest(String... options) {
        List<String> args = new ArrayList<>(List.of("bench", "ingest", "--seconds", "1", "--warmup", "0"));
        args.addAll(List.of(options));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = SluiceCommand.commandLine(new PrintWriter(out), new PrintWriter(err))
                .execute(args.toArray(String[]::new));
        assertThat(exit).as(err.toString()).isZero();
        return out.toString();
    }

    @Test
    void closedLoopsAndAFixedRateReportEventsLatencyAndMemoryAndTheEventsAreStored() {
        try (SluiceServer server =
                SluiceServer.start(ServerConfig.defaults(data).withPort(0))) {
            String closed = benchIngest("--url", server.url(), "--connections", "2", "--batch", "50");
            assertThat(closed)
                    .contains("2 closed loops, requests of 50 events with random ids")
                    .contains("events/s", "p99 ms");
            assertThat(closed).containsPattern("server memory \\(MB\\).*heap first \\d+");
            assertThat(closed)
                    .contains("server side over the measured window")
                    .containsPattern(
                            "  request +p50 <= [0-9.]+ ms  p90 <= .* requests; POST /v1/events inside the server")
                    .containsPattern("  log +p50 <= [0-9.]+ ms .*requests; arrival at the log to durable")
                    .containsPattern("  commit +p50 <= [0-9.]+ ms .*commits; the store's part of each group commit");
            long stored = server.log().store().lastOffset();
            assertThat(stored).isPositive();
            assertThat(stored % 50).isZero(); // whole requests only
            assertThat(server.log()
                            .store()
                            .read(0, 1, e -> true)
                            .events()
                            .getFirst()
                            .json()
                            .length())
                    .isBetween(900, 1_200);

            String fixed = benchIngest(
                    "--url",
                    server.url(),
                    "--rate",
                    "500",
                    "--batch",
                    "10",
                    "--ids",
                    "sequential",
                    "--report-every",
                    "1");
            assertThat(fixed).contains("offered 500 events/s in requests of 10 events with sequential ids");
            assertThat(fixed.lines().filter(l -> l.trim().matches("[0-9,]+ .*")).findFirst())
                    .hasValueSatisfying(row -> assertThat(row.trim()).startsWith("500 "));
            assertThat(server.log().store().lastOffset()).isEqualTo(stored + 500);
            assertThat(fixed.lines().filter(l -> l.startsWith("  at ")))
                    .as("one report for the one measured second, before the summary")
                    .singleElement()
                    .satisfies(l -> assertThat(l).matches("  at 1 s: [0-9,]+ events/s over the last 1 s"));
            assertThat(fixed.indexOf("  at 1 s")).isLessThan(fixed.indexOf("p99.9 ms"));
            assertThat(server.log()
                            .store()
                            .read(0, 1, e -> true)
                            .events()
                            .getFirst()
                            .id())
                    .matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"); // random (version
            // 4) UUIDs
            assertThat(server.log()
                            .store()
                            .read(stored, 1, e -> true)
                            .events()
                            .getFirst()
                            .id())
                    .matches("[0-9a-f]{8}-\\d+"); // run prefix and counter
        }
    }

    @Test
    void spawnsAServerWithTheJavaOptionsGiven(@TempDir Path logs) throws Exception {
        Path gcLog = logs.resolve("gc.log");
        String out =
                benchIngest("--spawn", "--server-java-option=-Xlog:gc:file=" + gcLog, "--rate", "200", "--batch", "10");
        assertThat(out).contains("spawned, SQLite in a fresh directory").contains("process RSS first");
        assertThat(java.nio.file.Files.readString(gcLog)).contains("Using G1");
    }
}
