package io.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MatchCommandTest {
    @TempDir
    Path dir;

    private static final String EVENTS = """
            {"@fields":{"priority":"1"},"@message":"kernel panic"}
            {"@fields":{"priority":"5"},"@message":"user logged in"}

            {"@fields":{"priority":"3"} , "@message":"disk full"}
            {"@fields":{"priority":"7"},"@message":"debug"}
            """;

    private static final String QUERIES = """
            {"id":"07fb983f","name":"NonInformational","key":"broker_key","query":{"@fields.priority":{"$in":["1","2","3","4"]}}}
            {"id":"07fb983f","name":"Informational","key":"broker_key","query":{"@fields.priority":{"$in":["5","6","7"]}}}
            {"name":"Everything","query":{}}
            """;

    record Result(int exit, String out, String err) {}

    private Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = SluiceCommand.commandLine(new PrintWriter(out), new PrintWriter(err))
                .execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    private Path file(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, content, StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void filterPrintsMatchingLinesUnchanged() throws IOException {
        Path events = file("events.ndjson", EVENTS);
        Result r = run(
                "match", "--filter", "{\"@fields.priority\":{\"$in\":[\"1\",\"2\",\"3\",\"4\"]}}", events.toString());
        assertThat(r.exit()).isZero();
        assertThat(r.out().lines())
                .containsExactly(
                        "{\"@fields\":{\"priority\":\"1\"},\"@message\":\"kernel panic\"}",
                        "{\"@fields\":{\"priority\":\"3\"} , \"@message\":\"disk full\"}");
    }

    @Test
    void explainPrintsEachEventsLookupsCandidatesAndMatches() throws IOException {
        Path events = file("events.ndjson", EVENTS);
        Path queries = file("queries.ndjson", QUERIES);
        Result r = run("match", "--queries", queries.toString(), "--explain", events.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0))
                .isEqualTo("{\"line\":1,\"lookups\":[{\"path\":\"@fields.priority\",\"values\":1}],"
                        + "\"candidates\":[{\"name\":\"NonInformational\",\"via\":\"@fields.priority\","
                        + "\"by\":\"equality\",\"evaluated\":false,\"matched\":true},"
                        + "{\"name\":\"Everything\",\"via\":null,\"by\":null,\"evaluated\":false,\"matched\":true}],"
                        + "\"matches\":[\"NonInformational\",\"Everything\"]}");
        assertThat(lines.get(2)).startsWith("{\"line\":4,").contains("\"name\":\"NonInformational\"");

        Path windows = file(
                "windows.ndjson",
                "{\"name\":\"w1\",\"query\":{\"n\":{\"$gte\":10,\"$lt\":13}}}\n"
                        + "{\"name\":\"w2\",\"query\":{\"n\":{\"$gte\":13,\"$lt\":16}}}\n");
        Result intervals = run(
                "match",
                "--queries",
                windows.toString(),
                "--explain",
                file("n.ndjson", "{\"n\":13}\n").toString());
        assertThat(intervals.out().strip())
                .as("an interval hit shows as such; the window that ends before 13 is not a candidate")
                .isEqualTo(
                        "{\"line\":1,\"lookups\":[{\"path\":\"n\",\"values\":1}],\"candidates\":[{\"name\":\"w2\","
                                + "\"via\":\"n\",\"by\":\"interval\",\"evaluated\":true,\"matched\":true}],\"matches\":[\"w2\"]}");

        Result withCount = run("match", "--queries", queries.toString(), "--explain", "--count", events.toString());
        assertThat(withCount.exit()).isEqualTo(2);
        assertThat(withCount.err()).contains("--explain goes with --queries, without --count");
        assertThat(run("match", "--filter", "{}", "--explain", events.toString())
                        .exit())
                .isEqualTo(2);
    }

    @Test
    void queriesPrintOneLinePerMatchInQueryFileOrder() throws IOException {
        Path events = file("events.ndjson", EVENTS);
        Path queries = file("queries.ndjson", QUERIES);
        Result r = run("match", "--queries", queries.toString(), events.toString());
        assertThat(r.exit()).isZero();
        assertThat(r.out().lines())
                .containsExactly(
                        "{\"query\":\"NonInformational\",\"event\":{\"@fields\":{\"priority\":\"1\"},\"@message\":\"kernel panic\"}}",
                        "{\"query\":\"Everything\",\"event\":{\"@fields\":{\"priority\":\"1\"},\"@message\":\"kernel panic\"}}",
                        "{\"query\":\"Informational\",\"event\":{\"@fields\":{\"priority\":\"5\"},\"@message\":\"user logged in\"}}",
                        "{\"query\":\"Everything\",\"event\":{\"@fields\":{\"priority\":\"5\"},\"@message\":\"user logged in\"}}",
                        "{\"query\":\"NonInformational\",\"event\":{\"@fields\":{\"priority\":\"3\"} , \"@message\":\"disk full\"}}",
                        "{\"query\":\"Everything\",\"event\":{\"@fields\":{\"priority\":\"3\"} , \"@message\":\"disk full\"}}",
                        "{\"query\":\"Informational\",\"event\":{\"@fields\":{\"priority\":\"7\"},\"@message\":\"debug\"}}",
                        "{\"query\":\"Everything\",\"event\":{\"@fields\":{\"priority\":\"7\"},\"@message\":\"debug\"}}");
    }

    @Test
    void countPrintsOneObjectWithEveryQuery() throws IOException {
        Path events = file("events.ndjson", EVENTS);
        Path queries = file("queries.ndjson", QUERIES + "{\"name\":\"Never\",\"query\":{\"x\":1}}\n");
        Result r = run("match", "--queries", queries.toString(), "--count", events.toString());
        assertThat(r.exit()).isZero();
        assertThat(r.out().strip())
                .isEqualTo("{\"NonInformational\":2,\"Informational\":2,\"Everything\":4,\"Never\":0}");
    }

    @Test
    void aBadEventLineIsNamedAndExits2UnlessSkipped() throws IOException {
        Path events = file("events.ndjson", "{\"a\":1}\n[1,2]\n{\"a\":2}\n{oops\n");
        Result r = run("match", "--filter", "{}", events.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out().lines()).containsExactly("{\"a\":1}");
        assertThat(r.err())
                .contains(events + ":2: an event must be a JSON object, not array")
                .contains("--skip-bad");

        Result skipped = run("match", "--filter", "{}", "--skip-bad", events.toString());
        assertThat(skipped.exit()).isZero();
        assertThat(skipped.out().lines()).containsExactly("{\"a\":1}", "{\"a\":2}");
        assertThat(skipped.err()).contains(":2:").contains(":4: invalid JSON").contains("skipped 2 bad line(s)");
    }

    @Test
    void invalidQueriesAndUsageExit2NamingTheProblem() throws IOException {
        Path events = file("events.ndjson", EVENTS);
        Result badFilter = run("match", "--filter", "{\"a\":{\"$foo\":1}}", events.toString());
        assertThat(badFilter.exit()).isEqualTo(2);
        assertThat(badFilter.err()).contains("--filter: unknown operator $foo").contains("path 'a'");

        Path queries = file("bad.ndjson", "{\"name\":\"a\",\"query\":{}}\n{\"name\":\"b\",\"query\":{\"$gt\":1}}\n");
        Result badFile = run("match", "--queries", queries.toString(), events.toString());
        assertThat(badFile.exit()).isEqualTo(2);
        assertThat(badFile.err()).contains(queries + ":2: query 'b': unknown top level operator $gt");

        assertThat(run("match", events.toString()).exit()).isEqualTo(2); // neither --filter nor --queries
        assertThat(run("match", "--filter", "{}", "--queries", queries.toString())
                        .exit())
                .isEqualTo(2);
        Result count = run("match", "--filter", "{}", "--count", events.toString());
        assertThat(count.exit()).isEqualTo(2);
        assertThat(count.err()).contains("--count goes with --queries");
        assertThat(run("match", "--filter", "{}", dir.resolve("missing.ndjson").toString())
                        .exit())
                .isEqualTo(2);
        assertThat(run("frobnicate").exit()).isEqualTo(2);
    }

    @Test
    void everyCommandHasHelpAndVersionPrintsTheVersion() {
        for (String command : List.of("match", "bench", "version")) {
            Result r = run(command, "--help");
            assertThat(r.exit()).as(command).isZero();
            assertThat(r.out()).as(command).contains("Usage: sluice " + command);
        }
        assertThat(run("bench", "match", "--help").out()).contains("Usage: sluice bench match");
        assertThat(run("version").out()).matches("sluice \\d+\\.\\d+\\.\\d+.*\\s*");
    }

    @Test
    void benchMatchReportsThroughputForEachQueryCount() {
        Result r = run("bench", "match", "--queries", "1,50", "--events", "200", "--seconds", "0.3");
        assertThat(r.exit()).isZero();
        List<String[]> rows = r.out()
                .lines()
                .filter(l -> l.matches("\\s+(1|50)\\s+[\\d,]+\\s.*"))
                .map(l -> l.strip().split("\\s+"))
                .toList();
        assertThat(rows).hasSize(2);
        for (String[] row : rows) { // queries events/s build heap matches paths values candidates evaluated
            assertThat(row).hasSize(9);
            double matches = Double.parseDouble(row[4]);
            double candidates = Double.parseDouble(row[7]);
            double evaluated = Double.parseDouble(row[8]);
            assertThat(candidates).as("every match was a candidate").isGreaterThanOrEqualTo(matches);
            assertThat(evaluated).isLessThanOrEqualTo(candidates);
        }
        assertThat(Integer.parseInt(rows.get(1)[5]))
                .as("indexed paths at 50 queries")
                .isGreaterThan(1);
        assertThat(Double.parseDouble(rows.get(1)[7]))
                .as("candidates at 50 queries")
                .isPositive();

        Result tenants =
                run("bench", "match", "--queries", "50", "--events", "200", "--seconds", "0.2", "--shape", "TENANT");
        assertThat(tenants.exit()).as(tenants.err()).isZero();
        String[] row = tenants.out()
                .lines()
                .filter(l -> l.matches("\\s+50\\s+[\\d,]+\\s.*"))
                .findFirst()
                .orElseThrow()
                .strip()
                .split("\\s+");
        assertThat(row[5]).as("one indexed path for tenant-only queries").isEqualTo("1");
        assertThat(row[8])
                .as("a tenant hit proves the query: nothing evaluated")
                .isEqualTo("0.00");
        assertThat(run("bench", "match", "--shape", "ROUND").exit()).isEqualTo(2);
    }

    /** The real process: events on stdin, output on stdout, exit codes as documented. */
    @Test
    void readsStandardInputInARealProcess() throws Exception {
        Path queries = file("queries.ndjson", QUERIES);
        Process p = new ProcessBuilder(command("match", "--queries", queries.toString(), "--count"))
                .redirectErrorStream(false)
                .start();
        try (var stdin = p.getOutputStream()) {
            stdin.write(EVENTS.getBytes(StandardCharsets.UTF_8));
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip())
                .isEqualTo("{\"NonInformational\":2,\"Informational\":2,\"Everything\":4}");
        assertThat(p.exitValue()).isZero();

        Process bad = new ProcessBuilder(command("match", "--filter", "{\"$bad\":1}")).start();
        bad.getOutputStream().close();
        assertThat(bad.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(bad.exitValue()).isEqualTo(2);
        assertThat(new String(bad.getErrorStream().readAllBytes(), StandardCharsets.UTF_8))
                .contains("unknown top level operator $bad");
    }

    private static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "io.sluice.server.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }
}
