package io.sluice.server;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Sluice server in a process of its own (the test's classpath), for tests that kill it with
 * SIGKILL and start it again on the same data. Its output goes to {@code server-N.log} in the
 * given directory.
 */
public final class ServerProcess implements AutoCloseable {
    private static final Pattern SERVING = Pattern.compile("Sluice serving on http://[^:]+:(\\d+)");

    private final Process process;
    private final int port;

    private ServerProcess(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * Starts {@code sluice server --config CONFIG --port 0} and waits until it serves.
     *
     * @param number which start this is, naming its log file
     */
    public static ServerProcess start(Path config, Path logDir, int number) throws IOException {
        return start(logDir, number, "--config", config.toString());
    }

    /**
     * Starts {@code sluice server ARGS --port 0} and waits until it serves.
     *
     * @param number which start this is, naming its log file
     */
    public static ServerProcess start(Path logDir, int number, String... serverArgs) throws IOException {
        Path log = logDir.resolve("server-" + number + ".log");
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "io.sluice.server.Main",
                "server"));
        command.addAll(java.util.List.of(serverArgs));
        command.addAll(java.util.List.of("--port", "0"));
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        int port = await("the server in " + log + " serving")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(20))
                .until(
                        () -> {
                            if (!p.isAlive()) {
                                throw new AssertionError("the server stopped: " + Files.readString(log));
                            }
                            Matcher m = SERVING.matcher(Files.readString(log, StandardCharsets.UTF_8));
                            return m.find() ? Integer.parseInt(m.group(1)) : 0;
                        },
                        found -> found > 0);
        return new ServerProcess(p, port);
    }

    /** The process itself. */
    public Process process() {
        return process;
    }

    /** The HTTP port it serves on. */
    public int port() {
        return port;
    }

    /** Its base URL. */
    public String url() {
        return "http://127.0.0.1:" + port;
    }

    /** SIGKILL, and waits for it to be gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
