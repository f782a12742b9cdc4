package io.sluice.server.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The server's own latency histograms over a load benchmark's measured window: two scrapes of
 * its {@code /metrics} (Prometheus text), one when measuring starts and one when it ends,
 * subtracted bucket by bucket. So a benchmark shows where an acknowledgement's time goes: in
 * the server's request handling, in the log (waiting for the commit in progress, then its
 * own), in the store's commit; the rest of the load generator's figure is outside the server.
 * Percentiles are the upper bounds of the buckets they fall in, not interpolated: a bound
 * the true value does not exceed.
 */
final class ServerLatency {
    /**
     * One histogram: its label in the report, its name, the label a series must carry (or
     * null), what it counts and what it measures.
     */
    private record Series(String label, String name, String requiredLabel, String counts, String what) {}

    private static final List<Series> SERIES = List.of(
            new Series(
                    "request",
                    "sluice_http_append_seconds",
                    "status=\"2xx\"",
                    "requests",
                    "POST /v1/events inside the server"),
            new Series("log", "sluice_log_append_latency_seconds", null, "requests", "arrival at the log to durable"),
            new Series(
                    "commit", "sluice_log_commit_seconds", null, "commits", "the store's part of each group commit"));

    private static final double[] QUANTILES = {0.5, 0.9, 0.99, 0.999};

    private static final String[] QUANTILE_NAMES = {"p50", "p90", "p99", "p99.9"};

    private ServerLatency() {}

    /**
     * Prints a line per histogram found in both scrapes with requests between them; nothing
     * when the server has none of them (an older server, or a scrape that failed).
     */
    static void print(PrintWriter out, String before, String after) {
        if (before == null || after == null) {
            return;
        }
        boolean header = false;
        for (Series s : SERIES) {
            TreeMap<Double, Double> start = buckets(before, s.name(), s.requiredLabel());
            TreeMap<Double, Double> end = buckets(after, s.name(), s.requiredLabel());
            if (end.isEmpty()) {
                continue;
            }
            double total = end.lastEntry().getValue() - start.getOrDefault(end.lastKey(), 0.0);
            if (total <= 0) {
                continue;
            }
            if (!header) {
                out.println("server side over the measured window (its /metrics histograms; bucket upper bounds):");
                header = true;
            }
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-8s", s.label()));
            for (int i = 0; i < QUANTILES.length; i++) {
                double bound = quantile(start, end, total, QUANTILES[i]);
                line.append("  ").append(QUANTILE_NAMES[i]).append(" <= ").append(millis(bound));
            }
            line.append(String.format(Locale.ROOT, "  (%,.0f %s; %s)", total, s.counts(), s.what()));
            out.println(line);
        }
    }

    /** The smallest bucket bound under which at least {@code q} of the window's observations fall. */
    static double quantile(TreeMap<Double, Double> start, TreeMap<Double, Double> end, double total, double q) {
        for (Map.Entry<Double, Double> bucket : end.entrySet()) {
            double inWindow = bucket.getValue() - start.getOrDefault(bucket.getKey(), 0.0);
            if (inWindow >= q * total) {
                return bucket.getKey();
            }
        }
        return Double.POSITIVE_INFINITY;
    }

    private static String millis(double seconds) {
        if (Double.isInfinite(seconds)) {
            return "+Inf";
        }
        double ms = seconds * 1000;
        return String.format(Locale.ROOT, ms < 10 ? "%.1f ms" : "%.0f ms", ms);
    }

    /** A histogram's cumulative bucket counts by upper bound (seconds), from a scrape. */
    static TreeMap<Double, Double> buckets(String scrape, String name, String requiredLabel) {
        TreeMap<Double, Double> buckets = new TreeMap<>();
        String prefix = name + "_bucket{";
        for (String line : scrape.split("\n")) {
            if (!line.startsWith(prefix)) {
                continue;
            }
            int close = line.indexOf('}');
            if (close < 0) {
                continue;
            }
            String labels = line.substring(prefix.length(), close);
            if (requiredLabel != null && !labels.contains(requiredLabel)) {
                continue;
            }
            int le = labels.indexOf("le=\"");
            if (le < 0) {
                continue;
            }
            String bound = labels.substring(le + 4, labels.indexOf('"', le + 4));
            try {
                double upper = bound.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bound);
                buckets.put(upper, Double.parseDouble(line.substring(close + 1).trim()));
            } catch (NumberFormatException e) {
                // not a sample line this reader understands: skip it
            }
        }
        return buckets;
    }
}
