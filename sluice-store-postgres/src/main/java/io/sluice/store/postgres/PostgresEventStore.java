package io.sluice.store.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.core.consume.Consumers;
import io.sluice.core.consume.SharedConsumerProgress;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.OffsetOutOfRangeException;
import io.sluice.core.log.SqlStoreQueries;
import io.sluice.core.log.StoreException;
import io.sluice.core.log.StoreTimer;
import io.sluice.core.log.StoredEvent;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import java.util.regex.Pattern;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shared store: the log and the checkpoints in a PostgreSQL schema, which several Sluice
 * servers may use at once.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>Tables {@code events}, {@code checkpoints} and a one-row {@code head} holding the last
 * offset, the offset retention deleted through, and the retained count and bytes. Every append
 * begins by locking the head row ({@code SELECT ... FOR UPDATE}) and holds it until commit, so
 * appends from every process are serialised: offsets are assigned gap-free, and an offset is
 * visible only after every smaller one is, which is what lets a tailing reader read "after my
 * position" without ever skipping an event that committed late. The lock also makes the
 * duplicate-id check exact across processes (the next appender's statements see the previous
 * commit). Rows are inserted with one {@code INSERT ... SELECT FROM unnest(arrays)} statement.
 *
 * <p>Each append also sends {@code NOTIFY} on the schema's channel. A listening connection on
 * its own thread wakes {@link #awaitAppended} at once and re-reads the head, at least once a
 * second, so a missed notification only delays, never loses. Retention locks the head row
 * first too, so it cannot deadlock with an append that inserts an id being deleted.
 *
 * <p>Durability is PostgreSQL's: a commit returns once its WAL is flushed (with the default
 * {@code synchronous_commit=on}).
 */
public final class PostgresEventStore implements EventStore, SharedConsumerProgress {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresEventStore.class);
    private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    private static final long HEAD_REFRESH_MILLIS = 1_000;

    private final String url;
    private final String schema;
    private final Clock clock;
    private final HikariDataSource pool;
    private final Thread listener;
    private final Object headMoved = new Object();
    private final PostgresConsumerProgress consumers;
    private volatile Head head;
    private volatile boolean closed;
    private final LongAdder listenerReconnects = new LongAdder();
    private final StoreTimer headLockTimer = new StoreTimer(
            "sluice.postgres.head.lock",
            "Appends and retention waiting for the head row lock, which every server on the schema takes in turn"
                    + " (includes the statement's round trip)");
    private final StoreTimer commitTimer =
            new StoreTimer("sluice.postgres.commit", "Append commits: PostgreSQL flushing its WAL");

    /** The head row: last offset, offset deleted through, retained events and bytes. */
    private record Head(long last, long deletedThrough, long events, long bytes) {}

    private PostgresEventStore(String url, String schema, Clock clock) throws SQLException {
        this.url = url;
        this.schema = schema;
        this.clock = clock;
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(8);
        config.setPoolName("sluice-postgres");
        config.setAutoCommit(true);
        config.setConnectionInitSql("SET search_path TO " + schema);
        config.setInitializationFailTimeout(10_000);
        this.pool = new HikariDataSource(config);
        createSchema();
        this.head = readHead();
        this.consumers = new PostgresConsumerProgress(pool, clock, this::firstOffset);
        this.listener =
                Thread.ofPlatform().name("sluice-postgres-listener").daemon().start(this::listen);
    }

    /**
     * Opens (creating if needed) the store in {@code schema} of the database at {@code url}.
     *
     * @param url a JDBC URL ({@code jdbc:postgresql://host:port/db?user=...}) or a
     *     {@code postgres://user:password@host:port/db} URL
     * @param schema lower-case letters, digits and underscores
     */
    public static PostgresEventStore open(String url, String schema, Clock clock) {
        if (!SCHEMA.matcher(schema).matches()) {
            throw new StoreException("PostgreSQL schema name '" + schema
                    + "' must be lower-case letters, digits and underscores, starting with a letter or underscore");
        }
        String jdbc = PostgresUrls.toJdbc(url);
        try {
            return new PostgresEventStore(jdbc, schema, clock);
        } catch (SQLException | RuntimeException e) {
            throw new StoreException(
                    "cannot open the PostgreSQL store at " + PostgresUrls.redact(jdbc) + " (schema " + schema + "): "
                            + rootMessage(e),
                    e);
        }
    }

    /** Opens the store with the wall clock. */
    public static PostgresEventStore open(String url, String schema) {
        return open(url, schema, Clock.systemUTC());
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage();
    }

    private void createSchema() throws SQLException {
        try (Connection c = pool.getConnection();
                Statement s = c.createStatement()) {
            // Two servers starting at once both create: serialise on an advisory lock.
            c.setAutoCommit(false);
            s.execute("SELECT pg_advisory_xact_lock(hashtext('sluice.schema." + schema + "'))");
            s.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
            s.execute("CREATE TABLE IF NOT EXISTS " + schema + ".events ("
                    + "log_offset bigint PRIMARY KEY, id text NOT NULL UNIQUE, type text,"
                    + " ingested bigint NOT NULL, body text NOT NULL)");
            s.execute("CREATE TABLE IF NOT EXISTS " + schema + ".checkpoints ("
                    + "reader text PRIMARY KEY, log_offset bigint NOT NULL, state text, updated bigint NOT NULL)");
            s.execute("CREATE TABLE IF NOT EXISTS " + schema + ".head ("
                    + "one boolean PRIMARY KEY DEFAULT true CHECK (one), schema_version int NOT NULL,"
                    + " last_offset bigint NOT NULL, deleted_through bigint NOT NULL,"
                    + " events bigint NOT NULL, bytes bigint NOT NULL)");
            s.execute("INSERT INTO " + schema + ".head(schema_version, last_offset, deleted_through, events, bytes)"
                    + " VALUES (1, 0, 0, 0, 0) ON CONFLICT DO NOTHING");
            for (String table : PostgresConsumerProgress.schema(schema)) {
                s.execute(table);
            }
            c.commit();
        }
    }

    private Head readHead() throws SQLException {
        try (Connection c = pool.getConnection()) {
            return readHead(c, false);
        }
    }

    /** The head as the database has it now (other processes append and delete too). */
    private Head currentHead() {
        try {
            Head h = readHead();
            moved(h);
            return h;
        } catch (SQLException e) {
            throw new StoreException("read failed: " + e.getMessage(), e);
        }
    }

    /** Reads the head row and locks it until the transaction ends, timing the wait. */
    private Head lockHead(Connection c) throws SQLException {
        long asked = System.nanoTime();
        Head h = readHead(c, true);
        headLockTimer.recordSince(asked);
        return h;
    }

    private static Head readHead(Connection c, boolean lock) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(
                        "SELECT last_offset, deleted_through, events, bytes FROM head" + (lock ? " FOR UPDATE" : ""))) {
            rs.next();
            return new Head(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4));
        }
    }

    private String channel() {
        return "sluice_" + schema;
    }

    // ------------------------------------------------------------------ appending

    @Override
    public List<Appended> append(List<NewEvent> events) {
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                Head before = lockHead(c);
                Map<String, Long> existing = storedOffsets(c, events);
                List<Appended> results = new ArrayList<>(events.size());
                Map<String, Long> inBatch = new HashMap<>();
                List<NewEvent> fresh = new ArrayList<>(events.size());
                long next = before.last();
                long addedBytes = 0;
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
                    inBatch.put(e.id(), next);
                    fresh.add(e);
                    addedBytes += e.utf8().length;
                    results.add(new Appended(next, false));
                }
                Head after = before;
                if (!fresh.isEmpty()) {
                    insert(c, before.last() + 1, fresh);
                    after = new Head(
                            next, before.deletedThrough(), before.events() + fresh.size(), before.bytes() + addedBytes);
                    try (PreparedStatement ps =
                            c.prepareStatement("UPDATE head SET last_offset = ?, events = ?, bytes = ?")) {
                        ps.setLong(1, after.last());
                        ps.setLong(2, after.events());
                        ps.setLong(3, after.bytes());
                        ps.executeUpdate();
                    }
                    try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, '')")) {
                        ps.setString(1, channel()); // delivered on commit
                        ps.execute();
                    }
                }
                long committing = System.nanoTime();
                c.commit();
                commitTimer.recordSince(committing);
                moved(after);
                return results;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("append failed: " + e.getMessage(), e);
        }
    }

    private static Map<String, Long> storedOffsets(Connection c, List<NewEvent> events) throws SQLException {
        Map<String, Long> found = new HashMap<>();
        String[] ids = events.stream().map(NewEvent::id).toArray(String[]::new);
        try (PreparedStatement ps = c.prepareStatement("SELECT id, log_offset FROM events WHERE id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", ids));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return found;
    }

    private void insert(Connection c, long firstOffset, List<NewEvent> events) throws SQLException {
        int n = events.size();
        String[] ids = new String[n];
        String[] types = new String[n];
        String[] bodies = new String[n];
        for (int i = 0; i < n; i++) {
            NewEvent e = events.get(i);
            ids[i] = e.id();
            types[i] = e.type();
            bodies[i] = e.json();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO events(log_offset, id, type, ingested, body)"
                + " SELECT ? + ord - 1, id, type, ?, body"
                + " FROM unnest(?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS t(id, type, body, ord)")) {
            ps.setLong(1, firstOffset);
            ps.setLong(2, clock.millis());
            ps.setArray(3, c.createArrayOf("text", ids));
            ps.setArray(4, c.createArrayOf("text", types));
            ps.setArray(5, c.createArrayOf("text", bodies));
            ps.executeUpdate();
        }
    }

    /**
     * Takes a head that was read from the database or just committed, unless a newer one is
     * already known (the listener's read may finish after a later commit). Both offsets only grow.
     */
    private void moved(Head h) {
        synchronized (headMoved) {
            Head known = head;
            if (h.last() >= known.last() && h.deletedThrough() >= known.deletedThrough()) {
                head = h;
            }
            headMoved.notifyAll();
        }
    }

    @Override
    public long lastOffset() {
        return head.last();
    }

    @Override
    public long committedOffset() {
        return currentHead().last();
    }

    @Override
    public long firstOffset() {
        return head.deletedThrough() + 1;
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public long awaitAppended(long after, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (headMoved) {
            while (head.last() <= after) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                headMoved.wait(Math.max(1, left / 1_000_000));
            }
            return head.last();
        }
    }

    /** The listener's connection names itself, so an operator can tell it apart in {@code pg_stat_activity}. */
    private Properties listenerProperties() {
        Properties p = new Properties();
        p.setProperty("ApplicationName", "sluice-listener-" + schema);
        return p;
    }

    /** Listens for other processes' appends and re-reads the head when one comes, or each second. */
    private void listen() {
        while (!closed) {
            try (Connection c = DriverManager.getConnection(url, listenerProperties());
                    Statement s = c.createStatement()) {
                s.execute("SET search_path TO " + schema);
                s.execute("LISTEN " + channel());
                PGConnection pg = c.unwrap(PGConnection.class);
                while (!closed) {
                    pg.getNotifications((int) HEAD_REFRESH_MILLIS);
                    moved(readHead(c, false));
                }
            } catch (SQLException e) {
                if (!closed) {
                    listenerReconnects.increment();
                    LOG.warn("PostgreSQL listener: {}; reconnecting", e.getMessage());
                    try {
                        Thread.sleep(HEAD_REFRESH_MILLIS);
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ reading

    @Override
    public Page read(long after, int limit, Predicate<StoredEvent> filter) {
        long first = firstOffset();
        if (after < first - 1) {
            throw new OffsetOutOfRangeException(after, first);
        }
        // SqlStoreQueries.read also catches another process's retention deleting what it reads
        return SqlStoreQueries.query(pool, "read failed: ", c -> SqlStoreQueries.read(c, after, limit, filter));
    }

    @Override
    public Optional<StoredEvent> byId(String id) {
        return SqlStoreQueries.query(pool, "read failed: ", c -> SqlStoreQueries.byId(c, id));
    }

    // ------------------------------------------------------------------ checkpoints

    @Override
    public Optional<Checkpoint> checkpoint(String reader) {
        return SqlStoreQueries.query(pool, "read failed: ", c -> SqlStoreQueries.checkpoint(c, reader));
    }

    @Override
    public void saveCheckpoint(String reader, Checkpoint checkpoint) {
        try (Connection c = pool.getConnection()) {
            SqlStoreQueries.saveCheckpoint(c, reader, checkpoint, clock.millis());
        } catch (SQLException e) {
            throw new StoreException("saving the checkpoint of " + reader + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public Dialect dialect() {
        return Dialect.POSTGRES;
    }

    @Override
    public <T> T transaction(String what, SqlStoreQueries.SqlWork<T> work) {
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException(what + " failed: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw e instanceof StoreException ? e : new StoreException(what + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public List<NamedCheckpoint> checkpoints() {
        return SqlStoreQueries.query(pool, "read failed: ", SqlStoreQueries::checkpoints);
    }

    @Override
    public boolean deleteCheckpoint(String reader) {
        try (Connection c = pool.getConnection()) {
            return SqlStoreQueries.deleteCheckpoint(c, reader);
        } catch (SQLException e) {
            throw new StoreException("deleting the checkpoint of " + reader + " failed: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ shared consumers

    @Override
    public List<Consumers.Delivery> take(String consumer, int max, Duration lease, Predicate<StoredEvent> filter) {
        return consumers.take(consumer, max, lease, filter);
    }

    @Override
    public int ack(String consumer, Collection<Long> offsets) {
        return consumers.ack(consumer, offsets);
    }

    @Override
    public void seek(String consumer, long offset) {
        consumers.seek(consumer, offset);
    }

    @Override
    public Progress progress(String consumer) {
        return consumers.progress(consumer);
    }

    @Override
    public void forget(String consumer) {
        consumers.forget(consumer);
    }

    // ------------------------------------------------------------------ metrics

    /**
     * Registers the store's meters: waits for the head row lock (which serialises appends and
     * retention across every server on the schema), commits (PostgreSQL's WAL flush), the
     * connection pool, and reconnections of the listener that hears other servers' appends.
     */
    @Override
    public void bindTo(MeterRegistry meters) {
        headLockTimer.bindTo(meters);
        commitTimer.bindTo(meters);
        var poolState = pool.getHikariPoolMXBean();
        connections(meters, "active", poolState, p -> p.getActiveConnections());
        connections(meters, "idle", poolState, p -> p.getIdleConnections());
        connections(meters, "pending", poolState, p -> p.getThreadsAwaitingConnection());
        FunctionCounter.builder("sluice.postgres.listener.reconnects", listenerReconnects, LongAdder::sum)
                .description("Reconnections of the connection listening for other servers' appends")
                .register(meters);
    }

    private static <T> void connections(MeterRegistry meters, String state, T pool, ToDoubleFunction<T> count) {
        Gauge.builder("sluice.postgres.connections", pool, count)
                .description(
                        "Connections of the store's pool: active (in use), idle, pending (threads waiting for one)")
                .tag("state", state)
                .register(meters);
    }

    // ------------------------------------------------------------------ retention

    @Override
    public long deleteThrough(long offset) {
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                Head h = lockHead(c);
                long through = Math.min(offset, h.last());
                if (through <= h.deletedThrough()) {
                    c.rollback();
                    return 0;
                }
                long deleted;
                long deletedBytes;
                try (PreparedStatement ps = c.prepareStatement("WITH gone AS (DELETE FROM events WHERE log_offset <= ?"
                        + " RETURNING octet_length(body) AS size) SELECT count(*), coalesce(sum(size), 0) FROM gone")) {
                    ps.setLong(1, through);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        deleted = rs.getLong(1);
                        deletedBytes = rs.getLong(2);
                    }
                }
                Head after = new Head(h.last(), through, h.events() - deleted, h.bytes() - deletedBytes);
                try (PreparedStatement ps =
                        c.prepareStatement("UPDATE head SET deleted_through = ?, events = ?, bytes = ?")) {
                    ps.setLong(1, after.deletedThrough());
                    ps.setLong(2, after.events());
                    ps.setLong(3, after.bytes());
                    ps.executeUpdate();
                }
                c.commit();
                moved(after);
                return deleted;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("retention delete failed: " + e.getMessage(), e);
        }
    }

    @Override
    public Stats stats() {
        try (Connection c = pool.getConnection()) {
            Head h = readHead(c, false);
            long oldest = 0;
            if (h.events() > 0) {
                try (PreparedStatement ps = c.prepareStatement("SELECT ingested FROM events WHERE log_offset = ?")) {
                    ps.setLong(1, h.deletedThrough() + 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        oldest = rs.next() ? rs.getLong(1) : 0;
                    }
                }
            }
            return new Stats(h.events(), h.bytes(), oldest);
        } catch (SQLException e) {
            throw new StoreException("read failed: " + e.getMessage(), e);
        }
    }

    @Override
    public long offsetKeeping(long keep) {
        Head h = currentHead();
        return h.events() > keep ? h.deletedThrough() + (h.events() - keep) : 0;
    }

    @Override
    public long offsetKeepingBytes(long limit) {
        Head h = currentHead();
        long excess = h.bytes() - limit;
        if (excess <= 0) {
            return 0;
        }
        return SqlStoreQueries.query(
                pool,
                "read failed: ",
                c -> SqlStoreQueries.offsetFreeing(c, "octet_length(body)", h.deletedThrough() + 1, excess));
    }

    @Override
    public long lastOffsetIngestedBefore(long millis) {
        return SqlStoreQueries.query(
                pool,
                "read failed: ",
                c -> SqlStoreQueries.lastOffsetIngestedBefore(c, firstOffset(), lastOffset(), millis));
    }

    @Override
    public void close() {
        closed = true;
        listener.interrupt();
        try {
            listener.join(3_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pool.close();
    }

    @Override
    public String toString() {
        return "PostgreSQL store " + PostgresUrls.redact(url) + " schema " + schema;
    }
}
