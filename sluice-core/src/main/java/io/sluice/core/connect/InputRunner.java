package io.sluice.core.connect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.api.Json;
import io.sluice.api.component.Source;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.InvalidBatchException;
import io.sluice.core.route.QueryEdits;
import io.sluice.core.route.Router;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one input: reads its {@link Source}, turns what arrives into events appended to the log
 * (or into changes of the standing queries), and settles each message only after the outcome
 * is durable. Reconnects with backoff, rejects malformed messages for good, and counts all of
 * it under the same metric names for every source ({@code sluice.input.*}, tagged with the
 * input).
 *
 * <pre>
 *   Source.poll ─► decode (JSON object, size) ─► malformed: Source.reject, counted, logged
 *       ─► EventLog.append (one batch, durable) ─► Source.ack (the whole batch)
 *       ─► or, for messages: queries, Router.apply (one change each) ─► Source.ack
 * </pre>
 *
 * <h2>Implementation notes</h2>
 *
 * <p>Appends are pipelined: up to {@value #MAX_IN_FLIGHT} batches wait for their commit while
 * the next ones are read, and batches are acknowledged in the order they were read, each once
 * its append is durable.
 *
 * <p>A message is acknowledged only after the append that holds it returned: a crash before
 * that leaves it unacknowledged, so the broker delivers it again, and the log drops the copy
 * by its event id (an event without an id gets one from the log, so only events with ids are
 * de-duplicated on redelivery). When the store fails, nothing is acknowledged: the source is
 * closed and opened again after a backoff, and the broker redelivers.
 */
public final class InputRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(InputRunner.class);
    private static final int BATCH = 1_024;

    /** Appends awaiting their durable commit at once: the broker keeps delivering meanwhile. */
    private static final int MAX_IN_FLIGHT = 8;

    /** An append on its way to the store, and the messages it holds. */
    private record Appending(java.util.concurrent.CompletableFuture<?> result, List<Source.Received> messages) {}

    private final java.util.ArrayDeque<Appending> inFlight = new java.util.ArrayDeque<>(); // oldest first
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    /**
     * Checks, and may complete, each event of an input before it is appended (EventReactor's
     * envelope rules, for instance). It may only add fields.
     */
    public interface Preparer {
        /**
         * @return null to append the document (as completed), {@link #SKIP} to acknowledge the
         *     message without appending anything, else why it is rejected
         */
        String prepare(ObjectNode document);

        /** Whether it may rewrite documents entirely (then they are stored as it leaves them, not as sent). */
        default boolean rewrites() {
            return false;
        }

        /** What {@link #prepare} returns for a message that is not an event to keep (compared by identity). */
        String SKIP = new String("skipped");

        /** Takes events as they are. */
        Preparer NONE = document -> null;
    }

    /** What an input's messages hold. */
    public enum Messages {
        EVENTS,
        QUERIES
    }

    private final String name;
    private final Source source;
    private final Messages messages;
    private final EventLog log;
    private final Router router;
    private final long maxEventBytes;
    private final Preparer preparer;
    private final Counter received;
    private final Counter rejected;
    private final Counter dropped;
    private final Counter failures;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean connected;

    /**
     * @param name the input's name, such as {@code inputs[0]}, for logs and metrics
     * @param router where query documents go (for {@link Messages#QUERIES})
     */
    public InputRunner(
            String name,
            Source source,
            Messages messages,
            EventLog log,
            Router router,
            long maxEventBytes,
            MeterRegistry meters) {
        this(name, source, messages, log, router, maxEventBytes, meters, Preparer.NONE);
    }

    /** As above, with a preparer run on each event before it is appended. */
    public InputRunner(
            String name,
            Source source,
            Messages messages,
            EventLog log,
            Router router,
            long maxEventBytes,
            MeterRegistry meters,
            Preparer preparer) {
        this.preparer = preparer;
        this.name = name;
        this.source = source;
        this.messages = messages;
        this.log = log;
        this.router = router;
        this.maxEventBytes = maxEventBytes;
        this.received = Counter.builder("sluice.input.received")
                .description("Messages an input received")
                .tag("input", name)
                .register(meters);
        this.dropped = Counter.builder("sluice.input.dropped")
                .description(
                        "Messages an input acknowledged without storing them (notifications no distill definition covers)")
                .tag("input", name)
                .register(meters);
        this.rejected = Counter.builder("sluice.input.rejected")
                .description("Malformed messages an input rejected (not JSON, not an object, too large, invalid)")
                .tag("input", name)
                .register(meters);
        this.failures = Counter.builder("sluice.input.failures")
                .description("Connections of an input that failed (it reconnects with backoff)")
                .tag("input", name)
                .register(meters);
        this.thread = Thread.ofPlatform().daemon().name("sluice-input-" + name).unstarted(this::run);
    }

    public void start() {
        thread.start();
    }

    /** Whether the source is connected now. */
    public boolean connected() {
        return connected;
    }

    private void run() {
        int failuresInARow = 0;
        while (running) {
            try {
                source.open();
                connected = true;
                if (failuresInARow > 0) {
                    LOG.info("input {}: connected again", name);
                }
                failuresInARow = 0;
                inFlight.clear(); // what a failed connection had in flight comes again
                while (running && !source.finished()) {
                    List<Source.Received> batch = source.poll(BATCH, inFlight.isEmpty() ? POLL : Duration.ZERO);
                    if (!batch.isEmpty()) {
                        received.increment(batch.size());
                        if (messages == Messages.EVENTS) {
                            events(batch);
                        } else {
                            queries(batch);
                        }
                    }
                    settle(batch.isEmpty() || inFlight.size() >= MAX_IN_FLIGHT);
                }
                settle(true);
                if (source.finished()) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                connected = false;
                failures.increment();
                failuresInARow++;
                long wait = Math.min(MAX_BACKOFF.toMillis(), 200L << Math.min(failuresInARow - 1, 10));
                if (failuresInARow == 1 || failuresInARow % 10 == 0) {
                    LOG.warn("input {}: {}; reconnecting in {} ms", name, describe(e), wait);
                }
                source.close();
                try {
                    Thread.sleep(wait);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    private void events(List<Source.Received> batch) throws Exception {
        List<JsonNode> docs = new ArrayList<>();
        List<ByteBuffer> texts = new ArrayList<>();
        List<Source.Received> kept = new ArrayList<>();
        List<Source.Received> skipped = new ArrayList<>();
        for (Source.Received r : batch) {
            String problem = source.problem(r);
            JsonNode doc = null;
            boolean changed = false;
            if (problem != null) {
                // refused by the source itself (several frames, too large)
            } else if (maxEventBytes > 0 && r.body().length > maxEventBytes) {
                problem = "the body is " + r.body().length + " bytes; the limit is " + maxEventBytes;
            } else {
                try {
                    doc = Json.parse(new String(r.body(), StandardCharsets.UTF_8));
                    if (!doc.isObject()) {
                        problem = "an event must be a JSON object, not "
                                + doc.getNodeType().name().toLowerCase();
                    } else {
                        int fields = doc.size();
                        problem = preparer.prepare((ObjectNode) doc);
                        changed = preparer.rewrites() || doc.size() != fields;
                    }
                } catch (IllegalArgumentException e) {
                    problem = e.getMessage();
                }
            }
            if (problem == Preparer.SKIP) {
                skipped.add(r);
                dropped.increment();
                continue;
            }
            if (problem != null) {
                reject(r, problem);
                continue;
            }
            docs.add(doc);
            texts.add(changed ? null : ByteBuffer.wrap(r.body())); // completed: stored as written by the log
            kept.add(r);
        }
        while (!docs.isEmpty()) {
            try {
                inFlight.add(new Appending(log.append(docs, texts), kept));
                return;
            } catch (InvalidBatchException e) {
                // One event the log refuses (a bad envelope field): reject it, append the rest.
                reject(kept.remove(e.index()), e.getMessage().replaceFirst("^event \\d+: ", ""));
                docs.remove(e.index());
                texts.remove(e.index());
            }
        }
        if (!kept.isEmpty()) {
            inFlight.add(new Appending(java.util.concurrent.CompletableFuture.completedFuture(null), kept));
        }
        if (!skipped.isEmpty()) { // acknowledged after what came before them is durable
            inFlight.add(new Appending(java.util.concurrent.CompletableFuture.completedFuture(null), skipped));
        }
    }

    /**
     * Acknowledges the appends that are durable, oldest first; with {@code all}, waits for every
     * one in flight.
     */
    private void settle(boolean all) throws Exception {
        while (!inFlight.isEmpty()) {
            Appending oldest = inFlight.peekFirst();
            if (!all && !oldest.result().isDone() && inFlight.size() < MAX_IN_FLIGHT) {
                return;
            }
            try {
                oldest.result().get(60, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw new IllegalStateException("the log could not store the events: " + describe(e.getCause()), e);
            }
            inFlight.removeFirst();
            source.ack(oldest.messages());
        }
    }

    private void queries(List<Source.Received> batch) throws Exception {
        for (Source.Received r : batch) {
            try {
                JsonNode doc = Json.parse(new String(r.body(), StandardCharsets.UTF_8));
                router.apply(List.of(QueryEdits.edit(doc, "input " + name)));
            } catch (IllegalArgumentException e) {
                reject(r, e.getMessage());
                continue;
            }
            source.ack(List.of(r));
        }
    }

    private void reject(Source.Received r, String reason) throws Exception {
        rejected.increment();
        LOG.warn("input {}: rejected a message: {}", name, reason);
        source.reject(r, reason);
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            thread.interrupt();
        }
        source.close();
    }
}
