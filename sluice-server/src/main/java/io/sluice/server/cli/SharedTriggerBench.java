package io.sluice.server.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice bench triggers-shared}: the sandbox trigger on PostgreSQL, with one server and
 * then with several on the same database (in this process, each with its own store connections,
 * trigger engine and pipeline workers). {@code --streams} end-of-day {@code
 * compute.instance.exists} events, one per instance, are appended at once; each makes its stream
 * ready, and the sandbox's fire pipeline ({@code logger}, {@code usage}: an {@code .verified} or
 * {@code .failed} event appended per stream) runs. Measured: streams/s from the first append
 * until every stream has fired, and which server fired how many.
 */
@Command(
        name = "triggers-shared",
        mixinStandardHelpOptions = true,
        description = {"Triggers on PostgreSQL: streams fired per second by one server and by several on one database."
        })
final class SharedTriggerBench implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--postgres",
            defaultValue = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres",
            description =
                    "The PostgreSQL database (JDBC URL; default: ${DEFAULT-VALUE}); a schema per run is made and dropped.")
    String url;

    @Option(
            names = "--sandbox",
            defaultValue = "examples/winchester",
            description = "The directory with the sandbox's triggers.yaml (default: ${DEFAULT-VALUE}).")
    Path sandbox;

    @Option(
            names = "--streams",
            defaultValue = "10000",
            description = "Streams made ready at once (default: ${DEFAULT-VALUE}).")
    int streams;

    @Option(
            names = "--servers",
            split = ",",
            defaultValue = "1,2",
            description = "Server counts to measure, in turn (default: ${DEFAULT-VALUE}).")
    List<Integer> servers;

    @Option(
            names = "--workers",
            defaultValue = "1",
            description = "Pipeline worker threads per server (default: ${DEFAULT-VALUE}).")
    int workers;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = TriggerBench.sandboxConfig(
                sandbox,
                "sluice-bench-shared",
                List.of(),
                "pipeline_worker_batch_size: 100\npipeline_worker_delay: 0.2\nsluice: {pipeline_workers: " + workers
                        + "}\n");
        out.printf(
                Locale.ROOT,
                "%,d streams made ready at once, sandbox fire pipeline (logger, usage), %d pipeline worker(s) per server%n",
                streams,
                workers);
        Double first = null;
        for (int n : servers) {
            double rate = run(dir, n, out);
            first = first == null ? rate : first;
            out.printf(Locale.ROOT, "  %d server(s): %,.0f streams/s (%.2fx the first)%n", n, rate, rate / first);
            out.flush();
        }
        return 0;
    }

    private double run(Path dir, int count, PrintWriter out) throws Exception {
        String schema =
                "sluice_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        ServerConfig config = ServerConfig.load(dir.resolve("sluice.yaml"))
                .withStore(ServerConfig.Store.postgres(url, schema))
                .withPort(0);
        List<SluiceServer> running = new ArrayList<>();
        try {
            java.util.concurrent.CountDownLatch fired = new java.util.concurrent.CountDownLatch(streams);
            for (int i = 0; i < count; i++) {
                SluiceServer server = SluiceServer.start(config);
                server.triggers().listen((id, trigger, dist, didFire, error) -> {
                    if (error == null) {
                        fired.countDown();
                    }
                });
                running.add(server);
            }
            String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
            String day = Instant.now().truncatedTo(ChronoUnit.DAYS).toString();
            String next = Instant.now()
                    .truncatedTo(ChronoUnit.DAYS)
                    .plus(1, ChronoUnit.DAYS)
                    .toString();
            List<ObjectNode> events = new ArrayList<>(streams);
            for (int i = 0; i < streams; i++) {
                ObjectNode e = Json.object();
                e.put("message_id", "exists-" + i);
                e.put("event_type", "compute.instance.exists");
                e.put("timestamp", now);
                e.put("instance_id", "bench-" + i);
                e.put("tenant_id", "bench");
                e.put("audit_period_beginning", day);
                e.put("audit_period_ending", next);
                e.put("launched_at", now);
                events.add(e);
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < streams; i += 1_000) {
                running.getFirst()
                        .log()
                        .append(events.subList(i, Math.min(streams, i + 1_000)))
                        .get();
            }
            fired.await(); // every stream settled, by whichever server's workers
            double seconds = (System.nanoTime() - t0) / 1e9;
            StringBuilder split = new StringBuilder();
            for (SluiceServer s : running) {
                split.append(split.isEmpty() ? "" : " / ")
                        .append(String.format(Locale.ROOT, "%,d", s.triggers().finished()));
            }
            out.printf(Locale.ROOT, "  %d server(s): all fired in %.1f s, by server %s%n", count, seconds, split);
            return streams / seconds;
        } finally {
            for (SluiceServer s : running) {
                s.close();
            }
            try (Connection c = DriverManager.getConnection(url);
                    Statement st = c.createStatement()) {
                st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }
}
