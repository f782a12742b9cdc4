package io.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** Reading the server's latency histograms from two scrapes of its Prometheus text. */
class ServerLatencyTest {
    private static String scrape(long fast, long slow, long refused) {
        return "# HELP sluice_http_append_seconds POST /v1/events\n"
                + "# TYPE sluice_http_append_seconds histogram\n"
                + "sluice_http_append_seconds_bucket{status=\"2xx\",le=\"0.001\"} " + fast + "\n"
                + "sluice_http_append_seconds_bucket{status=\"2xx\",le=\"0.05\"} " + (fast + slow) + "\n"
                + "sluice_http_append_seconds_bucket{status=\"2xx\",le=\"+Inf\"} " + (fast + slow) + "\n"
                + "sluice_http_append_seconds_bucket{status=\"4xx\",le=\"0.001\"} " + refused + "\n"
                + "sluice_http_append_seconds_bucket{status=\"4xx\",le=\"+Inf\"} " + refused + "\n"
                + "sluice_http_append_seconds_count{status=\"2xx\"} " + (fast + slow) + "\n";
    }

    @Test
    void percentilesAreOfTheWindowAndOfTheSeriesAsked() {
        // Before the window: 1,000 slow requests; in it: 990 fast and 10 slow ones, and refusals.
        String before = scrape(0, 1_000, 5);
        String after = scrape(990, 1_010, 500);
        var start = ServerLatency.buckets(before, "sluice_http_append_seconds", "status=\"2xx\"");
        var end = ServerLatency.buckets(after, "sluice_http_append_seconds", "status=\"2xx\"");
        assertThat(end).containsEntry(0.001, 990.0).containsEntry(Double.POSITIVE_INFINITY, 2_000.0);
        assertThat(ServerLatency.quantile(start, end, 1_000, 0.5)).isEqualTo(0.001);
        assertThat(ServerLatency.quantile(start, end, 1_000, 0.99)).isEqualTo(0.001);
        assertThat(ServerLatency.quantile(start, end, 1_000, 0.999)).isEqualTo(0.05);

        StringWriter out = new StringWriter();
        ServerLatency.print(new PrintWriter(out, true), before, after);
        assertThat(out.toString())
                .contains("p50 <= 1.0 ms  p90 <= 1.0 ms  p99 <= 1.0 ms  p99.9 <= 50 ms  (1,000 requests;");
    }

    @Test
    void nothingIsPrintedWithoutTheHistograms() {
        StringWriter out = new StringWriter();
        ServerLatency.print(new PrintWriter(out, true), "jvm_threads_live_threads 12\n", null);
        ServerLatency.print(new PrintWriter(out, true), "", "jvm_threads_live_threads 12\n");
        assertThat(out.toString()).isEmpty();
    }
}
