package io.sluice.core.route;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.core.query.StandingQuery;
import io.sluice.query.Query;
import io.sluice.query.QueryIndex;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The standing queries of a server, every version of each, in one shared {@link QueryIndex}.
 *
 * <h2>Implementation notes</h2>
 *
 * <p><b>Versions valid over offsets.</b> Every change (a new batch, a query put or deleted)
 * switches at one log offset {@code S}: the versions it adds are valid for events after
 * {@code S}, the versions it retires for events up to {@code S}. Each route reads the log at
 * its own pace (an output that was down is behind the others), so a version retired at
 * {@code S} stays in the index until every route's durable checkpoint has passed {@code S};
 * a route matching event {@code o} accepts a hit only when the version is valid at {@code o}.
 * That makes a batch switch atomic for every route, even one replaying an hour-old backlog
 * after a restart: no event is matched against a mix of two batches.
 *
 * <p><b>Choosing S.</b> A change is written to the store and its versions put in the index as
 * <em>pending</em> (valid nowhere) first. Then, under the write lock of {@link #matching}'s
 * read-write lock, {@code S} is read as the log's last committed offset (from the database
 * itself on a shared store, {@link io.sluice.core.log.EventStore#committedOffset}) and set on the change
 * in one volatile write: O(1) whatever the change's size, so matching never pauses for longer
 * than that. Routes match under the read lock, so an event is matched either wholly before
 * the switch (and its offset is at most {@code S}, as it was committed before {@code S} was
 * read) or wholly after it. Retired versions point at the change that retired them, whose
 * offset is "never" until the switch: they stay valid until the same single write.
 *
 * <p><b>Crashes.</b> The switch offset is written to the store right after the switch;
 * until it is durable, routes do not checkpoint past {@code S} ({@link #safeCheckpoint}), so
 * a crash in between re-matches, rather than forgets, what the change already routed. A
 * change whose offset never became durable was not acknowledged and is forgotten on start.
 *
 * <p>Changes are serialised ({@code synchronized}); readers never block each other.
 */
public final class QueryBook {
    /** The offset of a change that has not switched yet: valid nowhere. */
    static final long PENDING = Long.MAX_VALUE;

    /** One applied (or applying) change. */
    static final class Change {
        final long id;
        final String batch;
        volatile long at = PENDING;

        Change(long id, String batch) {
            this.id = id;
            this.batch = batch;
        }
    }

    /** One version of a standing query. */
    public static final class Version {
        final long id;
        final String key;
        final StandingQuery query;
        final String output; // resolved: the query's output, else the default; null for none
        final Change added;
        volatile Change retired;

        Version(long id, StandingQuery query, String output, Change added) {
            this.id = id;
            this.key = Long.toString(id);
            this.query = query;
            this.output = output;
            this.added = added;
        }

        /** The standing query. */
        public StandingQuery query() {
            return query;
        }

        /** The output its matches go to, or null for none. */
        public String output() {
            return output;
        }

        boolean validAt(long offset) {
            Change r = retired;
            return added.at < offset && (r == null || offset <= r.at);
        }
    }

    /** An edit of the active set. */
    public sealed interface Edit {
        /** Adds or replaces a query; a new batch id replaces the whole active set first (PySeps). */
        record Put(StandingQuery query) implements Edit {}

        /** Replaces the active set by exactly these queries (possibly none) under batch {@code batch}. */
        record Batch(String batch, List<StandingQuery> queries) implements Edit {}

        /** Deletes one query by name. */
        record Delete(String name) implements Edit {}
    }

    /**
     * What a change did.
     *
     * @param batch the batch active after it
     * @param at the log offset it switched at: events after it see the new set
     * @param put the names added or replaced
     * @param removed the names no longer active
     */
    public record Applied(String batch, long at, List<String> put, List<String> removed) {}

    /** A query name that is not active. */
    public static final class NoSuchQueryException extends IllegalArgumentException {
        public NoSuchQueryException(String name) {
            super("no standing query named '" + name + "'");
        }
    }

    /** Decides which output a query's matches go to, or rejects the query. */
    public interface Outputs {
        /**
         * @return the output's name, or null to route nowhere (matches are only counted)
         * @throws IllegalArgumentException naming the unknown output
         */
        String resolve(StandingQuery query);
    }

    private final QueryTables tables;
    private final LongSupplier logHead;
    private final Outputs outputs;
    private final QueryIndex index = new QueryIndex();
    private final Map<String, Version> byKey = new ConcurrentHashMap<>();
    private final Map<String, Version> live = new ConcurrentHashMap<>();
    private final Map<String, Integer> perOutput = new ConcurrentHashMap<>(); // versions in the index per output
    private final ReentrantReadWriteLock switching = new ReentrantReadWriteLock();
    private volatile Change last; // the latest switched change: its batch is the active one
    private volatile long unsafeFrom = PENDING;
    private long nextVersion = 1;
    private long nextChange = 1;

    QueryBook(QueryTables tables, LongSupplier logHead, Outputs outputs) {
        this.tables = tables;
        this.logHead = logHead;
        this.outputs = outputs;
    }

    /** Loads what the store holds; returns the statistics rows for the caller. */
    synchronized List<QueryTables.StatsRow> load() {
        QueryTables.Loaded loaded;
        if (tables.shared()) { // a change another server is applying is not ours to forget
            tables.lock(LOCK_WAIT);
            try {
                loaded = tables.load();
            } finally {
                tables.unlock();
            }
        } else {
            loaded = tables.load();
        }
        Map<Long, Change> changes = new HashMap<>();
        for (QueryTables.ChangeRow c : loaded.changes()) {
            Change change = new Change(c.id(), c.batch());
            change.at = c.at();
            changes.put(c.id(), change);
            last = change;
            known = c.id();
            nextChange = Math.max(nextChange, c.id() + 1);
        }
        Map<String, Query> queries = new LinkedHashMap<>();
        for (QueryTables.VersionRow row : loaded.versions()) {
            StandingQuery q = StandingQuery.fromJson(Json.parse(row.doc()));
            String output;
            try {
                output = outputs.resolve(q);
            } catch (IllegalArgumentException e) {
                org.slf4j.LoggerFactory.getLogger(QueryBook.class)
                        .warn("standing query '{}': {}; its matches are only counted", q.name(), e.getMessage());
                output = null;
            }
            Version v = new Version(row.id(), q, output, changes.get(row.added()));
            if (row.retired() != null) {
                v.retired = changes.get(row.retired());
            } else {
                live.put(q.name(), v);
            }
            byKey.put(v.key, v);
            perOutput.merge(String.valueOf(output), 1, Integer::sum);
            queries.put(v.key, q.query());
            nextVersion = Math.max(nextVersion, row.id() + 1);
        }
        index.putAll(queries);
        return loaded.stats();
    }

    /**
     * Applies edits as one change, atomically at one log offset; durable when this returns.
     *
     * @throws IllegalArgumentException when an edit is invalid (an unknown output, a query to
     *     delete that is not active); nothing changes then
     */
    public synchronized Applied apply(List<Edit> edits) {
        if (!tables.shared()) {
            return applyHere(edits);
        }
        // Several servers: one applies at a time, on the active set as the last change left it.
        tables.lock(LOCK_WAIT);
        try {
            tables.dropUnswitched(); // a change whose server died while applying it
            sync();
            nextVersion = Math.max(nextVersion, tables.maxVersion() + 1);
            return applyHere(edits);
        } finally {
            tables.unlock();
        }
    }

    private static final java.time.Duration LOCK_WAIT = java.time.Duration.ofSeconds(30);

    /** The id of the last change this book knows (applied here or read from the store). */
    private long known;

    /**
     * On a store shared with other servers: takes in the changes they applied since the last
     * call, so that this server matches (and lists) the same queries at the same offsets.
     *
     * <p>A route calls this after reading a batch of events and before matching it. Exact, by the
     * same argument as the switch under the write lock: a change's row is committed (without an
     * offset) before its server reads the log head {@code S}; an event after {@code S} is
     * committed after that read; so a route that has read such an event and then looks finds
     * the change, waits for its offset if it has none yet (its server is between the two
     * writes), and matches the event with the change's versions.
     */
    public void sync() {
        if (!tables.shared()) {
            return; // every change is this server's own: routes match without taking the book's lock
        }
        synchronized (this) {
            adoptOthersChanges();
        }
    }

    private void adoptOthersChanges() {
        List<QueryTables.ChangeRow> rows = tables.changesAfter(known);
        if (rows.isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + LOCK_WAIT.toNanos();
        while (rows.stream().anyMatch(r -> r.at() == null)) {
            // another server is switching: wait for its offset, unless it died doing so
            if (tables.unlocked() || System.nanoTime() > deadline) {
                rows = rows.stream().filter(r -> r.at() != null).toList();
                break;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            rows = tables.changesAfter(known);
        }
        if (rows.isEmpty()) {
            return;
        }
        long through = rows.getLast().id();
        Map<Long, Change> changes = new HashMap<>();
        for (QueryTables.ChangeRow r : rows) {
            Change c = new Change(r.id(), r.batch());
            c.at = r.at();
            changes.put(c.id, c);
        }
        QueryTables.Touched touched = tables.touchedAfter(known, through);
        Map<String, Query> queries = new LinkedHashMap<>();
        List<Version> added = new ArrayList<>();
        for (QueryTables.VersionRow row : touched.versions()) {
            Version v = byKey.get(Long.toString(row.id()));
            if (v == null) {
                StandingQuery q = StandingQuery.fromJson(Json.parse(row.doc()));
                String output;
                try {
                    output = outputs.resolve(q);
                } catch (IllegalArgumentException e) {
                    output = null; // another server's outputs: its matches are only counted here
                }
                Change at = changes.get(row.added());
                if (at == null) {
                    continue; // added by a change that never switched
                }
                v = new Version(row.id(), q, output, at);
                added.add(v);
                byKey.put(v.key, v);
                perOutput.merge(String.valueOf(output), 1, Integer::sum);
                queries.put(v.key, q.query());
            }
            if (row.retired() != null && changes.containsKey(row.retired())) {
                v.retired = changes.get(row.retired());
            }
        }
        index.putAll(queries); // each valid only after its change's offset, already set
        Change first = changes.get(rows.getFirst().id());
        for (Version v : List.copyOf(live.values())) {
            if (!touched.active().contains(v.id) && v.retired == null) {
                // retired by a change whose rows were forgotten since: every route has passed it
                v.retired = first;
            }
            if (v.retired != null) {
                live.remove(v.query.name(), v);
            }
        }
        for (Version v : added) {
            if (v.retired == null) {
                live.put(v.query.name(), v);
            }
        }
        last = changes.get(through);
        known = through;
        nextChange = Math.max(nextChange, through + 1);
        for (Version v : added) {
            nextVersion = Math.max(nextVersion, v.id + 1);
        }
    }

    private Applied applyHere(List<Edit> edits) {
        String batch = last == null ? null : last.batch;
        Map<String, Version> next = new LinkedHashMap<>(live); // the active set as the edits go
        Map<String, StandingQuery> put = new LinkedHashMap<>();
        Map<String, String> resolved = new HashMap<>();
        for (Edit edit : edits) {
            switch (edit) {
                case Edit.Put p -> {
                    StandingQuery q = p.query();
                    if (q.batch() != null && !q.batch().equals(batch)) {
                        batch = q.batch();
                        next.clear();
                        put.clear();
                    }
                    resolved.put(q.name(), outputs.resolve(q));
                    put.put(q.name(), q);
                    next.remove(q.name());
                }
                case Edit.Batch b -> {
                    batch = b.batch();
                    next.clear();
                    put.clear();
                    for (StandingQuery q : b.queries()) {
                        resolved.put(q.name(), outputs.resolve(q));
                        put.put(q.name(), q);
                    }
                }
                case Edit.Delete d -> {
                    if (next.remove(d.name()) == null && put.remove(d.name()) == null) {
                        throw new NoSuchQueryException(d.name());
                    }
                }
            }
        }
        // Everything active now that is not in `next` (kept as it was) is retired.
        List<Version> retired = new ArrayList<>();
        for (Version v : live.values()) {
            if (next.get(v.query.name()) != v) {
                retired.add(v);
            }
        }
        Change change = new Change(nextChange, batch);
        List<Version> added = new ArrayList<>();
        List<QueryTables.VersionRow> rows = new ArrayList<>();
        long id = nextVersion;
        for (StandingQuery q : put.values()) {
            Version v = new Version(id++, q, resolved.get(q.name()), change);
            added.add(v);
            rows.add(new QueryTables.VersionRow(v.id, q.name(), Json.write(q.toJson()), change.id, null));
        }
        tables.begin(change.id, batch, rows, retired.stream().map(v -> v.id).toList());
        nextChange++;
        nextVersion = id;

        Map<String, Query> queries = new LinkedHashMap<>();
        for (Version v : added) {
            byKey.put(v.key, v);
            perOutput.merge(String.valueOf(v.output), 1, Integer::sum);
            queries.put(v.key, v.query.query());
        }
        index.putAll(queries); // pending: valid nowhere yet
        for (Version v : retired) {
            v.retired = change; // still valid everywhere: the change has not switched
        }
        long at;
        switching.writeLock().lock();
        try {
            at = logHead.getAsLong();
            change.at = at;
            unsafeFrom = Math.min(unsafeFrom, at);
        } finally {
            switching.writeLock().unlock();
        }
        for (Version v : retired) {
            live.remove(v.query.name(), v);
        }
        for (Version v : added) {
            live.put(v.query.name(), v);
        }
        last = change;
        known = change.id;
        try {
            tables.switched(change.id, at);
        } finally {
            unsafeFrom = PENDING; // on failure the server is in trouble anyway; the store says so
        }
        return new Applied(
                batch,
                at,
                List.copyOf(put.keySet()),
                retired.stream()
                        .map(v -> v.query.name())
                        .filter(n -> !put.containsKey(n))
                        .toList());
    }

    /**
     * Runs {@code work} (a route matching a batch of events) so that no change switches
     * during it.
     */
    void matching(Runnable work) {
        switching.readLock().lock();
        try {
            work.run();
        } finally {
            switching.readLock().unlock();
        }
    }

    /** The versions valid at {@code offset} that {@code document} matches (call inside {@link #matching}). */
    void match(JsonNode document, long offset, Consumer<Version> hits) {
        index.match(document, key -> {
            Version v = byKey.get(key);
            if (v != null && v.validAt(offset)) {
                hits.accept(v);
            }
        });
    }

    /** Whether any version routes to {@code output} (null: none), so a route with nothing to match skips matching. */
    boolean routesTo(String output) {
        return perOutput.getOrDefault(String.valueOf(output), 0) > 0;
    }

    /** The highest offset a route may checkpoint when it has processed through {@code position}. */
    long safeCheckpoint(long position) {
        return Math.min(position, unsafeFrom);
    }

    /**
     * Forgets the versions retired at or before {@code through}, the lowest checkpoint of all
     * routes: no route will match those offsets again.
     */
    synchronized void forgetThrough(long through) {
        List<Version> gone = new ArrayList<>();
        for (Version v : byKey.values()) {
            Change r = v.retired;
            if (r != null && r.at != PENDING && r.at <= through) {
                gone.add(v);
            }
        }
        if (gone.isEmpty()) {
            return;
        }
        tables.forget(gone.stream().map(v -> v.id).toList(), last == null ? 0 : last.id);
        List<String> keys = new ArrayList<>();
        for (Version v : gone) {
            byKey.remove(v.key);
            perOutput.merge(String.valueOf(v.output), -1, Integer::sum);
            keys.add(v.key);
        }
        index.removeAll(keys);
    }

    /** The active queries, by name. */
    public Collection<Version> active() {
        return live.values();
    }

    /** The active version of a query, or null. */
    public Version active(String name) {
        return live.get(name);
    }

    /** The active batch's id, or null. */
    public String batch() {
        Change c = last;
        return c == null ? null : c.batch;
    }

    /** The log offset the active set switched at (events after it see it), or 0. */
    public long switchedAt() {
        Change c = last;
        return c == null ? 0 : c.at;
    }

    /** Versions in the index, the active ones and those retired ones some route may still need. */
    public int versions() {
        return byKey.size();
    }
}
