package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.api.Json;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.LiveEvents;
import io.sluice.core.log.LogCursor;
import io.sluice.core.log.OffsetOutOfRangeException;
import io.sluice.core.log.ReaderLease;
import io.sluice.core.log.StoredEvent;
import io.sluice.core.timex.TimeMatcher;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Winchester's trigger manager as one reader of the log, with its pipeline workers ({@link
 * PipelineWorkers}): every new event is checked against every trigger and added to the stream
 * its distinguishing traits name (made when there is none); a stream whose fire time or expiry
 * has come is handed to the workers, which run its pipeline.
 *
 * <pre>
 *   LogCursor (checkpoint "triggers") ─► raw notification? distill ─► traits ─► each trigger: match criteria ─► distinguishing traits
 *        ─► stream (in memory): first/last, expiry, fire-criteria counts ─► ready? fire time = now + fire_delay
 *   due (the triggers' clock): fire queue / expiry queue ─► stream firing/expiring, out of memory
 *   after each batch: changed and handed-over streams + checkpoint ─► one transaction ─► wake the workers
 *   workers (this server and others on the database): claim ─► pipeline ─► completed │ error
 * </pre>
 *
 * <h2>Implementation notes</h2>
 *
 * <p>Winchester re-read a stream's events from the database for every event added, to evaluate
 * the fire criteria. Here each stream keeps one counter per fire criterion (capped at its
 * {@code number}), updated as events arrive: the same answer, in constant time per event. The
 * active streams live in memory, indexed by trigger and distinguishing values; the events
 * themselves stay in the log and are read back only to run a pipeline. Fire and expiry times
 * sit in two priority queues (entries are checked against the stream's current time when they
 * come due, so a stream whose expiry moved leaves a stale entry behind rather than being
 * searched for).
 *
 * <p>Durability: the streams a batch changed, and the ones it handed over, are written with the
 * engine's checkpoint in one transaction, so after a crash the engine resumes from the
 * checkpoint with the active streams exactly as they were then, and the handed-over ones are
 * the workers' (a claim a dead server held lapses, and another worker runs the stream again).
 *
 * <p>With several servers on one database the engine runs in the one holding its lease; the
 * workers run in all of them. Only the engine writes active streams and only workers write
 * handed-over ones, so the two never race on a row.
 *
 * <p>As in Winchester, a stream whose expiry passed no longer takes events: the next matching
 * event starts a new stream, and the old one expires.
 */
public final class TriggerEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TriggerEngine.class);
    static final String READER = "triggers";
    private static final int BATCH = 2_000;

    private final WinchesterConfig config;
    private final io.sluice.core.distill.Distiller distiller; // null: events are used as they are
    private final PipelineHandlers handlers;
    private final EventStore store;
    private final EventLog log;
    private final LiveEvents live;
    private final Clock clock;
    private final StreamTable table;
    private final Map<String, TriggerDefinition> triggers = new LinkedHashMap<>();
    private final Map<String, Stream> active = new HashMap<>(); // trigger + distinguishing values → stream
    private final Map<Long, Stream> open = new HashMap<>(); // every stream not completed, by id
    /** Fire and expiry queues, each for triggers on the wall clock ([0]) and on event time ([1]). */
    private final List<PriorityQueue<Due>> fireQueues = List.of(new PriorityQueue<>(), new PriorityQueue<>());

    private final List<PriorityQueue<Due>> expireQueues = List.of(new PriorityQueue<>(), new PriorityQueue<>());
    /** Which triggers run on event time (their own {@code time:}, else the file's). */
    private final Set<String> onEventTime = new HashSet<>();

    private final Set<Stream> changed = new HashSet<>();
    /** Whether streams were handed to the pipeline workers since they were last woken. */
    private boolean handedOver;

    private final ReaderLease lease;
    private final PipelineWorkers workers;

    private final Counter eventsSeen;
    private final Counter eventsSkipped;
    /** The triggers' clocks: the wall clock ([0]) and event time ([1]: null before any event). */
    private final List<Supplier<LocalDateTime>> clocks;
    /** The latest event time read (for triggers on event time); null before any. */
    private volatile LocalDateTime latest;

    private final Counter lateEvents;
    private long nextId;
    private volatile long position;
    private volatile int openCount;
    private volatile boolean running = true;
    private final Thread thread;
    private final MeterRegistry meters;

    private record Due(LocalDateTime at, long stream) implements Comparable<Due> {
        @Override
        public int compareTo(Due o) {
            int c = at.compareTo(o.at);
            return c != 0 ? c : Long.compare(stream, o.stream);
        }
    }

    public TriggerEngine(
            WinchesterConfig config,
            PipelineHandlers handlers,
            EventStore store,
            EventLog log,
            LiveEvents live,
            Clock clock,
            MeterRegistry meters) {
        this(config, handlers, null, store, log, live, clock, meters);
    }

    /**
     * As above, with a distiller: events in the log that are raw OpenStack notifications (a
     * {@code payload} object and a {@code publisher_id}) are distilled before the triggers see
     * them, and again when their stream's pipeline reads them back; the log keeps them as sent.
     *
     * @param distiller the StackDistiller definitions, or null
     */
    public TriggerEngine(
            WinchesterConfig config,
            PipelineHandlers handlers,
            io.sluice.core.distill.Distiller distiller,
            EventStore store,
            EventLog log,
            LiveEvents live,
            Clock clock,
            MeterRegistry meters) {
        this.distiller = distiller;
        this.config = config;
        this.handlers = handlers;
        this.store = store;
        this.log = log;
        this.live = live;
        this.clock = clock;
        this.meters = meters;
        // The triggers' clocks: the wall clock, and event time, the latest event time read less
        // the late allowance (so that a late event within the allowance still finds its stream).
        this.clocks = List.of(
                () -> LocalDateTime.ofInstant(clock.instant(), ZoneOffset.UTC),
                () -> latest == null ? null : latest.minus(config.lateAllowance()));
        this.lateEvents = Counter.builder("sluice.triggers.late_events")
                .description("Events older than the latest event time less the late allowance (event time only)")
                .register(meters);
        this.table = new StreamTable(store);
        config.triggers().forEach(t -> {
            triggers.put(t.name(), t);
            t.debug().bindTo(meters, t.name());
            if (config.eventTimeOnly() || (t.eventTime() != null ? t.eventTime() : config.eventTime())) {
                onEventTime.add(t.name());
            }
        });
        this.lease = new ReaderLease(store, READER, clock, ReaderLease.TERM);
        this.workers = new PipelineWorkers(config, triggers, handlers, distiller, store, log, table, clock, meters);
        load();
        this.eventsSeen = Counter.builder("sluice.triggers.events")
                .description("Events checked against the triggers")
                .register(meters);
        this.eventsSkipped = Counter.builder("sluice.triggers.events_skipped")
                .description("Events without the event_type or timestamp triggers need")
                .register(meters);
        Gauge.builder("sluice.triggers.streams_open", this, e -> e.openCount)
                .description("Active streams (taking events) held by this server's trigger reader")
                .register(meters);
        Gauge.builder("sluice.triggers.lag", this, e -> Math.max(0, store.lastOffset() - e.position))
                .description("Events in the log the trigger engine has not read yet")
                .register(meters);
        this.thread = Thread.ofPlatform().daemon().name("sluice-triggers").unstarted(this::run);
        if (!open.isEmpty()) {
            LOG.info("triggers: resumed {} open streams at offset {}", open.size(), position);
        }
    }

    public void start() {
        thread.start();
        workers.start();
    }

    /**
     * Reads the active streams and the checkpoint from the store: at start, and when this server
     * takes the triggers over from another one on the same database (whose streams moved on).
     * Streams handed to the pipeline workers are theirs: a worker claims those a stopped or dead
     * server left unfinished.
     */
    private void load() {
        open.clear();
        active.clear();
        fireQueues.forEach(PriorityQueue::clear);
        expireQueues.forEach(PriorityQueue::clear);
        changed.clear();
        this.nextId = table.maxId() + 1;
        for (Stream s : table.active()) {
            open.put(s.id, s);
            active.put(s.key, s);
            schedule(s);
        }
        openCount = open.size();
        latest = null;
        for (Stream s : open.values()) { // event time resumes where the streams' events left it
            if (onEventTime.contains(s.trigger) && s.last != null && (latest == null || s.last.isAfter(latest))) {
                latest = s.last;
            }
        }
        this.position = store.checkpoint(READER)
                .map(EventStore.Checkpoint::offset)
                .orElseGet(() -> {
                    long head = store.lastOffset();
                    store.saveCheckpoint(READER, new EventStore.Checkpoint(head, null));
                    return head;
                });
    }

    // ------------------------------------------------------------------ the engine's thread

    private void run() {
        LogCursor cursor = new LogCursor(store, live, position, e -> true, 8_192);
        boolean fresh = true; // the constructor has just loaded the streams
        try {
            while (running) {
                // With several servers on one database, the one holding the lease runs the
                // triggers; one that takes over reads the streams as the other left them.
                ReaderLease.Turn turn = lease.turn();
                if (turn == ReaderLease.Turn.STAND_BY) {
                    fresh = false; // the holder moves the streams on meanwhile
                    continue;
                }
                if (turn == ReaderLease.Turn.TOOK_OVER) {
                    if (!fresh) {
                        load();
                        LOG.info("triggers: took over with {} open streams at offset {}", open.size(), position);
                    }
                    cursor.seek(position);
                }
                fresh = false;
                StoredEvent first;
                try {
                    first = cursor.next(Duration.ofMillis(100));
                } catch (OffsetOutOfRangeException e) {
                    long gapEnd = cursor.skipToRetained();
                    LOG.warn(
                            "triggers: events {} to {} were deleted by retention before the triggers read them",
                            position + 1,
                            gapEnd);
                    advance(gapEnd);
                    continue;
                }
                long through = position;
                if (first != null) {
                    List<StoredEvent> batch = new ArrayList<>();
                    batch.add(first);
                    StoredEvent e;
                    while (batch.size() < BATCH && (e = cursor.next(Duration.ZERO)) != null) {
                        batch.add(e);
                    }
                    for (StoredEvent ev : batch) {
                        add(ev);
                    }
                    through = batch.getLast().offset();
                }
                runDue();
                // the batch's streams, the ones handed over and the checkpoint: one transaction
                saveChanged(first != null, through);
                if (handedOver) {
                    handedOver = false;
                    workers.wake();
                }
                advance(through);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("triggers: stopped by an unexpected failure at offset {}; restart the server", position, e);
        } finally {
            cursor.close();
        }
    }

    /** Checks one event against every trigger and adds it to the streams it belongs to. */
    void add(StoredEvent e) {
        eventsSeen.increment();
        JsonNode doc;
        try {
            doc = distilled(distiller, Json.parse(e.json()));
        } catch (RuntimeException bad) {
            eventsSkipped.increment();
            return;
        }
        if (doc == null) {
            eventsSkipped.increment(); // a notification no definition covers
            return;
        }
        Map<String, Object> traits = Traits.of(doc);
        if (!(traits.get("event_type") instanceof String) || !(traits.get("timestamp") instanceof LocalDateTime at)) {
            eventsSkipped.increment();
            return;
        }
        if (!onEventTime.isEmpty()) {
            if (latest == null || at.isAfter(latest)) {
                latest = at;
            } else if (at.isBefore(latest.minus(config.lateAllowance()))) {
                lateEvents.increment(); // handled all the same: its stream may be gone, then it starts one
            }
        }
        for (TriggerDefinition trigger : triggers.values()) {
            Supplier<LocalDateTime> now = clockOf(trigger.name());
            LocalDateTime t = now.get();
            Criteria matched = trigger.match(traits, now);
            if (matched == null) {
                continue;
            }
            Map<String, Object> dist = trigger.distinguishingTraits(traits, matched, now);
            if (dist == null) {
                continue;
            }
            ObjectNode distJson = Json.object();
            dist.forEach((k, v) -> distJson.set(k, json(v)));
            String key = trigger.name() + '\u0000' + Json.write(distJson);
            Stream s = active.get(key);
            if (s != null && !s.expireAt.isAfter(t)) {
                active.remove(key); // past its expiry: it takes no more events, and expires
                s = null;
            }
            if (s == null) {
                s = new Stream(
                        nextId++,
                        trigger.name(),
                        distJson,
                        key,
                        trigger.fireCriteria().size());
                s.first = at;
                s.last = at;
                active.put(key, s);
                open.put(s.id, s);
                openCount = open.size();
                trigger.debug().bump("New stream");
            }
            s.first = at.isBefore(s.first) ? at : s.first;
            s.last = at.isAfter(s.last) ? at : s.last;
            s.expireAt = trigger.expiresAt(s.first, s.last, now);
            s.offsets.add(e.offset());
            trigger.debug().bump("Added events");
            if (s.fireAt == null) {
                countFireCriteria(trigger, s, traits, now);
            }
            schedule(s);
            changed.add(s);
        }
    }

    /** One counter per fire criterion, capped at its number: the stream is ready when all are full. */
    private void countFireCriteria(
            TriggerDefinition trigger, Stream s, Map<String, Object> traits, Supplier<LocalDateTime> now) {
        Debug.Group group = trigger.debug().group("Fire");
        boolean ready = true;
        List<Criteria> criteria = trigger.fireCriteria();
        for (int i = 0; i < criteria.size(); i++) {
            Criteria c = criteria.get(i);
            if (s.fireCounts[i] < c.number() && c.matches(traits, group, now)) {
                s.fireCounts[i]++;
            }
            ready &= s.fireCounts[i] >= c.number();
        }
        if (ready) {
            s.fireAt = trigger.fireTime(now.get());
            trigger.debug().bump("Ready to fire");
        }
    }

    private Supplier<LocalDateTime> clockOf(String trigger) {
        return clocks.get(onEventTime.contains(trigger) ? 1 : 0);
    }

    private void schedule(Stream s) {
        int clock = onEventTime.contains(s.trigger) ? 1 : 0;
        if (s.fireAt != null) {
            fireQueues.get(clock).add(new Due(s.fireAt, s.id));
        } else if (s.expireAt != null) {
            expireQueues.get(clock).add(new Due(s.expireAt, s.id));
        }
    }

    private static JsonNode json(Object v) {
        if (v instanceof TimeMatcher m) {
            ObjectNode o = Json.object();
            o.put("begin", Stream.text(m.begin()));
            o.put("end", Stream.text(m.end()));
            return o;
        }
        if (v instanceof LocalDateTime t) {
            return Json.nodes().textNode(Stream.text(t));
        }
        return Json.mapper().valueToTree(v);
    }

    private void saveChanged(boolean withCheckpoint, long through) {
        if (changed.isEmpty() && !withCheckpoint) {
            return;
        }
        table.save(new ArrayList<>(changed), withCheckpoint ? READER : null, through, clock.millis());
        changed.clear();
    }

    /** Hands the streams whose fire time or expiry has come, by the triggers' clock, to the pipeline workers. */
    void runDue() {
        for (int clock = 0; clock < clocks.size(); clock++) {
            LocalDateTime t = clocks.get(clock).get();
            if (t != null) { // null: event time, and no event read yet
                runDue(t, fireQueues.get(clock), expireQueues.get(clock));
            }
        }
    }

    private void runDue(LocalDateTime t, PriorityQueue<Due> fireQueue, PriorityQueue<Due> expireQueue) {
        Due d;
        while ((d = fireQueue.peek()) != null && !d.at().isAfter(t)) {
            fireQueue.poll();
            Stream s = open.get(d.stream());
            if (s != null && s.state == Stream.State.ACTIVE && d.at().equals(s.fireAt)) {
                handOver(s, true);
            }
        }
        while ((d = expireQueue.peek()) != null && !d.at().isAfter(t)) {
            expireQueue.poll();
            Stream s = open.get(d.stream());
            if (s != null && s.state == Stream.State.ACTIVE && s.fireAt == null && d.at().equals(s.expireAt)) {
                handOver(s, false);
            }
        }
    }

    /**
     * A stream's fire time or expiry has come: it takes no more events and becomes the pipeline
     * workers' (firing or expiring, written with the batch), in this server or another.
     */
    private void handOver(Stream s, boolean firing) {
        active.remove(s.key, s);
        open.remove(s.id);
        openCount = open.size();
        s.state = firing ? Stream.State.FIRING : Stream.State.EXPIRING;
        changed.add(s);
        handedOver = true;
    }

    /** The event as triggers see it: distilled when it is a raw notification; null when dropped. */
    static ObjectNode distilled(io.sluice.core.distill.Distiller distiller, JsonNode doc) {
        if (!(doc instanceof ObjectNode o)) {
            throw new IllegalArgumentException("not an object");
        }
        if (distiller == null || !o.path("payload").isObject() || !o.has("publisher_id")) {
            return o;
        }
        return distiller.toEvent(o).orElse(null);
    }

    // ------------------------------------------------------------------ API (any thread)

    /**
     * Which streams to list, as Winchester's {@code find_streams} filtered them; each filter
     * null (or empty) for any.
     *
     * @param trigger the trigger's name
     * @param state the state's name
     * @param traits distinguishing traits the stream must have, by name, compared as text
     * @param olderThan the stream's first event is before this
     * @param youngerThan the stream's last event is after this
     * @param before only ids below this (paging: the last id seen)
     * @param limit at most this many
     */
    public record StreamQuery(
            String trigger,
            String state,
            Map<String, String> traits,
            LocalDateTime olderThan,
            LocalDateTime youngerThan,
            long before,
            int limit) {
        boolean keeps(Stream s) {
            if (olderThan != null && (s.first == null || !s.first.isBefore(olderThan))) {
                return false;
            }
            if (youngerThan != null && (s.last == null || !s.last.isAfter(youngerThan))) {
                return false;
            }
            if (traits != null) {
                for (Map.Entry<String, String> t : traits.entrySet()) {
                    JsonNode v = s.distinguishedBy.get(t.getKey());
                    if (v == null || !v.isValueNode() || !v.asText().equals(t.getValue())) {
                        return false;
                    }
                }
            }
            return true;
        }
    }

    /** Streams by the query's filters, newest first. */
    public ArrayNode streams(StreamQuery q) {
        ArrayNode out = Json.nodes().arrayNode();
        table.list(q.trigger(), q.state(), q.before(), q.limit(), q::keeps).forEach(s -> out.add(s.toJson()));
        return out;
    }

    /** One stream with its events (as stored), or empty. */
    public Optional<ObjectNode> stream(long id) {
        Stream s = table.get(id);
        if (s == null) {
            return Optional.empty();
        }
        ObjectNode o = s.toJson();
        ArrayNode events = o.putArray("event_list");
        workers.events(s).forEach(events::add);
        return Optional.of(o);
    }

    /**
     * Runs a failed stream's pipeline again (error: fire, expire_error: expire) on one of this
     * server's pipeline workers.
     *
     * @return completes with null when it succeeded, else why not
     */
    public CompletableFuture<String> retry(long id) {
        return workers.retry(id);
    }

    /** The triggers with their debug counters. */
    public ArrayNode triggers() {
        ArrayNode out = Json.nodes().arrayNode();
        for (TriggerDefinition t : triggers.values()) {
            ObjectNode o = t.debug().toJson();
            o.put("name", t.name());
            out.add(o);
        }
        return out;
    }

    /** Told of every stream whose pipeline ran (definition tests; later the console). */
    @FunctionalInterface
    public interface StreamListener {
        /**
         * Called on the engine's thread after a stream's fire or expire pipeline ran.
         *
         * @param fired true when it fired, false when it expired
         * @param error why the pipeline failed, or null when it succeeded
         */
        void finished(long stream, String trigger, ObjectNode distinguishedBy, boolean fired, String error);
    }

    /** Sets the one listener told of every stream this server's workers fired or expired (null: none). */
    public void listen(StreamListener l) {
        workers.listen(l);
    }

    /** Whether this server runs the triggers now (on a shared store, the one holding their lease). */
    public boolean leading() {
        return lease.leading();
    }

    /** Streams not completed: active ones, and those handed to the pipeline workers or in error (asks the store). */
    public int openStreams() {
        return openCount + table.handedOver();
    }

    /** Streams this server's pipeline workers fired or expired since the engine started, all triggers. */
    public long finished() {
        return workers.finished();
    }

    /** Who this server is in the streams' {@code claimed_by} and {@code fired_by}. */
    public String owner() {
        return workers.owner();
    }

    /**
     * Waits until no stream is handed over and unsettled (firing, expiring, retrying) and this
     * server's workers are idle, or the timeout passes. With {@link #awaitPosition} this is what
     * definition tests and replays wait for: everything read has run.
     *
     * @return whether they are
     */
    public boolean awaitPipelines(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!(workers.idle() && table.running() == 0)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            // woken when this server's workers settle; other servers' settling is seen by looking again
            workers.awaitSettled(Math.min(java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(left), 50));
        }
        return true;
    }

    private final Object moved = new Object();

    /** The engine has read through {@code offset} (and handled what it made due). */
    private void advance(long offset) {
        position = offset;
        synchronized (moved) {
            moved.notifyAll();
        }
    }

    /**
     * Waits until the engine has read through {@code offset}, or the timeout passes.
     *
     * @return whether it has
     */
    public boolean awaitPosition(long offset, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (moved) {
            while (position < offset) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(moved, left);
            }
        }
        return true;
    }

    /** The offset of the last event read. */
    public long position() {
        return position;
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
        workers.close();
        lease.release();
    }
}
