package io.sluice.core.route;

import io.sluice.api.component.Message;
import io.sluice.core.deliver.DeadLetters;
import io.sluice.core.deliver.Deliverer;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.LiveEvents;
import io.sluice.core.log.LogCursor;
import io.sluice.core.log.OffsetOutOfRangeException;
import io.sluice.core.log.ReaderLease;
import io.sluice.core.log.SqlStoreQueries;
import io.sluice.core.log.StoredEvent;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One output's reader: follows the log from its checkpoint, matches each event against the
 * standing queries that route to this output, and delivers the matches in log order through
 * its {@link Deliverer}; then saves its checkpoint with the queries' counters in one
 * transaction. The route with no output only counts the matches of queries that go nowhere.
 *
 * <pre>
 *   LogCursor (store, then live) ─► batch ─► QueryBook.match (read lock) ─► messages
 *        ─► Deliverer (retries, dead letters) ─► checkpoint + counters (one transaction)
 * </pre>
 */
final class Route implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Route.class);
    private static final int BATCH = 8_192; // events matched, and their matches delivered, per round at most
    private static final int LINGER_ENOUGH = 256; // a round with this many events does not linger
    private final long lingerNanos;
    private static final Duration CHECKPOINT_EVERY = Duration.ofMillis(100);

    /** A dead letter's replay, run on the route's thread between batches. */
    record Replay(DeadLetters.DeadLetter letter, CompletableFuture<String> result) {}

    private final String output; // null: the route of queries with no output
    private final String reader;
    private final Deliverer deliverer; // null for the route with no output
    private final QueryBook book;
    private final Router.Counters counters;
    private final EventStore store;
    private final LiveEvents live;
    private final DeadLetters deadLetters;
    private final Clock clock;
    private final ConcurrentLinkedQueue<Replay> replays = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long position;
    private volatile long checkpointed;
    private final ReaderLease lease;

    private long lastSave;

    Route(
            String output,
            Deliverer deliverer,
            QueryBook book,
            Router.Counters counters,
            EventStore store,
            LiveEvents live,
            DeadLetters deadLetters,
            Clock clock,
            Duration linger) {
        this.output = output;
        this.lingerNanos = linger.toNanos();
        this.reader = readerName(output);
        this.deliverer = deliverer;
        this.book = book;
        this.counters = counters;
        this.store = store;
        this.live = live;
        this.deadLetters = deadLetters;
        this.clock = clock;
        // A new route starts at the head: it delivers what is matched from now on.
        this.position = store.checkpoint(reader)
                .map(EventStore.Checkpoint::offset)
                .orElseGet(() -> {
                    long head = store.lastOffset();
                    store.saveCheckpoint(reader, new EventStore.Checkpoint(head, null));
                    return head;
                });
        this.checkpointed = position;
        this.lease = new ReaderLease(store, reader, clock, ReaderLease.TERM);
        this.thread = Thread.ofPlatform()
                .daemon()
                .name("sluice-route-" + (output == null ? "-" : output))
                .unstarted(this::run);
    }

    /** The checkpoint name of the route of {@code output}: {@code output:NAME}, or {@code queries} for none. */
    static String readerName(String output) {
        return output == null ? "queries" : "output:" + output;
    }

    void start() {
        thread.start();
    }

    String output() {
        return output;
    }

    String reader() {
        return reader;
    }

    /** The offset of the last event matched and delivered. */
    long position() {
        return position;
    }

    /** The durable checkpoint. */
    long checkpointed() {
        return checkpointed;
    }

    Deliverer deliverer() {
        return deliverer;
    }

    /** Replays a dead letter through this route's sink, on its thread; completes with null or the error. */
    CompletableFuture<String> replay(DeadLetters.DeadLetter letter) {
        CompletableFuture<String> result = new CompletableFuture<>();
        if (deliverer == null) {
            result.complete("no output to deliver to");
            return result;
        }
        replays.add(new Replay(letter, result));
        return result;
    }

    private void run() {
        LogCursor cursor = new LogCursor(store, live, position, e -> true, 8_192);
        try {
            while (running) {
                runReplays(); // dead letters replayed through the API, on whichever server was asked
                // With several servers on one database, the one holding the lease routes; what a
                // server standing by would have delivered is the holder's to save.
                ReaderLease.Turn turn = lease.turn();
                if (turn == ReaderLease.Turn.STAND_BY) {
                    continue;
                }
                if (turn == ReaderLease.Turn.TOOK_OVER) {
                    resumeFromCheckpoint(cursor); // another server may have routed meanwhile
                }
                StoredEvent first;
                try {
                    first = cursor.next(Duration.ofMillis(100));
                } catch (OffsetOutOfRangeException e) {
                    long gapEnd = cursor.skipToRetained();
                    LOG.warn(
                            "{}: events {} to {} were deleted by retention before they were routed",
                            reader,
                            position + 1,
                            gapEnd);
                    position = gapEnd;
                    continue;
                }
                if (first == null) {
                    saveIfDue(true);
                    continue;
                }
                List<StoredEvent> batch = new ArrayList<>();
                batch.add(first);
                StoredEvent e;
                while (batch.size() < BATCH && (e = cursor.next(Duration.ZERO)) != null) {
                    batch.add(e);
                }
                linger(cursor, batch);
                List<Message> messages = match(batch);
                if (deliverer != null && !messages.isEmpty()) {
                    if (!deliverer.deliver(messages, () -> running)) {
                        return; // stopping: what was not delivered is after the checkpoint
                    }
                }
                position = batch.getLast().offset();
                saveIfDue(false);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error(
                    "{}: stopped by an unexpected failure; restart the server to resume from offset {}",
                    reader,
                    checkpointed,
                    e);
        } finally {
            cursor.close();
            try {
                if (lease.leading()) {
                    saveIfDue(true); // what was delivered before stopping is done
                }
            } catch (RuntimeException e) {
                LOG.warn("{}: could not save the checkpoint on stopping: {}", reader, e.getMessage());
            }
            lease.release();
        }
    }

    /**
     * When few events have come, waits up to the output's {@code linger} for more: a steady
     * trickle then makes one fuller send per round instead of a send, and a confirm, per event
     * or two (with RabbitMQ's confirms of persistent messages, 2,000 events/s routed two at a
     * time could not keep up; five milliseconds of waiting made it).
     */
    private void linger(LogCursor cursor, List<StoredEvent> batch) throws InterruptedException {
        if (lingerNanos == 0 || batch.size() >= LINGER_ENOUGH) {
            return;
        }
        long end = System.nanoTime() + lingerNanos;
        long left;
        StoredEvent e;
        try {
            while (batch.size() < LINGER_ENOUGH
                    && (left = end - System.nanoTime()) > 0
                    && (e = cursor.next(Duration.ofNanos(left))) != null) {
                batch.add(e);
            }
        } catch (OffsetOutOfRangeException gap) {
            // retention passed the cursor: the next round reports and skips the gap
        }
    }

    /** Whether this server routes the output now (on a shared store, the one holding its lease). */
    boolean leading() {
        return lease.leading();
    }

    /** Goes on from the shared checkpoint, where the server that held the lease left it. */
    private void resumeFromCheckpoint(LogCursor cursor) {
        long at = store.checkpoint(reader).map(EventStore.Checkpoint::offset).orElse(position);
        if (at != position) {
            position = at;
            checkpointed = at;
            cursor.seek(at);
        }
    }

    private List<Message> match(List<StoredEvent> batch) {
        book.sync(); // with several servers: their changes of the queries, before these events
        List<Message> messages = new ArrayList<>();
        if (!book.routesTo(output)) {
            return messages;
        }
        long now = clock.millis();
        book.matching(() -> {
            for (StoredEvent e : batch) {
                book.match(e.document(), e.offset(), v -> {
                    if (!Objects.equals(v.output, output)) {
                        return;
                    }
                    QueryCounts c = counters.of(v.query.name());
                    c.matches.incrementAndGet();
                    c.lastMatch.set(now);
                    c.dirty = true;
                    if (deliverer != null) {
                        c.pending.incrementAndGet();
                        messages.add(new Message(
                                e.offset(), e.id(), e.json(), v.query.name(), v.query.key(), v.query.exchange()));
                    }
                });
            }
        });
        return messages;
    }

    private void runReplays() {
        Replay r;
        while ((r = replays.poll()) != null) {
            DeadLetters.DeadLetter letter = r.letter();
            String error = deliverer.tryOnce(letter.message());
            if (error == null) {
                deadLetters.delete(letter.id());
                QueryCounts c = counters.of(letter.message().source());
                c.deadLettered.updateAndGet(n -> Math.max(0, n - 1));
                c.dirty = true;
            } else {
                deadLetters.failedAgain(letter.id(), error);
            }
            r.result().complete(error);
        }
    }

    private void saveIfDue(boolean idle) {
        long now = System.nanoTime();
        long target = book.safeCheckpoint(position);
        if (target == checkpointed && !counters.dirty()) {
            return;
        }
        if (!idle && now - lastSave < CHECKPOINT_EVERY.toNanos()) {
            return;
        }
        lastSave = now;
        List<QueryTables.StatsRow> rows = counters.takeDirty();
        store.transaction("saving the checkpoint of " + reader, c -> {
            SqlStoreQueries.saveCheckpoint(c, reader, new EventStore.Checkpoint(target, null), clock.millis());
            QueryTables.saveStats(c, rows);
            return null;
        });
        checkpointed = target;
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (deliverer != null) {
            deliverer.close();
        }
        Replay r;
        while ((r = replays.poll()) != null) {
            r.result().complete("the server is stopping");
        }
    }
}
