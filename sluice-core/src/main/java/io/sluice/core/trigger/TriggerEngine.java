package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.api.Json;
import io.sluice.api.pipeline.PipelineHandler;
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
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Winchester's trigger manager and pipeline worker in one reader of the log: every new event is
 * checked against every trigger, added to the stream its distinguishing traits name (made when
 * there is none), and streams whose fire time or expiry has come run their pipeline.
 *
 * <pre>
 *   LogCursor (checkpoint "triggers") ─► raw notification? distill ─► traits ─► each trigger: match criteria ─► distinguishing traits
 *        ─► stream (in memory): first/last, expiry, fire-criteria counts ─► ready? fire time = now + fire_delay
 *   after each batch: changed streams + checkpoint ─► one transaction
 *   due (injected clock): fire queue / expiry queue ─► pipeline (events read back by offset, by timestamp)
 *        ─► commit: new events appended to the log, stream completed │ exception: rollback, error state
 * </pre>
 *
 * <h2>Implementation notes</h2>
 *
 * <p>Winchester re-read a stream's events from the database for every event added, to evaluate
 * the fire criteria. Here each stream keeps one counter per fire criterion (capped at its
 * {@code number}), updated as events arrive: the same answer, in constant time per event. The
 * open streams live in memory, indexed by trigger and distinguishing values; the events
 * themselves stay in the log and are read back only to run a pipeline. Fire and expiry times
 * sit in two priority queues (entries are checked against the stream's current time when they
 * come due, so a stream whose expiry moved leaves a stale entry behind rather than being
 * searched for).
 *
 * <p>Durability: the streams a batch changed are written with the engine's checkpoint in one
 * transaction, so after a crash the engine resumes from the checkpoint with the streams exactly
 * as they were then. A stream found {@code firing} or {@code expiring} at start (the server
 * stopped mid-pipeline) runs its pipeline again; events a pipeline appends carry ids derived from
 * the stream's events (the usage handler's are), so the log drops the repeats; a handler's
 * commit may run twice then (at least once).
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
    private final PriorityQueue<Due> fireQueue = new PriorityQueue<>();
    private final PriorityQueue<Due> expireQueue = new PriorityQueue<>();
    private final Set<Stream> changed = new HashSet<>();
    private final ConcurrentLinkedQueue<Runnable> requests = new ConcurrentLinkedQueue<>();
    /** Pipelines of streams found firing or expiring when loaded: they run again first. */
    private final java.util.ArrayDeque<Runnable> resumes = new java.util.ArrayDeque<>();

    private final ReaderLease lease;

    private final Map<String, Counter> fired = new ConcurrentHashMap<>();
    private final Counter eventsSeen;
    private final Counter eventsSkipped;
    private final Supplier<LocalDateTime> now;
    /** With event time ({@code sluice: {time: event}}): the latest event time read; null before any. */
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
        // The triggers' clock: the wall clock, or with event time the latest event time read less
        // the late allowance (so that a late event within the allowance still finds its stream).
        this.now = config.eventTime()
                ? () -> latest == null ? null : latest.minus(config.lateAllowance())
                : () -> LocalDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
        this.lateEvents = Counter.builder("sluice.triggers.late_events")
                .description("Events older than the latest event time less the late allowance (event time only)")
                .register(meters);
        this.table = new StreamTable(store);
        config.triggers().forEach(t -> {
            triggers.put(t.name(), t);
            t.debug().bindTo(meters, t.name());
        });
        this.lease = new ReaderLease(store, READER, clock, ReaderLease.TERM);
        load();
        this.eventsSeen = Counter.builder("sluice.triggers.events")
                .description("Events checked against the triggers")
                .register(meters);
        this.eventsSkipped = Counter.builder("sluice.triggers.events_skipped")
                .description("Events without the event_type or timestamp triggers need")
                .register(meters);
        Gauge.builder("sluice.triggers.streams_open", this, e -> e.openCount)
                .description("Streams not completed")
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
    }

    /**
     * Reads the open streams and the checkpoint from the store: at start, and when this server
     * takes the triggers over from another one on the same database (whose streams moved on).
     */
    private void load() {
        open.clear();
        active.clear();
        fireQueue.clear();
        expireQueue.clear();
        changed.clear();
        resumes.clear();
        this.nextId = table.maxId() + 1;
        for (Stream s : table.open()) {
            open.put(s.id, s);
            switch (s.state) {
                case ACTIVE -> {
                    active.put(s.key, s);
                    schedule(s);
                }
                case FIRING, RETRY_FIRE -> resumes.add(() -> fire(s)); // its pipeline runs again
                case EXPIRING, RETRY_EXPIRE -> resumes.add(() -> expire(s));
                default -> {} // error states wait for a retry
            }
        }
        openCount = open.size();
        latest = null;
        if (config.eventTime()) {
            for (Stream s : open.values()) { // the clock resumes where the streams' events left it
                if (s.last != null && (latest == null || s.last.isAfter(latest))) {
                    latest = s.last;
                }
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
                Runnable r;
                while ((r = resumes.poll()) != null) {
                    r.run();
                }
                while ((r = requests.poll()) != null) {
                    r.run();
                }
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
                    advance(batch.getLast().offset());
                    saveChanged(true);
                }
                runDue();
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
            doc = distilled(Json.parse(e.json()));
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
        if (config.eventTime()) {
            if (latest == null || at.isAfter(latest)) {
                latest = at;
            } else if (at.isBefore(latest.minus(config.lateAllowance()))) {
                lateEvents.increment(); // handled all the same: its stream may be gone, then it starts one
            }
        }
        LocalDateTime t = now.get();
        for (TriggerDefinition trigger : triggers.values()) {
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
                countFireCriteria(trigger, s, traits);
            }
            schedule(s);
            changed.add(s);
        }
    }

    /** One counter per fire criterion, capped at its number: the stream is ready when all are full. */
    private void countFireCriteria(TriggerDefinition trigger, Stream s, Map<String, Object> traits) {
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

    private void schedule(Stream s) {
        if (s.fireAt != null) {
            fireQueue.add(new Due(s.fireAt, s.id));
        } else if (s.expireAt != null) {
            expireQueue.add(new Due(s.expireAt, s.id));
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

    private void saveChanged(boolean withCheckpoint) {
        if (changed.isEmpty() && !withCheckpoint) {
            return;
        }
        table.save(new ArrayList<>(changed), withCheckpoint ? READER : null, position, clock.millis());
        changed.clear();
    }

    /** Fires and expires the streams whose time has come, by the injected clock. */
    void runDue() {
        LocalDateTime t = now.get();
        if (t == null) {
            return; // event time, and no event read yet
        }
        Due d;
        while ((d = fireQueue.peek()) != null && !d.at().isAfter(t)) {
            fireQueue.poll();
            Stream s = open.get(d.stream());
            if (s != null && s.state == Stream.State.ACTIVE && d.at().equals(s.fireAt)) {
                fire(s);
            }
        }
        while ((d = expireQueue.peek()) != null && !d.at().isAfter(t)) {
            expireQueue.poll();
            Stream s = open.get(d.stream());
            if (s != null && s.state == Stream.State.ACTIVE && s.fireAt == null && d.at().equals(s.expireAt)) {
                expire(s);
            }
        }
    }

    private void fire(Stream s) {
        TriggerDefinition trigger = triggers.get(s.trigger);
        finish(s, trigger, trigger == null ? null : trigger.firePipeline(), true);
    }

    private void expire(Stream s) {
        TriggerDefinition trigger = triggers.get(s.trigger);
        finish(s, trigger, trigger == null ? null : trigger.expirePipeline(), false);
    }

    /** Runs a stream's fire or expire pipeline and settles its state. */
    private void finish(Stream s, TriggerDefinition trigger, String pipeline, boolean firing) {
        active.remove(s.key, s);
        s.state = firing ? Stream.State.FIRING : Stream.State.EXPIRING;
        s.attempts++;
        changed.add(s);
        saveChanged(false); // the state is durable before anything runs
        Debug debug = trigger != null ? trigger.debug() : new Debug(0);
        String error = null;
        if (trigger == null) {
            error = "no trigger named '" + s.trigger + "' is defined any more";
        } else if (pipeline != null) {
            try {
                error = runPipeline(s, config.pipelines().get(pipeline), debug);
            } catch (InterruptedException stopping) {
                // The server is stopping: the stream stays firing/expiring and runs again at start.
                Thread.currentThread().interrupt();
                running = false;
                return;
            }
        } else {
            debug.bump(
                    firing ? "No fire pipeline for '" + s.trigger + "'" : "No expire pipeline for '" + s.trigger + "'");
        }
        StreamListener l = listener;
        if (l != null) {
            l.finished(s.id, s.trigger, s.distinguishedBy.deepCopy(), firing, error);
        }
        if (error == null) {
            s.state = Stream.State.COMPLETED;
            s.lastError = null;
            debug.bump(firing ? "Streams fired" : "Streams expired");
            fired.computeIfAbsent(s.trigger + (firing ? ":fired" : ":expired"), k -> Counter.builder(
                                    "sluice.triggers.streams")
                            .description("Streams fired or expired, by trigger")
                            .tag("trigger", s.trigger)
                            .tag("outcome", firing ? "fired" : "expired")
                            .register(meters))
                    .increment();
        } else {
            s.state = firing ? Stream.State.ERROR : Stream.State.EXPIRE_ERROR;
            s.lastError = error;
            LOG.warn("triggers: stream {} of {} failed to {}: {}", s.id, s.trigger, firing ? "fire" : "expire", error);
        }
        changed.add(s);
        if (s.state == Stream.State.COMPLETED) {
            open.remove(s.id);
            openCount = open.size();
            if (config.purgeCompletedStreams()) {
                changed.remove(s);
                saveChanged(false);
                table.delete(s.id);
                return;
            }
        }
        saveChanged(false);
    }

    /**
     * Runs a pipeline over a stream's events; on success appends the new events it produced.
     *
     * @return null on success, else what went wrong
     */
    private String runPipeline(Stream s, PipelineDefinition pipeline, Debug debug) throws InterruptedException {
        List<ObjectNode> events = events(s);
        Set<String> ids = new HashSet<>();
        events.forEach(e -> ids.add(e.path("message_id").asText(e.path("id").asText())));
        Map<String, Object> env = new HashMap<>();
        env.put("stream_id", s.id);
        env.put("stream_name", s.trigger);
        List<PipelineHandler> made = new ArrayList<>();
        List<ObjectNode> current = events;
        try {
            for (PipelineDefinition.Step step : pipeline.handlers()) {
                PipelineHandler h = handlers.get(step.name()).apply(step.params());
                made.add(h);
                current = h.handleEvents(current, env);
                if (current == null) {
                    current = List.of();
                }
            }
            debug.bump("Pre-commit successful");
        } catch (Exception e) {
            debug.bump("Pipeline error");
            for (PipelineHandler h : made) {
                try {
                    h.rollback();
                    debug.bump("Rollback successful");
                } catch (Exception re) {
                    debug.bump("Rollback error");
                    LOG.warn("triggers: rollback of {} failed: {}", h.getClass().getSimpleName(), re.toString());
                }
            }
            if (e instanceof InterruptedException || !running) {
                // the server is stopping, not the pipeline failing: the stream stays firing (or
                // expiring) and its pipeline runs again, here at the next start or on the server
                // that takes the triggers over
                throw new InterruptedException("stopping");
            }
            return "pipeline " + pipeline.name() + ": " + e;
        }
        for (PipelineHandler h : made) {
            try {
                h.commit();
                debug.bump("Commit successful");
            } catch (Exception ce) {
                debug.bump("Commit error");
                LOG.warn("triggers: commit of {} failed: {}", h.getClass().getSimpleName(), ce.toString());
            }
        }
        List<ObjectNode> fresh = current.stream()
                .filter(e ->
                        !ids.contains(e.path("message_id").asText(e.path("id").asText())))
                .toList();
        if (!fresh.isEmpty()) {
            try {
                log.append(fresh).get(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw e;
            } catch (IllegalStateException e) {
                if (Thread.currentThread().isInterrupted() || !running) {
                    throw new InterruptedException("stopping");
                }
                return "pipeline " + pipeline.name() + " succeeded but its " + fresh.size()
                        + " new events could not be stored: " + e;
            } catch (Exception e) {
                return "pipeline " + pipeline.name() + " succeeded but its " + fresh.size()
                        + " new events could not be stored: " + e;
            }
        }
        return null;
    }

    /** The event as triggers see it: distilled when it is a raw notification; null when dropped. */
    private ObjectNode distilled(JsonNode doc) {
        if (!(doc instanceof ObjectNode o)) {
            throw new IllegalArgumentException("not an object");
        }
        if (distiller == null || !o.path("payload").isObject() || !o.has("publisher_id")) {
            return o;
        }
        return distiller.toEvent(o).orElse(null);
    }

    /** A stream's events from the log, by timestamp (stable for equal ones). */
    private List<ObjectNode> events(Stream s) {
        List<ObjectNode> out = new ArrayList<>();
        for (long offset : s.offsets) {
            EventStore.Page page = store.read(offset - 1, 1, e -> true);
            if (page.events().isEmpty() || page.events().getFirst().offset() != offset) {
                LOG.warn("triggers: event {} of stream {} is no longer in the log (retention)", offset, s.id);
                continue;
            }
            ObjectNode e;
            try {
                e = distilled(Json.parse(page.events().getFirst().json()));
            } catch (RuntimeException bad) {
                LOG.warn(
                        "triggers: event {} of stream {} cannot be distilled again: {}",
                        offset,
                        s.id,
                        bad.getMessage());
                continue;
            }
            if (e != null) {
                out.add(e);
            }
        }
        out.sort(Comparator.comparing(e -> {
            LocalDateTime t = Traits.datetime(e.path("timestamp").asText());
            return t == null ? LocalDateTime.MIN : t;
        }));
        return out;
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
        events(s).forEach(events::add);
        return Optional.of(o);
    }

    /**
     * Runs a failed stream's pipeline again (error: fire, expire_error: expire), on the engine's
     * thread.
     *
     * @return completes with null when it succeeded, else why not
     */
    public CompletableFuture<String> retry(long id) {
        CompletableFuture<String> result = new CompletableFuture<>();
        if (!lease.leading() && store.shared()) {
            result.complete("another server on the database runs the triggers now (it holds their lease): retry there");
            return result;
        }
        requests.add(() -> {
            Stream s = open.get(id);
            if (s == null || (s.state != Stream.State.ERROR && s.state != Stream.State.EXPIRE_ERROR)) {
                result.complete(
                        s == null
                                ? "no open stream " + id
                                : "stream " + id + " is " + s.state.wireName()
                                        + "; only error and expire_error streams are retried");
                return;
            }
            boolean firing = s.state == Stream.State.ERROR;
            s.state = firing ? Stream.State.RETRY_FIRE : Stream.State.RETRY_EXPIRE;
            if (firing) {
                fire(s);
            } else {
                expire(s);
            }
            result.complete(s.state == Stream.State.COMPLETED || !open.containsKey(id) ? null : s.lastError);
        });
        return result;
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

    private volatile StreamListener listener;

    /** Sets the one listener told of every stream that fired or expired (null: none). */
    public void listen(StreamListener l) {
        this.listener = l;
    }

    /** Whether this server runs the triggers now (on a shared store, the one holding their lease). */
    public boolean leading() {
        return lease.leading();
    }

    /** Streams not completed (active, firing, expiring, in error). */
    public int openStreams() {
        return openCount;
    }

    /** Streams fired or expired since the engine started, all triggers. */
    public long finished() {
        long n = 0;
        for (var c : fired.values()) {
            n += (long) c.count();
        }
        return n;
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
        lease.release();
    }
}
