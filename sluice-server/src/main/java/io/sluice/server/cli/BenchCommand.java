package io.sluice.server.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.query.Explanation;
import io.sluice.query.Query;
import io.sluice.query.QueryIndex;
import io.sluice.testkit.Notifications;
import io.sluice.testkit.QueryWorkload;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sluice bench}: measures Sluice's hot paths on this machine. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Measure Sluice's hot paths on this machine (see docs/benchmarks.md).",
        subcommands = {
            BenchCommand.Match.class,
            IngestBench.class,
            RouteBench.class,
            HandlerBench.class,
            ZeroMqBench.class,
            FlowBench.class,
            TriggerBench.class,
            SharedTriggerBench.class,
            DiskBench.class
        })
final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(), "a benchmark is required: match, ingest, route or disk");
    }

    /**
     * Matching throughput of the shared query index: OpenStack notifications, pre-parsed,
     * matched on one thread against generated standing query sets of several sizes.
     */
    @Command(
            name = "match",
            mixinStandardHelpOptions = true,
            description = {
                "Events/s through the shared query index, one thread, events pre-parsed, for each query count.",
                "Workload: notifications expanded from the OpenStack notigen templates; queries mixing equality on"
                        + " event_type/tenant/host, $in, numeric ranges, $exists and 1%% regex."
            })
    static final class Match implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(
                names = "--queries",
                split = ",",
                defaultValue = "1,100,10000,100000",
                paramLabel = "N[,N...]",
                description = "Query set sizes (default: ${DEFAULT-VALUE}).")
        int[] counts;

        @Option(
                names = "--events",
                defaultValue = "20000",
                description = "Distinct events cycled through (default: ${DEFAULT-VALUE}).")
        int events;

        @Option(
                names = "--seconds",
                defaultValue = "5",
                description =
                        "Measured seconds per size, after a warm-up of a third of it (default: ${DEFAULT-VALUE}).")
        double seconds;

        @Option(names = "--seed", defaultValue = "1", description = "Workload seed (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(
                names = "--shape",
                defaultValue = "MIXED",
                description =
                        "Queries of one shape only, or the mix: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
        QueryWorkload.Shape shape;

        @Option(
                names = "--write",
                paramLabel = "DIR",
                description =
                        "Write the workload instead of measuring: DIR/events.ndjson and DIR/queries-N.ndjson"
                                + " for each size, for `sluice match --queries DIR/queries-N.ndjson --count DIR/events.ndjson`.")
        Path write;

        @Override
        public Integer call() throws IOException {
            if (events < 1 || seconds <= 0) {
                throw new InvalidInputException("--events and --seconds must be positive");
            }
            PrintWriter out = spec.commandLine().getOut();
            Notifications notifications = Notifications.load();
            if (write != null) {
                return write(notifications, out);
            }
            // Kept as bytes and parsed again after each index is built, so that every query
            // count finds the event trees laid out as a parser leaves them, not moved about by
            // the collections a large index's building causes.
            List<byte[]> serialized = new ArrayList<>(events);
            for (ObjectNode event : notifications.take(events, seed)) {
                serialized.add(Json.mapper().writeValueAsBytes(event));
            }
            out.printf(
                    Locale.ROOT,
                    "sluice bench match: %d events, %d cores, Java %s%n",
                    events,
                    Runtime.getRuntime().availableProcessors(),
                    Runtime.version());
            out.printf(
                    Locale.ROOT,
                    "%10s %12s %10s %10s %14s %6s %8s %12s %14s%n",
                    "queries",
                    "events/s",
                    "build ms",
                    "heap MB",
                    "matches/event",
                    "paths",
                    "values",
                    "candidates",
                    "evaluated");
            out.flush();
            for (int count : counts) {
                if (count < 1) {
                    throw new InvalidInputException("--queries: sizes must be positive, not " + count);
                }
                Map<String, Query> queries = new LinkedHashMap<>();
                List<QueryWorkload.GeneratedQuery> generated =
                        QueryWorkload.generate(count, seed, notifications.eventTypes(), shape);
                long heapBefore = usedHeap();
                long start = System.nanoTime();
                for (QueryWorkload.GeneratedQuery q : generated) {
                    queries.put(q.name(), Query.parse(q.query()));
                }
                QueryIndex index = new QueryIndex();
                index.putAll(queries);
                double buildMs = (System.nanoTime() - start) / 1e6;
                generated = null;
                long heap = usedHeap() - heapBefore;
                List<ObjectNode> workload = parse(serialized);
                run(index, workload, seconds / 3);
                long[] result = run(index, workload, seconds);
                double perSecond = result[0] / seconds;
                double[] work = work(index, workload);
                out.printf(
                        Locale.ROOT,
                        "%10d %,12.0f %10.1f %10.1f %14.2f %6d %8.2f %12.2f %14.2f%n",
                        count,
                        perSecond,
                        buildMs,
                        heap / 1e6,
                        (double) result[1] / result[0],
                        index.stats().paths(),
                        work[0],
                        work[1],
                        work[2]);
                out.flush();
                queries.clear();
            }
            return 0;
        }

        /** Writes the events and each size's queries (PySeps documents) as NDJSON files. */
        private int write(Notifications notifications, PrintWriter out) throws IOException {
            Files.createDirectories(write);
            Path eventsFile = write.resolve("events.ndjson");
            try (var w = Files.newBufferedWriter(eventsFile)) {
                for (ObjectNode event : notifications.take(events, seed)) {
                    w.write(Json.mapper().writeValueAsString(event));
                    w.newLine();
                }
            }
            out.println(eventsFile);
            for (int count : counts) {
                if (count < 1) {
                    throw new InvalidInputException("--queries: sizes must be positive, not " + count);
                }
                Path queriesFile = write.resolve("queries-" + count + ".ndjson");
                try (var w = Files.newBufferedWriter(queriesFile)) {
                    for (QueryWorkload.GeneratedQuery q :
                            QueryWorkload.generate(count, seed, notifications.eventTypes(), shape)) {
                        ObjectNode doc = Json.mapper().createObjectNode().put("name", q.name());
                        doc.set("query", q.query());
                        w.write(Json.mapper().writeValueAsString(doc));
                        w.newLine();
                    }
                }
                out.println(queriesFile);
            }
            return 0;
        }

        private static List<ObjectNode> parse(List<byte[]> serialized) throws IOException {
            List<ObjectNode> events = new ArrayList<>(serialized.size());
            for (byte[] event : serialized) {
                events.add((ObjectNode) Json.mapper().readTree(event));
            }
            return events;
        }

        /** Matches for {@code seconds}; returns {events, matches}. */
        private static long[] run(QueryIndex index, List<ObjectNode> workload, double seconds) {
            long[] matches = {0};
            java.util.function.Consumer<String> sink = name -> matches[0]++;
            long deadline = System.nanoTime() + (long) (seconds * 1e9);
            long events = 0;
            int size = workload.size();
            while (true) {
                for (int i = 0; i < 1_000; i++) {
                    index.match(workload.get((int) (events++ % size)), sink);
                }
                if (System.nanoTime() >= deadline) {
                    return new long[] {events, matches[0]};
                }
            }
        }

        /**
         * The index's work per event, from {@link QueryIndex#explain} over the workload (at most
         * 2,000 events, outside the measured time): {values looked up, candidates, candidates evaluated}.
         */
        private static double[] work(QueryIndex index, List<ObjectNode> workload) {
            int sample = Math.min(workload.size(), 2_000);
            double values = 0;
            double candidates = 0;
            double evaluated = 0;
            for (int i = 0; i < sample; i++) {
                Explanation e = index.explain(workload.get(i));
                values += e.lookups().stream()
                        .mapToInt(Explanation.Lookup::values)
                        .sum();
                candidates += e.candidates().size();
                evaluated += e.evaluated();
            }
            return new double[] {values / sample, candidates / sample, evaluated / sample};
        }

        private static long usedHeap() {
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        }
    }
}
