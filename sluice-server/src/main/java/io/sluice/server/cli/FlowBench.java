package io.sluice.server.cli;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.api.Json;
import io.sluice.api.component.Field;
import io.sluice.api.flow.FlowEvent;
import io.sluice.api.flow.InputModule;
import io.sluice.api.flow.ModuleContext;
import io.sluice.api.flow.ModuleType;
import io.sluice.core.flow.Flow;
import io.sluice.core.flow.FlowDefinition;
import io.sluice.core.flow.ModuleRegistry;
import io.sluice.core.flow.modules.FlowModules;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice bench flow}: in-memory flows on this machine. A linear flow of five modules
 * (a generator, three {@code header} modules, a sink) in events/s; a fan-out to four sinks in
 * events/s per branch, with and without {@code clone}; and the latency through the linear flow
 * at a fixed offered rate, end to end and per hop (four hops).
 */
@Command(
        name = "flow",
        mixinStandardHelpOptions = true,
        description = {"Flow throughput (5-module chain, fan-out to 4) and per-hop latency at a fixed rate."})
final class FlowBench implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--events",
            defaultValue = "5000000",
            description = "Events per throughput run (default: ${DEFAULT-VALUE}).")
    long events;

    @Option(
            names = "--rate",
            defaultValue = "100000",
            description = "Offered rate of the latency run, events/s (default: ${DEFAULT-VALUE}).")
    long rate;

    @Option(
            names = "--seconds",
            defaultValue = "10",
            description = "Length of the latency run (default: ${DEFAULT-VALUE}).")
    int seconds;

    private static final int HOPS = 4;

    /** Submits {@code count} events, each stamped with the time it was submitted, at {@code rate} per second (0: at once). */
    private record Generator(long count, long rate) implements InputModule {
        @Override
        public void run(ModuleContext ctx) throws InterruptedException {
            long start = System.nanoTime();
            long interval = rate == 0 ? 0 : 1_000_000_000L / rate;
            for (long i = 0; i < count && ctx.running(); i++) {
                if (interval > 0) {
                    // parks rather than spins: a spinning virtual thread would hold one of the
                    // carrier threads the modules run on; events due meanwhile go out together
                    long wait = start + i * interval - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                }
                FlowEvent e = FlowEvent.of(Json.nodes().numberNode(i));
                e.header().put("t", System.nanoTime());
                ctx.submit(e);
            }
        }
    }

    private final Histogram latency = new Histogram(Duration.ofSeconds(60).toNanos(), 3);

    private ModuleRegistry registry() {
        return FlowModules.builtins(null, null, null)
                .register(new ModuleType(
                        new io.sluice.api.component.Spec(
                                "module",
                                "generate",
                                "numbered events stamped with their submit time",
                                List.of(
                                        Field.optional("count", Field.Type.INTEGER, 0, "events"),
                                        Field.optional("rate", Field.Type.INTEGER, 0, "events/s; 0: at once"))),
                        List.of(),
                        List.of("outbox"),
                        (args, base) -> new Generator(args.integer("count"), args.integer("rate"))))
                .register(new ModuleType(
                        new io.sluice.api.component.Spec(
                                "module", "latency", "records the time since the event's stamp", List.of()),
                        List.of("inbox"),
                        List.of(),
                        (args, base) -> (event, queue, ctx) -> latency.recordValue(Math.max(
                                0, System.nanoTime() - event.header().get("t").asLong()))));
    }

    private double run(Path dir, String yaml, long count) throws Exception {
        Path file = dir.resolve("bench.yaml");
        Files.writeString(file, yaml);
        Flow flow = Flow.create(
                FlowDefinition.load(file),
                registry(),
                new Flow.Environment(new SimpleMeterRegistry(), line -> {}, 3, Clock.systemUTC()));
        long t0 = System.nanoTime();
        flow.start();
        if (!flow.awaitEnd(Duration.ofMinutes(10))) {
            flow.stop();
            throw new IllegalStateException("the flow did not end within 10 minutes");
        }
        return count / ((System.nanoTime() - t0) / 1e9);
    }

    private static String linear(long count, long rate, String sink) {
        return """
                modules:
                  source: {module: generate, arguments: {count: %d, rate: %d}}
                  a: {module: header, arguments: {key: a, header: 1}}
                  b: {module: header, arguments: {key: b, header: 2}}
                  c: {module: header, arguments: {key: c, header: 3}}
                  sink: {module: "%s"}
                routingtable:
                  - source.outbox -> a.inbox
                  - a.outbox -> b.inbox
                  - b.outbox -> c.inbox
                  - c.outbox -> sink.inbox
                """.formatted(count, rate, sink);
    }

    private static String fanout(long count, boolean clone) {
        return """
                modules:
                  source: {module: generate, arguments: {count: %d}}
                  split: {module: fanout, arguments: {clone: %s}}
                  s1: {module: "null"}
                  s2: {module: "null"}
                  s3: {module: "null"}
                  s4: {module: "null"}
                routingtable:
                  - source.outbox -> split.inbox
                  - split.one -> s1.inbox
                  - split.two -> s2.inbox
                  - split.three -> s3.inbox
                  - split.four -> s4.inbox
                """.formatted(count, clone);
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = Files.createTempDirectory("sluice-bench-flow");
        try {
            run(dir, linear(events / 10, 0, "null"), events / 10); // warm-up
            double chain = run(dir, linear(events, 0, "null"), events);
            out.printf(Locale.ROOT, "linear, 5 modules:        %,12.0f events/s%n", chain);
            out.flush();
            double shared = run(dir, fanout(events, false), events);
            out.printf(Locale.ROOT, "fan-out to 4, shared:     %,12.0f events/s per branch%n", shared);
            out.flush();
            long cloned = events / 2;
            double copies = run(dir, fanout(cloned, true), cloned);
            out.printf(Locale.ROOT, "fan-out to 4, clone:      %,12.0f events/s per branch%n", copies);
            out.flush();
            long count = rate * seconds;
            latency.reset();
            run(dir, linear(count, rate, "latency"), count);
            out.printf(
                    Locale.ROOT,
                    "latency at %,d events/s, %d hops: end to end p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us;"
                            + " per hop p99 %.1f us%n",
                    rate,
                    HOPS,
                    latency.getValueAtPercentile(50) / 1e3,
                    latency.getValueAtPercentile(99) / 1e3,
                    latency.getValueAtPercentile(99.9) / 1e3,
                    latency.getMaxValue() / 1e3,
                    latency.getValueAtPercentile(99) / 1e3 / HOPS);
            out.flush();
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
        return 0;
    }
}
