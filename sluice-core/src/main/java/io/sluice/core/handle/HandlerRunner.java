package io.sluice.core.handle;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sluice.api.Json;
import io.sluice.api.component.Message;
import io.sluice.api.handler.Invocation;
import io.sluice.core.deliver.DeadLetters;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.LiveEvents;
import io.sluice.core.log.LogCursor;
import io.sluice.core.log.OffsetOutOfRangeException;
import io.sluice.core.log.ReaderLease;
import io.sluice.core.log.StoredEvent;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One handler's reader: follows the log from the handler's checkpoint ({@code handler:NAME}),
 * selects the events it is defined for, runs the driver for each — retrying failures with
 * backoff, parking the last failure as a dead letter — records every run, and saves the
 * checkpoint. Each handler has its own thread, slots and checkpoint, so a slow or failing
 * handler delays no other.
 *
 * <pre>
 *   LogCursor ─► selector (type pattern, filter) ─► slot (concurrency) ─► attempts ─► driver
 *        ─► run recorded ─► done: checkpoint moves past every offset below the oldest run in flight
 * </pre>
 *
 * <h2>Implementation notes</h2>
 *
 * <p>With concurrency 1 (always when {@code exclusive}) the runs happen on the reader's thread,
 * one after the other in log order, and a retried event holds up the events after it: that is
 * what exclusive means. With more, each run gets a virtual thread once one of
 * {@code concurrency} permits is free; the offsets of the runs in flight are kept in a sorted
 * set, and the checkpoint saved is the smaller of the reader's position and the oldest offset in
 * flight minus one. So a crash repeats at most the runs that were not finished (at least once),
 * and skips none. A run abandoned because the server stops is not finished either.
 */
final class HandlerRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HandlerRunner.class);
    private static final Duration CHECKPOINT_EVERY = Duration.ofMillis(100);

    private final HandlerDefinition definition;
    private final Driver driver;
    private final HandlerDefinition.Selector selector;
    private final String reader;
    private final EventStore store;
    private final LiveEvents live;
    private final DeadLetters deadLetters;
    private final RunLog runs;
    private final Clock clock;
    private final Semaphore slots;
    private final ExecutorService workers; // null with concurrency 1
    private final ConcurrentSkipListSet<Long> inFlight = new ConcurrentSkipListSet<>();
    private final Thread thread;
    private final Counter ok;
    private final Counter failed;
    private final Counter parked;
    private final Timer durations;
    private final List<io.micrometer.core.instrument.Meter> meters = new ArrayList<>();
    private final MeterRegistry registry;
    private final AtomicLong runCount = new AtomicLong();
    private final AtomicLong failureCount = new AtomicLong();
    private final AtomicLong parkedCount = new AtomicLong();
    private volatile long lastRunMillis;
    private volatile String lastError;
    private volatile boolean running = true;
    private volatile long position;
    private volatile long checkpointed;
    private final ReaderLease lease;

    private long lastSave;

    HandlerRunner(
            HandlerDefinition definition,
            Driver driver,
            EventStore store,
            LiveEvents live,
            DeadLetters deadLetters,
            RunLog runs,
            Clock clock,
            MeterRegistry registry) {
        this.definition = definition;
        this.driver = driver;
        this.selector = definition.selector();
        this.reader = readerName(definition.name());
        this.store = store;
        this.live = live;
        this.deadLetters = deadLetters;
        this.runs = runs;
        this.clock = clock;
        this.registry = registry;
        this.slots = new Semaphore(definition.concurrency());
        this.workers = definition.concurrency() > 1
                ? Executors.newThreadPerTaskExecutor(Thread.ofVirtual()
                        .name("sluice-handler-" + definition.name() + "-", 0)
                        .factory())
                : null;
        this.position = store.checkpoint(reader)
                .map(EventStore.Checkpoint::offset)
                .orElseGet(() -> {
                    long at = definition.start().equals("earliest") ? store.firstOffset() - 1 : store.lastOffset();
                    at = Math.max(at, 0);
                    store.saveCheckpoint(reader, new EventStore.Checkpoint(at, null));
                    return at;
                });
        this.checkpointed = position;
        this.lease = new ReaderLease(store, reader, clock, ReaderLease.TERM);
        String name = definition.name();
        this.ok = register(Counter.builder("sluice.handler.runs")
                .description("Handler runs, by outcome")
                .tag("handler", name)
                .tag("status", "ok")
                .register(registry));
        this.failed = register(Counter.builder("sluice.handler.runs")
                .description("Handler runs, by outcome")
                .tag("handler", name)
                .tag("status", "failed")
                .register(registry));
        this.parked = register(Counter.builder("sluice.handler.dead_lettered")
                .description("Events parked as dead letters after a handler's last attempt")
                .tag("handler", name)
                .register(registry));
        this.durations = register(Timer.builder("sluice.handler.run")
                .description("How long one handler run takes")
                .tag("handler", name)
                .register(registry));
        register(Gauge.builder("sluice.handler.lag", this, HandlerRunner::lag)
                .description("Events in the log after the handler's checkpoint")
                .tag("handler", name)
                .register(registry));
        this.thread =
                Thread.ofPlatform().daemon().name("sluice-handler-" + name).unstarted(this::run);
    }

    private <M extends io.micrometer.core.instrument.Meter> M register(M meter) {
        meters.add(meter);
        return meter;
    }

    /** The checkpoint name of a handler: {@code handler:NAME}. */
    static String readerName(String handler) {
        return "handler:" + handler;
    }

    void start() {
        thread.start();
    }

    HandlerDefinition definition() {
        return definition;
    }

    String reader() {
        return reader;
    }

    long runs() {
        return runCount.get();
    }

    long failures() {
        return failureCount.get();
    }

    long deadLettered() {
        return parkedCount.get();
    }

    long lastRunMillis() {
        return lastRunMillis;
    }

    String lastError() {
        return lastError;
    }

    long position() {
        return position;
    }

    long checkpointed() {
        return checkpointed;
    }

    int running() {
        return definition.concurrency() - slots.availablePermits();
    }

    long lag() {
        return Math.max(0, store.lastOffset() - checkpointed);
    }

    private void run() {
        LogCursor cursor = new LogCursor(store, live, position, e -> true, 8_192);
        try {
            while (running) {
                // With several servers on one database, the one holding the lease runs the
                // handler; what a server standing by would have run is the holder's to save.
                ReaderLease.Turn turn = lease.turn();
                if (turn == ReaderLease.Turn.STAND_BY) {
                    continue;
                }
                if (turn == ReaderLease.Turn.TOOK_OVER) {
                    resumeFromCheckpoint(cursor); // another server may have run it meanwhile
                }
                StoredEvent e;
                try {
                    e = cursor.next(Duration.ofMillis(100));
                } catch (OffsetOutOfRangeException ex) {
                    long gapEnd = cursor.skipToRetained();
                    LOG.warn(
                            "{}: events {} to {} were deleted by retention before the handler ran",
                            reader,
                            position + 1,
                            gapEnd);
                    position = gapEnd;
                    continue;
                }
                if (e == null) {
                    saveIfDue(true);
                    continue;
                }
                if (selects(e)) {
                    dispatch(e);
                }
                position = e.offset();
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
        }
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

    private boolean selects(StoredEvent e) {
        if (!selector.needsDocument()) {
            return selector.selects(e.type(), null);
        }
        JsonNode doc;
        try {
            doc = Json.parse(e.json());
        } catch (RuntimeException bad) {
            return false;
        }
        return selector.selects(e.type(), doc);
    }

    private void dispatch(StoredEvent e) throws InterruptedException {
        if (workers == null) {
            inFlight.add(e.offset());
            if (attempt(e)) {
                inFlight.remove(e.offset());
            }
            return;
        }
        slots.acquire();
        inFlight.add(e.offset());
        try {
            workers.execute(() -> {
                try {
                    if (attempt(e)) {
                        inFlight.remove(e.offset());
                    }
                } catch (InterruptedException stopping) {
                    Thread.currentThread().interrupt(); // abandoned: stays in flight, so not checkpointed
                } finally {
                    slots.release();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            slots.release();
        }
    }

    /**
     * Runs the handler for one event until it succeeds or is parked.
     *
     * @return true when done with the event (succeeded or parked); false when stopping first
     */
    private boolean attempt(StoredEvent e) throws InterruptedException {
        Driver.Outcome outcome = null;
        int attempt = 0;
        while (attempt < definition.policy().maxAttempts()) {
            if (!running) {
                return false;
            }
            attempt++;
            outcome = runOnce(e.offset(), e.id(), e.type(), e.json(), attempt);
            if (outcome.ok()) {
                return true;
            }
            if (attempt < definition.policy().maxAttempts()) {
                Thread.sleep(definition.policy().backoff(attempt).toMillis());
            }
        }
        long id = deadLetters.add(
                reader,
                new Message(e.offset(), e.id(), e.json(), definition.name(), null, null),
                attempt,
                outcome.summary());
        parkedCount.incrementAndGet();
        parked.increment();
        LOG.warn(
                "{}: parked event {} as dead letter {} after {} attempts: {}",
                reader,
                e.id(),
                id,
                attempt,
                outcome.summary());
        return true;
    }

    /** One run, measured, counted and recorded. */
    Driver.Outcome runOnce(long offset, String eventId, String type, String json, int attempt)
            throws InterruptedException {
        long started = clock.millis();
        long t0 = System.nanoTime();
        Driver.Outcome outcome = driver.run(new Invocation(definition.name(), offset, eventId, type, json, attempt));
        long nanos = System.nanoTime() - t0;
        durations.record(nanos, TimeUnit.NANOSECONDS);
        runCount.incrementAndGet();
        lastRunMillis = started;
        if (outcome.ok()) {
            ok.increment();
        } else {
            failed.increment();
            failureCount.incrementAndGet();
            lastError = outcome.summary();
        }
        runs.record(
                new RunLog.Run(
                        0,
                        definition.name(),
                        eventId,
                        offset,
                        started,
                        TimeUnit.NANOSECONDS.toMillis(nanos),
                        attempt,
                        outcome.status().name().toLowerCase(java.util.Locale.ROOT),
                        outcome.code(),
                        outcome.output(),
                        outcome.error()),
                definition.history());
        return outcome;
    }

    /**
     * Runs a dead letter once more (a replay); on success it leaves the list.
     *
     * @return null on success, else the failure
     */
    String replay(DeadLetters.DeadLetter letter) throws InterruptedException {
        Message m = letter.message();
        String type = null;
        try {
            JsonNode doc = Json.parse(m.eventJson());
            // The stored type is the envelope's; the run sees what the log would give it.
            type = store.byId(m.eventId()).map(StoredEvent::type).orElse(null);
            if (type == null && doc.path("type").isTextual()) {
                type = doc.path("type").textValue();
            }
        } catch (RuntimeException ignored) {
            // the event as parked is what runs
        }
        Driver.Outcome outcome = runOnce(m.offset(), m.eventId(), type, m.eventJson(), letter.attempts() + 1);
        if (outcome.ok()) {
            deadLetters.delete(letter.id());
            return null;
        }
        deadLetters.failedAgain(letter.id(), outcome.summary());
        return outcome.summary();
    }

    private void saveIfDue(boolean idle) {
        long now = System.nanoTime();
        if (!idle && now - lastSave < CHECKPOINT_EVERY.toNanos()) {
            return;
        }
        long target = safeCheckpoint();
        if (target == checkpointed) {
            return;
        }
        lastSave = now;
        store.saveCheckpoint(reader, new EventStore.Checkpoint(target, null));
        checkpointed = target;
    }

    /** The offset every event at or below which is done: the position, or before the oldest run in flight. */
    private long safeCheckpoint() {
        long at = position;
        Long oldest = inFlight.isEmpty() ? null : inFlight.first();
        return oldest == null ? at : Math.min(at, oldest - 1);
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(10_000);
            if (workers != null) {
                workers.shutdownNow(); // running commands are killed; their events stay unfinished
                workers.awaitTermination(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            long target = safeCheckpoint();
            if (lease.leading() && target != checkpointed) {
                store.saveCheckpoint(reader, new EventStore.Checkpoint(target, null));
                checkpointed = target;
            }
        } catch (RuntimeException e) {
            LOG.warn("{}: could not save the checkpoint on stopping: {}", reader, e.getMessage());
        }
        lease.release();
        driver.close();
        meters.forEach(registry::remove);
    }
}
