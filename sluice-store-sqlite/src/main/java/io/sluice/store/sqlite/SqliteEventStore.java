package io.sluice.store.sqlite;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.OffsetOutOfRangeException;
import io.sluice.core.log.SqlStoreQueries;
import io.sluice.core.log.StoreException;
import io.sluice.core.log.StoreTimer;
import io.sluice.core.log.StoredEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import org.sqlite.SQLiteConfig;

/**
 * The embedded store: the log and the checkpoints in one SQLite database,
 * {@code DIR/sluice.db}, that a user can open with {@code sqlite3}.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>Write-ahead logging with {@code synchronous=FULL}: a commit is fsynced before
 * {@link #append} returns, and after a crash SQLite recovers exactly the committed
 * transactions. Every writing transaction begins {@code IMMEDIATE}, taking the write lock at
 * once, so that the two writing connections wait for each other (busy timeout) instead of
 * failing on a stale read snapshot. One connection writes events (only the log's writer thread
 * calls {@link #append}); a second, synchronised one writes checkpoints and deletes for
 * retention; reads use a small pool of their own connections, which WAL lets run beside the
 * writers. One process per database: several Sluice processes share a PostgreSQL store instead.
 *
 * <p>Events are kept in runs of up to 256 consecutive events per row of the {@code chunks}
 * table ({@link Chunk}), their texts exactly as received, the row's JSON array compressed with
 * zstd unless {@link Compression#NONE} is asked for ({@link Chunk.Writer} cuts and writes the
 * rows); the {@code events} view shows them a row per event. Compression is for the writes
 * more than the space: every byte of a row is written to the WAL, read back by the checkpoint
 * and written again into the database file, and JSON events compress five to twenty times.
 * Ids are found through {@link IdIndex}: a table of id hashes written in bulk,
 * plus the most recent ids in memory. Together this writes each event about once, sequentially,
 * where a row and a unique id index per event wrote several pages per event.
 *
 * <p>Checkpoints (copying committed pages from the WAL into the database file) run on a
 * thread of their own, {@link Checkpointer}, instead of inside whichever commit crosses
 * SQLite's threshold: that commit would wait for the copy and its fsync, and so would every
 * producer queued behind it. The writers' automatic checkpoints are off; the checkpointer runs
 * a {@code PASSIVE} checkpoint, which never blocks writers or readers, every 25 ms after
 * a commit, and a {@code TRUNCATE} one on close. Durability is unchanged: a commit is durable
 * once its WAL frames are fsynced. Checkpoints come often so that each is small: a commit's
 * fsync waits for the disk to take whatever else is being written, and a checkpoint's fsync
 * of 200 ms of appends (about 4 MB at 20,000 events/s) held commits back by tens of
 * milliseconds (p99 at 20,000 events/s: 35–46 ms with 25 ms, 52–177 ms with 200 ms).
 *
 * <p>Passive checkpoints alone never let the WAL start over while appends go on: SQLite
 * writes from the start of the WAL again only when a write begins with every frame already
 * copied, and the writer adds frames while the checkpointer copies. The WAL would grow by
 * everything ever written, and each commit's fsync would also have to record the file's
 * growth. So when the checkpointer finds the WAL longer than {@link Wal#restartBytes}, it asks
 * the writer to finish the copy itself, between two appends: the frames committed since the
 * checkpointer's copy and an fsync of the database file, which holds appends back for tens of
 * milliseconds on a busy disk, once per {@code restartBytes} written. The next append
 * then writes from the start of the WAL again, over blocks the file already has (unless a
 * reader is still reading frames of the WAL; the checkpointer then asks again later).
 *
 * <p>New databases use 16 KB pages instead of SQLite's 4 KB: each page is a WAL frame of its
 * own, written with its own system call and copied again by the checkpoint, and most of what
 * the store writes is runs of events larger than a page. Closed-loop ingest went from 89,000
 * to 91,000–105,000 events/s, and p99 at 20,000 events/s from 66–147 ms to 32–38 ms (64 KB
 * pages: about the same rate, a less even tail).
 *
 * <p>Offsets are assigned here, in the writer's transaction: ids already stored (or repeated
 * in the batch) are looked up first and left out, so the stored offsets stay gap-free.
 * Retention deletes whole rows and moves {@code meta.first_offset}; events before it in the
 * first remaining row are no longer visible. The first and last offsets and the retained bytes
 * are kept in the {@code meta} table in the same transactions, so they are exact after a crash
 * and cheap to read with millions of events.
 */
public final class SqliteEventStore implements EventStore {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SqliteEventStore.class);

    static final int SCHEMA_VERSION = 4;

    private static final String CHUNK_COLUMNS = "first_offset, ids, types, sizes, events";

    /** Rows read per query when scanning. */
    private static final int SCAN_ROWS = 8;

    private final Path file;
    private final Clock clock;
    private final Connection writer;
    private final Connection control;
    private final HikariDataSource readers;
    private final PreparedStatement insert;
    private final PreparedStatement saveMeta;
    private final Checkpointer checkpointer;
    private final long pageSize;
    private final long walRestartFrames;
    private volatile long walFrames; // the WAL's length in frames at the last checkpoint; set by the checkpointer
    private final StoreTimer checkpointTimer = new StoreTimer(
            "sluice.sqlite.checkpoint",
            "Background checkpoints: committed pages copied from the WAL into the database");
    private final StoreTimer walRestartTimer = new StoreTimer(
            "sluice.sqlite.wal.restart",
            "The writer copying the WAL's last frames so that it starts over; appends wait meanwhile");
    private final StoreTimer filterBuildTimer = new StoreTimer(
            "sluice.sqlite.id.filter.build",
            "Builds of the filter over stored ids by reading the id table (after opening, and when it fills)");
    private volatile boolean walRestartDue; // set by the checkpointer, cleared by the writer
    private final LongAdder walRestarts = new LongAdder(); // writer checkpoints that copied the whole WAL
    private final FilterBuilder filterBuilder = new FilterBuilder();
    private final IdIndex ids;
    private volatile long lastOffset;
    private volatile long firstOffset;
    private long bytes; // guarded by this
    private long indexedThrough; // writer only (and open)
    private long cleanedThrough; // writer only (and open)
    private final LongAdder tableLookups = new LongAdder(); // ids looked up in the id table
    private final Compression compression;
    private final Chunk.Writer chunkWriter; // writer only
    private final LongAdder eventBytesWritten = new LongAdder(); // events' texts appended, as received
    private final LongAdder storedBytesWritten = new LongAdder(); // the same, as written into rows

    private SqliteEventStore(Path file, Clock clock, IdIndex ids, Wal wal, Compression compression, boolean durable)
            throws SQLException {
        this.file = file;
        this.clock = clock;
        this.ids = ids;
        this.compression = compression;
        String url = "jdbc:sqlite:" + file;
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(durable ? SQLiteConfig.SynchronousMode.FULL : SQLiteConfig.SynchronousMode.OFF);
        config.setBusyTimeout(30_000);
        createIfNew(file, url);
        this.writer = DriverManager.getConnection(url, config.toProperties());
        this.control = DriverManager.getConnection(url, config.toProperties());
        pragma(writer, "PRAGMA wal_autocheckpoint = 0");
        pragma(writer, "PRAGMA cache_size = -" + WRITER_CACHE_KIB);
        pragma(control, "PRAGMA wal_autocheckpoint = 0");
        // When the WAL starts over, a longer file is cut back to twice the length that makes it
        // start over: only after a burst, not every time.
        pragma(writer, "PRAGMA journal_size_limit = " + 2 * wal.restartBytes());
        pragma(control, "PRAGMA journal_size_limit = " + 2 * wal.restartBytes());
        SqliteSchema.prepare(control, file, ids);
        HikariConfig pool = new HikariConfig();
        pool.setJdbcUrl(url);
        pool.setDataSourceProperties(config.toProperties());
        pool.setMaximumPoolSize(8);
        pool.setPoolName("sluice-sqlite-readers");
        this.readers = new HikariDataSource(pool);
        this.insert = writer.prepareStatement(Chunk.INSERT);
        this.saveMeta = writer.prepareStatement("UPDATE meta SET value = CASE key WHEN 'last_offset' THEN ?"
                + " WHEN 'bytes' THEN value + ? WHEN 'ids_indexed_through' THEN ? WHEN 'ids_cleaned_through' THEN ?"
                + " END WHERE key IN ('last_offset', 'bytes', 'ids_indexed_through', 'ids_cleaned_through')");
        loadMeta();
        loadSavedFilter();
        loadRecentIds();
        this.pageSize = pageSize(control);
        this.walRestartFrames = Math.max(1, wal.restartBytes() / pageSize);
        this.checkpointer =
                new Checkpointer(DriverManager.getConnection(url, config.toProperties()), wal.checkpointMillis());
        this.chunkWriter = new Chunk.Writer(compression); // last: nothing after it can fail and leave it unclosed
    }

    /**
     * Creates a missing database with {@link #PAGE_SIZE} pages, which must be set before WAL mode
     * is; an existing database keeps its own.
     */
    private static void createIfNew(Path file, String url) throws SQLException {
        if (file.toFile().length() > 0) {
            return;
        }
        try (Connection c = DriverManager.getConnection(url);
                Statement s = c.createStatement()) {
            s.execute("PRAGMA page_size = " + PAGE_SIZE);
            s.execute("PRAGMA journal_mode = WAL");
        }
    }

    /** The page size of new databases, in bytes (SQLite's default is 4 KB; see the notes above). */
    static final int PAGE_SIZE = 16 * 1024;

    /** The database's page size in bytes: one WAL frame holds one page. */
    private static long pageSize(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("PRAGMA page_size")) {
            return rs.next() ? rs.getLong(1) : 4096;
        }
    }

    /** What {@code PRAGMA wal_checkpoint} answers: whether it was blocked, the WAL's frames, the frames copied. */
    private record WalCheckpoint(boolean busy, long frames, long copied) {}

    private static WalCheckpoint walCheckpoint(Connection c, String mode) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(" + mode + ")")) {
            if (!rs.next()) {
                return new WalCheckpoint(true, 0, 0);
            }
            return new WalCheckpoint(rs.getInt(1) != 0, rs.getLong(2), rs.getLong(3));
        }
    }

    /** The writer's page cache: the id table of a large log should stay in memory. */
    private static final int WRITER_CACHE_KIB = 64 * 1024;

    static void pragma(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Copies committed pages from the WAL into the database file, off the commit path. */
    private final class Checkpointer {
        private static final int CATCH_UP_ROUNDS = 8;

        private final Connection connection;
        private final ScheduledExecutorService schedule = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("sluice-sqlite-checkpointer").factory());
        private long checkpointedAt = -1; // only the schedule's thread
        private long askAgainAt; // WAL frames; only the schedule's thread

        Checkpointer(Connection connection, long periodMillis) {
            this.connection = connection;
            schedule.scheduleWithFixedDelay(this::checkpoint, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
        }

        private void checkpoint() {
            long last = lastOffset;
            if (last == checkpointedAt) {
                return; // nothing committed since the last one: nothing to copy
            }
            long started = System.nanoTime();
            try {
                WalCheckpoint done = walCheckpoint(connection, "PASSIVE");
                if (done.busy()) {
                    return; // the writer is completing a copy: next time
                }
                checkpointedAt = last;
                if (done.frames() < walFrames || done.frames() <= walRestartFrames) {
                    askAgainAt = 0; // started over (a WAL only gets shorter so), or still short
                }
                if (done.frames() > walRestartFrames && done.frames() >= askAgainAt) {
                    done = catchUp(done);
                    // The writer completes the copy between two appends. If a reader still on the
                    // WAL keeps it from starting over, ask again only after another quarter.
                    walRestartDue = true;
                    askAgainAt = done.frames() + walRestartFrames / 4;
                }
                walFrames = done.frames();
                checkpointTimer.recordSince(started);
            } catch (SQLException | RuntimeException e) { // thrown out, it would end the schedule
                LOG.warn("SQLite checkpoint of {} failed (will retry): {}", file, e.getMessage());
            }
        }

        /**
         * Checkpoints again at once, while each round finds many frames the writer added
         * during the one before, so that what the writer has left to copy (holding appends
         * back meanwhile) is a round's worth of a short round.
         */
        private WalCheckpoint catchUp(WalCheckpoint done) throws SQLException {
            for (int round = 0; round < CATCH_UP_ROUNDS; round++) {
                WalCheckpoint next = walCheckpoint(connection, "PASSIVE");
                if (next.busy() || next.frames() < done.frames()) {
                    return done;
                }
                long added = next.frames() - done.frames();
                done = next;
                if (added <= walRestartFrames / 64) {
                    break;
                }
            }
            return done;
        }

        void close() {
            schedule.shutdown();
            try {
                schedule.awaitTermination(5, TimeUnit.SECONDS);
                pragma(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (SQLException e) {
                // closing: the next open replays the WAL
            }
            try {
                connection.close();
            } catch (SQLException ignored) {
                // closing
            }
        }
    }

    /**
     * Builds the {@link IdFilter} of the id table on a thread of its own: after the first append
     * since the store opened (not at open, where reading a large table would compete with the
     * server's start; appends look every id up in the table until it is ready) and whenever the
     * filter holds more hashes than it was planned for.
     */
    private final class FilterBuilder {
        private final ExecutorService thread = Executors.newSingleThreadExecutor(
                Thread.ofPlatform().daemon().name("sluice-sqlite-id-filter").factory());
        private volatile boolean closing;

        void buildIfDue() {
            if (!closing && ids.claimFilterBuild(retainedEvents())) {
                thread.execute(this::build);
            }
        }

        private void build() {
            long started = System.nanoTime();
            try (Connection c = readers.getConnection()) {
                if (ids.buildFilter(c, retainedEvents(), IdIndex.FILTER_SCAN_BATCH, () -> closing)) {
                    filterBuildTimer.recordSince(started);
                    logFilterReady("built", ids.filter(), started);
                }
            } catch (SQLException | RuntimeException e) {
                // Appends stay correct without it, only slower; not retried until the store reopens.
                LOG.warn(
                        "could not build the id filter of {} (more ids are looked up in the table until it"
                                + " reopens): {}",
                        file,
                        e.getMessage());
            }
        }

        void close() {
            closing = true;
            thread.shutdown();
            try {
                if (!thread.awaitTermination(30, TimeUnit.SECONDS)) {
                    LOG.warn("the id filter of {} was still being built on close", file);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** How many events the log retains (and so about how many ids the filter must hold). */
    private long retainedEvents() {
        return lastOffset - firstOffset + 1;
    }

    /** Opens (creating if needed) the store in {@code directory}. */
    public static SqliteEventStore open(Path directory) {
        return open(directory, Clock.systemUTC());
    }

    /** Opens the store with a clock for ingest times (retention by age uses them). */
    public static SqliteEventStore open(Path directory, Clock clock) {
        return open(directory, clock, Compression.ZSTD);
    }

    /** Opens the store writing new chunks as {@code compression} says (rows already written stay as they are). */
    public static SqliteEventStore open(Path directory, Clock clock, Compression compression) {
        return open(directory, clock, new IdIndex(IdIndex.FLUSH_AT, IdIndex.DEFAULT_HASH), Wal.DEFAULT, compression);
    }

    /** Opens the store with its id index tuned (tests: a small flush size, a colliding hash). */
    static SqliteEventStore open(Path directory, Clock clock, IdIndex ids) {
        return open(directory, clock, ids, Wal.DEFAULT);
    }

    /**
     * How the WAL is kept short.
     *
     * @param restartBytes a WAL longer than this is made to start over (see the notes above)
     * @param checkpointMillis the pause between background checkpoints
     */
    record Wal(long restartBytes, long checkpointMillis) {
        static final Wal DEFAULT = new Wal(256L * 1024 * 1024, 25);
    }

    /** Opens the store with its id index and its WAL's upkeep tuned (tests). */
    static SqliteEventStore open(Path directory, Clock clock, IdIndex ids, Wal wal) {
        return open(directory, clock, ids, wal, Compression.ZSTD);
    }

    /**
     * Opens a scratch store for state that is thrown away afterwards (a replay's, a definition
     * test's): the same store, but commits are not fsynced ({@code synchronous=OFF}), so a crash
     * of the machine may lose or corrupt it.
     */
    public static SqliteEventStore scratch(Path directory, Clock clock) {
        return open(
                directory,
                clock,
                new IdIndex(IdIndex.FLUSH_AT, IdIndex.DEFAULT_HASH),
                Wal.DEFAULT,
                Compression.NONE,
                false);
    }

    /** Opens the store with everything tuned (tests). */
    static SqliteEventStore open(Path directory, Clock clock, IdIndex ids, Wal wal, Compression compression) {
        return open(directory, clock, ids, wal, compression, true);
    }

    private static SqliteEventStore open(
            Path directory, Clock clock, IdIndex ids, Wal wal, Compression compression, boolean durable) {
        compression.checkAvailable();
        try {
            Files.createDirectories(directory);
            return new SqliteEventStore(directory.resolve("sluice.db"), clock, ids, wal, compression, durable);
        } catch (IOException | SQLException e) {
            throw new StoreException("cannot open the SQLite store in " + directory + ": " + e.getMessage(), e);
        }
    }

    /**
     * Registers the store's meters: background checkpoints
     * ({@code sluice_sqlite_checkpoint_seconds}), the writer's copies that let the WAL start over,
     * during which appends wait ({@code sluice_sqlite_wal_restart_seconds}), and the WAL's length
     * at the last checkpoint ({@code sluice_sqlite_wal_bytes}).
     */
    @Override
    public void bindTo(MeterRegistry meters) {
        checkpointTimer.bindTo(meters);
        walRestartTimer.bindTo(meters);
        Gauge.builder("sluice.sqlite.wal", this, s -> (double) s.walFrames * s.pageSize)
                .description("Length of the WAL at the last checkpoint")
                .baseUnit("bytes")
                .register(meters);
        FunctionCounter.builder("sluice.sqlite.id.table.lookups", tableLookups, LongAdder::sum)
                .description("Appended ids looked up in the id table because the filter over it could not rule them"
                        + " out (all of them until the filter is ready)")
                .register(meters);
        Gauge.builder(
                        "sluice.sqlite.id.filter",
                        ids,
                        i -> i.filter() == null ? 0 : i.filter().bytes())
                .description("Memory of the filter over stored ids; 0 until it is built or loaded")
                .baseUnit("bytes")
                .register(meters);
        filterBuildTimer.bindTo(meters);
        FunctionCounter.builder("sluice.sqlite.slow.appends", slowAppends, LongAdder::sum)
                .description("Appends that held the writer for more than 200 ms (each logged with its parts)")
                .register(meters);
        FunctionCounter.builder("sluice.sqlite.event.bytes", eventBytesWritten, LongAdder::sum)
                .description("Events' texts appended since start, as received")
                .baseUnit("bytes")
                .register(meters);
        FunctionCounter.builder("sluice.sqlite.stored.bytes", storedBytesWritten, LongAdder::sum)
                .description("The same events as written into chunks' rows (compressed if store.compression says so)")
                .baseUnit("bytes")
                .register(meters);
    }

    /** How many times the writer copied the whole WAL so that it could start over. */
    long walRestarts() {
        return walRestarts.sum();
    }

    /** How many ids were looked up in the id table (the filter let the others pass). */
    long tableLookups() {
        return tableLookups.sum();
    }

    /** The id filter once built, else null. */
    IdFilter idFilter() {
        return ids.filter();
    }

    /** The database file. */
    public Path file() {
        return file;
    }

    private void loadMeta() throws SQLException {
        Map<String, Long> meta = SqliteSchema.meta(control);
        lastOffset = meta.get("last_offset");
        firstOffset = meta.get("first_offset");
        bytes = meta.get("bytes");
        indexedThrough = meta.get("ids_indexed_through");
        cleanedThrough = meta.get("ids_cleaned_through");
        ids.keyedFrom(meta.get("ids_keyed_from"));
    }

    /** Puts the ids of events not yet in the id table into memory, as they were before a restart. */
    private void loadRecentIds() throws SQLException {
        try (PreparedStatement ps = control.prepareStatement("SELECT first_offset, ids FROM chunks WHERE first_offset"
                + " >= coalesce((SELECT max(first_offset) FROM chunks WHERE first_offset <= ?), 0)"
                + " ORDER BY first_offset")) {
            ps.setLong(1, indexedThrough + 1);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long first = rs.getLong(1);
                    List<String> chunkIds = Chunk.strings(rs.getString(2));
                    for (int i = 0; i < chunkIds.size(); i++) {
                        if (first + i > indexedThrough) {
                            ids.add(ids.hash(chunkIds.get(i)), first + i);
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ appending

    @Override
    public List<Appended> append(List<NewEvent> events) {
        long started = System.nanoTime();
        long[] phases = new long[APPEND_PARTS.length]; // when each part ended (0: not reached)
        int n = events.size();
        long[] hashes = new long[n];
        for (int i = 0; i < n; i++) {
            hashes[i] = ids.hash(events.get(i).id());
        }
        List<Appended> results = new ArrayList<>(n);
        try {
            begin(writer);
            long[] stored = storedOffsets(
                    new ChunkCache(writer), events.stream().map(NewEvent::id).toList(), hashes);
            phases[0] = System.nanoTime();
            List<NewEvent> added = new ArrayList<>(n);
            long[] addedHashes = new long[n];
            Map<String, Long> inBatch = new HashMap<>();
            long next = lastOffset;
            for (int i = 0; i < n; i++) {
                NewEvent e = events.get(i);
                long known = stored[i];
                if (known == 0) {
                    Long earlier = inBatch.putIfAbsent(e.id(), next + 1);
                    known = earlier == null ? 0 : earlier;
                }
                if (known != 0) {
                    results.add(new Appended(known, true));
                    continue;
                }
                next++;
                addedHashes[added.size()] = hashes[i];
                added.add(e);
                results.add(new Appended(next, false));
            }
            Chunk.Writer.Added rows = chunkWriter.addRows(insert, lastOffset + 1, added, clock.millis());
            long addedBytes = rows.eventBytes();
            phases[1] = System.nanoTime();
            if (!added.isEmpty()) {
                insert.executeBatch();
            }
            phases[2] = System.nanoTime();
            IdIndex.Marks marks = ids.writeSlice(writer, added.size(), firstOffset, indexedThrough, cleanedThrough);
            phases[3] = System.nanoTime();
            if (!added.isEmpty() || marks != null) {
                saveMeta.setLong(1, next);
                saveMeta.setLong(2, addedBytes);
                saveMeta.setLong(3, marks == null ? indexedThrough : marks.indexedThrough());
                saveMeta.setLong(4, marks == null ? cleanedThrough : marks.cleanedThrough());
                saveMeta.executeUpdate();
            }
            execute(writer, "COMMIT");
            phases[4] = System.nanoTime();
            ids.committed();
            ids.add(addedHashes, lastOffset + 1, added.size());
            filterBuilder.buildIfDue();
            if (marks != null) {
                indexedThrough = marks.indexedThrough();
                cleanedThrough = marks.cleanedThrough();
            }
            if (!added.isEmpty()) {
                synchronized (this) {
                    lastOffset = next;
                    bytes += addedBytes;
                }
                eventBytesWritten.add(addedBytes);
                storedBytesWritten.add(rows.storedBytes());
            }
            phases[5] = System.nanoTime();
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(writer);
            ids.rolledBack();
            if (e instanceof StoreException se) {
                throw se;
            }
            throw new StoreException("append failed: " + e.getMessage(), e);
        }
        if (walRestartDue) {
            completeCheckpoint();
        }
        phases[6] = System.nanoTime();
        warnIfSlow(n, started, phases);
        return results;
    }

    /** The parts of an append, in order, as {@link #warnIfSlow} names them. */
    private static final String[] APPEND_PARTS = {
        "duplicate lookups", "rows", "insert", "id table slice", "commit", "ids in memory", "WAL checkpoint"
    };

    /** An append taking longer than this (200 ms by default) is counted and logged with its parts. */
    private volatile long slowAppendNanos = TimeUnit.MILLISECONDS.toNanos(200);

    private final LongAdder slowAppends = new LongAdder();

    /** Sets what counts as a slow append (tests). */
    void slowAppendThreshold(Duration threshold) {
        slowAppendNanos = threshold.toNanos();
    }

    /**
     * Counts and logs an append that held the writer, and every producer queued behind it, for
     * longer than {@link #slowAppendNanos}, saying where the time went: a rare stall is
     * otherwise visible only as a latency tail.
     */
    private void warnIfSlow(int events, long started, long[] phases) {
        long total = phases[phases.length - 1] - started;
        if (total < slowAppendNanos) {
            return;
        }
        slowAppends.increment();
        StringBuilder parts = new StringBuilder();
        long from = started;
        for (int i = 0; i < phases.length; i++) {
            long to = phases[i] == 0 ? from : phases[i];
            parts.append(i == 0 ? "" : ", ")
                    .append(APPEND_PARTS[i])
                    .append(' ')
                    .append(TimeUnit.NANOSECONDS.toMillis(to - from))
                    .append(" ms");
            from = to;
        }
        LOG.warn(
                "slow append to {}: {} events in {} ms ({})",
                file,
                events,
                TimeUnit.NANOSECONDS.toMillis(total),
                parts);
    }

    /**
     * Copies the WAL frames the checkpointer has not copied yet, on the writer's connection
     * between two appends (so no frame is added meanwhile), which lets the next append write
     * from the start of the WAL. Tried again after the next append if the checkpointer held
     * the lock; left to the checkpointer to ask again if a reader still needs frames that are
     * not copied. The appends already committed are durable either way.
     */
    private void completeCheckpoint() {
        long started = System.nanoTime();
        try {
            WalCheckpoint done = walCheckpoint(writer, "PASSIVE");
            if (done.busy()) {
                return;
            }
            walRestartTimer.recordSince(started);
            walRestartDue = false;
            if (done.copied() == done.frames()) {
                walRestarts.increment();
            }
        } catch (SQLException e) {
            walRestartDue = false; // the checkpointer asks again when it next finds the WAL long
            LOG.warn("SQLite checkpoint on the writer's connection of {} failed: {}", file, e.getMessage());
        }
    }

    /**
     * The retained offset of each id (0 when it is not stored): candidates by hash from memory
     * and from the id table (unless its filter rules the hash out), confirmed by the stored id.
     * For appends (on the writer's connection) and reads by id alike.
     */
    private long[] storedOffsets(ChunkCache chunks, List<String> wanted, long[] hashes) throws SQLException {
        long first = firstOffset;
        long last = lastOffset;
        Map<Long, List<Long>> candidates = new HashMap<>();
        long[] inTable = new long[hashes.length];
        int maybe = 0;
        for (long hash : hashes) {
            ids.memoryCandidates(hash, offset -> candidates
                    .computeIfAbsent(hash, h -> new ArrayList<>(1))
                    .add(offset));
            if (ids.mayBeInTable(hash)) {
                inTable[maybe++] = hash;
            }
        }
        tableLookups.add(maybe);
        ids.tableCandidates(chunks.connection, inTable, maybe, first, last, (hash, offset) -> candidates
                .computeIfAbsent(hash, h -> new ArrayList<>(1))
                .add(offset));
        long[] stored = new long[hashes.length];
        if (candidates.isEmpty()) {
            return stored;
        }
        for (int i = 0; i < stored.length; i++) {
            List<Long> offsets = candidates.get(hashes[i]);
            if (offsets == null) {
                continue;
            }
            for (long offset : new TreeSet<>(offsets)) {
                if (offset >= first && offset <= last && wanted.get(i).equals(chunks.idAt(offset))) {
                    stored[i] = offset;
                    break;
                }
            }
        }
        return stored;
    }

    /** The chunks read for one operation, by first offset. */
    private static final class ChunkCache {
        private final Connection connection;
        private final Map<Long, Chunk> chunks = new HashMap<>();

        ChunkCache(Connection connection) {
            this.connection = connection;
        }

        String idAt(long offset) throws SQLException {
            Chunk chunk = chunkAt(offset);
            return chunk == null ? null : chunk.ids().get((int) (offset - chunk.firstOffset()));
        }

        Chunk chunkAt(long offset) throws SQLException {
            for (Chunk chunk : chunks.values()) {
                if (chunk.firstOffset() <= offset && offset <= chunk.lastOffset()) {
                    return chunk;
                }
            }
            Chunk chunk = readChunkAt(connection, offset);
            if (chunk != null) {
                chunks.put(chunk.firstOffset(), chunk);
            }
            return chunk;
        }
    }

    /** The chunk holding {@code offset}, or null. */
    private static Chunk readChunkAt(Connection c, long offset) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + CHUNK_COLUMNS
                + " FROM chunks WHERE first_offset <= ? ORDER BY first_offset DESC LIMIT 1")) {
            ps.setLong(1, offset);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                Chunk chunk = chunk(rs);
                return chunk.lastOffset() >= offset ? chunk : null;
            }
        }
    }

    private static Chunk chunk(ResultSet rs) throws SQLException {
        return Chunk.fromColumns(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getBytes(5));
    }

    /**
     * Starts a writing transaction holding the write lock from its first statement. A deferred
     * transaction that reads first and then writes fails at once (SQLITE_BUSY, no waiting) when
     * another connection wrote in between; an immediate one waits for the busy timeout instead.
     */
    private static void begin(Connection c) throws SQLException {
        execute(c, "BEGIN IMMEDIATE");
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            if (!c.getAutoCommit()) {
                c.rollback();
            } else {
                execute(c, "ROLLBACK");
            }
        } catch (SQLException ignored) {
            // the operation already failed (or no transaction was open); nothing more to report
        }
    }

    @Override
    public long lastOffset() {
        return lastOffset;
    }

    @Override
    public long firstOffset() {
        return firstOffset;
    }

    // ------------------------------------------------------------------ reading

    @Override
    public Page read(long after, int limit, Predicate<StoredEvent> filter) {
        long first = firstOffset;
        if (after < first - 1) {
            throw new OffsetOutOfRangeException(after, first);
        }
        return SqlStoreQueries.query(readers, "read failed: ", c -> read(c, after, limit, filter));
    }

    private static Page read(Connection c, long after, int limit, Predicate<StoredEvent> filter) throws SQLException {
        List<StoredEvent> out = new ArrayList<>();
        long cursor = after;
        long from = startOfChunkAt(c, after + 1);
        try (PreparedStatement ps = c.prepareStatement("SELECT " + CHUNK_COLUMNS
                + " FROM chunks WHERE first_offset >= ? ORDER BY first_offset LIMIT " + SCAN_ROWS)) {
            while (out.size() < limit) {
                ps.setLong(1, from);
                int rows = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next() && out.size() < limit) {
                        rows++;
                        Chunk chunk = chunk(rs);
                        if (cursor == after && chunk.firstOffset() > after + 1) {
                            throw new OffsetOutOfRangeException(after, chunk.firstOffset());
                        }
                        for (StoredEvent e : chunk.eventsFrom(cursor + 1)) {
                            cursor = e.offset();
                            if (filter.test(e)) {
                                out.add(e);
                                if (out.size() == limit) {
                                    break;
                                }
                            }
                        }
                        from = chunk.lastOffset() + 1;
                    }
                }
                if (rows < SCAN_ROWS) {
                    break;
                }
            }
        }
        return new Page(out, cursor);
    }

    /** The first offset of the chunk holding {@code offset}, or {@code offset} when none does. */
    private static long startOfChunkAt(Connection c, long offset) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("SELECT max(first_offset) FROM chunks WHERE first_offset <= ?")) {
            ps.setLong(1, offset);
            try (ResultSet rs = ps.executeQuery()) {
                long start = rs.next() ? rs.getLong(1) : 0;
                return rs.wasNull() || start == 0 ? offset : start;
            }
        }
    }

    @Override
    public Optional<StoredEvent> byId(String id) {
        return SqlStoreQueries.query(readers, "read failed: ", c -> {
            ChunkCache chunks = new ChunkCache(c);
            long offset = storedOffsets(chunks, List.of(id), new long[] {ids.hash(id)})[0];
            return offset == 0
                    ? Optional.empty()
                    : Optional.of(chunks.chunkAt(offset).event(offset));
        });
    }

    // ------------------------------------------------------------------ checkpoints

    @Override
    public Optional<Checkpoint> checkpoint(String reader) {
        return SqlStoreQueries.query(readers, "read failed: ", c -> SqlStoreQueries.checkpoint(c, reader));
    }

    @Override
    public synchronized void saveCheckpoint(String reader, Checkpoint checkpoint) {
        try {
            SqlStoreQueries.saveCheckpoint(control, reader, checkpoint, clock.millis());
        } catch (SQLException e) {
            throw new StoreException("saving the checkpoint of " + reader + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public List<NamedCheckpoint> checkpoints() {
        return SqlStoreQueries.query(readers, "read failed: ", SqlStoreQueries::checkpoints);
    }

    @Override
    public synchronized boolean deleteCheckpoint(String reader) {
        try {
            return SqlStoreQueries.deleteCheckpoint(control, reader);
        } catch (SQLException e) {
            throw new StoreException("deleting the checkpoint of " + reader + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public Dialect dialect() {
        return Dialect.SQLITE;
    }

    @Override
    public synchronized <T> T transaction(String what, SqlStoreQueries.SqlWork<T> work) {
        try {
            begin(control);
            T result = work.run(control);
            execute(control, "COMMIT");
            return result;
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(control);
            throw new StoreException(what + " failed: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ retention

    @Override
    public synchronized long deleteThrough(long offset) {
        long first = firstOffset;
        long through = Math.min(offset, lastOffset);
        if (through < first) {
            return 0;
        }
        try {
            begin(control);
            long freed = bytesBetween(control, first, through);
            try (PreparedStatement delete = control.prepareStatement(
                            "DELETE FROM chunks WHERE first_offset <= ? AND last_offset <= ?");
                    PreparedStatement meta = control.prepareStatement(
                            "UPDATE meta SET value = CASE key"
                                    + " WHEN 'first_offset' THEN ? ELSE value - ? END WHERE key IN ('first_offset', 'bytes')")) {
                delete.setLong(1, through);
                delete.setLong(2, through);
                delete.executeUpdate();
                meta.setLong(1, through + 1);
                meta.setLong(2, freed);
                meta.executeUpdate();
            }
            execute(control, "COMMIT");
            bytes -= freed;
            firstOffset = through + 1;
            return through - first + 1;
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(control);
            throw new StoreException("retention delete failed: " + e.getMessage(), e);
        }
    }

    /** The bytes of the events from {@code from} through {@code through}. */
    private static long bytesBetween(Connection c, long from, long through) throws SQLException {
        long sum = 0;
        try (PreparedStatement ps = c.prepareStatement("SELECT first_offset, last_offset, bytes, sizes FROM chunks"
                + " WHERE first_offset >= ? AND first_offset <= ? ORDER BY first_offset")) {
            ps.setLong(1, startOfChunkAt(c, from));
            ps.setLong(2, through);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long chunkFirst = rs.getLong(1);
                    long chunkLast = rs.getLong(2);
                    if (chunkFirst >= from && chunkLast <= through) {
                        sum += rs.getLong(3);
                        continue;
                    }
                    int[] sizes = Chunk.ints(rs.getString(4));
                    for (long o = Math.max(from, chunkFirst); o <= Math.min(through, chunkLast); o++) {
                        sum += sizes[(int) (o - chunkFirst)];
                    }
                }
            }
        }
        return sum;
    }

    @Override
    public synchronized Stats stats() {
        long first = firstOffset;
        long last = lastOffset;
        if (first > last) {
            return new Stats(0, bytes, 0);
        }
        long oldest = SqlStoreQueries.query(readers, "read failed: ", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT ingested FROM chunks WHERE first_offset <= ? ORDER BY first_offset DESC LIMIT 1")) {
                ps.setLong(1, first);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0L;
                }
            }
        });
        return new Stats(last - first + 1, bytes, oldest);
    }

    @Override
    public synchronized long offsetKeeping(long keep) {
        long count = Math.max(0, lastOffset - firstOffset + 1);
        return count > keep ? firstOffset + (count - keep) - 1 : 0;
    }

    @Override
    public long offsetKeepingBytes(long limit) {
        long excess;
        long first;
        synchronized (this) {
            excess = bytes - limit;
            first = firstOffset;
        }
        if (excess <= 0) {
            return 0;
        }
        return SqlStoreQueries.query(readers, "read failed: ", c -> offsetFreeing(c, first, excess));
    }

    /**
     * The offset through which deleting the oldest events (from {@code first}) frees at least
     * {@code excess} bytes; the last offset when all of them together are not enough.
     */
    private static long offsetFreeing(Connection c, long first, long excess) throws SQLException {
        long freed = 0;
        long cursor = first - 1;
        try (PreparedStatement ps = c.prepareStatement("SELECT first_offset, last_offset, bytes, sizes FROM chunks"
                + " WHERE first_offset >= ? ORDER BY first_offset")) {
            ps.setLong(1, startOfChunkAt(c, first));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long chunkFirst = rs.getLong(1);
                    long chunkLast = rs.getLong(2);
                    long chunkBytes = rs.getLong(3);
                    if (chunkFirst >= first && freed + chunkBytes < excess) {
                        freed += chunkBytes;
                        cursor = chunkLast;
                        continue;
                    }
                    int[] sizes = Chunk.ints(rs.getString(4));
                    for (long o = Math.max(first, chunkFirst); o <= chunkLast; o++) {
                        freed += sizes[(int) (o - chunkFirst)];
                        cursor = o;
                        if (freed >= excess) {
                            return cursor;
                        }
                    }
                }
            }
        }
        return cursor;
    }

    @Override
    public long lastOffsetIngestedBefore(long millis) {
        long first = firstOffset;
        return SqlStoreQueries.query(readers, "read failed: ", c -> {
            long found = 0;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT last_offset, ingested FROM chunks WHERE first_offset >= ? ORDER BY first_offset")) {
                ps.setLong(1, startOfChunkAt(c, first));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next() && rs.getLong(2) < millis) {
                        found = rs.getLong(1);
                    }
                }
            }
            return found;
        });
    }

    @Override
    public void close() {
        filterBuilder.close();
        writeIdsInMemory();
        saveFilter();
        checkpointer.close();
        readers.close();
        try {
            insert.close();
            saveMeta.close();
            writer.close();
        } catch (SQLException ignored) {
            // closing: nothing left to do with the error
        }
        chunkWriter.close();
        synchronized (this) {
            try {
                control.close();
            } catch (SQLException ignored) {
                // closing
            }
        }
    }

    /** Where the id filter is saved on close: beside the database, as {@code sluice.db-idfilter}. */
    private Path filterFile() {
        return file.resolveSibling(file.getFileName() + "-idfilter");
    }

    /**
     * Saves the id filter, so that the next open need not read the id table to build it again
     * (tens of seconds at a hundred million ids, while every append looks its ids up in the
     * table). Stamped with the store's state: any append after this makes it stale.
     */
    private void saveFilter() {
        IdFilter f = ids.filter();
        if (f == null) {
            return;
        }
        try {
            f.save(filterFile(), new IdFilter.Stamp(lastOffset, bytes, indexedThrough));
        } catch (IOException e) {
            LOG.warn("could not save the id filter of {} (the next open builds it again): {}", file, e.toString());
        }
    }

    /** Uses the id filter saved when the store was last closed, if it describes the store as it is. */
    private void loadSavedFilter() {
        long started = System.nanoTime();
        try {
            IdFilter.load(filterFile(), new IdFilter.Stamp(lastOffset, bytes, indexedThrough))
                    .ifPresent(f -> {
                        ids.useFilter(f);
                        logFilterReady("loaded", f, started);
                    });
        } catch (IOException e) {
            LOG.warn("the saved id filter of {} is not used (it is built again): {}", file, e.getMessage());
        }
    }

    private void logFilterReady(String how, IdFilter f, long started) {
        LOG.debug(
                "id filter of {} {} in {} ms: {} hashes, {} KiB",
                file,
                how,
                (System.nanoTime() - started) / 1_000_000,
                f.added(),
                f.bytes() / 1024);
    }

    /** Writes the ids kept in memory to the id table, so that the next open has none to read. */
    private void writeIdsInMemory() {
        try {
            begin(writer);
            IdIndex.Marks marks = ids.writeAll(writer, firstOffset, indexedThrough, cleanedThrough);
            if (marks != null) {
                saveMeta.setLong(1, lastOffset);
                saveMeta.setLong(2, 0);
                saveMeta.setLong(3, marks.indexedThrough());
                saveMeta.setLong(4, marks.cleanedThrough());
                saveMeta.executeUpdate();
            }
            execute(writer, "COMMIT");
            if (marks != null) {
                indexedThrough = marks.indexedThrough();
                cleanedThrough = marks.cleanedThrough();
            }
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(writer); // the next open reads them from the events
            LOG.warn("could not write the recent ids of {} to its id table on close: {}", file, e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "SQLite store " + file + " (compression " + compression.configName() + ")";
    }
}
