package io.sluice.store.sqlite;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import java.util.function.ToLongFunction;
import java.util.stream.LongStream;

/**
 * Finds stored events by id: the {@code event_ids} table of the SQLite store plus the ids of
 * the most recent events, which are kept in memory and written to the table in bulk.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>Producers send random ids (UUIDs). Inserting each into a B-tree as it is committed dirties
 * one index page per event, and each dirty page is written to the WAL and again by the
 * checkpoint: that, not the events, was most of what the store wrote. So the table is keyed by
 * a 64-bit hash of the id ({@link #fnv}, small entries) and filled in bulk: the hashes of new
 * events collect in memory ({@link Pending}) until there are {@link #FLUSH_AT} of them (by default); they are
 * then sorted (the <em>snapshot</em>; on a thread of its own, while appends go on) and inserted
 * in slices, one slice inside each following append transaction. Consecutive sorted hashes fall on neighbouring pages, so a whole snapshot
 * touches each page of the table about once instead of once per event.
 *
 * <p>Once per snapshot is still too often when the key is the hash alone: a snapshot's half
 * million random hashes land on every page of any table of fewer pages than that (up to ~290
 * million ids at 16 KB pages), so each snapshot rewrote the whole table, twice counting the
 * checkpoint: 7.4 KB written per 1 KB event at 95 million ids. So the key ({@link #key}) puts
 * the epoch of the entry's offset (2^{@value #EPOCH_BITS} offsets; a byte, wrapping after 256)
 * above the hash's upper 56 bits: a snapshot, consecutive offsets, falls in the latest epoch or
 * two and touches only their pages, however large the table. The price is at the lookups: a
 * hash is looked for under the key of every retained epoch ({@link #keys}), which only ids the
 * filter (below) cannot rule out pay. Entries written before keys had epochs (schema version 3)
 * keep their plain hash as key; {@code meta.ids_keyed_from} says which offsets those are, and
 * they are looked for under the plain hash too while any is retained. Stale entries of old
 * epochs are deleted as the slices are written, a share of the key space with each slice
 * ({@link #sweep}), so that no slice carries a whole epoch's deletes.
 *
 * <p>The table is derived data: {@code meta.ids_indexed_through} says up to which offset every
 * event is in it, and it is advanced in the transaction that writes a snapshot's last slice. A
 * crash loses only the in-memory part, which {@link SqliteEventStore} rebuilds on open from the
 * events after that offset (a re-written slice is ignored by {@code INSERT OR IGNORE}).
 *
 * <p>A hash names candidates, never an answer: the caller compares the stored id of each
 * candidate offset before calling two events the same (64-bit hashes of different ids
 * collide with a probability of about n²/2⁶⁵; keys keep 56 bits of it, n²/2⁵⁷). Entries of events deleted by retention are
 * ignored by the caller (their offsets are before the first retained one) and deleted from the
 * table while a snapshot is written, once they are a quarter of it.
 *
 * <p>Most appended ids were never seen, and looking each up in the table was a third of the
 * writer's time: an {@link IdFilter} over the table's hashes answers most of them without the
 * table. It is built by a background thread from the table after the store's first append
 * (until then every id is looked up) and built again, larger, once it holds more hashes than planned
 * (which also drops the hashes retention removed); hashes committed meanwhile go into both.
 * The table is read for it in short statements, never one long read that would pin the WAL.
 *
 * <p>Threads: the writer calls everything but {@link #buildFilter}; readers call
 * {@link #memoryCandidates} and {@link #mayBeInTable}. The in-memory parts are guarded by this
 * object's lock.
 */
final class IdIndex {
    /** Hashes kept in memory before they are written to the table, sorted, in slices. */
    static final int FLUSH_AT = 1 << 19;

    /** How ids are hashed, by default: {@link #fnv}. */
    static final ToLongFunction<String> DEFAULT_HASH = IdIndex::fnv;

    /** The smallest {@link IdFilter}, in planned entries, by default (2 MB). */
    static final long FILTER_MINIMUM = 1 << 20;

    /** Pending sets at least this large are sorted on a thread of their own, by default. */
    static final int ASYNC_SORT_AT = 1 << 16;

    /**
     * Offsets per epoch, as a power of two, by default: 2^23 (8.4 million events). The table's key
     * starts with the epoch of the entry's offset, so a snapshot writes into recent pages only.
     */
    static final int EPOCH_BITS = 23;

    /** The bits of a key below its epoch byte: the hash's upper 56 bits. */
    private static final long HASH_BITS = (1L << 56) - 1;

    /** Rows of the table read per statement while a filter is built: about 10 ms of reading each. */
    static final int FILTER_SCAN_BATCH = 1 << 16;

    private static final int LOOKUP_CHUNK = 500;

    private final int flushAt;
    private final long filterMinimum;
    private final ToLongFunction<String> hash;
    private final int asyncSortAt;
    private final int epochBits;
    private volatile long keyedFrom = 1; // entries of offsets before it were written with plain hashes as keys
    private Pending pending;
    private Sealed sealed; // being sorted into the next snapshot, or null; set by the writer under the lock
    private Snapshot snapshot; // being written to the table, or null
    private int uncommittedPosition = -1; // the snapshot's position after the open transaction
    private volatile IdFilter filter; // over the table's hashes once built, else null
    private IdFilter building; // being filled by a builder, or null
    private boolean filterClaimed; // a build was handed to a builder and has not finished

    /**
     * @param flushAt how many hashes collect in memory before they are written (tests use few)
     * @param hash how ids are hashed (tests use a colliding one)
     */
    IdIndex(int flushAt, ToLongFunction<String> hash) {
        this(flushAt, hash, FILTER_MINIMUM);
    }

    /** As {@link #IdIndex(int, ToLongFunction)}, with the smallest filter planned (tests use small ones). */
    IdIndex(int flushAt, ToLongFunction<String> hash, long filterMinimum) {
        this(flushAt, hash, filterMinimum, ASYNC_SORT_AT);
    }

    /**
     * As {@link #IdIndex(int, ToLongFunction, long)}; pending sets of at least {@code asyncSortAt}
     * hashes are sorted on a thread of their own (tests force it with small sets).
     */
    IdIndex(int flushAt, ToLongFunction<String> hash, long filterMinimum, int asyncSortAt) {
        this(flushAt, hash, filterMinimum, asyncSortAt, EPOCH_BITS);
    }

    /** As {@link #IdIndex(int, ToLongFunction, long, int)}, with epochs of 2^{@code epochBits} offsets (tests use short ones). */
    IdIndex(int flushAt, ToLongFunction<String> hash, long filterMinimum, int asyncSortAt, int epochBits) {
        this.epochBits = epochBits;
        this.flushAt = flushAt;
        this.filterMinimum = filterMinimum;
        this.hash = hash;
        this.asyncSortAt = asyncSortAt;
        this.pending = new Pending(flushAt);
    }

    /** The hash of an event id, as the {@code event_ids} table keeps it. */
    long hash(String id) {
        return hash.applyAsLong(id);
    }

    /**
     * The table's key for an entry: the epoch of its offset (a byte: epochs wrap after 256) above
     * the hash's upper 56 bits. Entries of one epoch are neighbours in the table, so writing a
     * snapshot (consecutive offsets) touches only the pages of the latest epoch or two, however
     * large the table; a lookup tries the key of each retained epoch.
     */
    long key(long hash, long offset) {
        return ((offset >>> epochBits) & 0xFF) << 56 | (hash >>> 8);
    }

    /** The keys a hash may be stored under for entries of offsets {@code first} to {@code last}. */
    private long[] keys(long hash, long first, long last) {
        long firstEpoch = first >>> epochBits;
        int epochs = (int) Math.min(256, (last >>> epochBits) - firstEpoch + 1);
        boolean legacy = first < keyedFrom;
        long[] keys = new long[Math.max(0, epochs) + (legacy ? 1 : 0)];
        for (int e = 0; e < epochs; e++) {
            keys[e] = key(hash, (firstEpoch + e) << epochBits);
        }
        if (legacy) {
            keys[keys.length - 1] = hash;
        }
        return keys;
    }

    /** Entries of offsets before {@code offset} were written with their plain hash as key (before keys had epochs). */
    void keyedFrom(long offset) {
        keyedFrom = offset;
    }

    /** What the {@link IdFilter} holds for a hash: its upper 56 bits (as keys keep them), mixed again. */
    static long filterValue(long hash) {
        return mix(hash >>> 8);
    }

    /** {@link #filterValue} of the entry stored under {@code key} at {@code offset}. */
    private long filterValueOfKey(long key, long offset) {
        return offset < keyedFrom ? filterValue(key) : mix(key & HASH_BITS);
    }

    /** MurmurHash3's 64-bit finaliser. */
    private static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /**
     * The default hash of an event id. It is stored, so it never changes: FNV-1a over the
     * UTF-16 units, then MurmurHash3's 64-bit finaliser.
     */
    static long fnv(String id) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < id.length(); i++) {
            h ^= id.charAt(i);
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    /** Adds the hashes of committed events (or of events found on open). */
    synchronized void add(long[] hashes, long firstOffset, int count) {
        for (int i = 0; i < count; i++) {
            add(hashes[i], firstOffset + i);
        }
    }

    /** Adds one committed event's hash. */
    synchronized void add(long hash, long offset) {
        pending.add(hash, offset);
        long value = filterValue(hash);
        IdFilter f = filter;
        if (f != null) {
            f.add(value); // it goes to the table later: the filter must know it by then
        }
        if (building != null) {
            building.add(value);
        }
    }

    /**
     * Whether the table may hold this hash: false only when the {@link IdFilter} says it surely
     * does not; true while there is no filter yet.
     */
    boolean mayBeInTable(long hash) {
        IdFilter f = filter;
        return f == null || f.mayContain(filterValue(hash));
    }

    /**
     * Claims the building of a filter when one is due ({@link #rebuildDue}). The caller then
     * runs {@link #buildFilter}.
     *
     * @param expected about how many hashes are retained
     */
    synchronized boolean claimFilterBuild(long expected) {
        if (filterClaimed) {
            return false;
        }
        IdFilter f = filter;
        if (f != null
                && !rebuildDue(f.full(), f.bytes(), IdFilter.bytesFor(plannedFor(expected)), f.added(), expected)) {
            return false;
        }
        filterClaimed = true;
        return true;
    }

    /**
     * Whether a full filter is worth building again from the table: when the new one, planned
     * for twice the retained hashes, would be larger, or when at least half of what the current
     * one holds is gone (retention deleted it), so that a filter of the same size says "maybe"
     * less often. Not when neither: at the largest size a growing log would otherwise read its
     * whole table each time the count passed the plan, for a filter no better than the last.
     */
    static boolean rebuildDue(boolean full, long currentBytes, long plannedBytes, long added, long retained) {
        return full && (plannedBytes > currentBytes || retained * 2 < added);
    }

    private long plannedFor(long expected) {
        return Math.max(filterMinimum, 2 * expected);
    }

    /**
     * Builds a filter of every hash in the table and in memory, on a thread of its own, and
     * publishes it; meanwhile hashes added are put in it as well. Returns false when {@code stop}
     * said to give up (the store is closing). A build that fails (or stops) is not claimed
     * again until the store reopens: the current filter, if any, stays in use (still correct,
     * only less selective once full); without one every id is looked up in the table.
     *
     * <p>The table is read in key order, {@code scanBatch} rows per statement, each statement its
     * own short read transaction: one long read would pin the WAL for the whole scan (seconds at
     * tens of millions of ids), so that checkpoints could not copy past it nor the WAL start over,
     * and the next checkpoint would then copy everything appended meanwhile at once, beside the
     * writer's commits. The in-memory hashes are copied under the lock and added outside it, so
     * the writer, which adds its committed hashes under that lock, is not held up for their count.
     *
     * @param c a connection to read the table with, in auto-commit mode
     * @param expected about how many hashes there are (the filter is planned for twice that)
     * @param scanBatch rows read per statement
     * @param stop asked between statements whether to give up
     */
    boolean buildFilter(Connection c, long expected, int scanBatch, BooleanSupplier stop) throws SQLException {
        IdFilter f = new IdFilter(plannedFor(expected));
        LongStream.Builder inMemory = LongStream.builder();
        synchronized (this) {
            building = f; // from now on add() puts new hashes in it too
            pending.forEach(hash -> inMemory.accept(filterValue(hash)));
            if (sealed != null) {
                sealed.hashes().forEach(hash -> inMemory.accept(filterValue(hash)));
            }
            if (snapshot != null) {
                for (int i = 0; i < snapshot.size(); i++) {
                    inMemory.accept(filterValueOfKey(snapshot.keys[i], snapshot.offsets[i]));
                }
            }
        }
        try {
            inMemory.build().forEach(f::add);
            try (PreparedStatement ps = c.prepareStatement("SELECT hash, log_offset FROM event_ids"
                    + " WHERE (hash, log_offset) > (?, ?) ORDER BY hash, log_offset LIMIT ?")) {
                long lastHash = Long.MIN_VALUE;
                long lastOffset = Long.MIN_VALUE;
                for (int read = scanBatch; read == scanBatch; ) {
                    if (stop.getAsBoolean()) {
                        return false;
                    }
                    ps.setLong(1, lastHash);
                    ps.setLong(2, lastOffset);
                    ps.setInt(3, scanBatch);
                    read = 0;
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            lastHash = rs.getLong(1);
                            lastOffset = rs.getLong(2);
                            f.add(filterValueOfKey(lastHash, lastOffset));
                            read++;
                        }
                    }
                }
            }
            synchronized (this) {
                filter = f;
                filterClaimed = false; // the next build is due when this one is full
            }
            return true;
        } finally {
            synchronized (this) {
                building = null;
            }
        }
    }

    /** Uses {@code f}, a filter over every hash in the table and in memory, when there is none yet. */
    synchronized void useFilter(IdFilter f) {
        if (filter == null) {
            filter = f;
        }
    }

    /** The filter over the table's hashes, or null before the first is built. */
    IdFilter filter() {
        return filter;
    }

    /** Reports the offsets of in-memory entries with that hash. */
    synchronized void memoryCandidates(long hash, LongConsumer offsets) {
        pending.find(hash, offsets);
        if (sealed != null) {
            sealed.hashes().find(hash, offsets);
        }
        if (snapshot != null) { // consecutive offsets, written now: an epoch or two, no plain-hash keys
            for (long epoch = snapshot.lowest >>> epochBits; epoch <= snapshot.through >>> epochBits; epoch++) {
                snapshot.find(key(hash, epoch << epochBits), offsets);
            }
        }
    }

    /**
     * Reports the offsets of table entries with these hashes (as {@code hash, offset} pairs),
     * looking each up under the key of every epoch from {@code first} to {@code last} (and its
     * plain hash while entries from before keys had epochs are retained). Entries of another
     * hash with the same upper 56 bits are reported too: candidates, as always.
     */
    void tableCandidates(Connection c, long[] hashes, int count, long first, long last, PairConsumer found)
            throws SQLException {
        Map<Long, List<Long>> hashesByKey = new HashMap<>();
        for (int i = 0; i < count; i++) {
            for (long key : keys(hashes[i], first, last)) {
                hashesByKey.computeIfAbsent(key, k -> new ArrayList<>(1)).add(hashes[i]);
            }
        }
        long[] keys = hashesByKey.keySet().stream().mapToLong(Long::longValue).toArray();
        for (int from = 0; from < keys.length; from += LOOKUP_CHUNK) {
            int n = Math.min(LOOKUP_CHUNK, keys.length - from);
            String marks = "?,".repeat(n);
            try (PreparedStatement ps = c.prepareStatement("SELECT hash, log_offset FROM event_ids WHERE hash IN ("
                    + marks.substring(0, marks.length() - 1) + ")")) {
                for (int i = 0; i < n; i++) {
                    ps.setLong(i + 1, keys[from + i]);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long offset = rs.getLong(2);
                        for (long hash : hashesByKey.get(rs.getLong(1))) {
                            found.accept(hash, offset);
                        }
                    }
                }
            }
        }
    }

    /** Receives a hash and an offset. */
    @FunctionalInterface
    interface PairConsumer {
        void accept(long hash, long offset);
    }

    /**
     * Inside the writer's open transaction: starts a snapshot when enough hashes are pending,
     * and writes the snapshot's next slice (at least {@code appended} entries, so that writing
     * keeps ahead of appending).
     *
     * @param firstRetained the first retained offset: table entries before it may be deleted
     * @param cleanedThrough no table entry has an offset up to this one
     * @return the new {@code ids_indexed_through} and {@code ids_cleaned_through} to save in
     *     this transaction when this slice completes the snapshot, else null
     */
    Marks writeSlice(Connection c, int appended, long firstRetained, long indexedThrough, long cleanedThrough)
            throws SQLException {
        uncommittedPosition = -1;
        if (snapshot == null) {
            if (sealed == null && !startSort(flushAt, firstRetained, indexedThrough, cleanedThrough)) {
                return null;
            }
            // While the sort runs, appends go on; only a second full set has to wait for it.
            if (!sealed.sorting().isDone() && pending.size() < flushAt) {
                return null;
            }
            adoptSorted();
        }
        // Twice what was appended keeps writing ahead of appending. The floor (a 2,048th of a
        // snapshot) finishes one at low rates, and is small so that the work is spread evenly
        // over commits: with a floor of 4,096 entries (4-8 ms) the hundred-odd commits that
        // wrote a slice each set the tail latency of every request queued behind them.
        int slice = Math.max(Math.max(1, flushAt / 2048), appended * 2);
        if (pending.size() >= flushAt) {
            slice = snapshot.size(); // the next snapshot is due: finish this one now
        }
        int to = Math.min(snapshot.size(), snapshot.position + slice);
        write(c, snapshot, to);
        uncommittedPosition = to;
        return to < snapshot.size() ? null : snapshot.marks(cleanedThrough);
    }

    /**
     * Inside the writer's open transaction, when the store closes: writes every hash in memory
     * to the table, so that the next open has none to find.
     *
     * @return the marks to save in this transaction, or null when nothing was in memory
     */
    Marks writeAll(Connection c, long firstRetained, long indexedThrough, long cleanedThrough) throws SQLException {
        Marks marks = null;
        for (int round = 0; round < 2; round++) { // the snapshot being written or sorted, then the pending hashes
            if (snapshot == null && sealed == null && !startSort(1, firstRetained, indexedThrough, cleanedThrough)) {
                break;
            }
            if (snapshot == null) {
                adoptSorted();
            }
            write(c, snapshot, snapshot.size());
            marks = snapshot.marks(cleanedThrough);
            cleanedThrough = marks.cleanedThrough();
            synchronized (this) {
                snapshot = null; // closing: the entries are in the table once this commits
            }
        }
        return marks;
    }

    /**
     * Seals the pending hashes, when there are at least {@code atLeast}, and sorts them into the
     * next snapshot: on a thread of its own for a large set (sorting half a million hashes took
     * 100–260 ms, which the writer, and every producer behind it, would wait for), else here.
     * Sealed hashes are still found in memory until their snapshot is written.
     */
    private boolean startSort(int atLeast, long firstRetained, long indexedThrough, long cleanedThrough) {
        long stale = firstRetained - 1 - cleanedThrough;
        long indexed = indexedThrough - cleanedThrough;
        long cleanBefore = stale > 0 && stale * 4 >= indexed ? firstRetained : 0;
        synchronized (this) {
            if (pending.size() < atLeast) {
                return false;
            }
            sealed = new Sealed(pending, cleanBefore, sort(pending, cleanBefore));
            pending = new Pending(flushAt);
            return true;
        }
    }

    private CompletableFuture<Snapshot> sort(Pending full, long cleanBefore) {
        if (full.size() >= asyncSortAt) {
            try {
                return CompletableFuture.supplyAsync(() -> full.sorted(this, cleanBefore), sort -> Thread.ofPlatform()
                        .daemon()
                        .name("sluice-sqlite-id-sort")
                        .start(sort));
            } catch (RuntimeException | OutOfMemoryError noThread) {
                // no thread for it: sorted here
            }
        }
        return CompletableFuture.completedFuture(full.sorted(this, cleanBefore));
    }

    /** Makes the sealed set's sorted snapshot the one being written, waiting for the sort if it still runs. */
    private void adoptSorted() {
        Snapshot sorted;
        try {
            sorted = sealed.sorting().join();
        } catch (RuntimeException failed) {
            sorted = sealed.hashes().sorted(this, sealed.cleanBefore()); // the sort's thread failed: sorted here
        }
        synchronized (this) {
            snapshot = sorted;
            sealed = null;
        }
    }

    /**
     * A full set of pending hashes, sealed (no more are added to it) and being sorted into the
     * next snapshot; still searched until that snapshot takes its place.
     */
    private record Sealed(Pending hashes, long cleanBefore, CompletableFuture<Snapshot> sorting) {}

    /**
     * Writes the snapshot's entries from its position up to {@code to}, deleting stale ones on the
     * way. The deletes do not follow the entries (which all fall in the latest epochs' keys) but
     * sweep the whole key space in step with them: the slice that writes entries {@code from} to
     * {@code to} of {@code n} cleans the same share of the keys, so the stale entries of old
     * epochs are deleted a little in every slice rather than all at once.
     */
    private static void write(Connection c, Snapshot s, int to) throws SQLException {
        int from = s.position;
        if (s.cleanBefore > 0) {
            long low = sweep(from, s.size());
            long high = to == s.size() ? Long.MAX_VALUE : sweep(to, s.size()) - 1;
            try (PreparedStatement delete =
                    c.prepareStatement("DELETE FROM event_ids WHERE hash BETWEEN ? AND ? AND log_offset < ?")) {
                delete.setLong(1, low);
                delete.setLong(2, high);
                delete.setLong(3, s.cleanBefore);
                delete.executeUpdate();
            }
        }
        try (PreparedStatement insert =
                c.prepareStatement("INSERT OR IGNORE INTO event_ids(hash, log_offset) VALUES (?, ?)")) {
            for (int i = from; i < to; i++) {
                insert.setLong(1, s.keys[i]);
                insert.setLong(2, s.offsets[i]);
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    /** Where the share {@code i / n} of the key space begins: {@code Long.MIN_VALUE} for 0, rising with i. */
    private static long sweep(int i, int n) {
        return (long) (Math.scalb((double) i / n, 64) - 0x1p63);
    }

    /** The progress of the table to save with the slice that completes a snapshot. */
    record Marks(long indexedThrough, long cleanedThrough) {}

    /** After the writer's transaction committed: the slice it wrote is in the table. */
    void committed() {
        if (uncommittedPosition < 0 || snapshot == null) {
            return;
        }
        snapshot.position = uncommittedPosition;
        uncommittedPosition = -1;
        if (snapshot.position == snapshot.size()) {
            synchronized (this) {
                snapshot = null;
            }
        }
    }

    /** After the writer's transaction rolled back: the slice is to be written again. */
    void rolledBack() {
        uncommittedPosition = -1;
    }

    /** How many hashes are in memory (pending and in a snapshot not yet written). */
    synchronized int inMemory() {
        return pending.size()
                + (sealed == null ? 0 : sealed.hashes().size())
                + (snapshot == null ? 0 : snapshot.size() - snapshot.position);
    }

    /** Hashes of events not yet in the table: open addressing, several entries per hash allowed. */
    private static final class Pending {
        private long[] hashes;
        private long[] offsets; // 0: free slot (offsets start at 1)
        private int size;

        Pending(int expected) {
            int capacity = Integer.highestOneBit(Math.max(16, expected) * 2 - 1) << 1;
            hashes = new long[capacity];
            offsets = new long[capacity];
        }

        int size() {
            return size;
        }

        void add(long hash, long offset) {
            if ((size + 1) * 4 > hashes.length * 3) {
                grow();
            }
            int mask = hashes.length - 1;
            int i = slot(hash, mask);
            while (offsets[i] != 0) {
                i = (i + 1) & mask;
            }
            hashes[i] = hash;
            offsets[i] = offset;
            size++;
        }

        void forEach(LongConsumer hashConsumer) {
            for (int i = 0; i < hashes.length; i++) {
                if (offsets[i] != 0) {
                    hashConsumer.accept(hashes[i]);
                }
            }
        }

        void find(long hash, LongConsumer found) {
            int mask = hashes.length - 1;
            for (int i = slot(hash, mask); offsets[i] != 0; i = (i + 1) & mask) {
                if (hashes[i] == hash) {
                    found.accept(offsets[i]);
                }
            }
        }

        private static int slot(long hash, int mask) {
            return (int) (hash ^ (hash >>> 32)) & mask;
        }

        private void grow() {
            long[] oldHashes = hashes;
            long[] oldOffsets = offsets;
            hashes = new long[oldHashes.length * 2];
            offsets = new long[oldOffsets.length * 2];
            size = 0;
            for (int i = 0; i < oldHashes.length; i++) {
                if (oldOffsets[i] != 0) {
                    add(oldHashes[i], oldOffsets[i]);
                }
            }
        }

        /** The entries sorted by their keys in the table ({@link IdIndex#key}), to be written to it. */
        Snapshot sorted(IdIndex index, long cleanBefore) {
            long[] k = new long[size];
            long[] o = new long[size];
            long lowest = Long.MAX_VALUE;
            long through = 0;
            int n = 0;
            for (int i = 0; i < hashes.length; i++) {
                if (offsets[i] != 0) {
                    k[n] = index.key(hashes[i], offsets[i]);
                    o[n] = offsets[i];
                    lowest = Math.min(lowest, offsets[i]);
                    through = Math.max(through, offsets[i]);
                    n++;
                }
            }
            PairSort.sort(k, o);
            return new Snapshot(k, o, lowest, through, cleanBefore);
        }
    }

    /**
     * Entries sorted by key, written to the table slice by slice.
     *
     * @param lowest the lowest offset among them
     * @param through the highest offset among them: every event up to it is in the table once
     *     all are written (older ones were written before)
     * @param cleanBefore when positive, table entries of offsets before it are deleted as the
     *     slices are written
     */
    private static final class Snapshot {
        final long[] keys;
        final long[] offsets;
        final long lowest;
        final long through;
        final long cleanBefore;
        int position; // entries before it are in the table (committed)

        Snapshot(long[] keys, long[] offsets, long lowest, long through, long cleanBefore) {
            this.keys = keys;
            this.offsets = offsets;
            this.lowest = lowest;
            this.through = through;
            this.cleanBefore = cleanBefore;
        }

        int size() {
            return keys.length;
        }

        /** The marks to save with the slice that completes this snapshot. */
        Marks marks(long cleanedThrough) {
            return new Marks(through, cleanBefore > 0 ? cleanBefore - 1 : cleanedThrough);
        }

        void find(long key, LongConsumer found) {
            int i = Arrays.binarySearch(keys, key);
            if (i < 0) {
                return;
            }
            while (i > 0 && keys[i - 1] == key) {
                i--;
            }
            for (; i < keys.length && keys[i] == key; i++) {
                found.accept(offsets[i]);
            }
        }
    }

    /** Sorts two parallel arrays by the first (in place; quicksort, insertion sort for short runs). */
    static final class PairSort {
        private PairSort() {}

        static void sort(long[] keys, long[] values) {
            sort(keys, values, 0, keys.length - 1);
        }

        private static void sort(long[] k, long[] v, int low, int high) {
            while (high - low > 16) {
                long pivot = median(k[low], k[(low + high) >>> 1], k[high]);
                int i = low;
                int j = high;
                while (i <= j) {
                    while (k[i] < pivot) {
                        i++;
                    }
                    while (k[j] > pivot) {
                        j--;
                    }
                    if (i <= j) {
                        swap(k, v, i++, j--);
                    }
                }
                if (j - low < high - i) { // recurse into the smaller side: O(log n) stack
                    sort(k, v, low, j);
                    low = i;
                } else {
                    sort(k, v, i, high);
                    high = j;
                }
            }
            for (int i = low + 1; i <= high; i++) {
                for (int j = i; j > low && k[j - 1] > k[j]; j--) {
                    swap(k, v, j, j - 1);
                }
            }
        }

        private static long median(long a, long b, long c) {
            return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
        }

        private static void swap(long[] k, long[] v, int i, int j) {
            long tk = k[i];
            k[i] = k[j];
            k[j] = tk;
            long tv = v[i];
            v[i] = v[j];
            v[j] = tv;
        }
    }
}
