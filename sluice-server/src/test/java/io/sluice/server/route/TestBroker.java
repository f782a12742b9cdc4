package io.sluice.server.route;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.qpid.server.SystemLauncher;
import org.apache.qpid.server.SystemLauncherListener;
import org.apache.qpid.server.model.Broker;
import org.apache.qpid.server.model.Port;
import org.apache.qpid.server.model.SystemConfig;

/**
 * The AMQP broker tests use: the RabbitMQ at {@code SLUICE_TEST_AMQP_URL} (default
 * {@code amqp://guest:guest@127.0.0.1:5672}) when it answers, else an embedded Qpid Broker-J
 * started once for the test run. Tests use unique queue names, since the machine's broker is
 * shared.
 */
public final class TestBroker {
    private static TestBroker instance;

    private final String url;
    private final SystemLauncher embedded; // null: the machine's RabbitMQ
    private final AtomicReference<SystemConfig<?>> system;
    private final java.util.Set<Integer> testPorts =
            java.util.concurrent.ConcurrentHashMap.newKeySet(); // the tests' own

    private TestBroker(String url, SystemLauncher embedded, AtomicReference<SystemConfig<?>> system) {
        this.url = url;
        this.embedded = embedded;
        this.system = system;
    }

    public static synchronized TestBroker get() throws Exception {
        if (instance == null) {
            String url = System.getenv().getOrDefault("SLUICE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672");
            if (reachable(url)) {
                instance = new TestBroker(url, null, null);
            } else {
                instance = startEmbedded();
            }
        }
        return instance;
    }

    /** The broker's URL. */
    public String url() {
        return url;
    }

    /** Whether this is the embedded broker. */
    boolean embedded() {
        return embedded != null;
    }

    /** A connection for the test's own publishing and consuming. */
    public Connection connect() throws Exception {
        ConnectionFactory f = new ConnectionFactory();
        f.setUri(url);
        f.setAutomaticRecoveryEnabled(false);
        Connection c = f.newConnection("sluice-test");
        testPorts.add(((com.rabbitmq.client.impl.AMQConnection) c).getLocalPort());
        return c;
    }

    /**
     * Breaks Sluice's connections from the broker's side: with RabbitMQ, {@code rabbitmqctl
     * close_connection} for every connection Sluice opened; with the embedded broker, by closing
     * every connection that is not one of the tests' own through the broker's model.
     */
    void breakSluiceConnections() throws Exception {
        if (embedded != null) {
            Broker<?> b = system.get().getContainer(Broker.class);
            int closed = 0;
            List<String> seen = new ArrayList<>();
            for (Port<?> port : b.getPorts()) {
                for (org.apache.qpid.server.model.Connection<?> c : List.copyOf(port.getConnections())) {
                    String remote = c.getRemoteAddress();
                    seen.add(remote);
                    if (!testPorts.contains(Integer.parseInt(remote.substring(remote.lastIndexOf(':') + 1)))) {
                        c.delete();
                        closed++;
                    }
                }
            }
            if (closed == 0) {
                throw new IllegalStateException("no Sluice connection to close on the embedded broker: " + seen);
            }
            return;
        }
        List<String> pids = new ArrayList<>();
        for (String line :
                run("rabbitmqctl", "-q", "list_connections", "--no-table-headers", "pid", "client_properties")) {
            if (line.contains("sluice-output") || line.contains("sluice-input")) {
                pids.add(line.split("\\s+")[0]);
            }
        }
        if (pids.isEmpty()) {
            throw new IllegalStateException("no Sluice connection to close on the broker");
        }
        for (String pid : pids) {
            run("rabbitmqctl", "-q", "close_connection", pid, "closed by a Sluice test");
        }
    }

    private static List<String> run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
        return out.lines().toList();
    }

    private static boolean reachable(String url) {
        try {
            ConnectionFactory f = new ConnectionFactory();
            f.setUri(url);
            f.setConnectionTimeout(2_000);
            try (Connection c = f.newConnection("sluice-test-probe")) {
                return c.isOpen();
            }
        } catch (Exception e) {
            return false;
        }
    }

    private static TestBroker startEmbedded() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path work = Files.createTempDirectory("sluice-qpid");
        Map<String, Object> attributes = Map.of(
                "type",
                "Memory",
                "initialConfigurationLocation",
                TestBroker.class.getResource("qpid-config.json").toExternalForm(),
                "startupLoggedToSystemOut",
                false,
                "context",
                Map.of("qpid.amqp_port", port, "qpid.work_dir", work.toString(), "qpid.home_dir", work.toString()));
        for (String logger :
                List.of("qpid", "org.apache.qpid")) { // its operational log: a line per queue and connection
            ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(logger))
                    .setLevel(ch.qos.logback.classic.Level.WARN);
        }
        AtomicReference<SystemConfig<?>> system = new AtomicReference<>();
        SystemLauncher launcher = new SystemLauncher(new SystemLauncherListener.DefaultSystemLauncherListener() {
            @Override
            public void onContainerResolve(SystemConfig<?> config) {
                system.set(config);
            }
        });
        launcher.startup(attributes);
        return new TestBroker("amqp://guest:guest@127.0.0.1:" + port, launcher, system);
    }
}
