package io.sluice.server.cli;

import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sluice server}: runs the server until interrupted (SIGINT or SIGTERM stop it cleanly). */
@Command(
        name = "server",
        mixinStandardHelpOptions = true,
        description = "Run the Sluice server (default: http://127.0.0.1:8470, events in ./sluice-data).")
final class ServerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "A sluice.yaml configuration file.")
    Path config;

    @Option(
            names = "--data",
            paramLabel = "DIR",
            description = "The data directory of the embedded store (default: ./sluice-data).")
    Path data;

    @Option(
            names = "--port",
            paramLabel = "N",
            description = "The port to listen on (default: 8470; 0 picks a free one).")
    Integer port;

    @Option(names = "--bind", paramLabel = "ADDR", description = "The address to listen on (default: 127.0.0.1).")
    String bind;

    @Override
    public Integer call() throws InterruptedException {
        ServerConfig c = config != null ? ServerConfig.load(config) : ServerConfig.defaults(Path.of("sluice-data"));
        if (data != null) {
            c = c.withDataDir(data);
        }
        if (port != null) {
            if (port < 0 || port > 65_535) {
                throw new InvalidInputException("--port must be from 0 to 65535, not " + port);
            }
            c = c.withPort(port);
        }
        if (bind != null) {
            c = c.withBind(bind);
        }
        SluiceServer server = SluiceServer.start(c);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            server.close();
                            stopped.countDown();
                        },
                        "sluice-shutdown"));
        if (config != null) {
            // SIGHUP: read the configuration again and apply what can change while serving
            try {
                sun.misc.Signal.handle(
                        new sun.misc.Signal("HUP"),
                        signal -> Thread.ofPlatform().name("sluice-reload").start(() -> reload(server)));
            } catch (IllegalArgumentException noHangupSignalHere) {
                // not on this platform: restart to apply changes
            }
        }
        spec.commandLine().getErr().println("sluice: serving on " + server.url() + " (Ctrl-C to stop)");
        spec.commandLine().getErr().flush();
        stopped.await();
        return 0;
    }

    private void reload(SluiceServer server) {
        try {
            ServerConfig fresh = ServerConfig.load(config);
            server.reload(fresh);
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(ServerCommand.class)
                    .error("reload of {} refused, nothing changed: {}", config, e.getMessage());
        }
    }
}
