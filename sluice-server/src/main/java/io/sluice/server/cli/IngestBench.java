package io.sluice.server.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.store.postgres.PostgresUrls;
import io.sluice.testkit.Notifications;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice bench ingest}: a load generator, in its own process, posting NDJSON batches of
 * realistic 1 KB events to a server over HTTP.
 *
 * <p>Two measurements: the sustained rate with {@code --connections} closed loops each posting
 * {@code --batch} events and waiting for the acknowledgement; and, with {@code --rate}, the
 * acknowledgement latency at a fixed offered rate, requests sent on schedule whatever the
 * server does (latency is counted from the scheduled time, so a stall is not hidden). The
 * server's heap is sampled from {@code /metrics} throughout, to show whether memory stays flat.
 * With {@code --spawn} the command starts the server itself, as a child process.
 */
@Command(
        name = "ingest",
        mixinStandardHelpOptions = true,
        description = {
            "Posts NDJSON batches of ~1 KB OpenStack notifications to a server and reports events/s, acknowledgement"
                    + " latency and the server's heap.",
            "Without --rate: closed loops, as fast as acknowledgements come. With --rate: a fixed offered rate."
        })
final class IngestBench implements Callable<Integer> {
    private static final int EVENT_BYTES = 1_000;

    @Spec
    CommandSpec spec;

    @Mixin
    ServerUrl server;

    @Option(
            names = "--spawn",
            description = "Start a server as a child process (fresh data directory or PostgreSQL schema) and load it.")
    boolean spawn;

    @Option(
            names = "--postgres",
            paramLabel = "URL",
            description = "With --spawn: use the PostgreSQL store at URL, in a fresh schema dropped afterwards.")
    String postgres;

    @Option(
            names = "--server-java-option",
            paramLabel = "OPTION",
            description =
                    "With --spawn: an option for the server's JVM (repeatable), after the defaults -Xmx1g -XX:+UseG1GC,"
                            + " e.g. --server-java-option=-XX:+UseZGC.")
    List<String> serverJavaOptions = new ArrayList<>();

    @Option(
            names = "--connections",
            defaultValue = "8",
            description = "Concurrent closed-loop producers (default: ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--batch", defaultValue = "1000", description = "Events per request (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(
            names = "--rate",
            defaultValue = "0",
            description = "Offered events/s, sent on schedule (0: as fast as possible; default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--seconds", defaultValue = "30", description = "Measured seconds (default: ${DEFAULT-VALUE}).")
    int seconds;

    /** How the generated events' ids are made. */
    enum Ids {
        /** Random UUIDs, as most producers send (OpenStack's message ids are): inserts all over the id index. */
        random,
        /** A run prefix and a counter: each request's ids are neighbours in the id index. */
        sequential,
        /** No id: the server assigns one (a time-ordered UUID). */
        none
    }

    @Option(
            names = "--ids",
            defaultValue = "random",
            description = "Event ids: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Ids ids;

    @Option(
            names = "--warmup",
            defaultValue = "5",
            description = "Seconds of load before measuring (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(
            names = "--report-every",
            defaultValue = "0",
            paramLabel = "SECONDS",
            description = "Also print the acknowledged events/s of each interval this long while measuring, to see"
                    + " whether a rate holds over a long run (0: only the summary; default: ${DEFAULT-VALUE}).")
    int reportEvery;

    private HttpClient http; // made in call(): picocli instantiates every command, whichever runs
    private final AtomicLong sequence = new AtomicLong();
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    /** The generated events as UTF-8, each without its opening brace (the id goes first). */
    private List<byte[]> templates;

    @Override
    public Integer call() throws Exception {
        if (connections < 1 || batch < 1 || seconds < 1 || warmup < 0 || rate < 0 || reportEvery < 0) {
            throw new InvalidInputException("--connections, --batch and --seconds must be positive; --warmup, --rate"
                    + " and --report-every not negative");
        }
        if (postgres != null && !spawn) {
            throw new InvalidInputException("--postgres needs --spawn (without it, the server's own config decides)");
        }
        http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        PrintWriter out = spec.commandLine().getOut();
        templates = events(10_000).stream()
                .map(json -> json.substring(1).getBytes(StandardCharsets.UTF_8))
                .toList();
        // Every template once, as sent (with an id of the chosen kind), less the newlines.
        Body sample = body(templates.size());
        double averageBytes = (sample.size - templates.size()) / (double) templates.size();
        Spawned server = spawn ? Spawned.start(postgres, serverJavaOptions) : null; // else this.server names the target
        try {
            String target = server != null ? server.url : this.server.base();
            awaitHealthy(target);
            out.printf(
                    Locale.ROOT,
                    "sluice bench ingest: %s (%s), %d cores, Java %s, events ~%.0f bytes%n",
                    target,
                    server != null ? server.store : "running server",
                    Runtime.getRuntime().availableProcessors(),
                    Runtime.version(),
                    averageBytes);
            out.printf(
                    Locale.ROOT,
                    rate > 0
                            ? "offered %,d events/s in requests of %d events with %s ids, %d s after %d s warm-up%n"
                            : "%d closed loops, requests of %d events with %s ids, %d s after %d s warm-up%n",
                    rate > 0 ? rate : connections,
                    batch,
                    ids,
                    seconds,
                    warmup);
            out.flush();
            ServerSampler sampler = new ServerSampler(target, server);
            Result result = rate > 0 ? fixedRate(target, sampler) : closedLoops(target, sampler);
            ThroughputTable.print(
                    out,
                    "events/s",
                    result.events / (double) seconds,
                    result.events * averageBytes / seconds,
                    result.latency);
            out.printf(Locale.ROOT, "server memory (MB), sampled every second: %s%n", sampler.summary());
            ServerLatency.print(out, sampler.metricsAtStart, sampler.metrics());
            if (result.failures > 0) {
                out.printf(Locale.ROOT, "%d requests failed: first: %s%n", result.failures, result.firstFailure);
            }
            out.flush();
            return result.failures > 0 ? 1 : 0;
        } finally {
            if (server != null) {
                server.close();
            }
        }
    }

    private record Result(long events, org.HdrHistogram.Histogram latency, long failures, String firstFailure) {}

    /** What the measured requests did: acknowledged events, their latency, failures. */
    private final class Tally {
        private final Recorder latency = new Recorder(3);
        private final AtomicLong acknowledged = new AtomicLong();
        private final AtomicLong failures = new AtomicLong();
        private volatile String firstFailure;

        /** One request, from {@code startNanos} (sent or scheduled) to {@code doneNanos}. */
        void record(long startNanos, long doneNanos, String failure) {
            if (failure == null) {
                latency.recordValue(doneNanos - startNanos);
                acknowledged.addAndGet(batch);
            } else if (failures.getAndIncrement() == 0) {
                firstFailure = failure;
            }
        }

        private Thread reporter;

        /**
         * With {@link #reportEvery}, prints the acknowledged events/s of each interval of the
         * measured window as it ends, on a thread of its own.
         */
        void startReports(long measureFrom, long end) {
            if (reportEvery == 0) {
                return;
            }
            PrintWriter out = spec.commandLine().getOut();
            long step = Duration.ofSeconds(reportEvery).toNanos();
            reporter = Thread.ofPlatform().daemon().name("sluice-bench-report").start(() -> {
                long before = 0;
                for (long at = measureFrom + step; at <= end; at += step) {
                    for (long wait; (wait = at - System.nanoTime()) > 0; ) {
                        LockSupport.parkNanos(wait);
                    }
                    long now = acknowledged.get();
                    out.printf(
                            Locale.ROOT,
                            "  at %d s: %,.0f events/s over the last %d s%n",
                            (at - measureFrom) / 1_000_000_000L,
                            (now - before) / (double) reportEvery,
                            reportEvery);
                    out.flush();
                    before = now;
                }
            });
        }

        Result result() throws InterruptedException {
            if (reporter != null) {
                reporter.join(); // its last line before the summary
            }
            return new Result(acknowledged.get(), latency.getIntervalHistogram(), failures.get(), firstFailure);
        }
    }

    /** Closed loops: each posts a batch, waits for the acknowledgement, posts the next. */
    private Result closedLoops(String target, ServerSampler sampler) throws InterruptedException {
        Tally tally = new Tally();
        long measureFrom = System.nanoTime() + Duration.ofSeconds(warmup).toNanos();
        long end = measureFrom + Duration.ofSeconds(seconds).toNanos();
        sampler.startSampling(measureFrom, end);
        tally.startReports(measureFrom, end);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < connections; c++) {
                pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        long sent = System.nanoTime();
                        String failure = post(target, body());
                        long done = System.nanoTime();
                        if (sent >= measureFrom && done <= end) {
                            tally.record(sent, done, failure);
                        }
                    }
                });
            }
        }
        return tally.result();
    }

    /** Open loop: requests start on schedule, each on its own virtual thread. */
    private Result fixedRate(String target, ServerSampler sampler) throws InterruptedException {
        Tally tally = new Tally();
        long interval = (long) (1e9 * batch / rate);
        long start = System.nanoTime();
        long measureFrom = start + Duration.ofSeconds(warmup).toNanos();
        long end = measureFrom + Duration.ofSeconds(seconds).toNanos();
        sampler.startSampling(measureFrom, end);
        tally.startReports(measureFrom, end);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (long scheduled = start; scheduled < end; scheduled += interval) {
                LockSupport.parkNanos(scheduled - System.nanoTime());
                Body body = body();
                long due = scheduled;
                pool.submit(() -> {
                    String failure = post(target, body);
                    if (due >= measureFrom) {
                        tally.record(due, System.nanoTime(), failure);
                    }
                });
            }
        }
        return tally.result();
    }

    /** Posts one request; null when acknowledged, else what went wrong. */
    private String post(String target, Body body) {
        try {
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(URI.create(target + "/v1/events"))
                            .header("Content-Type", "application/x-ndjson")
                            .POST(body.publisher())
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? null : "HTTP " + r.statusCode() + ": " + r.body();
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * A request: {@code batch} events with fresh ids ({@link #ids}), one per line, built as
     * bytes from the prepared templates so that the generator spends little of the machine's
     * CPU, which it shares with the server it measures.
     */
    private Body body() {
        return body(batch);
    }

    private Body body(int events) {
        Body b = new Body(events * (EVENT_BYTES + 64));
        for (int i = 0; i < events; i++) {
            long n = sequence.getAndIncrement();
            byte[] template = templates.get((int) (n % templates.size()));
            if (ids == Ids.none) {
                b.put('{').put(template).put('\n');
                continue;
            }
            b.put(ID_FIELD);
            if (ids == Ids.random) {
                b.ascii(randomUuid().toString());
            } else {
                b.ascii(run).put('-').ascii(Long.toString(n));
            }
            b.put('"').put(',').put(template).put('\n');
        }
        return b;
    }

    private static final byte[] ID_FIELD = "{\"id\":\"".getBytes(StandardCharsets.US_ASCII);

    /**
     * A version 4 (random) UUID from a fast non-cryptographic generator: ids need to be unique
     * and spread like real producers' UUIDs, not unpredictable, and {@link UUID#randomUUID}'s
     * secure generator cost the load generator a tenth of its CPU.
     */
    static UUID randomUuid() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long high = (r.nextLong() & ~0xF000L) | 0x4000L; // version 4
        long low = (r.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L; // IETF variant
        return new UUID(high, low);
    }

    /** A growable byte buffer for one request body. */
    private static final class Body {
        private byte[] bytes;
        private int size;

        Body(int capacity) {
            bytes = new byte[capacity];
        }

        Body put(char ascii) {
            room(1);
            bytes[size++] = (byte) ascii;
            return this;
        }

        Body put(byte[] data) {
            room(data.length);
            System.arraycopy(data, 0, bytes, size, data.length);
            size += data.length;
            return this;
        }

        Body ascii(String text) {
            room(text.length());
            for (int i = 0; i < text.length(); i++) {
                bytes[size++] = (byte) text.charAt(i);
            }
            return this;
        }

        HttpRequest.BodyPublisher publisher() {
            return HttpRequest.BodyPublishers.ofByteArray(bytes, 0, size);
        }

        private void room(int more) {
            if (size + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(size + more, bytes.length * 2));
            }
        }
    }

    /**
     * OpenStack notifications from the notigen templates with a {@code type}, cut to about
     * {@value #EVENT_BYTES} bytes: the largest payload fields go first (image metadata and the
     * like), then a {@code note} field pads what is shorter.
     */
    private static List<String> events(int count) {
        List<String> out = new ArrayList<>(count);
        for (ObjectNode n : Notifications.load().take(count, 7)) {
            ObjectNode e = n.deepCopy();
            e.remove("id");
            e.put("type", n.path("event_type").asText("compute.instance.update"));
            String json = Json.write(e);
            if (e.get("payload") instanceof ObjectNode payload) {
                while (json.length() > EVENT_BYTES && !payload.isEmpty()) {
                    String largest = null;
                    int size = -1;
                    for (var field : payload.properties()) {
                        int fieldSize = Json.write(field.getValue()).length();
                        if (fieldSize > size) {
                            size = fieldSize;
                            largest = field.getKey();
                        }
                    }
                    payload.remove(largest);
                    json = Json.write(e);
                }
            }
            if (json.length() < EVENT_BYTES - 20) {
                e.put("note", "x".repeat(EVENT_BYTES - json.length() - 10));
                json = Json.write(e);
            }
            out.add(json);
        }
        return out;
    }

    /** Asks {@code /healthz} every 100 ms until the server answers 200, for up to a minute. */
    private void awaitHealthy(String target) throws InterruptedException {
        CompletableFuture<Void> healthy = new CompletableFuture<>();
        AtomicReference<String> last = new AtomicReference<>("no answer");
        try (ScheduledExecutorService poll = Executors.newSingleThreadScheduledExecutor()) {
            poll.scheduleWithFixedDelay(
                    () -> {
                        try {
                            HttpResponse<String> r = http.send(
                                    HttpRequest.newBuilder(URI.create(target + "/healthz"))
                                            .timeout(Duration.ofSeconds(5))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() == 200) {
                                healthy.complete(null);
                            }
                            last.set("HTTP " + r.statusCode());
                        } catch (IOException e) {
                            last.set(e.toString());
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    },
                    0,
                    100,
                    TimeUnit.MILLISECONDS);
            try {
                healthy.get(60, TimeUnit.SECONDS);
            } finally {
                poll.shutdownNow(); // stop asking, and do not wait for a request in flight
            }
        } catch (TimeoutException | ExecutionException e) {
            throw new InvalidInputException("no Sluice server answers at " + target + "/healthz (" + last.get() + ")");
        }
    }

    /**
     * Reads the server's {@code /metrics}: its heap once a second (and the spawned process's
     * resident set), and the whole text when measuring starts, for {@link ServerLatency}.
     */
    private final class ServerSampler {
        private final String target;
        private final Spawned server;
        private final List<Double> samples = new ArrayList<>();
        private final List<Double> rss = new ArrayList<>();

        ServerSampler(String target, Spawned server) {
            this.target = target;
            this.server = server;
        }

        /**
         * Samples once a second on a thread of its own until {@code end}, and keeps the whole
         * {@code /metrics} text as it is at {@code measureFrom} (nanoTimes).
         */
        void startSampling(long measureFrom, long end) {
            ScheduledExecutorService schedule = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().daemon().name("sluice-bench-sampler").factory());
            schedule.schedule(() -> metricsAtStart = metrics(), measureFrom - System.nanoTime(), TimeUnit.NANOSECONDS);
            schedule.scheduleAtFixedRate(this::sample, 0, 1, TimeUnit.SECONDS);
            schedule.schedule(schedule::shutdown, end - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        private void sample() {
            double mb = heapMb();
            double rssMb = server == null ? -1 : server.rssMb();
            synchronized (samples) {
                if (mb >= 0) {
                    samples.add(mb);
                }
                if (rssMb >= 0) {
                    rss.add(rssMb);
                }
            }
        }

        /** The server's {@code /metrics} text at the start of the measured window, or null. */
        volatile String metricsAtStart;

        /** The server's whole {@code /metrics} text, or null if it could not be had. */
        String metrics() {
            try {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create(target + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200 ? r.body() : null;
            } catch (IOException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }

        /** The server's heap used in MB, from its {@code /metrics}, or -1. */
        private double heapMb() {
            String metrics = metrics();
            if (metrics == null) {
                return -1;
            }
            try {
                return metrics.lines()
                                .filter(l -> l.startsWith("jvm_memory_used_bytes{area=\"heap\""))
                                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                                .sum()
                        / 1e6;
            } catch (NumberFormatException e) {
                return -1;
            }
        }

        String summary() {
            synchronized (samples) {
                String heap = summary(samples);
                return rss.isEmpty() ? "heap " + heap : "heap " + heap + "; process RSS " + summary(rss);
            }
        }

        private static String summary(List<Double> samples) {
            if (samples.isEmpty()) {
                return "no samples";
            }
            int n = samples.size();
            double first = samples.getFirst();
            double max = samples.stream().max(Comparator.naturalOrder()).orElse(0.0);
            double lastQuarter = samples.subList(n - Math.max(1, n / 4), n).stream()
                    .mapToDouble(Double::doubleValue)
                    .average()
                    .orElse(0);
            double firstQuarter = samples.subList(0, Math.max(1, n / 4)).stream()
                    .mapToDouble(Double::doubleValue)
                    .average()
                    .orElse(0);
            return String.format(
                    Locale.ROOT,
                    "first %.0f, max %.0f, first-quarter mean %.0f, last-quarter mean %.0f (%d samples)",
                    first,
                    max,
                    firstQuarter,
                    lastQuarter,
                    n);
        }
    }

    /** A server started as a child process on a free port, with its own data. */
    private static final class Spawned implements AutoCloseable {
        final Process process;
        final String url;
        final String store;
        final Path dir;
        final String postgresUrl;
        final String schema;

        private Spawned(Process process, String url, String store, Path dir, String postgresUrl, String schema) {
            this.process = process;
            this.url = url;
            this.store = store;
            this.dir = dir;
            this.postgresUrl = postgresUrl;
            this.schema = schema;
        }

        static Spawned start(String postgresUrl, List<String> javaOptions) throws IOException {
            Path dir = Files.createTempDirectory("sluice-bench-ingest");
            String schema = null;
            List<String> command = new ArrayList<>();
            command.add(ProcessHandle.current().info().command().orElse("java"));
            command.add("-Xmx1g"); // memory must stay flat: a leak would show as an OutOfMemoryError
            // The collector a server machine gets; the JVM picks Serial below 2 CPUs or ~1.8 GB.
            command.add("-XX:+UseG1GC");
            command.addAll(javaOptions);
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add("io.sluice.server.Main");
            command.add("server");
            command.add("--port");
            command.add("0"); // the port it gets is read from its log: none is released and taken again
            String store;
            if (postgresUrl != null) {
                schema = "sluice_bench_"
                        + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
                Path config = dir.resolve("sluice.yaml");
                Files.writeString(
                        config,
                        "store: {type: postgres, url: '" + postgresUrl.replace("'", "''") + "', schema: " + schema
                                + "}\n");
                command.add("--config");
                command.add(config.toString());
                store = "spawned, PostgreSQL schema " + schema;
            } else {
                command.add("--data");
                command.add(dir.resolve("data").toString());
                store = "spawned, SQLite in a fresh directory";
            }
            Path log = dir.resolve("server.log");
            Process p = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            return new Spawned(p, "http://127.0.0.1:" + servingPort(p, log), store, dir, postgresUrl, schema);
        }

        private static final Pattern SERVING = Pattern.compile("Sluice serving on http://[^:]+:(\\d+)");

        /** The port the server reports in its log once it serves; waits up to a minute. */
        private static int servingPort(Process process, Path log) throws IOException {
            long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
            while (System.nanoTime() < deadline) {
                Matcher m = SERVING.matcher(Files.readString(log, StandardCharsets.UTF_8));
                if (m.find()) {
                    return Integer.parseInt(m.group(1));
                }
                if (!process.isAlive()) {
                    throw new IOException("the spawned server stopped: " + Files.readString(log));
                }
                LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
            }
            process.destroyForcibly();
            throw new IOException("the spawned server did not serve within a minute: " + Files.readString(log));
        }

        /** The server process's resident set size, from /proc (Linux), or -1. */
        double rssMb() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1e3;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // not Linux, or the process is gone
            }
            return -1;
        }

        @Override
        public void close() {
            process.destroy();
            try {
                process.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (schema != null) {
                try (Connection c = DriverManager.getConnection(PostgresUrls.toJdbc(postgresUrl));
                        Statement s = c.createStatement()) {
                    s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
                } catch (SQLException e) {
                    System.err.println("could not drop benchmark schema " + schema + ": " + e.getMessage());
                }
            }
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException ignored) {
                // a temporary directory: the system cleans it up eventually
            }
        }
    }
}
