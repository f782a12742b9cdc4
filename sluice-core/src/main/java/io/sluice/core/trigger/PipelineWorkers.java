package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.api.Json;
import io.sluice.api.pipeline.PipelineHandler;
import io.sluice.core.distill.Distiller;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.ReaderLease;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Winchester's pipeline workers: threads that claim the streams the trigger engine handed over
 * (fire time or expiry come), run their fire or expire pipeline, and settle them (completed, or
 * error with the reason). Every server on a shared database runs workers, whichever of them reads
 * the log for the triggers, so the pipeline work of many streams made due at once is shared.
 *
 * <pre>
 *   engine: stream due ─► state firing/expiring (durable) ─► wake()
 *   worker: claim ≤ batch (SKIP LOCKED, claim = owner + expiry) ─► each: events by offset ─► pipeline
 *        ─► commit: new events appended, completed │ failure: rollback, error (+ retry time) ─► settle (if still ours)
 *   renewer: every third of the term, extends the claims of streams not settled yet
 * </pre>
 *
 * <h2>Implementation notes</h2>
 *
 * <p>A claim is a row's {@code claimed_by} and {@code claim_expires}, set in the transaction that
 * selects the rows ({@code FOR UPDATE SKIP LOCKED} on PostgreSQL: two servers claiming at once
 * take different streams, neither waits). A server that dies mid-pipeline stops renewing; after
 * the term another server's worker claims the stream again and runs its pipeline from the start:
 * nothing of the first run was committed to the stream (a handler's own commit may have run,
 * so pipelines are at least once; events a pipeline appends carry ids derived from the stream, so
 * the log drops repeats). Settling is conditional on the claim still being ours, so a server that
 * was merely slow past its term does not overwrite the run that replaced it.
 *
 * <p>Only the engine writes active streams and only workers write handed-over ones, so the two
 * never race on a row.
 */
final class PipelineWorkers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineWorkers.class);

    /** How long a claim lasts without renewal. */
    static final Duration TERM = ReaderLease.TERM;

    private final WinchesterConfig config;
    private final Map<String, TriggerDefinition> triggers;
    private final PipelineHandlers handlers;
    private final Distiller distiller;
    private final EventStore store;
    private final EventLog log;
    private final StreamTable table;
    private final Clock clock;
    private final MeterRegistry meters;
    private final String owner;
    private final List<Thread> threads = new ArrayList<>();
    /** Extends this server's claims every third of the term while their pipelines run. */
    private final java.util.concurrent.ScheduledExecutorService renewer =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().daemon().name("sluice-pipeline-claims").factory());
    /** Streams claimed by this server and not settled yet, by id. */
    private final Set<Long> claimed = ConcurrentHashMap.newKeySet();
    /** Streams claimed for a retry asked through the API, with who waits for the outcome. */
    private final ConcurrentLinkedQueue<Retry> retries = new ConcurrentLinkedQueue<>();

    private final Map<String, Counter> finished = new ConcurrentHashMap<>();
    private final Counter claimsLost;
    private final AtomicInteger busy = new AtomicInteger();
    private final Object signal = new Object();
    private boolean signalled;
    private volatile boolean running = true;
    private volatile TriggerEngine.StreamListener listener;

    private record Retry(Stream stream, CompletableFuture<String> outcome) {}

    PipelineWorkers(
            WinchesterConfig config,
            Map<String, TriggerDefinition> triggers,
            PipelineHandlers handlers,
            Distiller distiller,
            EventStore store,
            EventLog log,
            StreamTable table,
            Clock clock,
            MeterRegistry meters) {
        this.config = config;
        this.triggers = triggers;
        this.handlers = handlers;
        this.distiller = distiller;
        this.store = store;
        this.log = log;
        this.table = table;
        this.clock = clock;
        this.meters = meters;
        // pid@host names the process; the suffix tells apart servers in one process (tests, benches)
        this.owner = ManagementFactory.getRuntimeMXBean().getName() + "/"
                + java.util.UUID.randomUUID().toString().substring(0, 8);
        this.claimsLost = Counter.builder("sluice.triggers.claims_lost")
                .description("Pipelines that ran past their claim's term while another server ran the stream again")
                .register(meters);
        Gauge.builder("sluice.triggers.pipelines_running", busy, AtomicInteger::get)
                .description("Pipelines running in this server now")
                .register(meters);
        for (int i = 0; i < config.workers().threads(); i++) {
            threads.add(
                    Thread.ofPlatform().daemon().name("sluice-pipelines-" + i).unstarted(this::work));
        }
    }

    void start() {
        threads.forEach(Thread::start);
        long every = TERM.toMillis() / 3;
        renewer.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
    }

    /** Who this server is in {@code claimed_by} and {@code fired_by}: {@code pid@host/random}. */
    String owner() {
        return owner;
    }

    /** Tells this server's workers that streams were handed over (they look at once). */
    void wake() {
        synchronized (signal) {
            signalled = true;
            signal.notifyAll();
        }
    }

    void listen(TriggerEngine.StreamListener l) {
        this.listener = l;
    }

    /** Claims a stream in error and runs its pipeline again on a worker; completes with null or why not. */
    CompletableFuture<String> retry(long id) {
        CompletableFuture<String> outcome = new CompletableFuture<>();
        long now = clock.millis();
        Stream s = table.claimForRetry(id, owner, now, now + TERM.toMillis());
        if (s == null) {
            Stream current = table.get(id);
            outcome.complete(
                    current == null
                            ? "no open stream " + id
                            : current.state == Stream.State.ERROR || current.state == Stream.State.EXPIRE_ERROR
                                    ? "stream " + id + " is being retried by " + current.claimedBy
                                    : "stream " + id + " is " + current.state.wireName()
                                            + "; only error and expire_error streams are retried");
            return outcome;
        }
        claimed.add(id);
        retries.add(new Retry(s, outcome));
        wake();
        return outcome;
    }

    /** Streams this server's workers finished (fired or expired) since it started. */
    long finished() {
        long n = 0;
        for (Counter c : finished.values()) {
            n += (long) c.count();
        }
        return n;
    }

    /** Whether no pipeline runs here and none is claimed here. */
    boolean idle() {
        return busy.get() == 0 && claimed.isEmpty() && retries.isEmpty();
    }

    // ------------------------------------------------------------------ worker threads

    private void work() {
        try {
            while (running) {
                Retry r = retries.poll();
                if (r != null) {
                    r.outcome().complete(runBatch(List.of(r.stream())).getFirst());
                    continue;
                }
                long now = clock.millis();
                List<Stream> got;
                try {
                    got = table.claim(
                            owner,
                            now,
                            now + TERM.toMillis(),
                            config.workers().batch(),
                            config.workers().retry() != null);
                } catch (RuntimeException e) {
                    if (!running) {
                        break;
                    }
                    LOG.warn("triggers: claiming due streams failed (retrying): {}", e.getMessage());
                    got = List.of();
                }
                if (got.isEmpty()) {
                    await(config.workers().delay());
                    continue;
                }
                got.forEach(s -> claimed.add(s.id));
                runBatch(got);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (running) {
                LOG.error("triggers: a pipeline worker stopped by an unexpected failure; restart the server", e);
            }
        }
    }

    private void await(Duration delay) throws InterruptedException {
        synchronized (signal) {
            if (!signalled) {
                TimeUnit.MILLISECONDS.timedWait(signal, delay.toMillis());
            }
            signalled = false;
        }
    }

    /** Extends this server's claims on the streams whose pipelines have not settled yet. */
    private void renew() {
        try {
            table.renew(owner, List.copyOf(claimed), clock.millis() + TERM.toMillis());
        } catch (RuntimeException e) {
            LOG.warn("triggers: renewing stream claims failed (retrying): {}", e.getMessage());
        }
    }

    /** Raised whenever a group of streams has been settled here, for {@link #awaitSettled}. */
    private final Object settled = new Object();

    /**
     * Waits until this server's workers settle something, or {@code millis} pass (other
     * servers settle streams too, and nothing here hears of that).
     */
    void awaitSettled(long millis) throws InterruptedException {
        synchronized (settled) {
            settled.wait(Math.max(1, millis));
        }
    }

    private void announceSettled() {
        synchronized (settled) {
            settled.notifyAll();
        }
    }

    /** Flush a group of finished pipelines at least this often, so that completions are not held back. */
    private static final long FLUSH_NANOS = 100_000_000L;

    /** One stream's pipeline run, not yet settled: its new state and the events it made. */
    private static final class Run {
        final Stream stream;
        final boolean firing;
        final Debug debug;
        List<ObjectNode> fresh = List.of();
        String error;

        Run(Stream stream, boolean firing, Debug debug) {
            this.stream = stream;
            this.firing = firing;
            this.debug = debug;
        }
    }

    /**
     * Runs claimed streams' pipelines one after the other and settles them in groups: the new
     * events of a group in one append, then the group's outcomes in one transaction (a group is
     * flushed at least every 100 ms). A crash before a group is settled runs its streams again.
     *
     * @return for each stream, null when it completed, else why not
     */
    private List<String> runBatch(List<Stream> streams) {
        Map<Long, io.sluice.core.log.StoredEvent> events = read(streams);
        List<String> outcomes = new ArrayList<>(streams.size());
        List<Run> group = new ArrayList<>();
        long since = System.nanoTime();
        for (int i = 0; i < streams.size(); i++) {
            Stream s = streams.get(i);
            if (!running) {
                outcomes.add("the server stopped before the pipeline ran; it runs again");
                continue; // its claim is given up at close
            }
            busy.incrementAndGet();
            try {
                Run run = run(s, events);
                if (run == null) { // a stop interrupted it: the claim is given up at close
                    outcomes.add("the server stopped while the pipeline ran; it runs again");
                    continue;
                }
                group.add(run);
            } finally {
                busy.decrementAndGet();
            }
            if (i == streams.size() - 1 || System.nanoTime() - since >= FLUSH_NANOS) {
                flush(group, outcomes);
                group.clear();
                since = System.nanoTime();
            }
        }
        flush(group, outcomes);
        announceSettled();
        return outcomes;
    }

    /** Runs one stream's pipeline; null when a stop interrupted it. */
    private Run run(Stream s, Map<Long, io.sluice.core.log.StoredEvent> events) {
        boolean firing = s.state == Stream.State.FIRING || s.state == Stream.State.RETRY_FIRE;
        TriggerDefinition trigger = triggers.get(s.trigger);
        String pipeline = trigger == null ? null : firing ? trigger.firePipeline() : trigger.expirePipeline();
        Run run = new Run(s, firing, trigger != null ? trigger.debug() : new Debug(0));
        if (trigger == null) {
            run.error = "no trigger named '" + s.trigger + "' is defined any more";
        } else if (pipeline != null) {
            try {
                runPipeline(run, config.pipelines().get(pipeline), events);
            } catch (InterruptedException stopping) {
                Thread.currentThread().interrupt();
                return null;
            }
        } else {
            run.debug.bump(
                    firing ? "No fire pipeline for '" + s.trigger + "'" : "No expire pipeline for '" + s.trigger + "'");
        }
        return run;
    }

    /** Stores a group's new events, then settles its streams; adds each outcome. */
    private void flush(List<Run> group, List<String> outcomes) {
        if (group.isEmpty()) {
            return;
        }
        List<ObjectNode> fresh = new ArrayList<>();
        for (Run r : group) {
            if (r.error == null) {
                fresh.addAll(r.fresh);
            }
        }
        if (!fresh.isEmpty()) {
            try {
                log.append(fresh).get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                String why = running ? e.toString() : "the server stopped";
                for (Run r : group) {
                    if (r.error == null && !r.fresh.isEmpty()) {
                        r.error = "its pipeline succeeded but its " + r.fresh.size()
                                + " new events could not be stored: " + why;
                    }
                }
                if (!running) { // not the pipelines' fault: they run again (claims given up at close)
                    group.forEach(r -> outcomes.add(r.error));
                    return;
                }
            }
        }
        WorkerSettings.Retry retry = config.workers().retry();
        for (Run r : group) {
            Stream s = r.stream;
            if (r.error == null) {
                s.state = Stream.State.COMPLETED;
                s.lastError = null;
                s.retryAt = null;
            } else {
                s.state = r.firing ? Stream.State.ERROR : Stream.State.EXPIRE_ERROR;
                s.lastError = r.error;
                s.retryAt = retry == null ? null : retry.next(s.attempts, clock.instant());
                LOG.warn(
                        "triggers: stream {} of {} failed to {} (attempt {}{}): {}",
                        s.id,
                        s.trigger,
                        r.firing ? "fire" : "expire",
                        s.attempts,
                        s.retryAt == null ? "" : ", runs again at " + s.retryAt,
                        r.error);
            }
        }
        boolean[] settled;
        try {
            settled = table.settle(group.stream().map(r -> r.stream).toList(), owner, config.purgeCompletedStreams());
        } catch (RuntimeException e) {
            // the claims lapse and the streams run again (here or elsewhere): at least once
            LOG.warn("triggers: {} streams ran but could not be settled: {}", group.size(), e.getMessage());
            for (Run r : group) {
                claimed.remove(r.stream.id);
                outcomes.add("the stream ran but could not be settled (it runs again): " + e.getMessage());
            }
            return;
        }
        for (int i = 0; i < group.size(); i++) {
            Run r = group.get(i);
            Stream s = r.stream;
            claimed.remove(s.id);
            if (!settled[i]) {
                claimsLost.increment();
                LOG.warn(
                        "triggers: stream {} ran past its claim and another server ran it again; this run's outcome is dropped",
                        s.id);
                outcomes.add("another server took the stream over while its pipeline ran here");
                continue;
            }
            s.ranBy = owner;
            if (r.error == null) {
                r.debug.bump(r.firing ? "Streams fired" : "Streams expired");
                finished.computeIfAbsent(s.trigger + (r.firing ? ":fired" : ":expired"), k -> Counter.builder(
                                        "sluice.triggers.streams")
                                .description("Streams fired or expired in this server, by trigger")
                                .tag("trigger", s.trigger)
                                .tag("outcome", r.firing ? "fired" : "expired")
                                .register(meters))
                        .increment();
            }
            TriggerEngine.StreamListener l = listener;
            if (l != null) {
                l.finished(s.id, s.trigger, s.distinguishedBy.deepCopy(), r.firing, r.error);
            }
            outcomes.add(r.error);
        }
    }

    /**
     * Runs a pipeline over a stream's events, its handlers' commits or rollbacks included; leaves
     * the new events it produced (to be appended with its group) or the error in {@code run}.
     *
     * @throws InterruptedException when a stop interrupted it (rolled back)
     */
    private void runPipeline(Run run, PipelineDefinition pipeline, Map<Long, io.sluice.core.log.StoredEvent> read)
            throws InterruptedException {
        Stream s = run.stream;
        Debug debug = run.debug;
        List<ObjectNode> events = events(s, read);
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
                // the server is stopping, not the pipeline failing: the stream runs again, here
                // at the next start or on another server
                throw new InterruptedException("stopping");
            }
            run.error = "pipeline " + pipeline.name() + ": " + e;
            return;
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
        run.fresh = current.stream()
                .filter(e ->
                        !ids.contains(e.path("message_id").asText(e.path("id").asText())))
                .toList();
    }

    /**
     * The events of these streams, read from the log in ranges (streams made due together
     * usually have their events near each other) rather than one query per event.
     */
    private Map<Long, io.sluice.core.log.StoredEvent> read(List<Stream> streams) {
        java.util.TreeSet<Long> wanted = new java.util.TreeSet<>();
        streams.forEach(s -> wanted.addAll(s.offsets));
        return read(store, wanted);
    }

    static Map<Long, io.sluice.core.log.StoredEvent> read(EventStore store, java.util.NavigableSet<Long> wanted) {
        Map<Long, io.sluice.core.log.StoredEvent> out = new HashMap<>();
        List<Long> sorted = new ArrayList<>(wanted);
        int i = 0;
        while (i < sorted.size()) {
            // one query for a run of wanted offsets close together (gaps of at most 32, within 1,024)
            int j = i;
            while (j + 1 < sorted.size()
                    && sorted.get(j + 1) - sorted.get(j) <= 32
                    && sorted.get(j + 1) - sorted.get(i) < 1_024) {
                j++;
            }
            long from = sorted.get(i);
            long to = sorted.get(j);
            try {
                for (io.sluice.core.log.StoredEvent e :
                        store.read(from - 1, (int) (to - from + 1), e -> true).events()) {
                    if (e.offset() <= to && wanted.contains(e.offset())) {
                        out.put(e.offset(), e);
                    }
                }
            } catch (io.sluice.core.log.OffsetOutOfRangeException gone) {
                // retention deleted the start of the run: what is left of it, one event at a time
                for (int k = i; k <= j; k++) {
                    long offset = sorted.get(k);
                    try {
                        List<io.sluice.core.log.StoredEvent> one =
                                store.read(offset - 1, 1, e -> true).events();
                        if (!one.isEmpty() && one.getFirst().offset() == offset) {
                            out.put(offset, one.getFirst());
                        }
                    } catch (io.sluice.core.log.OffsetOutOfRangeException deleted) {
                        // gone: the stream's pipeline runs without it (logged by the caller)
                    }
                }
            }
            i = j + 1;
        }
        return out;
    }

    /** A stream's events from the log, distilled as the triggers saw them, by timestamp (stable for equal ones). */
    List<ObjectNode> events(Stream s) {
        return events(s, read(List.of(s)));
    }

    private List<ObjectNode> events(Stream s, Map<Long, io.sluice.core.log.StoredEvent> read) {
        List<ObjectNode> out = new ArrayList<>();
        for (long offset : s.offsets) {
            io.sluice.core.log.StoredEvent stored = read.get(offset);
            if (stored == null) {
                LOG.warn("triggers: event {} of stream {} is no longer in the log (retention)", offset, s.id);
                continue;
            }
            ObjectNode e;
            try {
                e = TriggerEngine.distilled(distiller, Json.parse(stored.json()));
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

    @Override
    public void close() {
        running = false;
        threads.forEach(Thread::interrupt);
        renewer.shutdownNow();
        for (Thread t : threads) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            table.release(owner, List.copyOf(claimed)); // others (or the next start) run them at once
        } catch (RuntimeException e) {
            // the store is closing: the claims expire by themselves
        }
        claimed.clear();
    }
}
