package io.sluice.server.cli;

import java.io.PrintWriter;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/** The result table the load benchmarks print: a rate, MB/s and latency percentiles in ms. */
final class ThroughputTable {
    private ThroughputTable() {}

    /**
     * Prints the header and one row.
     *
     * @param unit what the rate counts, as its column header ({@code events/s})
     * @param perSecond the rate
     * @param bytesPerSecond bytes moved per second
     * @param latency latencies in nanoseconds
     */
    static void print(PrintWriter out, String unit, double perSecond, double bytesPerSecond, Histogram latency) {
        out.printf(
                Locale.ROOT, "%14s %12s %10s %10s %10s %10s%n", unit, "MB/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms");
        out.printf(
                Locale.ROOT,
                "%,14.0f %12.1f %10.2f %10.2f %10.2f %10.2f%n",
                perSecond,
                bytesPerSecond / 1e6,
                latency.getValueAtPercentile(50) / 1e6,
                latency.getValueAtPercentile(99) / 1e6,
                latency.getValueAtPercentile(99.9) / 1e6,
                latency.getMaxValue() / 1e6);
        out.flush();
    }
}
