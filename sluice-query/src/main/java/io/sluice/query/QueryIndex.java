package io.sluice.query;

import com.fasterxml.jackson.databind.JsonNode;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Many named standing queries, matched together: for one document, the names of every query
 * it matches, at a cost that grows with the number of candidates rather than the number of
 * queries.
 *
 * <pre>{@code
 * QueryIndex index = new QueryIndex();
 * index.put("errors", Query.parse("{\"level\": {\"$in\": [\"error\", \"fatal\"]}}"));
 * List<String> hits = index.match(event);
 * }</pre>
 *
 * <h2>Implementation notes</h2>
 *
 * <p><b>Access predicates.</b> When a query is added, {@link #plan} picks one necessary
 * condition of it that an index can answer: an equality or {@code $all} element (hash by
 * path and value), an {@code $in} of scalars (one hash entry per value), a lower and an upper
 * bound on one path as one interval (in an {@link IntervalTree}, numbers and strings apart,
 * from one operator document or across {@code $and}), a lone range bound ({@code $gt}/{@code
 * $gte} in an ordered map of lower bounds, {@code $lt}/{@code $lte} of upper bounds),
 * {@code $exists: true}, or an {@code $or} whose every branch has one (an entry per branch). Among the conjuncts of a query it picks the one
 * expected to make it a candidate for the fewest events. For an equality that is the key's
 * share among all the equality keys queries use on that path, counted over every condition
 * a query could be indexed under, chosen or not ({@link #keyCounts}): event types repeat from
 * query to query, tenant ids rarely do. Ranges and {@code $exists} cost more than any
 * equality. As counts change, earlier choices can go stale (the first queries see every key
 * once), so the entries under a key are planned again each time its count doubles, at a cost
 * amortised to a constant per query. With few queries every key is seen about once and that
 * share says nothing, so an equality costs the mean of its share and one over the distinct
 * values queries use on its path (event types are few, tenant ids many). An interval costs its
 * width against the spread of the values queries use on its path, at most 1: a lone bound
 * (1.5) and {@code $exists} (2) cost more than any equality, {@code $in} (capped at 1) or
 * interval, a narrow interval less than most equalities and a wide one more than a selective one. A query with no such condition goes to the residue,
 * which every document is checked against.
 *
 * <p><b>Pairs of equalities.</b> When the chosen condition is an equality (or {@code $in}) and
 * the same conjunction has another equality or {@code $in} of strings or booleans on another
 * path, the query is indexed under each pair of keys ({@link #withSecondKey}): under the first
 * path's key, the index keeps which second paths have pairs and the entries under each of
 * their keys ({@code seconds}), and on a hit it resolves those paths in the event and probes
 * their keys there. Many queries sharing one host, say, then make an event a candidate only
 * for those that also name its event type, and the hit proves both conditions. Pair entries are planned again with the
 * entries of their first key ({@code pairEntries}).
 *
 * <p><b>Matching.</b> For each indexed path the document's leaves are walked once (the same
 * walk {@link Query#matches} does, so array traversal is identical) and each scalar leaf, and
 * each element of an array leaf, is looked up in the hash and range structures. Every entry
 * found is a candidate; candidates are de-duplicated with a per-thread stamp array indexed by
 * the entry's slot and confirmed by evaluating what is left of the query once its access
 * predicate holds ({@link #residual}): a hit on a string or boolean equality, an {@code $in}
 * of them or an {@code $exists} proves that conjunct, so {@code {tenant: T}} needs no
 * evaluation at all; numeric keys (which may collide) and range bounds (rounded) prove
 * nothing and the whole query is evaluated. What is left is compiled once per entry into a
 * {@link Check} (string equalities, {@code $in} of strings and {@code $exists} test the leaf
 * directly, without the interface calls of a general expression). A per-thread {@link Memo} remembers what each
 * path resolved to in the event, so evaluating candidates does not walk again the paths the
 * lookups walked (walking the JSON tree is most of the cost of matching). The access
 * predicate being a necessary condition, the result is exactly a linear scan's (a property
 * test holds it to that). Range lookups are inclusive and use keys that order like the values
 * (possibly rounded), so rounding can add candidates but never lose one. Interval lookups run
 * once per path, after its leaves were walked: MongoDB lets the two bounds be met by different
 * values (several leaves, or an array's elements), so a query is a candidate when its interval
 * overlaps [lowest, highest] of the values seen, which for one value is "contains it", with
 * both ends' inclusiveness checked exactly unless a key was rounded. A hit is evaluated.
 *
 * <p><b>Concurrency.</b> Writers are serialised by a lock; readers never lock. Each change
 * (a put, a remove, a whole batch) gets the next version number: new entries carry
 * {@code addedIn = v}, replaced and removed ones {@code removedIn = v}, and only then is the
 * version published. A reader takes the current version and considers only entries visible
 * at it, so it sees the whole old set or the whole new set for an event, never a mix. Index
 * structures are copy-on-write per bucket (a change costs in proportion to the query and its
 * buckets, never a rebuild). A removed entry is unlinked physically only when no reader can
 * still be at a version older than its removal: each thread's matching state ({@link
 * Scratch}, registered with the index when made) publishes the version it is reading at, and
 * re-reads the current version after publishing it; a writer publishes its version first and
 * then reads what the readers publish, so either it sees a reader's older version (and keeps
 * what that reader can see) or the reader sees the new version and starts again at it. That
 * is one fenced store per event, where counting readers in and out took two atomic updates.
 * Unlinking is done by later writes; readers never wait for writers and writers never wait
 * for readers.
 */
public final class QueryIndex {
    private static final Entry[] NO_ENTRIES = new Entry[0];
    private static final long IDLE = Long.MAX_VALUE; // a reader's version when not matching
    private static final PathIndex[] NO_PATHS = new PathIndex[0];
    private static final Comparator<String> CODE_POINT_ORDER = Values::compareStrings;

    // How a candidate was found, as explain() reports it.
    private static final String EQUALITY = "equality";
    private static final String PAIR = "pair";
    private static final String BOUND = "bound";
    private static final String INTERVAL = "interval";
    private static final String EXISTS = "exists";

    private final Object writeLock = new Object();
    private final Map<String, Entry> byName = new ConcurrentHashMap<>();
    private final Map<FieldPath, PathIndex> pathIndexes = new LinkedHashMap<>(); // under writeLock
    /** Every thread's matching state, to learn the oldest version being read. */
    private final Queue<WeakReference<Scratch>> readers = new ConcurrentLinkedQueue<>();

    private volatile int pruneAt = 128; // states kept before those of gone threads are dropped

    private final List<Entry> unlinkPending = new ArrayList<>(); // under writeLock
    private final Slots slots = new Slots(); // under writeLock
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(this::newScratch);

    private volatile long version;
    private volatile PathIndex[] paths = NO_PATHS;
    private volatile Entry[] residue = NO_ENTRIES;
    private volatile int slotCapacity;

    /** Adds a query under {@code name}, replacing the query of that name if there is one. */
    public void put(String name, Query query) {
        update(Map.of(name, query), Set.of(), false);
    }

    /** Adds or replaces several queries at once: matching sees all of them or none. */
    public void putAll(Map<String, Query> queries) {
        update(queries, Set.of(), false);
    }

    /** Removes the query of that name; returns whether there was one. */
    public boolean remove(String name) {
        return update(Map.of(), Set.of(name), false) > 0;
    }

    /** Removes several queries at once; returns how many there were. */
    public int removeAll(Collection<String> names) {
        return update(Map.of(), Set.copyOf(names), false);
    }

    /**
     * Makes the set of queries exactly {@code queries}, atomically: a document is matched
     * either against the old set or against the new one. Queries whose name and query are
     * unchanged are kept as they are; the cost is in proportion to what changed.
     */
    public void replaceAll(Map<String, Query> queries) {
        update(queries, Set.of(), true);
    }

    /** The query of that name, or null. */
    public Query get(String name) {
        Entry e = byName.get(name);
        return e == null ? null : e.query;
    }

    /** The names of all queries, in no particular order. */
    public Set<String> names() {
        return Set.copyOf(byName.keySet());
    }

    /** The number of queries. */
    public int size() {
        return byName.size();
    }

    /** The names of all queries {@code document} matches, in no particular order. */
    public List<String> match(JsonNode document) {
        List<String> names = new ArrayList<>();
        match(document, names::add);
        return names;
    }

    /**
     * Hands the name of every query {@code document} matches to {@code sink}, each once.
     * The sink runs on the calling thread, while the index holds a consistent view.
     */
    public void match(JsonNode document, Consumer<String> sink) {
        match(scratch(), document, sink);
    }

    /**
     * How {@code document} is matched: which indexed paths were looked up, which queries the
     * lookups (or the residue) made candidates, which of those had something left to evaluate,
     * and which matched. The matches are exactly what {@link #match(JsonNode)} returns. For
     * understanding why a query matches or not, and how much work an event costs; slower than
     * {@link #match(JsonNode)}, which it does not slow down.
     */
    public Explanation explain(JsonNode document) {
        Explanation.Recorder recorder = new Explanation.Recorder();
        Scratch s = scratch();
        s.explain = recorder;
        match(s, document, recorder::matched);
        return recorder.explanation();
    }

    /**
     * The thread's matching state; when a sink matches again on this thread, that of the
     * level of nesting (made once, kept for the next time).
     */
    private Scratch scratch() {
        Scratch s = scratch.get();
        while (s.busy) {
            if (s.nested == null) {
                s.nested = newScratch();
            }
            s = s.nested;
        }
        return s;
    }

    private Scratch newScratch() {
        Scratch s = new Scratch();
        readers.add(new WeakReference<>(s));
        if (readers.size() >= pruneAt) { // threads come and go without writes
            pruneAt = 2 * Math.max(readerStates(), 64);
        }
        return s;
    }

    /**
     * The oldest version a thread is matching at, at most {@code now}, forgetting the states
     * of threads that are gone.
     */
    private long oldestReading(long now) {
        long oldest = now;
        for (Iterator<WeakReference<Scratch>> it = readers.iterator(); it.hasNext(); ) {
            Scratch s = it.next().get();
            if (s == null) {
                it.remove();
            } else {
                oldest = Math.min(oldest, s.reading);
            }
        }
        return oldest;
    }

    /** The matching states kept, once those of threads that are gone are dropped. */
    private int readerStates() {
        oldestReading(IDLE);
        return readers.size();
    }

    private void match(Scratch s, JsonNode document, Consumer<String> sink) {
        long version = enter(s);
        try {
            s.begin(document, version, slotCapacity, sink);
            for (PathIndex p : paths) {
                s.path = p;
                if (s.explain != null) {
                    s.explain.lookUp(p.path.dotted());
                }
                s.beginPath();
                p.path.forEachLeaf(document, s, s.memo);
                s.endPath(p);
            }
            s.path = null; // the residue: found by no lookup
            s.by = null;
            for (Entry e : residue) {
                s.offer(e);
            }
        } finally {
            s.end();
        }
    }

    /** Statistics of the index's shape, for metrics and tests. */
    public Stats stats() {
        synchronized (writeLock) {
            int eq = 0;
            int ranges = 0;
            int intervals = 0;
            int exists = 0;
            for (PathIndex p : pathIndexes.values()) {
                eq += p.eq.size();
                for (Seconds seconds : p.seconds.values()) {
                    for (Second second : seconds.paths) {
                        eq += second.byKey.size();
                    }
                }
                ranges += p.numLower.size() + p.numUpper.size() + p.strLower.size() + p.strUpper.size();
                intervals += p.numIntervals.size() + p.strIntervals.size();
                exists += p.exists.length;
            }
            return new Stats(
                    byName.size(),
                    pathIndexes.size(),
                    eq,
                    ranges,
                    intervals,
                    exists,
                    residue.length,
                    unlinkPending.size(),
                    readerStates());
        }
    }

    /**
     * The shape of the index.
     *
     * @param queries number of queries
     * @param paths number of indexed field paths
     * @param hashKeys distinct (path, value) equality keys
     * @param rangeKeys distinct one-sided range bounds
     * @param intervals distinct two-sided ranges (a lower and an upper bound on one path)
     * @param existsEntries queries indexed by {@code $exists: true}
     * @param residue queries checked against every document
     * @param pendingUnlink removed queries not yet unlinked
     * @param readerStates threads' matching states kept (one per thread that has matched,
     *     forgotten once the thread is gone and collected)
     */
    public record Stats(
            int queries,
            int paths,
            int hashKeys,
            int rangeKeys,
            int intervals,
            int existsEntries,
            int residue,
            int pendingUnlink,
            int readerStates) {}

    // ------------------------------------------------------------------ reading

    /** Publishes the version {@code s} reads at, and returns it (see Concurrency above). */
    private long enter(Scratch s) {
        while (true) {
            long v = version;
            s.reading = v; // a volatile store: ordered before the re-read below
            if (version == v) {
                return v;
            }
        }
    }

    /** Per-thread matching state: the candidate stamps and the leaf visitor. */
    private static final class Scratch implements FieldPath.LeafTest, IntervalTree.Visitor {
        private static final VarHandle READING;

        static {
            try {
                READING = MethodHandles.lookup().findVarHandle(Scratch.class, "reading", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** The version this thread is matching at, or {@link #IDLE}; read by writers. */
        volatile long reading = IDLE;

        Scratch nested; // for a sink that matches again on this thread
        final Memo memo = new Memo();
        int[] stamps = new int[64];
        int stamp;
        boolean busy;
        Explanation.Recorder explain; // null except in explain()
        final PairLookup pairs = new PairLookup();
        JsonNode document;
        long version;
        Consumer<String> sink;
        PathIndex path;
        String by; // how the entries being offered were found, for explain()

        // The path's lowest and highest values of each type bracket, for interval lookups.
        int numbersSeen;
        double numMin;
        double numMax;
        boolean numMinExact;
        boolean numMaxExact;
        String strMin;
        String strMax;

        void begin(JsonNode document, long version, int capacity, Consumer<String> sink) {
            busy = true;
            this.document = document;
            memo.reset(document);
            this.version = version;
            this.sink = sink;
            if (stamps.length < capacity) {
                stamps = Arrays.copyOf(stamps, Math.max(capacity, stamps.length * 2));
            }
            if (++stamp == 0) { // wrapped around: old stamps could collide
                Arrays.fill(stamps, 0);
                stamp = 1;
            }
        }

        void end() {
            READING.setRelease(this, IDLE); // no fence: a writer seeing it late only waits longer
            busy = false;
            explain = null;
            document = null;
            sink = null;
            path = null;
        }

        void beginPath() {
            numbersSeen = 0;
            strMin = null;
            strMax = null;
        }

        /**
         * Looks the path's values up among its intervals, once every leaf was walked. A query
         * with a lower and an upper bound on a path matches when some value reaches the lower
         * bound and some value (maybe another: several leaves, or an array's elements) the
         * upper one, that is when its interval overlaps [lowest value, highest value]; for one
         * value, when the interval contains it. A hit proves nothing (the values may differ),
         * so the query is evaluated.
         */
        void endPath(PathIndex p) {
            if (numbersSeen > 0) {
                by = INTERVAL;
                p.numIntervals.overlapping(numMin, numMinExact, numMax, numMaxExact, this);
            }
            if (strMin != null) {
                by = INTERVAL;
                p.strIntervals.overlapping(strMin, true, strMax, true, this);
            }
        }

        @Override
        public void visit(Object entry) {
            offer((Entry) entry);
        }

        private void seeNumber(double key, boolean exact) {
            if (numbersSeen++ == 0) {
                numMin = numMax = key;
                numMinExact = numMaxExact = exact;
                return;
            }
            if (key < numMin) {
                numMin = key;
                numMinExact = exact;
            } else if (key == numMin) {
                numMinExact &= exact;
            }
            if (key > numMax) {
                numMax = key;
                numMaxExact = exact;
            } else if (key == numMax) {
                numMaxExact &= exact;
            }
        }

        private void seeString(String t) {
            if (strMin == null) {
                strMin = strMax = t;
            } else if (Values.compareStrings(t, strMin) < 0) {
                strMin = t;
            } else if (Values.compareStrings(t, strMax) > 0) {
                strMax = t;
            }
        }

        @Override
        public boolean test(JsonNode leaf) {
            if (leaf == null) {
                return false;
            }
            PathIndex p = path;
            if (p.exists.length > 0) {
                by = EXISTS;
                offerAll(p.exists);
            }
            if (leaf.isArray()) {
                for (JsonNode element : leaf) {
                    lookup(p, element);
                }
            } else {
                lookup(p, leaf);
            }
            return false;
        }

        private void lookup(PathIndex p, JsonNode value) {
            if (explain != null) {
                explain.value();
            }
            Object key = Values.hashKey(value);
            if (key != null) {
                Entry[] bucket = p.eq.get(key);
                if (bucket != null) {
                    by = EQUALITY;
                    offerAll(bucket);
                }
                if (!p.seconds.isEmpty()) {
                    Seconds seconds = p.seconds.get(key);
                    if (seconds != null) {
                        by = PAIR;
                        lookupPairs(seconds);
                    }
                }
            }
            if (value.isNumber()) {
                boolean bounds = !p.numLower.isEmpty() || !p.numUpper.isEmpty();
                if (bounds || !p.numIntervals.isEmpty()) {
                    double d = PathIndex.numberOrder(value);
                    if (bounds) {
                        by = BOUND;
                        offerRanges(p.numLower.headMap(d, true).values());
                        offerRanges(p.numUpper.tailMap(d, true).values());
                    }
                    seeNumber(d, PathIndex.exactOrder(value));
                }
            } else if (value.isTextual()) {
                boolean bounds = !p.strLower.isEmpty() || !p.strUpper.isEmpty();
                if (bounds || !p.strIntervals.isEmpty()) {
                    String t = value.textValue();
                    if (bounds) {
                        by = BOUND;
                        offerRanges(p.strLower.headMap(t, true).values());
                        offerRanges(p.strUpper.tailMap(t, true).values());
                    }
                    seeString(t);
                }
            }
        }

        /** Looks up the pairs under a first key: the document's values at each second path. */
        private void lookupPairs(Seconds seconds) {
            for (Second second : seconds.paths) {
                pairs.in(second.byKey);
                second.path.forEachLeaf(document, pairs, memo);
            }
        }

        /**
         * Looks a second path's leaf up among its pairs: a scalar, or each element of an array
         * (one level only, as MongoDB compares an array's elements: in {@code [[true]]} the
         * element is {@code [true]}, which equals no scalar).
         */
        private void lookupPair(Map<Object, Entry[]> byKey, JsonNode leaf) {
            if (leaf == null) {
                return;
            }
            if (leaf.isArray()) {
                for (JsonNode element : leaf) {
                    lookupPairKey(byKey, element);
                }
            } else {
                lookupPairKey(byKey, leaf);
            }
        }

        private void lookupPairKey(Map<Object, Entry[]> byKey, JsonNode value) {
            Object secondKey = Values.hashKey(value);
            if (secondKey != null) {
                Entry[] bucket = byKey.get(secondKey);
                if (bucket != null) {
                    offerAll(bucket);
                }
            }
        }

        /** The leaf visitor of a second path: looks each value up among that path's pairs. */
        final class PairLookup implements FieldPath.LeafTest {
            private Map<Object, Entry[]> byKey;

            void in(Map<Object, Entry[]> byKey) {
                this.byKey = byKey;
            }

            @Override
            public boolean test(JsonNode leaf) {
                lookupPair(byKey, leaf);
                return false;
            }
        }

        private void offerRanges(Collection<Entry[]> buckets) {
            for (Entry[] bucket : buckets) {
                offerAll(bucket);
            }
        }

        private void offerAll(Entry[] entries) {
            for (Entry e : entries) {
                offer(e);
            }
        }

        void offer(Entry e) {
            if (!e.visibleAt(version)) {
                return;
            }
            int slot = e.slot;
            if (slot >= stamps.length) {
                stamps = Arrays.copyOf(stamps, Math.max(slot + 1, stamps.length * 2));
            }
            if (stamps[slot] == stamp) {
                return;
            }
            stamps[slot] = stamp;
            if (explain != null) {
                explain.candidate(e.name, path == null ? null : path.path.dotted(), by, !e.check.always());
            }
            if (e.check.test(document, memo)) {
                sink.accept(e.name);
            }
        }
    }

    // ------------------------------------------------------------------ writing

    private int update(Map<String, Query> puts, Set<String> removes, boolean replaceAll) {
        Objects.requireNonNull(puts, "queries");
        puts.forEach((name, query) -> {
            Objects.requireNonNull(name, "query name");
            Objects.requireNonNull(query, () -> "query " + name);
        });
        synchronized (writeLock) {
            long next = version + 1;
            List<Entry> gone = new ArrayList<>();
            Set<String> toRemove = new HashSet<>(removes);
            if (replaceAll) {
                for (String name : byName.keySet()) {
                    if (!puts.containsKey(name)) {
                        toRemove.add(name);
                    }
                }
            }
            int removed = 0;
            for (String name : toRemove) {
                Entry e = byName.remove(name);
                if (e != null) {
                    e.removedIn = next;
                    gone.add(e);
                    countKeys(e.query, -1);
                    removed++;
                }
            }
            // Count the whole batch's keys first, so that its first queries are planned
            // knowing what the rest of the batch holds.
            List<Map.Entry<String, Query>> changed = new ArrayList<>();
            for (Map.Entry<String, Query> put : puts.entrySet()) {
                Entry old = byName.get(put.getKey());
                if (old != null && replaceAll && old.query.equals(put.getValue())) {
                    continue; // unchanged by the new batch: keep it as it is
                }
                if (old != null) {
                    countKeys(old.query, -1);
                }
                countKeys(put.getValue(), +1);
                changed.add(put);
            }
            for (Map.Entry<String, Query> put : changed) {
                Entry old = byName.get(put.getKey());
                Entry e = new Entry(put.getKey(), put.getValue(), slots.allocate(), next, plan(put.getValue()));
                slotCapacity = slots.capacity();
                link(e);
                if (old != null) {
                    old.removedIn = next;
                    gone.add(old);
                }
                byName.put(e.name, e);
            }
            replan(next, gone);
            version = next; // publish: from here on readers see the new set
            unlinkPending.addAll(gone);
            unlinkUnreachable();
            return removed;
        }
    }

    /** Unlinks removed entries that no reader can see any more. */
    private void unlinkUnreachable() {
        long oldestReadable = oldestReading(version);
        for (Iterator<Entry> it = unlinkPending.iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.removedIn <= oldestReadable) {
                unlink(e);
                slots.free(e.slot);
                it.remove();
            }
        }
    }

    /**
     * Equality keys whose count reached a power of two during this update: the entries
     * indexed under them are planned again. A query is planned with what the index knows when
     * it is added: the first queries on {@code event_type} and a tenant id see both keys once
     * and may go under {@code event_type}, where they would stay, candidates for every event of
     * that type, once later queries show that event types repeat and tenant ids do not.
     * Planning a key's entries again each time its count doubles moves them, at a cost
     * amortised to a constant per query.
     */
    private final Set<Access.Equal> replanKeys = new java.util.LinkedHashSet<>(); // under writeLock; once per update

    private void replan(long version, List<Entry> gone) {
        for (Access.Equal key : replanKeys) {
            PathIndex p = pathIndexes.get(key.path());
            if (p == null) {
                continue;
            }
            List<Entry> underKey = new ArrayList<>(Arrays.asList(orEmpty(p.eq.get(key.key()))));
            underKey.addAll(p.pairEntries.getOrDefault(key.key(), Set.of()));
            for (Entry e : underKey) {
                if (e.addedIn == version) {
                    continue; // added by this update, so planned with its counts already: nothing to gain
                }
                if (e.removedIn != Long.MAX_VALUE || byName.get(e.name) != e) {
                    continue; // already replaced or removed
                }
                Plan better = plan(e.query);
                if (better == null || better.access.equals(e.access)) {
                    continue;
                }
                Entry moved = new Entry(e.name, e.query, slots.allocate(), version, better);
                slotCapacity = slots.capacity();
                link(moved);
                e.removedIn = version;
                gone.add(e);
                byName.put(moved.name, moved);
            }
        }
        replanKeys.clear();
    }

    private void link(Entry e) {
        if (e.access.isEmpty()) {
            residue = append(residue, e);
            return;
        }
        for (Access a : e.access) {
            PathIndex p = pathIndexes.get(a.path());
            if (p == null) {
                p = new PathIndex(a.path());
                pathIndexes.put(a.path(), p);
                paths = pathIndexes.values().toArray(NO_PATHS);
            }
            p.links++;
            switch (a) {
                case Access.Equal eq -> p.eq.compute(eq.key(), (k, bucket) -> append(bucket, e));
                case Access.Bound b -> p.bounds(b).compute(b.key(), (k, bucket) -> append(bucket, e));
                case Access.Within w -> p.intervals(w).add(w.interval(), e);
                case Access.Present x -> p.exists = append(p.exists, e);
                case Access.Pair pair -> {
                    p.seconds
                            .computeIfAbsent(pair.key(), k -> new Seconds())
                            .second(pair.second())
                            .byKey
                            .compute(pair.secondKey(), (k, bucket) -> append(bucket, e));
                    p.pairEntries
                            .computeIfAbsent(pair.key(), k -> new java.util.LinkedHashSet<>())
                            .add(e);
                }
            }
        }
    }

    private void unlink(Entry e) {
        if (e.access.isEmpty()) {
            residue = orEmpty(without(residue, e));
            return;
        }
        for (Access a : e.access) {
            PathIndex p = pathIndexes.get(a.path());
            switch (a) {
                case Access.Equal eq -> p.eq.computeIfPresent(eq.key(), (k, bucket) -> without(bucket, e));
                case Access.Bound b -> p.bounds(b).computeIfPresent(b.key(), (k, bucket) -> without(bucket, e));
                case Access.Within w -> p.intervals(w).remove(w.interval(), e);
                case Access.Present x -> p.exists = orEmpty(without(p.exists, e));
                case Access.Pair pair -> {
                    Seconds seconds = p.seconds.get(pair.key());
                    if (seconds != null && seconds.remove(pair.second(), pair.secondKey(), e)) {
                        p.seconds.remove(pair.key());
                    }
                    Set<Entry> owners = p.pairEntries.get(pair.key());
                    if (owners != null && owners.remove(e) && owners.isEmpty()) {
                        p.pairEntries.remove(pair.key());
                    }
                }
            }
            if (--p.links == 0) {
                pathIndexes.remove(a.path());
                paths = pathIndexes.values().toArray(NO_PATHS);
            }
        }
    }

    private static Entry[] append(Entry[] bucket, Entry e) {
        if (bucket == null) {
            return new Entry[] {e};
        }
        Entry[] grown = Arrays.copyOf(bucket, bucket.length + 1);
        grown[bucket.length] = e;
        return grown;
    }

    private static Entry[] orEmpty(Entry[] bucket) {
        return bucket == null ? NO_ENTRIES : bucket;
    }

    /** The array without {@code e}, or null when that leaves it empty (so maps drop the key). */
    private static <T> T[] without(T[] bucket, T e) {
        int i = Arrays.asList(bucket).indexOf(e);
        if (i < 0) {
            return bucket;
        }
        if (bucket.length == 1) {
            return null;
        }
        T[] shrunk = Arrays.copyOf(bucket, bucket.length - 1);
        System.arraycopy(bucket, i + 1, shrunk, i, bucket.length - i - 1);
        return shrunk;
    }

    // ------------------------------------------------------------------ planning

    /*
     * Costs are the expected share of events for which an access entry makes its query a
     * candidate. For an equality that is the key's share among the keys all queries use on
     * that path (event types repeat across queries, tenant ids rarely do), counted over every
     * equality a query could be indexed under, chosen or not, so the estimate does not depend
     * on earlier planning. A range bound is hit by a large share of the events that carry the
     * field, and an $exists by all of them: both cost more than any equality.
     */
    private static final double RANGE_COST = 1.5;

    private static final double EXISTS_COST = 2;

    /** How many times each equality key occurs among the queries' conditions, per path. */
    private final Map<FieldPath, KeyCounts> keyCounts = new HashMap<>(); // under writeLock

    private static final class KeyCounts {
        final Map<Object, int[]> byKey = new HashMap<>();
        int total;

        int count(Object key) {
            int[] c = byKey.get(key);
            return c == null ? 0 : c[0];
        }
    }

    /** The entries one query is indexed under, or null for the residue. */
    private Plan plan(Query query) {
        return best(query.root());
    }

    /** Adds (+1) or takes away (-1) a query's equality keys from {@link #keyCounts}. */
    private void countKeys(Query query, int delta) {
        values(query.root(), (path, value) -> {
            Domain d = domains.computeIfAbsent(path, k -> new Domain());
            if (d.count(value, delta)) {
                domains.remove(path);
            }
        });
        options(query.root(), a -> {
            if (!(a instanceof Access.Equal eq)) {
                return;
            }
            KeyCounts counts = keyCounts.computeIfAbsent(eq.path(), p -> new KeyCounts());
            int[] c = counts.byKey.computeIfAbsent(eq.key(), k -> new int[1]);
            c[0] += delta;
            counts.total += delta;
            if (delta > 0 && c[0] >= 2 && Integer.bitCount(c[0]) == 1) {
                replanKeys.add(eq);
            }
            if (c[0] == 0) {
                counts.byKey.remove(eq.key());
            }
            if (counts.total == 0) {
                keyCounts.remove(eq.path());
            }
        });
    }

    /** The values (numbers and strings) a query compares each path with. */
    private static void values(Expr expr, BiConsumer<FieldPath, JsonNode> sink) {
        switch (expr) {
            case Expr.And and -> and.children().forEach(c -> values(c, sink));
            case Expr.Or or -> or.children().forEach(c -> values(c, sink));
            case Expr.Field f -> values(f.path(), f.cond(), sink);
            default -> {}
        }
    }

    private static void values(FieldPath path, Expr.Cond cond, BiConsumer<FieldPath, JsonNode> sink) {
        switch (cond) {
            case Expr.Eq eq -> sink.accept(path, eq.value());
            case Expr.In in -> in.values().forEach(v -> sink.accept(path, v));
            case Expr.Cmp cmp -> sink.accept(path, cmp.value());
            case Expr.All all -> all.conds().forEach(c -> values(path, c, sink));
            case Expr.AllOf allOf -> allOf.conds().forEach(c -> values(path, c, sink));
            default -> {}
        }
    }

    /** Per path, the numbers and strings queries compare it with: how widely its values spread. */
    private final Map<FieldPath, Domain> domains = new HashMap<>(); // under writeLock

    /**
     * The values the queries use on one path, counted, to estimate what share of the path's
     * values an interval covers (its width against the spread of the values seen) and how many
     * distinct values the path takes.
     */
    private static final class Domain {
        final TreeMap<Double, int[]> numbers = new TreeMap<>();
        final TreeMap<String, int[]> strings = new TreeMap<>(CODE_POINT_ORDER);

        /** Counts a value in or out; true when nothing is left. */
        boolean count(JsonNode value, int delta) {
            if (value.isNumber()) {
                count(numbers, PathIndex.numberOrder(value), delta);
            } else if (value.isTextual()) {
                count(strings, value.textValue(), delta);
            }
            return numbers.isEmpty() && strings.isEmpty();
        }

        private static <K> void count(TreeMap<K, int[]> values, K key, int delta) {
            int[] c = values.computeIfAbsent(key, k -> new int[1]);
            c[0] += delta;
            if (c[0] <= 0) {
                values.remove(key);
            }
        }

        /** The share of the seen numbers' spread that [low, high] covers, at least one value's. */
        double share(double low, double high) {
            if (numbers.size() < 2) {
                return 1;
            }
            double spread = numbers.lastKey() - numbers.firstKey();
            double width = Math.max(0, high - low);
            if (!(spread > 0) || Double.isInfinite(spread) || Double.isNaN(width)) {
                return 1;
            }
            return Math.min(1, Math.max(width / spread, 1.0 / numbers.size()));
        }

        /**
         * The same for strings: each end placed between the lowest and highest string seen by
         * its first code points after their common prefix (ISO times: the digits that differ).
         */
        double share(String low, String high) {
            if (strings.size() < 2) {
                return 1;
            }
            String first = strings.firstKey();
            String last = strings.lastKey();
            int common = 0;
            while (common < first.length() && common < last.length() && first.charAt(common) == last.charAt(common)) {
                common++;
            }
            double spread = position(last, common) - position(first, common);
            if (!(spread > 0)) {
                return 1;
            }
            double width = Math.max(0, position(high, common) - position(low, common));
            return Math.min(1, Math.max(width / spread, 1.0 / strings.size()));
        }

        /** The string's place after {@code from} chars, as a fraction: 7 chars of base 128. */
        private static double position(String s, int from) {
            double p = 0;
            double scale = 1;
            for (int i = from; i < from + 7; i++) {
                scale /= 128;
                int c = i < s.length() ? Math.min(s.charAt(i), 127) : 0;
                p += c * scale;
            }
            return p;
        }
    }

    private static void options(Expr expr, Consumer<Access> sink) {
        switch (expr) {
            case Expr.And and -> and.children().forEach(c -> options(c, sink));
            case Expr.Or or -> or.children().forEach(c -> options(c, sink));
            case Expr.Field f -> options(f.path(), f.cond(), sink);
            default -> {}
        }
    }

    private static void options(FieldPath path, Expr.Cond cond, Consumer<Access> sink) {
        switch (cond) {
            case Expr.Eq eq -> equalityKey(path, eq.value(), sink);
            case Expr.In in -> in.values().forEach(v -> equalityKey(path, v, sink));
            case Expr.All all -> all.conds().forEach(c -> options(path, c, sink));
            case Expr.AllOf allOf -> allOf.conds().forEach(c -> options(path, c, sink));
            case Expr.Exists exists -> {
                if (exists.wanted()) {
                    sink.accept(new Access.Present(path));
                }
            }
            default -> {}
        }
    }

    private static void equalityKey(FieldPath path, JsonNode value, Consumer<Access> sink) {
        Object key = Values.hashKey(value);
        if (key != null) {
            sink.accept(new Access.Equal(path, key));
        }
    }

    /**
     * A necessary condition of a query that the index can look up, with its expected cost:
     * about how many candidates a document satisfying it yields (lower is better).
     */
    private record Plan(double cost, List<Access> access, List<Expr> implied) {
        Plan(double cost, List<Access> access) {
            this(cost, access, List.of());
        }

        /** The same access, noting that a hit on it proves {@code conjunct} holds. */
        Plan proving(Expr conjunct) {
            List<Expr> proven = new ArrayList<>(implied);
            proven.add(conjunct);
            return new Plan(cost, access, List.copyOf(proven));
        }

        boolean betterThan(Plan other) {
            return other == null || cost < other.cost;
        }
    }

    /**
     * What is left to check of a query once its access predicate was hit: the query without the
     * conjuncts the hit proves, or the whole query when a hit proves nothing (ranges, whose keys
     * may be rounded; {@code $or}; numeric equality, whose hash keys may collide).
     */
    static Expr residual(Expr root, List<Expr> implied) {
        if (implied.isEmpty()) {
            return root;
        }
        for (Expr proven : implied) {
            if (root == proven) {
                return new Expr.True();
            }
        }
        if (root instanceof Expr.And and) {
            List<Expr> rest = new ArrayList<>();
            for (Expr child : and.children()) {
                Expr r = residual(child, implied);
                if (!(r instanceof Expr.True)) {
                    rest.add(r);
                }
            }
            return rest.isEmpty() ? new Expr.True() : rest.size() == 1 ? rest.get(0) : new Expr.And(List.copyOf(rest));
        }
        return root;
    }

    private Plan best(Expr expr) {
        return switch (expr) {
            case Expr.And and -> {
                Plan best = null;
                for (Expr child : and.children()) {
                    Plan c = best(child);
                    if (c != null && c.betterThan(best)) {
                        best = c;
                    }
                }
                // Bounds on one path from several conjuncts ({$and: [{n: {$gte: 1}}, {n: {$lt: 5}}]}).
                Map<FieldPath, List<Expr.Cmp>> bounds = new LinkedHashMap<>();
                collectBounds(and, bounds);
                for (Map.Entry<FieldPath, List<Expr.Cmp>> onPath : bounds.entrySet()) {
                    Plan c = interval(onPath.getKey(), onPath.getValue());
                    if (c != null && c.betterThan(best)) {
                        best = c;
                    }
                }
                yield best == null ? null : withSecondKey(best, and);
            }
            case Expr.Or or -> {
                List<Access> all = new ArrayList<>();
                double cost = 0;
                for (Expr child : or.children()) {
                    Plan c = best(child);
                    if (c == null) {
                        yield null; // one branch could match anything: the $or is not indexable
                    }
                    all.addAll(c.access);
                    cost += c.cost;
                }
                yield new Plan(cost, List.copyOf(all));
            }
            case Expr.Field field -> {
                Plan c = best(field.path(), field.cond());
                yield c != null && hitProvesCondition(field.cond()) ? c.proving(field) : c;
            }
            case Expr.Nor nor -> null;
            case Expr.True t -> null;
        };
    }

    /**
     * The plan narrowed by a second equality of the same conjunction, when it has one: a query
     * {@code {host: H, event_type: {$in: [E1, E2]}}} indexed under {@code host = H} goes under
     * the pairs (H, E1) and (H, E2), so that of the many queries sharing a host an event is a
     * candidate only for those naming its type. The second condition must be an equality or an
     * {@code $in} of strings or booleans on another path (a hit then proves it); the plan's own
     * access must be equalities on one path. Otherwise the plan is returned as it is.
     */
    private static Plan withSecondKey(Plan plan, Expr.And and) {
        FieldPath first = null;
        for (Access a : plan.access) {
            if (!(a instanceof Access.Equal eq) || (first != null && !first.equals(eq.path()))) {
                return plan;
            }
            first = eq.path();
        }
        for (Expr child : and.children()) {
            if (!(child instanceof Expr.Field field) || field.path().equals(first) || plan.implied.contains(child)) {
                continue;
            }
            List<Object> keys = exactKeys(field.cond());
            if (keys == null) {
                continue;
            }
            List<Access> pairs = new ArrayList<>();
            for (Access a : plan.access) {
                Access.Equal eq = (Access.Equal) a;
                for (Object key : keys) {
                    pairs.add(new Access.Pair(first, eq.key(), field.path(), key));
                }
            }
            return new Plan(plan.cost, List.copyOf(pairs), plan.implied).proving(child);
        }
        return plan;
    }

    /** The hash keys of an equality or {@code $in} of strings and booleans, or null. */
    private static List<Object> exactKeys(Expr.Cond cond) {
        List<JsonNode> values =
                switch (cond) {
                    case Expr.Eq eq -> List.of(eq.value());
                    case Expr.In in -> in.values();
                    default -> null;
                };
        if (values == null || values.isEmpty() || !hitProvesCondition(cond)) {
            return null; // (an empty $in matches nothing and has no key)
        }
        return values.stream().map(Values::hashKey).distinct().toList();
    }

    private Plan best(FieldPath path, Expr.Cond cond) {
        return switch (cond) {
            case Expr.Eq eq -> equality(path, eq.value());
            case Expr.In in -> {
                if (!in.patterns().isEmpty() || in.values().isEmpty()) {
                    yield null;
                }
                List<Access> keys = new ArrayList<>();
                double cost = 0;
                for (JsonNode v : in.values()) {
                    Plan c = equality(path, v);
                    if (c == null) {
                        yield null;
                    }
                    keys.addAll(c.access);
                    cost += c.cost;
                }
                yield new Plan(Math.min(cost, 1), List.copyOf(keys)); // a share is at most all
            }
            case Expr.Cmp cmp -> {
                JsonNode v = cmp.value();
                Object key = v.isNumber() ? (Object) PathIndex.numberOrder(v) : v.isTextual() ? v.textValue() : null;
                if (key == null) {
                    yield null;
                }
                yield new Plan(
                        RANGE_COST, List.of(new Access.Bound(path, cmp.op().lower(), key)));
            }
            case Expr.Exists exists -> {
                if (!exists.wanted()) {
                    yield null;
                }
                yield new Plan(EXISTS_COST, List.of(new Access.Present(path)));
            }
            case Expr.All all -> {
                Plan best = null;
                for (Expr.Cond c : all.conds()) {
                    Plan candidate = c instanceof Expr.Eq eq ? equality(path, eq.value()) : null;
                    if (candidate != null && candidate.betterThan(best)) {
                        best = candidate;
                    }
                }
                yield best;
            }
            case Expr.AllOf allOf -> {
                Plan best = null;
                for (Expr.Cond c : allOf.conds()) {
                    Plan candidate = best(path, c);
                    if (candidate != null && candidate.betterThan(best)) {
                        best = candidate;
                    }
                }
                List<Expr.Cmp> bounds = new ArrayList<>();
                for (Expr.Cond c : allOf.conds()) {
                    if (c instanceof Expr.Cmp cmp) {
                        bounds.add(cmp);
                    }
                }
                Plan within = interval(path, bounds);
                yield within != null && within.betterThan(best) ? within : best;
            }
            case Expr.Regex r -> null;
            case Expr.Type t -> null;
            case Expr.Mod m -> null;
            case Expr.Size s -> null;
            case Expr.ElemMatch e -> null;
            case Expr.Not n -> null;
        };
    }

    /**
     * Whether a hit in the index on this condition's access entries means the condition holds:
     * equality or {@code $in} with string or boolean values (their hash keys are the values
     * themselves), and {@code $exists: true}.
     */
    private static boolean hitProvesCondition(Expr.Cond cond) {
        return switch (cond) {
            case Expr.Eq eq -> exactKey(eq.value());
            case Expr.In in -> in.patterns().isEmpty() && in.values().stream().allMatch(QueryIndex::exactKey);
            case Expr.Exists exists -> exists.wanted();
            default -> false;
        };
    }

    private static boolean exactKey(JsonNode value) {
        return value.isTextual() || value.isBoolean();
    }

    /** The comparisons of a conjunction's fields, by path, through nested conjunctions. */
    private static void collectBounds(Expr.And and, Map<FieldPath, List<Expr.Cmp>> bounds) {
        for (Expr child : and.children()) {
            if (child instanceof Expr.And nested) {
                collectBounds(nested, bounds);
            } else if (child instanceof Expr.Field field) {
                List<Expr.Cond> conds =
                        field.cond() instanceof Expr.AllOf allOf ? allOf.conds() : List.of(field.cond());
                for (Expr.Cond c : conds) {
                    if (c instanceof Expr.Cmp cmp) {
                        bounds.computeIfAbsent(field.path(), p -> new ArrayList<>())
                                .add(cmp);
                    }
                }
            }
        }
    }

    /**
     * An interval from a path's lower and upper bounds of one type bracket (numbers or
     * strings), the tightest of each, or null when there is no such pair. Costed by its width
     * against the spread of the values queries use on the path, at most 1, so that any
     * interval is preferred to a one-sided bound, a narrow one to most equalities and a wide
     * one loses to a selective equality. A hit proves nothing: the query is evaluated.
     */
    private Plan interval(FieldPath path, List<Expr.Cmp> bounds) {
        Plan best = null;
        for (boolean numbers : new boolean[] {true, false}) {
            Expr.Cmp lower = null;
            Expr.Cmp upper = null;
            for (Expr.Cmp cmp : bounds) {
                JsonNode v = cmp.value();
                if (numbers ? !v.isNumber() : !v.isTextual()) {
                    continue;
                }
                if (cmp.op().lower()) {
                    lower = tighter(lower, cmp, +1);
                } else {
                    upper = tighter(upper, cmp, -1);
                }
            }
            if (lower == null || upper == null) {
                continue;
            }
            Domain domain = domains.get(path);
            Plan plan;
            if (numbers) {
                double low = PathIndex.numberOrder(lower.value());
                double high = PathIndex.numberOrder(upper.value());
                boolean lowInclusive = lower.op().inclusive() || !PathIndex.exactOrder(lower.value());
                boolean highInclusive = upper.op().inclusive() || !PathIndex.exactOrder(upper.value());
                plan = new Plan(
                        domain == null ? 1 : domain.share(low, high),
                        List.of(new Access.Within(path, low, lowInclusive, high, highInclusive)));
            } else {
                String low = lower.value().textValue();
                String high = upper.value().textValue();
                plan = new Plan(
                        domain == null ? 1 : domain.share(low, high),
                        List.of(new Access.Within(
                                path,
                                low,
                                lower.op().inclusive(),
                                high,
                                upper.op().inclusive())));
            }
            if (plan.betterThan(best)) {
                best = plan;
            }
        }
        return best;
    }

    /**
     * The tighter of two bounds of the same direction: the higher lower bound ({@code sign}
     * +1) or the lower upper bound (-1); at equal values the exclusive one.
     */
    private static Expr.Cmp tighter(Expr.Cmp current, Expr.Cmp other, int sign) {
        if (current == null) {
            return other;
        }
        int c = Values.compare(other.value(), current.value()) * sign;
        if (c > 0 || (c == 0 && !other.op().inclusive())) {
            return other;
        }
        return current;
    }

    private Plan equality(FieldPath path, JsonNode value) {
        Object key = Values.hashKey(value);
        if (key == null) {
            return null;
        }
        KeyCounts counts = keyCounts.get(path);
        int count = counts == null ? 0 : counts.count(key);
        int total = counts == null ? 0 : counts.total;
        int distinct = counts == null ? 1 : Math.max(counts.byKey.size(), 1);
        double share = (double) Math.max(count, 1) / Math.max(total, 1);
        // With few queries every key is seen about once, whatever the path: the share says
        // nothing then. 1/distinct values (the uniform estimate) tells a path whose queries
        // name few values (event types) from one whose queries name many (tenant ids).
        return new Plan((share + 1.0 / distinct) / 2, List.of(new Access.Equal(path, key)));
    }

    /** One place a query is indexed. */
    private sealed interface Access {
        FieldPath path();

        record Equal(FieldPath path, Object key) implements Access {}

        /** A range bound: lower ({@code $gt}, {@code $gte}) or upper; key is a Double or a String. */
        record Bound(FieldPath path, boolean lower, Object key) implements Access {}

        /**
         * A lower and an upper bound on one path, as one interval; the keys are both Doubles or
         * both Strings. An end whose key is rounded from its value is inclusive.
         */
        record Within(FieldPath path, Object low, boolean lowInclusive, Object high, boolean highInclusive)
                implements Access {
            <K> IntervalTree.Interval<K> interval() {
                @SuppressWarnings("unchecked")
                IntervalTree.Interval<K> i =
                        new IntervalTree.Interval<>((K) low, lowInclusive, (K) high, highInclusive);
                return i;
            }
        }

        record Present(FieldPath path) implements Access {}

        /** Equal to {@code key} at {@code path} and to {@code secondKey} at {@code second}. */
        record Pair(FieldPath path, Object key, FieldPath second, Object secondKey) implements Access {}
    }

    /** The index structures of one field path. */
    private static final class PathIndex {
        final FieldPath path;
        final ConcurrentHashMap<Object, Entry[]> eq = new ConcurrentHashMap<>();
        final ConcurrentSkipListMap<Double, Entry[]> numLower = new ConcurrentSkipListMap<>();
        final ConcurrentSkipListMap<Double, Entry[]> numUpper = new ConcurrentSkipListMap<>();
        final ConcurrentSkipListMap<String, Entry[]> strLower = new ConcurrentSkipListMap<>(CODE_POINT_ORDER);
        final ConcurrentSkipListMap<String, Entry[]> strUpper = new ConcurrentSkipListMap<>(CODE_POINT_ORDER);
        final IntervalTree<Double> numIntervals = new IntervalTree<>(Double::compare);
        final IntervalTree<String> strIntervals = new IntervalTree<>(CODE_POINT_ORDER);
        volatile Entry[] exists = NO_ENTRIES;
        /** Entries indexed under two equalities: by this path's key, then second path and key. */
        final ConcurrentHashMap<Object, Seconds> seconds = new ConcurrentHashMap<>();
        /** Under writeLock, for planning again: the pair entries under each key of this path. */
        final Map<Object, Set<Entry>> pairEntries = new HashMap<>();

        int links; // under writeLock: how many Access entries use this path

        PathIndex(FieldPath path) {
            this.path = path;
        }

        @SuppressWarnings("unchecked")
        <K> ConcurrentSkipListMap<K, Entry[]> bounds(Access.Bound b) {
            Object map =
                    b.key() instanceof Double ? (b.lower() ? numLower : numUpper) : (b.lower() ? strLower : strUpper);
            return (ConcurrentSkipListMap<K, Entry[]>) map;
        }

        @SuppressWarnings("unchecked")
        <K> IntervalTree<K> intervals(Access.Within w) {
            return (IntervalTree<K>) (w.low() instanceof Double ? numIntervals : strIntervals);
        }

        /**
         * Whether {@link #numberOrder} is the number itself, so that two numbers with equal
         * keys are equal: a double other than NaN, or an integer of at most 53 bits.
         */
        static boolean exactOrder(JsonNode v) {
            if (v.isDouble() || v.isFloat()) {
                return !Double.isNaN(v.doubleValue());
            }
            if (v.isInt() || v.isShort()) {
                return true;
            }
            if (v.isLong() || v.isBigInteger()) {
                if (!v.canConvertToLong()) {
                    return false;
                }
                long l = v.longValue();
                return l >= -(1L << 53) && l <= (1L << 53);
            }
            return false; // BigDecimal
        }

        /** A double ordering like the number; NaN (below every number in MongoDB) first. */
        static double numberOrder(JsonNode v) {
            double d = v.doubleValue();
            if (Double.isNaN(d)) {
                return Double.NEGATIVE_INFINITY;
            }
            return d == 0.0 ? 0.0 : d;
        }
    }

    /**
     * Under one key of a path, the second paths that have pair entries, each with its own keys'
     * entries. The array of paths is replaced when a path comes or goes (rare: under a host,
     * say, the paths are those of event types); the keys' buckets change in place, copy-on-write
     * like {@link PathIndex#eq}. Writers change it under the write lock.
     */
    private static final class Seconds {
        private static final Second[] NONE = new Second[0];
        volatile Second[] paths = NONE;

        /** The second path's entries by key, added if the path has none yet. */
        Second second(FieldPath path) {
            for (Second s : paths) {
                if (s.path.equals(path)) {
                    return s;
                }
            }
            Second added = new Second(path, new ConcurrentHashMap<>(2)); // most hold a few keys
            Second[] grown = Arrays.copyOf(paths, paths.length + 1);
            grown[paths.length] = added;
            paths = grown;
            return added;
        }

        /** Removes {@code e} from under (path, key); true when nothing is left under any path. */
        boolean remove(FieldPath path, Object key, Entry e) {
            Second[] now = paths;
            for (int i = 0; i < now.length; i++) {
                if (now[i].path.equals(path)) {
                    now[i].byKey.computeIfPresent(key, (k, bucket) -> without(bucket, e));
                    if (now[i].byKey.isEmpty()) {
                        Second[] shrunk = without(now, now[i]);
                        paths = shrunk == null ? NONE : shrunk;
                    }
                    break;
                }
            }
            return paths.length == 0;
        }
    }

    /** A second path under a first key, and the entries under each of its keys. */
    private record Second(FieldPath path, ConcurrentHashMap<Object, Entry[]> byKey) {}

    /** A query as indexed: visible to readers whose version is in [addedIn, removedIn). */
    private final class Entry {
        final String name;
        final Query query;
        final int slot;
        final long addedIn;
        final List<Access> access;
        /** What a candidate found through {@link #access} must still satisfy. */
        final Check check;

        volatile long removedIn = Long.MAX_VALUE;

        Entry(String name, Query query, int slot, long addedIn, Plan plan) {
            this.name = name;
            this.query = query;
            this.slot = slot;
            this.addedIn = addedIn;
            this.access = plan == null ? List.of() : plan.access;
            this.check = Check.of(plan == null ? query.root() : residual(query.root(), plan.implied));
        }

        boolean visibleAt(long version) {
            return addedIn <= version && version < removedIn;
        }
    }

    /** Dense small integers for entries, reused after an entry is unlinked. */
    private static final class Slots {
        private int next;
        private final ArrayDeque<Integer> free = new ArrayDeque<>();

        int allocate() {
            Integer reused = free.pollFirst();
            return reused != null ? reused : next++;
        }

        void free(int slot) {
            free.addLast(slot);
        }

        int capacity() {
            return next;
        }
    }
}
