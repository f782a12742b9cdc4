package io.sluice.core.route;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.api.Json;
import io.sluice.api.component.Message;
import io.sluice.api.component.Sink;
import io.sluice.core.deliver.DeadLetters;
import io.sluice.core.deliver.Deliverer;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.LiveEvents;
import io.sluice.core.query.StandingQuery;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Routing by key (PySeps, done durably): the standing queries, one {@link Route} per output
 * (and one for the queries that go nowhere, which are only counted), and the dead-letter list.
 *
 * <pre>
 *   apply(edits) ─► QueryBook (versions, switch offset, store) ─► shared QueryIndex
 *   log ─► Route "output:broker" ─► match ─► Deliverer ─► Sink (amqp) ─► checkpoint
 *       ─► Route "output:hook"   ─► match ─► Deliverer ─► Sink (webhook) ─► checkpoint
 *       ─► Route "queries"       ─► match ─► counts only
 *   failed deliveries ─► DeadLetters ─► replay / delete
 * </pre>
 *
 * One output being down never delays another: each route reads the log at its own pace.
 */
public final class Router implements AutoCloseable {
    /**
     * An output: its sink and how hard to try.
     *
     * @param name the output's name in the configuration
     * @param sink where its messages go
     * @param policy retries before a message is parked
     */
    public record Output(String name, Sink sink, Deliverer.Policy policy, java.time.Duration linger) {}

    private final EventStore store;
    private final QueryBook book;
    private final DeadLetters deadLetters;
    private final Counters counters = new Counters();
    private final Map<String, Route> routes = new LinkedHashMap<>(); // by output name; "" for none
    private final Clock clock;

    /**
     * Opens the router: loads the standing queries from the store and prepares a route per
     * output. {@link #start} starts reading.
     *
     * @param defaultOutput where queries without an {@code output} go; null: nowhere (counted only)
     */
    public Router(
            EventStore store,
            LiveEvents live,
            List<Output> outputs,
            String defaultOutput,
            Clock clock,
            MeterRegistry meters) {
        this.store = store;
        this.clock = clock;
        Map<String, Output> byName = new LinkedHashMap<>();
        for (Output o : outputs) {
            if (byName.put(o.name(), o) != null) {
                throw new IllegalArgumentException("two outputs are named '" + o.name() + "'");
            }
        }
        if (defaultOutput != null && !byName.containsKey(defaultOutput)) {
            throw new IllegalArgumentException("default_output: no output is named '" + defaultOutput + "' (outputs: "
                    + String.join(", ", byName.keySet()) + ")");
        }
        this.deadLetters = new DeadLetters(store, clock);
        // the switch offset is read from the database itself: with other servers appending, the
        // cached head may lag behind events their routes have already matched
        this.book = new QueryBook(new QueryTables(store), store::committedOffset, q -> {
            String name = q.output() != null ? q.output() : defaultOutput;
            if (name != null && !byName.containsKey(name)) {
                throw new IllegalArgumentException("query '" + q.name() + "': field 'output': no output is named '"
                        + name + "' ("
                        + (byName.isEmpty() ? "none is configured" : "outputs: " + String.join(", ", byName.keySet()))
                        + ")");
            }
            return name;
        });
        for (QueryTables.StatsRow row : book.load()) {
            QueryCounts c = counters.of(row.name());
            c.matches.set(row.matches());
            c.lastMatch.set(row.lastMatch());
            c.delivered.set(row.delivered());
            c.deadLettered.set(row.deadLettered());
            c.dirty = false;
        }
        for (Output o : byName.values()) {
            Deliverer d = new Deliverer(
                    Route.readerName(o.name()),
                    o.sink(),
                    o.policy(),
                    deadLetters,
                    new Deliverer.Outcomes() {
                        @Override
                        public void delivered(Message m) {
                            QueryCounts c = counters.of(m.source());
                            c.delivered.incrementAndGet();
                            c.pending.updateAndGet(n -> Math.max(0, n - 1));
                            c.dirty = true;
                        }

                        @Override
                        public void parked(Message m) {
                            QueryCounts c = counters.of(m.source());
                            c.deadLettered.incrementAndGet();
                            c.pending.updateAndGet(n -> Math.max(0, n - 1));
                            c.dirty = true;
                        }
                    },
                    meters);
            routes.put(o.name(), new Route(o.name(), d, book, counters, store, live, deadLetters, clock, o.linger()));
        }
        routes.put("", new Route(null, null, book, counters, store, live, deadLetters, clock, java.time.Duration.ZERO));
        for (Route r : routes.values()) {
            Gauge.builder("sluice.route.lag", r, x -> Math.max(0, store.lastOffset() - x.position()))
                    .description("Events in the log the route has not matched and delivered yet")
                    .tag("reader", r.reader())
                    .register(meters);
        }
        Gauge.builder("sluice.queries.active", book, b -> b.active().size())
                .description("Standing queries in the active set")
                .register(meters);
    }

    /** Starts the routes' readers. */
    public void start() {
        routes.values().forEach(Route::start);
        forgetRetired();
    }

    /** Applies edits of the standing queries as one atomic change; see {@link QueryBook#apply}. */
    public QueryBook.Applied apply(List<QueryBook.Edit> edits) {
        QueryBook.Applied applied = book.apply(edits);
        forgetRetired();
        return applied;
    }

    /** Drops retired query versions that every route's checkpoint has passed. */
    public void forgetRetired() {
        long through =
                routes.values().stream().mapToLong(Route::checkpointed).min().orElse(0);
        book.forgetThrough(through);
    }

    /** The active standing queries, by name. */
    public List<ObjectNode> list() {
        book.sync(); // what other servers on the store applied
        List<ObjectNode> out = new ArrayList<>();
        book.active().stream()
                .sorted(Comparator.comparing(v -> v.query().name()))
                .forEach(v -> out.add(status(v)));
        return out;
    }

    /** One active query's status. */
    public Optional<ObjectNode> status(String name) {
        book.sync(); // what other servers on the store applied
        QueryBook.Version v = book.active(name);
        return v == null ? Optional.empty() : Optional.of(status(v));
    }

    /** Whether exactly this query document (batch, key, output, query and all) is active. */
    public boolean isActive(StandingQuery query) {
        QueryBook.Version v = book.active(query.name());
        return v != null && v.query().toJson().equals(query.toJson());
    }

    /** The active query of that name, for following its matches live. */
    public Optional<StandingQuery> query(String name) {
        QueryBook.Version v = book.active(name);
        return v == null ? Optional.empty() : Optional.of(v.query());
    }

    /** The batch id active now and the offset it switched at, with the routes' positions. */
    public ObjectNode summary() {
        book.sync(); // what other servers on the store applied
        ObjectNode o = Json.object();
        o.put("batch", book.batch());
        o.put("switched_at", book.switchedAt());
        o.put("active", book.active().size());
        o.put("versions", book.versions());
        ObjectNode rs = o.putObject("outputs");
        for (Route r : routes.values()) {
            if (r.output() == null) {
                continue;
            }
            ObjectNode ro = rs.putObject(r.output());
            ro.put("position", r.position());
            ro.put("checkpoint", r.checkpointed());
            ro.put("lag", Math.max(0, store.lastOffset() - r.position()));
            ro.put("routed_here", r.leading()); // with several servers, only one routes an output
            ro.put("connected", r.deliverer().connected());
            ro.put("last_error", r.deliverer().lastError());
        }
        return o;
    }

    private ObjectNode status(QueryBook.Version v) {
        StandingQuery q = v.query();
        ObjectNode o = q.toJson();
        o.put("output", v.output());
        QueryCounts c = counters.of(q.name());
        o.put("matches", c.matches.get());
        long last = c.lastMatch.get();
        o.put("last_match", last == 0 ? null : Instant.ofEpochMilli(last).toString());
        o.put("delivered", c.delivered.get());
        o.put("pending", c.pending.get());
        o.put("dead_lettered", c.deadLettered.get());
        o.put("since_offset", v.added.at);
        return o;
    }

    /** The dead-letter list. */
    public DeadLetters deadLetters() {
        return deadLetters;
    }

    /**
     * Delivers a dead letter again through its output; on success it leaves the list.
     *
     * @return null when delivered, else why not
     * @throws IllegalArgumentException when there is no such dead letter
     */
    public String replay(long id, Duration timeout) throws InterruptedException {
        DeadLetters.DeadLetter letter =
                deadLetters.get(id).orElseThrow(() -> new IllegalArgumentException("no dead letter " + id));
        Route route = routes.values().stream()
                .filter(r -> r.reader().equals(letter.reader()))
                .findFirst()
                .orElse(null);
        if (route == null) {
            return "its output (" + letter.reader() + ") is not configured any more";
        }
        try {
            return route.replay(letter).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return e.getCause().getMessage();
        } catch (TimeoutException e) {
            return "the output did not answer within " + timeout.toSeconds() + " s (it may be retrying its backlog)";
        }
    }

    /** Deletes a dead letter; whether there was one. */
    public boolean deleteDeadLetter(long id) {
        Optional<DeadLetters.DeadLetter> letter = deadLetters.get(id);
        boolean deleted = deadLetters.delete(id);
        if (deleted) {
            QueryCounts c = counters.of(letter.get().message().source());
            c.deadLettered.updateAndGet(n -> Math.max(0, n - 1));
            c.dirty = true;
        }
        return deleted;
    }

    @Override
    public void close() {
        routes.values().forEach(Route::close);
    }

    /** The queries' counters, by name. */
    static final class Counters {
        private final Map<String, QueryCounts> byName = new ConcurrentHashMap<>();

        QueryCounts of(String name) {
            return byName.computeIfAbsent(Objects.requireNonNull(name), n -> new QueryCounts());
        }

        boolean dirty() {
            for (QueryCounts c : byName.values()) {
                if (c.dirty) {
                    return true;
                }
            }
            return false;
        }

        List<QueryTables.StatsRow> takeDirty() {
            List<QueryTables.StatsRow> rows = new ArrayList<>();
            byName.forEach((name, c) -> {
                if (c.dirty) {
                    c.dirty = false;
                    rows.add(c.row(name));
                }
            });
            return rows;
        }
    }
}
