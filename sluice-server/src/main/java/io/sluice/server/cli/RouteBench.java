package io.sluice.server.cli;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice bench route}: routing end to end through a real broker. A server runs in this
 * process on a fresh embedded store with an AMQP input and an AMQP output; {@code --queries}
 * standing queries each match one value of the events' {@code n} field (so every event matches
 * exactly one query), their keys spread over a few queues. The benchmark publishes events to
 * the input queue with publisher confirms, consumes the key queues, and reports events/s from
 * the first publish to the last delivery, and the latency from publish to delivery.
 */
@Command(
        name = "route",
        mixinStandardHelpOptions = true,
        description = {
            "AMQP input -> log -> standing queries -> AMQP output (publisher confirms), on a real broker:"
                    + " events/s and publish-to-delivery latency.",
            "Every event matches exactly one of the queries; matches go to --keys queues."
        })
final class RouteBench implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--amqp",
            paramLabel = "URL",
            description = "The broker (default: $SLUICE_AMQP_URL, else amqp://guest:guest@127.0.0.1:5672).")
    String amqp;

    @Option(names = "--queries", defaultValue = "1000", description = "Standing queries (default: ${DEFAULT-VALUE}).")
    int queries;

    @Option(names = "--events", defaultValue = "200000", description = "Events published (default: ${DEFAULT-VALUE}).")
    int events;

    @Option(
            names = "--keys",
            defaultValue = "4",
            description = "Distinct routing keys, so output queues (default: ${DEFAULT-VALUE}).")
    int keys;

    @Option(
            names = "--rate",
            defaultValue = "0",
            description = "Offered events/s (0: as fast as confirms come; default: ${DEFAULT-VALUE}).")
    int rate;

    /** How events come in and matches go out. */
    enum Via {
        /** An AMQP input queue and an AMQP output, on the broker of --amqp. */
        amqp,
        /** POST /v1/events (NDJSON, 4 producers) in, a webhook receiver in this process out. */
        http,
        /** POST /v1/events in, a file output out: Sluice's own part, with no broker or receiver (no latency). */
        file
    }

    @Option(
            names = "--via",
            defaultValue = "amqp",
            description =
                    "${COMPLETION-CANDIDATES}: AMQP in and out, or HTTP in and webhook out (default: ${DEFAULT-VALUE}).")
    Via via;

    @Override
    public Integer call() throws Exception {
        return via == Via.amqp ? amqp() : http();
    }

    /** The standing queries: query q matches events with n = q, its key one of {@code keys}. */
    private String queryDocuments(List<String> keyNames) {
        StringBuilder docs = new StringBuilder();
        for (int q = 0; q < queries; q++) {
            docs.append("{\"id\":\"bench\",\"name\":\"q")
                    .append(q)
                    .append("\",\"key\":\"")
                    .append(keyNames.get(q % keyNames.size()))
                    .append("\",\"query\":{\"n\":")
                    .append(q)
                    .append("}}\n");
        }
        return docs.toString();
    }

    private static final String PADDING = "x".repeat(600); // events of about 1 KB, like the other benchmarks

    private String event(String run, int i) {
        return "{\"id\":\"" + run + "-" + i + "\",\"type\":\"bench.event\",\"sent\":" + System.nanoTime() + ",\"n\":"
                + (i % queries) + ",\"host\":\"web-" + (i % 97) + "\",\"pad\":\"" + PADDING + "\"}";
    }

    /** Records a delivery: its latency from the "sent" time in the body. */
    private static void delivered(byte[] body, Histogram latency, AtomicLong delivered, AtomicLong last) {
        long now = System.nanoTime();
        String text = new String(body, StandardCharsets.UTF_8);
        int at = text.indexOf("\"sent\":") + 7;
        long sent = Long.parseLong(text.substring(at, text.indexOf(',', at)));
        synchronized (latency) {
            latency.recordValue(Math.max(0, now - sent));
        }
        last.set(now);
        delivered.incrementAndGet();
    }

    private int report(double applyMillis, long started, Histogram latency, AtomicLong delivered, AtomicLong last)
            throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (delivered.get() < events && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        double seconds = (last.get() - started) / 1e9;
        out.printf(
                Locale.ROOT,
                "via %s: queries %d (applied in %.0f ms), keys %d, events %d%s%n",
                via,
                queries,
                applyMillis,
                keys,
                events,
                rate > 0 ? ", offered " + rate + "/s" : "");
        out.printf(
                Locale.ROOT,
                "delivered %d in %.2f s: %.0f events/s%n",
                delivered.get(),
                seconds,
                delivered.get() / seconds);
        synchronized (latency) {
            if (latency.getTotalCount() > 0) { // none with the file output: it has no receiver to time
                out.printf(
                        Locale.ROOT,
                        "publish to delivery: p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                        latency.getValueAtPercentile(50) / 1e6,
                        latency.getValueAtPercentile(99) / 1e6,
                        latency.getMaxValue() / 1e6);
            }
        }
        out.flush();
        if (delivered.get() < events) {
            spec.commandLine()
                    .getErr()
                    .println("sluice bench route: only " + delivered.get() + " of " + events
                            + " events were delivered within 120 s");
            return 1;
        }
        return 0;
    }

    private void pace(long started, int i) {
        if (rate > 0) {
            // parks rather than spins: a spinning producer would take one of the two cores the
            // server needs; what comes due meanwhile is sent at once
            long wait = started + (long) (i * 1e9 / rate) - System.nanoTime();
            if (wait > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(wait);
            }
        }
    }

    private int http() throws Exception {
        String run = "sluice-bench-" + UUID.randomUUID().toString().substring(0, 8);
        Path dir = Files.createTempDirectory("sluice-bench-route");
        Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        AtomicLong delivered = new AtomicLong();
        AtomicLong last = new AtomicLong();
        com.sun.net.httpserver.HttpServer receiver =
                com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 1_000);
        receiver.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        receiver.createContext("/hook", exchange -> {
            delivered(exchange.getRequestBody().readAllBytes(), latency, delivered, last);
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        receiver.start();
        try {
            Path config = dir.resolve("sluice.yaml");
            Files.writeString(
                    config,
                    via == Via.file
                            ? "store: {path: data}\noutputs:\n  out: {type: file, path: matches.ndjson, max_bytes: 1GB}\n"
                                    + "default_output: out\n"
                            : "store: {path: data}\noutputs:\n  hook: {type: webhook, url: \"http://127.0.0.1:"
                                    + receiver.getAddress().getPort()
                                    + "/hook\", concurrency: 64}\ndefault_output: hook\n");
            List<String> keyNames = new ArrayList<>();
            for (int k = 0; k < keys; k++) {
                keyNames.add(run + "-k" + k);
            }
            try (SluiceServer server =
                    SluiceServer.start(ServerConfig.load(config).withPort(0))) {
                long applyStarted = System.nanoTime();
                server.router()
                        .apply(io.sluice.core.route.QueryEdits.read(
                                new java.io.StringReader(queryDocuments(keyNames)), "generated queries"));
                double applyMillis = (System.nanoTime() - applyStarted) / 1e6;
                java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
                java.net.URI events = java.net.URI.create(server.url() + "/v1/events");
                AtomicLong next = new AtomicLong();
                long started = System.nanoTime();
                List<Thread> producers = new ArrayList<>();
                for (int p = 0; p < 4; p++) {
                    producers.add(Thread.ofVirtual().start(() -> {
                        try {
                            while (true) {
                                long first = next.getAndAdd(1_000);
                                if (first >= this.events) {
                                    return;
                                }
                                StringBuilder body = new StringBuilder();
                                for (long i = first; i < Math.min(this.events, first + 1_000); i++) {
                                    pace(started, (int) i);
                                    body.append(event(run, (int) i)).append('\n');
                                }
                                client.send(
                                        java.net.http.HttpRequest.newBuilder(events)
                                                .header("Content-Type", "application/x-ndjson")
                                                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                                                        body.toString()))
                                                .build(),
                                        java.net.http.HttpResponse.BodyHandlers.discarding());
                            }
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }));
                }
                if (via == Via.file) { // count what the file output delivered
                    Thread.ofVirtual().start(() -> {
                        while (delivered.get() < this.events) {
                            long sum = server.router().list().stream()
                                    .mapToLong(q -> q.get("delivered").asLong())
                                    .sum();
                            if (sum > delivered.get()) {
                                delivered.set(sum);
                                last.set(System.nanoTime());
                            }
                            try {
                                Thread.sleep(5);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    });
                }
                for (Thread t : producers) {
                    t.join();
                }
                return report(applyMillis, started, latency, delivered, last);
            }
        } finally {
            receiver.stop(0);
            deleteTree(dir);
        }
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private int amqp() throws Exception {
        String url = amqp != null
                ? amqp
                : System.getenv().getOrDefault("SLUICE_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672");
        String run = "sluice-bench-" + UUID.randomUUID().toString().substring(0, 8);
        Path dir = Files.createTempDirectory("sluice-bench-route");
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(url);
        List<String> queues = new ArrayList<>();
        try (Connection connection = factory.newConnection("sluice-bench")) {
            Channel admin = connection.createChannel();
            admin.queueDeclare(run + "-in", true, false, false, null);
            for (int k = 0; k < keys; k++) {
                queues.add(run + "-k" + k);
                admin.queueDeclare(run + "-k" + k, true, false, false, null);
            }
            Path config = dir.resolve("sluice.yaml");
            Files.writeString(
                    config,
                    "store: {path: data}\n"
                            + "inputs:\n  - {type: amqp, url: \"" + url + "\", queue: " + run + "-in, prefetch: 2000}\n"
                            + "outputs:\n  broker: {type: amqp, url: \"" + url + "\", declare_queues: false}\n"
                            + "default_output: broker\n");
            try (SluiceServer server =
                    SluiceServer.start(ServerConfig.load(config).withPort(0))) {
                long applyStarted = System.nanoTime();
                server.router()
                        .apply(io.sluice.core.route.QueryEdits.read(
                                new java.io.StringReader(queryDocuments(queues)), "generated queries"));
                double applyMillis = (System.nanoTime() - applyStarted) / 1e6;

                Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
                AtomicLong delivered = new AtomicLong();
                AtomicLong last = new AtomicLong();
                for (String q : queues) {
                    Channel c = connection.createChannel();
                    c.basicQos(5_000);
                    c.basicConsume(q, false, new DefaultConsumer(c) {
                        @Override
                        public void handleDelivery(
                                String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body)
                                throws java.io.IOException {
                            delivered(body, latency, delivered, last);
                            if (envelope.getDeliveryTag() % 500 == 0) {
                                getChannel().basicAck(envelope.getDeliveryTag(), true);
                            }
                        }
                    });
                }
                Channel publisher = connection.createChannel();
                publisher.confirmSelect();
                AMQP.BasicProperties persistent =
                        new AMQP.BasicProperties.Builder().deliveryMode(2).build();
                long started = System.nanoTime();
                for (int i = 0; i < events; i++) {
                    pace(started, i);
                    publisher.basicPublish(
                            "", run + "-in", persistent, event(run, i).getBytes(StandardCharsets.UTF_8));
                    if (i % 1_000 == 999) {
                        publisher.waitForConfirmsOrDie(30_000);
                    }
                }
                publisher.waitForConfirmsOrDie(30_000);
                return report(applyMillis, started, latency, delivered, last);
            } finally {
                for (String q : queues) {
                    admin.queueDelete(q);
                }
                admin.queueDelete(run + "-in");
            }
        } finally {
            deleteTree(dir);
        }
    }
}
