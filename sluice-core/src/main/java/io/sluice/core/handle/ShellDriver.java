package io.sluice.core.handle;

import io.sluice.api.handler.Invocation;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * {@code driver: shell}: runs a command for each event, EventReactor's way and safely.
 *
 * <p>The handler string is split into words like a shell would split them ({@link ShellWords})
 * but never given to a shell: the program is started directly with those words plus the event
 * as a JSON string as its last argument, so whatever the event holds — {@code ; rm -rf},
 * {@code $(…)}, backticks, quotes — is only text. The event JSON is also written to stdin, and
 * {@code SLUICE_EVENT_ID}, {@code SLUICE_EVENT_TYPE}, {@code SLUICE_OFFSET},
 * {@code SLUICE_HANDLER} and {@code SLUICE_ATTEMPT} are set in its environment. It runs in the
 * configuration file's directory, where a relative command path is resolved too.
 *
 * <p>Exit code 0 is success (stdout is kept); anything else is failure (the code and stderr are
 * kept). Output beyond {@code maxOutput} bytes is read and dropped, so a chatty command never
 * blocks on a full pipe. When the timeout passes, the whole process tree is killed: the
 * descendants are listed before the command itself is killed, because once it is gone its
 * children are re-parented and can no longer be found through it.
 */
final class ShellDriver implements Driver {
    private static final Duration DRAIN = Duration.ofSeconds(1);

    private final List<String> words;
    private final Path base;
    private final Duration timeout;
    private final int maxOutput;

    private final boolean eventArgument;
    private final Function<Invocation, Map<String, String>> environment;

    ShellDriver(String command, Path base, Duration timeout, long maxOutput) {
        this(command, base, timeout, maxOutput, true, ShellDriver::eventEnvironment);
    }

    /**
     * @param eventArgument whether the event JSON is also the last argument (false for a
     *     pipeline's events, which may be longer than an argument may be)
     * @param environment the variables set for a run
     */
    ShellDriver(
            String command,
            Path base,
            Duration timeout,
            long maxOutput,
            boolean eventArgument,
            Function<Invocation, Map<String, String>> environment) {
        this.eventArgument = eventArgument;
        this.environment = environment;
        List<String> w = new ArrayList<>(ShellWords.split(command));
        String program = w.getFirst();
        if (program.contains("/") && !Path.of(program).isAbsolute() && base != null) {
            w.set(0, base.resolve(program).normalize().toString());
        }
        this.words = List.copyOf(w);
        this.base = base;
        this.timeout = timeout;
        this.maxOutput = (int) Math.min(maxOutput, Integer.MAX_VALUE - 16);
    }

    @Override
    public Outcome run(Invocation inv) throws InterruptedException {
        List<String> argv = new ArrayList<>(words);
        if (eventArgument) {
            argv.add(inv.eventJson());
        }
        ProcessBuilder pb = new ProcessBuilder(argv);
        if (base != null) {
            pb.directory(base.toFile());
        }
        pb.environment().putAll(environment.apply(inv));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new Outcome(Status.FAILED, null, null, "cannot start " + words.getFirst() + ": " + e.getMessage());
        }
        Capture out = new Capture(p.getInputStream(), maxOutput);
        Capture err = new Capture(p.getErrorStream(), maxOutput);
        Thread feeder = Thread.ofVirtual().start(() -> feed(p.getOutputStream(), inv.eventJson()));
        boolean exited;
        try {
            exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            killTree(p);
            throw e;
        }
        if (!exited) {
            killTree(p);
            p.waitFor(DRAIN.toMillis(), TimeUnit.MILLISECONDS);
        }
        out.finish();
        err.finish();
        feeder.interrupt();
        if (!exited) {
            return new Outcome(
                    Status.TIMEOUT,
                    null,
                    out.text(),
                    "killed after " + timeout.toMillis() + " ms"
                            + (err.text().isEmpty() ? "" : "; stderr: " + err.text()));
        }
        int code = p.exitValue();
        return new Outcome(code == 0 ? Status.OK : Status.FAILED, code, out.text(), err.text());
    }

    /** A handler run's variables: the event's id, type and offset, the handler, the attempt. */
    static Map<String, String> eventEnvironment(Invocation inv) {
        return Map.of(
                "SLUICE_EVENT_ID", inv.eventId(),
                "SLUICE_EVENT_TYPE", inv.eventType() == null ? "" : inv.eventType(),
                "SLUICE_OFFSET", Long.toString(inv.offset()),
                "SLUICE_HANDLER", inv.handler(),
                "SLUICE_ATTEMPT", Integer.toString(inv.attempt()));
    }

    /** Kills the command and every process it started, children first listed, then killed. */
    static void killTree(Process p) {
        List<ProcessHandle> tree = p.descendants().toList();
        p.destroyForcibly();
        tree.forEach(ProcessHandle::destroyForcibly);
        // A child may have forked between the listing and the kill: look once more.
        tree.forEach(h -> h.descendants().forEach(ProcessHandle::destroyForcibly));
    }

    private static void feed(OutputStream stdin, String json) {
        try (stdin) {
            stdin.write(json.getBytes(StandardCharsets.UTF_8));
        } catch (IOException ignored) {
            // the command does not read its stdin, or exited first: the argument has the event too
        }
    }

    /** Reads a stream to its end on a virtual thread, keeping the first {@code max} bytes. */
    private static final class Capture {
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private final InputStream in;
        private final int max;
        private final Thread thread;
        private long dropped;

        Capture(InputStream in, int max) {
            this.in = in;
            this.max = max;
            this.thread = Thread.ofVirtual().start(this::read);
        }

        private void read() {
            byte[] buf = new byte[8_192];
            try {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    synchronized (this) {
                        int room = max - kept.size();
                        if (room > 0) {
                            kept.write(buf, 0, Math.min(room, n));
                        }
                        dropped += Math.max(0, n - Math.max(room, 0));
                    }
                }
            } catch (IOException ignored) {
                // closed by finish(): a background child still holds the pipe
            }
        }

        /** Waits briefly for the end of the stream; a descendant that keeps it open is not waited for. */
        void finish() throws InterruptedException {
            thread.join(DRAIN);
            if (thread.isAlive()) {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // nothing more to read either way
                }
                thread.join(DRAIN);
            }
        }

        synchronized String text() {
            String s = kept.toString(StandardCharsets.UTF_8);
            return dropped > 0 ? s + "… [" + dropped + " more bytes not kept]" : s;
        }
    }
}
