package io.sluice.server.cli;

import io.sluice.server.SluiceServer;
import io.sluice.server.config.ServerConfig;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice bench zeromq}: PUSH ingest through the ZeroMQ router's PULL socket into the
 * embedded store, on a server in this process. {@code --feeders} PUSH sockets send
 * {@code --events} events in all (EventReactor-style, with ids); the figure is events/s from
 * the first send to the last event durable in the log.
 */
@Command(
        name = "zeromq",
        mixinStandardHelpOptions = true,
        description = "ZeroMQ PUSH -> PULL -> durable log: events/s with several feeders.")
final class ZeroMqBench implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--events", defaultValue = "400000", description = "Events in all (default: ${DEFAULT-VALUE}).")
    int events;

    @Option(names = "--feeders", defaultValue = "4", description = "PUSH sockets (default: ${DEFAULT-VALUE}).")
    int feeders;

    @Option(names = "--size", defaultValue = "300", description = "Bytes per event, about (default: ${DEFAULT-VALUE}).")
    int size;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path dir = Files.createTempDirectory("sluice-bench-zeromq");
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(
                config,
                "store: {path: data}\nenvelope: eventreactor\nzeromq: {pull: \"tcp://127.0.0.1:" + port
                        + "\", high_water_mark: 0}\n");
        String pad = "x".repeat(Math.max(0, size - 120));
        try (SluiceServer server = SluiceServer.start(ServerConfig.load(config).withPort(0));
                ZContext zmq = new ZContext(1)) {
            long started = System.nanoTime();
            List<Thread> threads = new ArrayList<>();
            int each = events / feeders;
            for (int f = 0; f < feeders; f++) {
                int feeder = f;
                threads.add(Thread.ofPlatform().start(() -> {
                    try (ZMQ.Socket push = zmq.createSocket(SocketType.PUSH)) {
                        push.setSndHWM(0);
                        push.setLinger(-1);
                        push.connect("tcp://127.0.0.1:" + port);
                        for (int i = 0; i < each; i++) {
                            push.send("{\"id\":\"f" + feeder + "-" + i + "\",\"namespace\":\"bench\",\"event_type\":"
                                    + "\"load.test\",\"data\":{\"n\":" + i + ",\"pad\":\"" + pad + "\"}}");
                        }
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            double sent = (System.nanoTime() - started) / 1e9;
            long total = (long) each * feeders;
            while (server.log().store().lastOffset() < total) {
                Thread.sleep(1);
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            out.printf(
                    "%,d events from %d feeders: sent in %.2f s, durable in %.2f s: %,.0f events/s%n",
                    total, feeders, sent, seconds, total / seconds);
            out.flush();
        }
        return 0;
    }
}
