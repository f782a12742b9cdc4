package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.util.function.Function;
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
    private final Thread renewer;
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
        this.owner = ManagementFactory.getRuntimeMXBean().getName() + "/"
                + Long.toHexString(Double.doubleToLongBits(Math.random())).substring(0, 6);
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
        this.renewer =
                Thread.ofPlatform().daemon().name("sluice-pipeline-claims").unstarted(this::renew);
    }

    void start() {
        threads.forEach(Thread::start);
        renewer.start();
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
                    r.outcome().complete(run(r.stream()));
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
                for (int i = 0; i < got.size() && running; i++) {
                    run(got.get(i));
                }
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

    /** Extends this server's claims while their pipelines run; gives them up at a clean stop. */
    private void renew() {
        try {
            while (running) {
                Thread.sleep(TERM.toMillis() / 3);
                try {
                    table.renew(owner, List.copyOf(claimed), clock.millis() + TERM.toMillis());
                } catch (RuntimeException e) {
                    LOG.warn("triggers: renewing stream claims failed (retrying): {}", e.getMessage());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Runs one claimed stream's pipeline and settles it.
     *
     * @return null when it completed, else why not
     */
    private String run(Stream s) {
        busy.incrementAndGet();
        boolean keepClaim = false; // a stop interrupted the pipeline: the claim is given up at close
        try {
            boolean firing = s.state == Stream.State.FIRING || s.state == Stream.State.RETRY_FIRE;
            TriggerDefinition trigger = triggers.get(s.trigger);
            String pipeline = trigger == null ? null : firing ? trigger.firePipeline() : trigger.expirePipeline();
            Debug debug = trigger != null ? trigger.debug() : new Debug(0);
            String error = null;
            if (trigger == null) {
                error = "no trigger named '" + s.trigger + "' is defined any more";
            } else if (pipeline != null) {
                try {
                    error = runPipeline(s, config.pipelines().get(pipeline), debug);
                } catch (InterruptedException stopping) {
                    // the server is stopping: the stream stays claimed-then-released, and runs again
                    Thread.currentThread().interrupt();
                    keepClaim = true;
                    return "the server stopped while the pipeline ran; it runs again";
                }
            } else {
                debug.bump(
                        firing
                                ? "No fire pipeline for '" + s.trigger + "'"
                                : "No expire pipeline for '" + s.trigger + "'");
            }
            if (error == null) {
                s.state = Stream.State.COMPLETED;
                s.lastError = null;
                s.retryAt = null;
            } else {
                s.state = firing ? Stream.State.ERROR : Stream.State.EXPIRE_ERROR;
                s.lastError = error;
                WorkerSettings.Retry retry = config.workers().retry();
                var next = retry == null ? null : retry.next(s.attempts, clock.instant());
                s.retryAt = next;
                LOG.warn(
                        "triggers: stream {} of {} failed to {} (attempt {}{}): {}",
                        s.id,
                        s.trigger,
                        firing ? "fire" : "expire",
                        s.attempts,
                        next == null ? "" : ", runs again at " + next,
                        error);
            }
            boolean settled;
            try {
                settled = table.settle(s, owner, config.purgeCompletedStreams());
            } catch (RuntimeException e) {
                // the claim lapses and the stream runs again (here or elsewhere): at least once
                LOG.warn("triggers: stream {} ran but could not be settled: {}", s.id, e.getMessage());
                return "the stream ran but could not be settled (it runs again): " + e.getMessage();
            }
            if (!settled) {
                claimsLost.increment();
                LOG.warn(
                        "triggers: stream {} ran past its claim and another server ran it again; this run's outcome is dropped",
                        s.id);
                return "another server took the stream over while its pipeline ran here";
            }
            s.ranBy = owner;
            if (error == null) {
                debug.bump(firing ? "Streams fired" : "Streams expired");
                finished.computeIfAbsent(s.trigger + (firing ? ":fired" : ":expired"), k -> Counter.builder(
                                        "sluice.triggers.streams")
                                .description("Streams fired or expired in this server, by trigger")
                                .tag("trigger", s.trigger)
                                .tag("outcome", firing ? "fired" : "expired")
                                .register(meters))
                        .increment();
            }
            TriggerEngine.StreamListener l = listener;
            if (l != null) {
                l.finished(s.id, s.trigger, s.distinguishedBy.deepCopy(), firing, error);
            }
            return error;
        } finally {
            if (!keepClaim) {
                claimed.remove(s.id);
            }
            busy.decrementAndGet();
        }
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
                // the server is stopping, not the pipeline failing: the stream runs again, here
                // at the next start or on another server
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
            } catch (Exception e) {
                if (Thread.currentThread().isInterrupted() || !running) {
                    throw new InterruptedException("stopping");
                }
                return "pipeline " + pipeline.name() + " succeeded but its " + fresh.size()
                        + " new events could not be stored: " + e;
            }
        }
        return null;
    }

    /** A stream's events from the log, distilled as the triggers saw them, by timestamp (stable for equal ones). */
    List<ObjectNode> events(Stream s) {
        return events(s, store, doc -> TriggerEngine.distilled(distiller, doc));
    }

    static List<ObjectNode> events(Stream s, EventStore store, Function<JsonNode, ObjectNode> distill) {
        List<ObjectNode> out = new ArrayList<>();
        for (long offset : s.offsets) {
            EventStore.Page page = store.read(offset - 1, 1, e -> true);
            if (page.events().isEmpty() || page.events().getFirst().offset() != offset) {
                LOG.warn("triggers: event {} of stream {} is no longer in the log (retention)", offset, s.id);
                continue;
            }
            ObjectNode e;
            try {
                e = distill.apply(Json.parse(page.events().getFirst().json()));
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
        renewer.interrupt();
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
