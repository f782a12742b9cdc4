package io.sluice.store.sqlite;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.OffsetOutOfRangeException;
import io.sluice.core.log.SqlStoreQueries;
import io.sluice.core.log.StoreException;
import io.sluice.core.log.StoredEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
 * failing on a stale read snapshot. One connection writes events (only the log's writer thread calls
 * {@link #append}); a second, synchronised one writes checkpoints and deletes for retention;
 * reads use a small pool of their own connections, which WAL lets run beside the writers.
 * One process per database: several Sluice processes share a PostgreSQL store instead.
 *
 * <p>Checkpoints (copying committed pages from the WAL into the database file) run on a
 * thread of their own, {@link Checkpointer}, instead of inside whichever commit crosses
 * SQLite's threshold: that commit would wait for the copy and its fsync, and so would every
 * producer queued behind it. The writers' automatic checkpoints are off; the checkpointer runs
 * a {@code PASSIVE} checkpoint, which never blocks writers or readers, a few times a second,
 * and a {@code TRUNCATE} one on close. Durability is unchanged: a commit is durable once its
 * WAL frames are fsynced. The writer keeps a larger page cache, for the id index.
 *
 * <p>Offsets are assigned here, in the writer's transaction: ids already stored (or repeated
 * in the batch) are looked up first and left out, so the stored offsets stay gap-free. The
 * last offset and the retained count and bytes are kept in the {@code meta} table in the same
 * transaction, so they are exact after a crash and cheap to read with millions of events.
 */
public final class SqliteEventStore implements EventStore {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SqliteEventStore.class);
    private static final int ID_LOOKUP_CHUNK = 500;

    private final Path file;
    private final Clock clock;
    private final Connection writer;
    private final Connection control;
    private final HikariDataSource readers;
    private final PreparedStatement insert;
    private final Checkpointer checkpointer;
    private volatile long lastOffset;
    private volatile long firstOffset;
    private long count;
    private long bytes;

    private SqliteEventStore(Path file, Clock clock) throws SQLException {
        this.file = file;
        this.clock = clock;
        String url = "jdbc:sqlite:" + file;
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        config.setBusyTimeout(30_000);
        this.writer = DriverManager.getConnection(url, config.toProperties());
        this.control = DriverManager.getConnection(url, config.toProperties());
        pragma(writer, "PRAGMA wal_autocheckpoint = 0");
        pragma(writer, "PRAGMA cache_size = -" + WRITER_CACHE_KIB);
        pragma(control, "PRAGMA wal_autocheckpoint = 0");
        pragma(control, "PRAGMA journal_size_limit = " + WAL_SIZE_LIMIT);
        createSchema();
        HikariConfig pool = new HikariConfig();
        pool.setJdbcUrl(url);
        pool.setDataSourceProperties(config.toProperties());
        pool.setMaximumPoolSize(8);
        pool.setPoolName("sluice-sqlite-readers");
        this.readers = new HikariDataSource(pool);
        this.insert = writer.prepareStatement(
                "INSERT INTO events(log_offset, id, type, ingested, body) VALUES (?, ?, ?, ?, ?)");
        loadMeta();
        this.checkpointer = new Checkpointer(DriverManager.getConnection(url, config.toProperties()));
    }

    /** The writer's page cache: the id index of a large log should stay in memory. */
    private static final int WRITER_CACHE_KIB = 64 * 1024;

    /** After a checkpoint, the WAL file is cut back to this size (bytes). */
    private static final long WAL_SIZE_LIMIT = 64L * 1024 * 1024;

    private static void pragma(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Copies committed pages from the WAL into the database file, off the commit path. */
    private final class Checkpointer {
        private static final long PERIOD_MILLIS = 200;

        private final Connection connection;
        private final ScheduledExecutorService schedule = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("sluice-sqlite-checkpointer").factory());
        private long checkpointedAt = -1; // only the schedule's thread

        Checkpointer(Connection connection) {
            this.connection = connection;
            schedule.scheduleWithFixedDelay(this::checkpoint, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
        }

        private void checkpoint() {
            long last = lastOffset;
            if (last == checkpointedAt) {
                return; // nothing committed since the last one: nothing to copy
            }
            try {
                pragma(connection, "PRAGMA wal_checkpoint(PASSIVE)");
                checkpointedAt = last;
            } catch (SQLException | RuntimeException e) { // thrown out, it would end the schedule
                LOG.warn("SQLite checkpoint of {} failed (will retry): {}", file, e.getMessage());
            }
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

    /** Opens (creating if needed) the store in {@code directory}. */
    public static SqliteEventStore open(Path directory) {
        return open(directory, Clock.systemUTC());
    }

    /** Opens the store with a clock for ingest times (retention by age uses them). */
    public static SqliteEventStore open(Path directory, Clock clock) {
        try {
            Files.createDirectories(directory);
            return new SqliteEventStore(directory.resolve("sluice.db"), clock);
        } catch (IOException | SQLException e) {
            throw new StoreException("cannot open the SQLite store in " + directory + ": " + e.getMessage(), e);
        }
    }

    /** The database file. */
    public Path file() {
        return file;
    }

    private void createSchema() throws SQLException {
        try (Statement s = control.createStatement()) {
            s.executeUpdate("CREATE TABLE IF NOT EXISTS events ("
                    + "log_offset INTEGER PRIMARY KEY, id TEXT NOT NULL, type TEXT, ingested INTEGER NOT NULL,"
                    + " body TEXT NOT NULL)");
            s.executeUpdate("CREATE UNIQUE INDEX IF NOT EXISTS events_by_id ON events(id)");
            s.executeUpdate("CREATE TABLE IF NOT EXISTS checkpoints ("
                    + "reader TEXT PRIMARY KEY, log_offset INTEGER NOT NULL, state TEXT, updated INTEGER NOT NULL)");
            s.executeUpdate("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
            s.executeUpdate("INSERT OR IGNORE INTO meta(key, value) VALUES"
                    + " ('schema_version', 1), ('last_offset', 0), ('events', 0), ('bytes', 0)");
        }
    }

    private void loadMeta() throws SQLException {
        Map<String, Long> meta = new HashMap<>();
        try (Statement s = control.createStatement();
                ResultSet rs = s.executeQuery("SELECT key, value FROM meta")) {
            while (rs.next()) {
                meta.put(rs.getString(1), rs.getLong(2));
            }
        }
        lastOffset = meta.get("last_offset");
        count = meta.get("events");
        bytes = meta.get("bytes");
        firstOffset = queryLong("SELECT min(log_offset) FROM events", lastOffset + 1);
    }

    // ------------------------------------------------------------------ appending

    @Override
    public List<Appended> append(List<NewEvent> events) {
        try {
            begin(writer);
            Map<String, Long> existing = storedOffsets(events);
            List<Appended> results = new ArrayList<>(events.size());
            Map<String, Long> inBatch = new HashMap<>();
            long next = lastOffset;
            long addedBytes = 0;
            long now = clock.millis();
            int added = 0;
            for (NewEvent e : events) {
                Long known = existing.get(e.id());
                if (known == null) {
                    known = inBatch.get(e.id());
                }
                if (known != null) {
                    results.add(new Appended(known, true));
                    continue;
                }
                next++;
                insert.setLong(1, next);
                insert.setString(2, e.id());
                insert.setString(3, e.type());
                insert.setLong(4, now);
                insert.setString(5, e.json());
                insert.addBatch();
                inBatch.put(e.id(), next);
                addedBytes += e.json().getBytes(StandardCharsets.UTF_8).length;
                added++;
                results.add(new Appended(next, false));
            }
            if (added > 0) {
                insert.executeBatch();
                try (PreparedStatement meta = writer.prepareStatement(
                        "UPDATE meta SET value = CASE key WHEN 'last_offset' THEN ? WHEN 'events' THEN value + ?"
                                + " WHEN 'bytes' THEN value + ? END WHERE key IN ('last_offset', 'events', 'bytes')")) {
                    meta.setLong(1, next);
                    meta.setLong(2, added);
                    meta.setLong(3, addedBytes);
                    meta.executeUpdate();
                }
            }
            execute(writer, "COMMIT");
            if (added > 0) {
                synchronized (this) {
                    if (firstOffset > lastOffset) {
                        firstOffset = lastOffset + 1;
                    }
                    lastOffset = next;
                    count += added;
                    bytes += addedBytes;
                }
            }
            return results;
        } catch (SQLException e) {
            rollbackQuietly();
            throw new StoreException("append failed: " + e.getMessage(), e);
        }
    }

    private Map<String, Long> storedOffsets(List<NewEvent> events) throws SQLException {
        Map<String, Long> found = new HashMap<>();
        for (int from = 0; from < events.size(); from += ID_LOOKUP_CHUNK) {
            List<NewEvent> chunk = events.subList(from, Math.min(events.size(), from + ID_LOOKUP_CHUNK));
            String marks = "?,".repeat(chunk.size());
            try (PreparedStatement ps = writer.prepareStatement(
                    "SELECT id, log_offset FROM events WHERE id IN (" + marks.substring(0, marks.length() - 1) + ")")) {
                for (int i = 0; i < chunk.size(); i++) {
                    ps.setString(i + 1, chunk.get(i).id());
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        found.put(rs.getString(1), rs.getLong(2));
                    }
                }
            }
        }
        return found;
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

    private void rollbackQuietly() {
        rollbackQuietly(writer);
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
        return SqlStoreQueries.query(readers, "read failed: ", c -> SqlStoreQueries.read(c, after, limit, filter));
    }

    @Override
    public Optional<StoredEvent> byId(String id) {
        return SqlStoreQueries.query(readers, "read failed: ", c -> SqlStoreQueries.byId(c, id));
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

    // ------------------------------------------------------------------ retention

    @Override
    public synchronized long deleteThrough(long offset) {
        long through = Math.min(offset, lastOffset);
        if (through < firstOffset) {
            return 0;
        }
        try {
            begin(control);
            long deletedBytes;
            long deleted;
            try (PreparedStatement sum = control.prepareStatement(
                    "SELECT count(*), coalesce(sum(length(CAST(body AS BLOB))), 0) FROM events WHERE log_offset <= ?")) {
                sum.setLong(1, through);
                try (ResultSet rs = sum.executeQuery()) {
                    rs.next();
                    deleted = rs.getLong(1);
                    deletedBytes = rs.getLong(2);
                }
            }
            try (PreparedStatement del = control.prepareStatement("DELETE FROM events WHERE log_offset <= ?");
                    PreparedStatement meta = control.prepareStatement(
                            "UPDATE meta SET value = value - CASE key WHEN 'events' THEN ? ELSE ? END"
                                    + " WHERE key IN ('events', 'bytes')")) {
                del.setLong(1, through);
                del.executeUpdate();
                meta.setLong(1, deleted);
                meta.setLong(2, deletedBytes);
                meta.executeUpdate();
            }
            execute(control, "COMMIT");
            count -= deleted;
            bytes -= deletedBytes;
            firstOffset = through + 1;
            return deleted;
        } catch (SQLException e) {
            rollbackQuietly(control);
            throw new StoreException("retention delete failed: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized Stats stats() {
        long oldest = firstOffset > lastOffset
                ? 0
                : queryLong("SELECT ingested FROM events WHERE log_offset = " + firstOffset, 0);
        return new Stats(count, bytes, oldest);
    }

    @Override
    public synchronized long offsetKeeping(long keep) {
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
        return SqlStoreQueries.query(
                readers,
                "read failed: ",
                c -> SqlStoreQueries.offsetFreeing(c, "length(CAST(body AS BLOB))", first, excess));
    }

    @Override
    public long lastOffsetIngestedBefore(long millis) {
        return SqlStoreQueries.query(
                readers,
                "read failed: ",
                c -> SqlStoreQueries.lastOffsetIngestedBefore(c, firstOffset, lastOffset, millis));
    }

    private long queryLong(String sql, long otherwise) {
        try (Connection c = readers == null ? null : readers.getConnection();
                Statement s = (c == null ? control : c).createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            if (rs.next()) {
                long v = rs.getLong(1);
                return rs.wasNull() ? otherwise : v;
            }
            return otherwise;
        } catch (SQLException e) {
            throw new StoreException("read failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        checkpointer.close();
        readers.close();
        try {
            insert.close();
            writer.close();
        } catch (SQLException ignored) {
            // closing: nothing left to do with the error
        }
        synchronized (this) {
            try {
                control.close();
            } catch (SQLException ignored) {
                // closing
            }
        }
    }

    @Override
    public String toString() {
        return "SQLite store " + file;
    }
}
