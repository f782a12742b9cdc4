package io.sluice.core.consume;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.OffsetOutOfRangeException;
import io.sluice.core.log.StoredEvent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named consumers with durable, shared progress.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>Each consumer keeps: its <em>checkpoint</em> (every offset up to it is done), saved in
 * the store with its definition whenever it advances; its <em>scan position</em> (how far it
 * has looked for new events); <em>leases</em> of delivered, unacknowledged events with their
 * expiry; and the <em>done</em> offsets above the checkpoint (acknowledged, or skipped by the
 * filter) as ranges. A call to {@link #next} first re-delivers expired leases, then leases new
 * matching events after the scan position; so several processes sharing a name get disjoint
 * events, and an event whose receiver died is delivered again when its lease runs out. After a
 * restart, everything after the checkpoint is delivered again: at-least-once, never lost
 * (unless retention deletes events before a consumer reads them; those are counted as missed).
 *
 * <p>Each consumer's state is guarded by its own monitor; waiting for new events happens
 * outside it, on a condition signalled after every commit.
 *
 * <p>That is a {@code LocalConsumer}. When the store is shared by several servers
 * ({@link SharedConsumerProgress}), consumers are {@code StoredConsumer}s instead: the scan
 * position, the leases and the checkpoint live in the store and every call goes there, so one
 * consumer name is shared across servers exactly as across the processes of one server.
 */
public final class Consumers implements EventLog.Subscriber {
    private static final Logger LOG = LoggerFactory.getLogger(Consumers.class);

    /** Prefix of consumers' names among the store's checkpoints. */
    public static final String PREFIX = "consumer:";

    private final EventStore store;
    private final SharedConsumerProgress shared; // null: progress is kept here
    private final Clock clock;
    private final Map<String, Consumer> consumers = new ConcurrentHashMap<>();
    private final ReentrantLock signal = new ReentrantLock();
    private final Condition committed = signal.newCondition();
    private final java.util.concurrent.atomic.AtomicInteger waiting = new java.util.concurrent.atomic.AtomicInteger();

    public Consumers(EventStore store, Clock clock) {
        this.store = store;
        this.shared = store instanceof SharedConsumerProgress p ? p : null;
        this.clock = clock;
    }

    /** Where a new consumer starts. */
    public sealed interface Start {
        /** The earliest retained event (the default, like PyMonster: a new consumer sees all history). */
        record Earliest() implements Start {}

        /** Only events appended from now on. */
        record Latest() implements Start {}

        /** Events after this offset. */
        record After(long offset) implements Start {}

        /** Events ingested at or after this time. */
        record Since(Instant time) implements Start {}

        /** Parses {@code earliest}, {@code latest}, an offset, or an ISO-8601 time. */
        static Start parse(String text) {
            String t = text.strip();
            return switch (t) {
                case "earliest" -> new Earliest();
                case "latest" -> new Latest();
                default -> {
                    if (t.matches("\\d+")) {
                        yield new After(Long.parseLong(t));
                    }
                    try {
                        yield new Since(io.sluice.api.Envelope.parseTime(t));
                    } catch (java.time.format.DateTimeParseException e) {
                        throw new IllegalArgumentException(
                                "a start must be earliest, latest, an offset or an ISO-8601 time, not '" + text + "'");
                    }
                }
            };
        }
    }

    /** Parses a start position; see {@link Start#parse}. */
    public static Start start(String text) {
        return Start.parse(text);
    }

    /**
     * An event handed to a consumer.
     *
     * @param event the event
     * @param deliveries how many times it has been delivered to this consumer (1 the first time)
     */
    public record Delivery(StoredEvent event, int deliveries) {}

    /**
     * A consumer's progress.
     *
     * @param name the consumer's name
     * @param position its checkpoint: every event up to this offset is done
     * @param lag events in the log after the position
     * @param inFlight events delivered and not yet acknowledged
     * @param missed events retention deleted before the consumer read them
     * @param spec what it receives
     */
    public record Status(String name, long position, long lag, int inFlight, long missed, ConsumerSpec spec) {
        public ObjectNode toJson() {
            ObjectNode o = Json.object();
            o.put("name", name);
            o.put("position", position);
            o.put("lag", lag);
            o.put("in_flight", inFlight);
            o.put("missed", missed);
            o.setAll(spec.toJson());
            return o;
        }
    }

    /** No consumer of that name. */
    public static final class NoSuchConsumerException extends IllegalArgumentException {
        public NoSuchConsumerException(String name) {
            super("no consumer named '" + name + "'");
        }
    }

    /** A request that contradicts the consumer's definition. */
    public static final class ConflictException extends IllegalStateException {
        public ConflictException(String message) {
            super(message);
        }
    }

    /**
     * Leases up to {@code max} events to the caller, creating the consumer on first use.
     * Waits up to {@code wait} when none is ready.
     *
     * @param start where a new consumer starts (ignored for an existing one)
     * @param spec what a new consumer receives (an existing one must have been created with the same)
     * @param lease how long the caller has to acknowledge before the events are delivered again
     */
    public List<Delivery> next(String name, Start start, ConsumerSpec spec, int max, Duration wait, Duration lease)
            throws InterruptedException {
        Consumer c = open(name, start, spec);
        long deadline = System.nanoTime() + wait.toNanos();
        boolean reopened = false;
        while (true) {
            long seen = commitsSeen();
            List<Delivery> out;
            try {
                out = c.take(max, lease);
            } catch (NoSuchConsumerException deletedElsewhere) { // by another server sharing the store
                consumers.remove(name, c);
                if (reopened) {
                    throw deletedElsewhere; // deleted again at once: report it rather than loop
                }
                reopened = true;
                c = open(name, start, spec);
                continue;
            }
            long left = deadline - System.nanoTime();
            if (!out.isEmpty() || left <= 0) {
                return out;
            }
            long untilExpiry = c.nanosToNextExpiry();
            awaitCommitAfter(seen, Math.min(left, untilExpiry));
        }
    }

    /** Acknowledges events; returns how many were in flight for this consumer. */
    public int ack(String name, Collection<Long> offsets) {
        Consumer c = existing(name);
        return forgetIfDeleted(c, () -> c.ack(offsets));
    }

    /** Moves a consumer (skipping or replaying the backlog); forgets what was in flight. */
    public Status seek(String name, Start to) {
        Consumer c = existing(name);
        return forgetIfDeleted(c, () -> {
            c.seek(resolve(to));
            return c.status();
        });
    }

    /** A consumer's progress. */
    public Status status(String name) {
        Consumer c = existing(name);
        return forgetIfDeleted(c, c::status);
    }

    /** Runs a call on a known consumer, forgetting it if another server deleted it meanwhile. */
    private <T> T forgetIfDeleted(Consumer c, java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (NoSuchConsumerException deletedElsewhere) {
            consumers.remove(c.name, c);
            throw deletedElsewhere;
        }
    }

    /** All consumers, by name. */
    public List<Status> list() {
        java.util.Set<String> stored = new java.util.HashSet<>();
        for (EventStore.NamedCheckpoint cp : store.checkpoints()) {
            if (cp.reader().startsWith(PREFIX)) {
                stored.add(cp.reader().substring(PREFIX.length()));
                existingOrNull(cp.reader().substring(PREFIX.length()));
            }
        }
        if (shared != null) {
            consumers.keySet().retainAll(stored); // deleted by another server sharing the store
        }
        return consumers.values().stream()
                .map(Consumer::status)
                .sorted(java.util.Comparator.comparing(Status::name))
                .toList();
    }

    /** Deletes a consumer and its progress; returns whether it existed. */
    public boolean delete(String name) {
        Consumer c = existingOrNull(name);
        consumers.remove(name);
        if (shared != null) {
            shared.forget(PREFIX + name);
        }
        boolean stored = store.deleteCheckpoint(PREFIX + name);
        return c != null || stored;
    }

    @Override
    public void committed(List<StoredEvent> batch) {
        signal.lock();
        try {
            commits++;
            committed.signalAll();
        } finally {
            signal.unlock();
        }
    }

    private long commits;

    private long commitsSeen() {
        signal.lock();
        try {
            return commits;
        } finally {
            signal.unlock();
        }
    }

    /** How many {@link #next} calls are waiting for new events now (long polls), for metrics. */
    public int waiting() {
        return waiting.get();
    }

    private void awaitCommitAfter(long seen, long nanos) throws InterruptedException {
        signal.lock();
        waiting.incrementAndGet();
        try {
            long left = nanos;
            while (commits == seen && left > 0) {
                left = committed.awaitNanos(left);
            }
        } finally {
            waiting.decrementAndGet();
            signal.unlock();
        }
    }

    private Consumer open(String name, Start start, ConsumerSpec spec) {
        validName(name);
        Consumer c = existingOrNull(name);
        if (c == null) {
            c = consumers.computeIfAbsent(name, n -> {
                long at = resolve(start);
                saveCheckpoint(n, spec, at, 0);
                LOG.info("consumer {} created at offset {}", n, at);
                return consumer(n, spec, at, 0);
            });
        }
        if (!c.spec.equals(spec) && !spec.equals(ConsumerSpec.ALL)) {
            throw new ConflictException("consumer '" + name + "' exists with " + c.spec.toJson()
                    + "; delete it to change what it receives");
        }
        return c;
    }

    private Consumer existing(String name) {
        Consumer c = existingOrNull(name);
        if (c == null) {
            throw new NoSuchConsumerException(name);
        }
        return c;
    }

    private Consumer existingOrNull(String name) {
        Consumer c = consumers.get(name);
        if (c != null) {
            return c;
        }
        return store.checkpoint(PREFIX + name)
                .map(cp -> consumers.computeIfAbsent(name, n -> {
                    JsonNode state = cp.state() == null ? Json.object() : Json.parse(cp.state());
                    return consumer(
                            n,
                            ConsumerSpec.fromJson(state.path("spec")),
                            cp.offset(),
                            state.path("missed").asLong());
                }))
                .orElse(null);
    }

    private long resolve(Start start) {
        return switch (start) {
            case Start.Earliest e -> store.firstOffset() - 1;
            case Start.Latest l -> store.lastOffset();
            case Start.After a -> a.offset();
            case Start.Since s -> store.lastOffsetIngestedBefore(s.time().toEpochMilli());
        };
    }

    private static void validName(String name) {
        if (name == null || name.isBlank() || name.length() > 200) {
            throw new IllegalArgumentException("a consumer name must be 1 to 200 characters");
        }
    }

    /** A consumer whose progress is kept here, or in the shared store when there is one. */
    private Consumer consumer(String name, ConsumerSpec spec, long checkpoint, long missed) {
        return shared != null ? new StoredConsumer(name, spec) : new LocalConsumer(name, spec, checkpoint, missed);
    }

    /** Saves a consumer's checkpoint with its definition (what it receives) and missed count. */
    private void saveCheckpoint(String name, ConsumerSpec spec, long checkpoint, long missed) {
        ObjectNode state = Json.object();
        state.set("spec", spec.toJson());
        state.put("missed", missed);
        state.put("saved", clock.instant().toString());
        store.saveCheckpoint(PREFIX + name, new EventStore.Checkpoint(checkpoint, Json.write(state)));
    }

    /** One consumer: what it receives, and the calls on its progress. */
    private abstract static sealed class Consumer permits LocalConsumer, StoredConsumer {
        final String name;
        final ConsumerSpec spec;
        final Predicate<StoredEvent> predicate;

        Consumer(String name, ConsumerSpec spec) {
            this.name = name;
            this.spec = spec;
            this.predicate = spec.predicate();
        }

        abstract List<Delivery> take(int max, Duration lease);

        abstract int ack(Collection<Long> offsets);

        abstract void seek(long to);

        /** Time until the first lease expires (at least a millisecond), or Long.MAX_VALUE. */
        abstract long nanosToNextExpiry();

        abstract Status status();
    }

    /** A consumer of a store that several servers share: every call goes to the store. */
    private final class StoredConsumer extends Consumer {
        private final String key;

        StoredConsumer(String name, ConsumerSpec spec) {
            super(name, spec);
            this.key = PREFIX + name;
        }

        @Override
        List<Delivery> take(int max, Duration lease) {
            return shared.take(key, max, lease, predicate);
        }

        @Override
        int ack(Collection<Long> offsets) {
            return shared.ack(key, offsets);
        }

        @Override
        void seek(long to) {
            shared.seek(key, to);
        }

        @Override
        long nanosToNextExpiry() {
            Duration next = shared.progress(key).untilNextExpiry();
            return next == null ? Long.MAX_VALUE : Math.max(next.toNanos(), TimeUnit.MILLISECONDS.toNanos(1));
        }

        @Override
        Status status() {
            SharedConsumerProgress.Progress p = shared.progress(key);
            return new Status(
                    name,
                    p.checkpoint(),
                    Math.max(0, store.lastOffset() - p.checkpoint()),
                    p.inFlight(),
                    p.missed(),
                    spec);
        }
    }

    /** A consumer whose progress this server keeps; every method runs under its monitor. */
    private final class LocalConsumer extends Consumer {
        private record Lease(StoredEvent event, long expiresNanos, int deliveries) {}

        long checkpoint;
        long scanned;
        long missed;
        final TreeMap<Long, Lease> leases = new TreeMap<>();
        final OffsetRanges done = new OffsetRanges();

        LocalConsumer(String name, ConsumerSpec spec, long checkpoint, long missed) {
            super(name, spec);
            this.checkpoint = checkpoint;
            this.scanned = checkpoint;
            this.missed = missed;
        }

        @Override
        synchronized List<Delivery> take(int max, Duration lease) {
            long now = System.nanoTime();
            List<Delivery> out = new ArrayList<>();
            for (Map.Entry<Long, Lease> e : leases.entrySet()) {
                if (out.size() == max) {
                    break;
                }
                Lease l = e.getValue();
                if (l.expiresNanos <= now) {
                    Lease renewed = new Lease(l.event, now + lease.toNanos(), l.deliveries + 1);
                    e.setValue(renewed);
                    out.add(new Delivery(l.event, renewed.deliveries));
                }
            }
            boolean advanced = false;
            while (out.size() < max) {
                EventStore.Page page;
                try {
                    page = store.read(scanned, max - out.size(), predicate);
                } catch (OffsetOutOfRangeException e) {
                    long skipTo = e.earliest() - 1;
                    missed += skipTo - scanned;
                    LOG.warn(
                            "consumer {}: events {} to {} were deleted by retention before it read them",
                            name,
                            scanned + 1,
                            skipTo);
                    markDone(scanned + 1, skipTo);
                    scanned = skipTo;
                    advanced = true;
                    continue;
                }
                long from = scanned + 1;
                for (StoredEvent e : page.events()) {
                    markDone(from, e.offset() - 1); // passed over by the filter
                    leases.put(e.offset(), new Lease(e, now + lease.toNanos(), 1));
                    out.add(new Delivery(e, 1));
                    from = e.offset() + 1;
                }
                markDone(from, page.scannedTo());
                advanced |= page.scannedTo() > scanned;
                boolean progressed = page.scannedTo() > scanned;
                scanned = Math.max(scanned, page.scannedTo());
                if (!progressed || page.events().isEmpty()) {
                    break; // at the head of the log
                }
            }
            if (advanced) {
                advance();
            }
            return out;
        }

        private void markDone(long from, long to) {
            done.add(from, to);
        }

        @Override
        synchronized int ack(Collection<Long> offsets) {
            int acked = 0;
            for (Long offset : offsets) {
                if (offset != null && leases.remove(offset) != null) {
                    done.add(offset, offset);
                    acked++;
                }
            }
            if (acked > 0) {
                advance();
            }
            return acked;
        }

        /** Moves the checkpoint over every done offset that follows it, and saves it if it moved. */
        private void advance() {
            long before = checkpoint;
            long end;
            while ((end = done.takeRunFrom(checkpoint + 1)) > checkpoint) {
                checkpoint = end;
            }
            if (checkpoint != before) {
                save();
            }
        }

        @Override
        synchronized void seek(long to) {
            leases.clear();
            done.dropThrough(Long.MAX_VALUE - 1);
            checkpoint = to;
            scanned = to;
            save();
        }

        @Override
        synchronized long nanosToNextExpiry() {
            long now = System.nanoTime();
            long soonest = Long.MAX_VALUE;
            for (Lease l : leases.values()) {
                soonest = Math.min(soonest, l.expiresNanos - now);
            }
            return Math.max(soonest, TimeUnit.MILLISECONDS.toNanos(1));
        }

        @Override
        synchronized Status status() {
            return new Status(
                    name, checkpoint, Math.max(0, store.lastOffset() - checkpoint), leases.size(), missed, spec);
        }

        void save() {
            saveCheckpoint(name, spec, checkpoint, missed);
        }
    }
}
