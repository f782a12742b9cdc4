package io.sluice.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.api.handler.Handler;
import io.sluice.api.handler.Invocation;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice bench handlers}: handlers on a server in this process, on a fresh embedded
 * store. Three measurements: a {@code java} handler's runs/s over a log of {@code --events}
 * events, alone and beside a handler that fails every event (parking each at once, or retrying
 * each with the default backoff); and the shell driver's cost per run beyond starting the process, from
 * {@code --shell-runs} runs of {@code true} against as many bare starts of it.
 */
@Command(
        name = "handlers",
        mixinStandardHelpOptions = true,
        description = {
            "Handler throughput and overhead: java runs/s alone and beside a failing handler;"
                    + " shell dispatch cost beyond the process start."
        })
final class HandlerBench implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--events", defaultValue = "500000", description = "Events in the log (default: ${DEFAULT-VALUE}).")
    int events;

    @Option(
            names = "--shell-runs",
            defaultValue = "1000",
            description = "Runs of the shell handler (default: ${DEFAULT-VALUE}).")
    int shellRuns;

    /** The java handler measured: does nothing but count. */
    public static final class Count implements Handler {
        @Override
        public String handle(Invocation invocation) {
            return null;
        }
    }

    /** A java handler that fails every event. */
    public static final class Fail implements Handler {
        @Override
        public String handle(Invocation invocation) {
            throw new IllegalStateException("failing on purpose");
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = Files.createTempDirectory("sluice-bench-handlers");
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, "store: {path: data}\n");
        try (SluiceServer server = SluiceServer.start(ServerConfig.load(config).withPort(0))) {
            fill(server, events);
            javaRate(server, "warm-up", null); // the JIT's turn, not reported
            double alone = javaRate(server, "alone", null);
            out.printf("java handler alone: %,12.0f runs/s (%,d events)%n", alone, events);
            out.flush();
            double beside = javaRate(server, "beside", "\"max_attempts\":1");
            out.printf(
                    "beside one failing every event at once (max_attempts 1, all parked): %,12.0f runs/s (%+.1f%%)%n",
                    beside, 100.0 * (beside - alone) / alone);
            double retrying = javaRate(server, "retrying", "\"concurrency\":64");
            out.printf(
                    "beside one failing every event with its retries (defaults, concurrency 64): %,12.0f runs/s"
                            + " (%+.1f%%)%n",
                    retrying, 100.0 * (retrying - alone) / alone);
            out.flush();
        }
        double bare = bareStarts(shellRuns);
        Path dir2 = Files.createTempDirectory("sluice-bench-handlers");
        Path config2 = dir2.resolve("sluice.yaml");
        Files.writeString(config2, "store: {path: data}\n");
        try (SluiceServer server = SluiceServer.start(ServerConfig.load(config2).withPort(0))) {
            fill(server, shellRuns);
            double perRun = shellMillis(server);
            out.printf("process start of `true`:            %12.3f ms%n", bare);
            out.printf("shell handler run of `true`:        %12.3f ms (overhead %.3f ms)%n", perRun, perRun - bare);
            out.flush();
        }
        return 0;
    }

    private static void fill(SluiceServer server, int n) throws Exception {
        for (int first = 0; first < n; first += 1_000) {
            List<JsonNode> batch = new ArrayList<>();
            for (int i = first; i < Math.min(n, first + 1_000); i++) {
                batch.add(Json.parse("{\"type\":\"bench\",\"n\":" + i + "}"));
            }
            server.log().append(batch).get(60, TimeUnit.SECONDS);
        }
    }

    /**
     * Runs/s of a java handler reading the whole log, optionally beside a handler failing every
     * event, whose definition adds {@code failing} (JSON members).
     */
    private static double javaRate(SluiceServer server, String name, String failing) throws Exception {
        long last = server.log().store().lastOffset();
        if (failing != null) {
            server.handlers()
                    .put(Json.parse("{\"name\":\"failing-" + name + "\",\"driver\":\"java\",\"handler\":\""
                            + Fail.class.getName() + "\",\"start\":\"earliest\",\"history\":100," + failing + "}"));
        }
        long started = System.nanoTime();
        server.handlers()
                .put(Json.parse("{\"name\":\"" + name + "\",\"driver\":\"java\",\"handler\":\"" + Count.class.getName()
                        + "\",\"start\":\"earliest\",\"history\":100}"));
        while (server.handlers().get(name).orElseThrow().path("runs").asLong() < last) {
            Thread.sleep(1);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        server.handlers().remove(name);
        if (failing != null) {
            server.handlers().remove("failing-" + name);
        }
        return last / seconds;
    }

    /** Milliseconds per run of an exclusive shell handler running {@code true}. */
    private static double shellMillis(SluiceServer server) throws Exception {
        long last = server.log().store().lastOffset();
        long started = System.nanoTime();
        server.handlers()
                .put(Json.parse("{\"name\":\"shell\",\"driver\":\"shell\",\"handler\":\"true\","
                        + "\"start\":\"earliest\",\"exclusive\":true}"));
        while (server.handlers().get("shell").orElseThrow().path("runs").asLong() < last) {
            Thread.sleep(1);
        }
        return (System.nanoTime() - started) / 1e6 / last;
    }

    /** Milliseconds per bare start and wait of {@code true}, with its event as an argument. */
    private static double bareStarts(int n) throws Exception {
        String event = "{\"type\":\"bench\",\"n\":1}";
        for (int i = 0; i < 20; i++) { // warm up
            new ProcessBuilder("true", event).start().waitFor();
        }
        long started = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Process p = new ProcessBuilder("true", event).start();
            p.getOutputStream().close();
            p.getInputStream().readAllBytes();
            p.getErrorStream().readAllBytes();
            p.waitFor();
        }
        return (System.nanoTime() - started) / 1e6 / n;
    }
}
