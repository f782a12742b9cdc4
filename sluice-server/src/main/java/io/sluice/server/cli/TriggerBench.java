package io.sluice.server.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.core.log.EventLog;
import io.sluice.core.trigger.TriggerEngine;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import io.sluice.testkit.Notifications;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice bench triggers}: Winchester's sandbox triggers and event definitions on a server
 * in this process, on a fresh embedded store. Three measurements:
 *
 * <ol>
 *   <li>raw OpenStack notifications (notigen templates, timestamps from now) appended to the log
 *       durably in batches, distilled and run through the triggers: notifications/s from the
 *       first append until the engine has read the last;
 *   <li>{@code --streams} distinct instances, one event each: that many open streams, and the
 *       heap in use after a full GC;
 *   <li>with those streams open, an end-of-day {@code compute.instance.exists} for one
 *       instance at a time: the time from its append until its stream has fired (pipeline run,
 *       completed).
 * </ol>
 *
 * The pipelines are the sandbox's without {@code notabene} (no broker is needed): {@code
 * logger} and {@code usage}.
 */
@Command(
        name = "triggers",
        mixinStandardHelpOptions = true,
        description = {
            "Trigger engine: notifications/s through distill and the sandbox triggers; heap with many open streams;"
                    + " the time for a ready stream to fire."
        })
final class TriggerBench implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--sandbox",
            defaultValue = "examples/winchester",
            description =
                    "The directory with the sandbox's triggers.yaml and event_definitions.yaml (default: ${DEFAULT-VALUE}).")
    Path sandbox;

    @Option(
            names = "--notifications",
            defaultValue = "500000",
            description = "Raw notifications (default: ${DEFAULT-VALUE}).")
    int notifications;

    @Option(
            names = "--streams",
            defaultValue = "1000000",
            description = "Open streams to hold (default: ${DEFAULT-VALUE}).")
    int streams;

    @Option(
            names = "--fires",
            defaultValue = "20",
            description = "Streams fired one at a time (default: ${DEFAULT-VALUE}).")
    int fires;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = sandboxConfig(
                sandbox,
                "sluice-bench-triggers",
                List.of("event_definitions.yaml"),
                "distiller_config: event_definitions.yaml\n");
        ServerConfig config = ServerConfig.load(dir.resolve("sluice.yaml"))
                .withDataDir(dir.resolve("data"))
                .withPort(0);
        // made before the clock starts: expanding templates costs more than distilling them
        Iterator<ObjectNode> raw = Notifications.load().stream(7, Instant.now().minus(1, ChronoUnit.HOURS));
        List<ObjectNode> made = new ArrayList<>(notifications);
        for (int i = 0; i < notifications; i++) {
            made.add(raw.next());
        }
        // 0. the floor: the same notifications appended durably by a server without triggers
        try (SluiceServer plain =
                SluiceServer.start(ServerConfig.defaults(dir.resolve("plain")).withPort(0))) {
            long t0 = System.nanoTime();
            append(plain.log(), notifications, i -> made.get(i).deepCopy());
            double seconds = (System.nanoTime() - t0) / 1e9;
            out.printf(
                    Locale.ROOT,
                    "floor, the same notifications appended without triggers: %,.0f notifications/s%n",
                    notifications / seconds);
            out.flush();
        }
        try (SluiceServer server = SluiceServer.start(config)) {
            TriggerEngine engine = server.triggers();
            EventLog log = server.log();

            // 1. raw notifications, distilled and run through the triggers
            long t0 = System.nanoTime();
            long last = append(log, notifications, made::get);
            double appended = (System.nanoTime() - t0) / 1e9;
            made.clear();
            waitFor(engine, last);
            double seconds = (System.nanoTime() - t0) / 1e9;
            out.printf(
                    Locale.ROOT,
                    "distill + triggers: %,d notifications in %.1f s (all appended after %.1f s): %,.0f notifications/s"
                            + " (durable; %,d streams open)%n",
                    notifications,
                    seconds,
                    appended,
                    notifications / seconds,
                    engine.openStreams());
            out.flush();

            // 2. many open streams, and the heap they take
            long heapBefore = heapAfterGc();
            int openBefore = engine.openStreams();
            String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
            t0 = System.nanoTime();
            last = append(log, streams, i -> flat("open-" + i, "compute.instance.update", now, "bench-" + i));
            waitFor(engine, last);
            seconds = (System.nanoTime() - t0) / 1e9;
            long heapAfter = heapAfterGc();
            int opened = engine.openStreams() - openBefore;
            out.printf(
                    Locale.ROOT,
                    "open streams: %,d more in %.1f s (%,.0f events/s); heap in use after GC %,d MB (was %,d MB:"
                            + " %,d bytes per stream; max heap %,d MB)%n",
                    opened,
                    seconds,
                    streams / seconds,
                    heapAfter >> 20,
                    heapBefore >> 20,
                    opened == 0 ? 0 : (heapAfter - heapBefore) / opened,
                    Runtime.getRuntime().maxMemory() >> 20);
            out.flush();

            // 3. a ready stream fires: the end-of-day exists of one instance at a time
            String day = Instant.now().truncatedTo(ChronoUnit.DAYS).toString();
            String nextDay = Instant.now()
                    .truncatedTo(ChronoUnit.DAYS)
                    .plus(1, ChronoUnit.DAYS)
                    .toString();
            long[] nanos = new long[fires];
            for (int f = 0; f < fires; f++) {
                long finishedBefore = engine.finished();
                ObjectNode exists =
                        flat("exists-" + f, "compute.instance.exists", now, "bench-" + (f * 7919 % streams));
                exists.put("audit_period_beginning", day);
                exists.put("audit_period_ending", nextDay);
                exists.put("launched_at", now);
                long start = System.nanoTime();
                log.append(List.of(exists)).get();
                while (engine.finished() == finishedBefore) {
                    Thread.onSpinWait();
                }
                nanos[f] = System.nanoTime() - start;
            }
            Arrays.sort(nanos);
            out.printf(
                    Locale.ROOT,
                    "fire: %d streams among %,d open, each from its exists appended to its pipeline done: median %.1f ms,"
                            + " max %.1f ms%n",
                    fires,
                    engine.openStreams(),
                    nanos[fires / 2] / 1e6,
                    nanos[fires - 1] / 1e6);
            out.flush();
        } finally {
            deleteTree(dir);
        }
        return 0;
    }

    /**
     * A fresh directory with the sandbox's {@code triggers.yaml} (and {@code more} of its files),
     * its pipelines without {@code notabene}, a winchester.yaml with {@code settings} added, and a
     * sluice.yaml using it: what the trigger benchmarks run.
     */
    static Path sandboxConfig(Path sandbox, String prefix, List<String> more, String settings)
            throws java.io.IOException {
        Path dir = Files.createTempDirectory(prefix);
        List<String> files = new ArrayList<>(List.of("triggers.yaml"));
        files.addAll(more);
        for (String f : files) {
            Path from = sandbox.resolve(f);
            if (!Files.exists(from)) {
                throw new InvalidInputException(from + ": no such file (give --sandbox DIR)");
            }
            Files.copy(from, dir.resolve(f));
        }
        Files.writeString(dir.resolve("pipelines.yaml"), """
                test_fire_pipeline: [logger, usage]
                test_expire_pipeline: [logger, usage]
                """);
        Files.writeString(dir.resolve("winchester.yaml"), """
                trigger_definitions: triggers.yaml
                pipeline_config: pipelines.yaml
                pipeline_handlers:
                  logger: winchester.pipeline_handler:LoggingHandler
                  usage: winchester.pipeline_handler:UsageHandler
                """ + settings);
        Files.writeString(dir.resolve("sluice.yaml"), "envelope: winchester\nwinchester: winchester.yaml\n");
        return dir;
    }

    /** A Winchester event in flat form (as distilled). */
    private static ObjectNode flat(String id, String type, String time, String instance) {
        ObjectNode e = Json.object();
        e.put("message_id", id);
        e.put("event_type", type);
        e.put("timestamp", time);
        e.put("instance_id", instance);
        e.put("tenant_id", "bench");
        return e;
    }

    private interface Source {
        ObjectNode get(int i);
    }

    /** Appends {@code count} events in batches of 1,000, up to 8 batches in flight; returns the last offset. */
    private static long append(EventLog log, int count, Source events) throws Exception {
        Deque<CompletableFuture<EventLog.AppendResult>> inFlight = new ArrayDeque<>();
        long last = 0;
        for (int i = 0; i < count; ) {
            List<ObjectNode> batch = new ArrayList<>(1_000);
            for (int j = 0; j < 1_000 && i < count; j++, i++) {
                batch.add(events.get(i));
            }
            inFlight.add(log.append(batch));
            if (inFlight.size() >= 8) {
                last = Math.max(last, inFlight.poll().get().lastOffset());
            }
        }
        while (!inFlight.isEmpty()) {
            last = Math.max(last, inFlight.poll().get().lastOffset());
        }
        return last;
    }

    private static void waitFor(TriggerEngine engine, long offset) throws InterruptedException {
        while (!engine.awaitPosition(offset, java.time.Duration.ofMinutes(1))) {
            // still reading: a benchmark waits as long as it takes
        }
    }

    private static long heapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
