package io.sluice.store.postgres;

import io.sluice.core.consume.Consumers;
import io.sluice.core.consume.SharedConsumerProgress;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.OffsetOutOfRangeException;
import io.sluice.core.log.SqlStoreQueries;
import io.sluice.core.log.StoreException;
import io.sluice.core.log.StoredEvent;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import javax.sql.DataSource;

/**
 * Consumer progress in the PostgreSQL schema, shared by every server on the database.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>Tables: {@code consumer_positions} (scan position and missed count per consumer) and
 * {@code consumer_leases} (one row per delivered, unacknowledged event, with its expiry by the
 * database's clock, so servers with skewed clocks agree). The consumer's row in
 * {@code checkpoints} is the lock: every call begins by selecting it {@code FOR UPDATE}, so
 * calls for one consumer are serialised across servers and each event is leased to one
 * receiver at a time, while different consumers never wait for each other. After each change
 * the checkpoint is moved, in the same transaction, to just before the lowest offset still
 * leased, or to the scan position when nothing is: events the filter passed over and events
 * acknowledged are done, and a crash anywhere leaves the checkpoint where it was (at least once).
 */
final class PostgresConsumerProgress implements SharedConsumerProgress {
    private final DataSource pool;
    private final Clock clock;
    private final LongSupplier firstOffset;

    PostgresConsumerProgress(DataSource pool, Clock clock, LongSupplier firstOffset) {
        this.pool = pool;
        this.clock = clock;
        this.firstOffset = firstOffset;
    }

    /** The tables, created with the rest of the schema (idempotent). */
    static List<String> schema(String schema) {
        return List.of(
                "CREATE TABLE IF NOT EXISTS " + schema + ".consumer_positions ("
                        + "reader text PRIMARY KEY, scanned bigint NOT NULL, missed bigint NOT NULL)",
                "CREATE TABLE IF NOT EXISTS " + schema + ".consumer_leases ("
                        + "reader text NOT NULL, log_offset bigint NOT NULL, expires timestamptz NOT NULL,"
                        + " deliveries int NOT NULL, PRIMARY KEY (reader, log_offset))");
    }

    /** A consumer's row lock and positions, read at the start of a transaction. */
    private record Position(long checkpoint, long scanned, long missed) {}

    @Override
    public List<Consumers.Delivery> take(String consumer, int max, Duration lease, Predicate<StoredEvent> filter) {
        return inTransaction(consumer, (c, pos) -> {
            long missed = pos.missed() + dropLeasesOfDeleted(c, consumer);
            List<Consumers.Delivery> out = new ArrayList<>(redeliver(c, consumer, max, lease));
            long scanned = pos.scanned();
            while (out.size() < max) {
                EventStore.Page page;
                try {
                    long first = firstOffset.getAsLong();
                    if (scanned < first - 1) {
                        throw new OffsetOutOfRangeException(scanned, first);
                    }
                    page = SqlStoreQueries.read(c, scanned, max - out.size(), filter);
                } catch (OffsetOutOfRangeException e) {
                    missed += e.earliest() - 1 - scanned;
                    scanned = e.earliest() - 1;
                    continue;
                }
                lease(c, consumer, page.events(), lease);
                for (StoredEvent e : page.events()) {
                    out.add(new Consumers.Delivery(e, 1));
                }
                boolean progressed = page.scannedTo() > scanned;
                scanned = Math.max(scanned, page.scannedTo());
                if (!progressed || page.events().isEmpty()) {
                    break; // at the head of the log
                }
            }
            savePosition(c, consumer, scanned, missed);
            moveCheckpoint(c, consumer, pos.checkpoint(), scanned);
            return out;
        });
    }

    @Override
    public int ack(String consumer, Collection<Long> offsets) {
        List<Long> known = offsets.stream().filter(Objects::nonNull).toList();
        if (known.isEmpty()) {
            return 0;
        }
        return inTransaction(consumer, (c, pos) -> {
            int acked;
            try (PreparedStatement ps =
                    c.prepareStatement("DELETE FROM consumer_leases WHERE reader = ? AND log_offset = ANY (?)")) {
                ps.setString(1, consumer);
                ps.setArray(2, offsetArray(c, known));
                acked = ps.executeUpdate();
            }
            if (acked > 0) {
                moveCheckpoint(c, consumer, pos.checkpoint(), pos.scanned());
            }
            return acked;
        });
    }

    @Override
    public void seek(String consumer, long offset) {
        inTransaction(consumer, (c, pos) -> {
            deleteLeases(c, consumer);
            savePosition(c, consumer, offset, pos.missed());
            moveCheckpoint(c, consumer, pos.checkpoint(), offset);
            return null;
        });
    }

    @Override
    public Progress progress(String consumer) {
        try (Connection c = pool.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT cp.log_offset,"
                        + " (SELECT count(*) FROM consumer_leases l WHERE l.reader = cp.reader),"
                        + " (SELECT missed FROM consumer_positions p WHERE p.reader = cp.reader),"
                        + " (SELECT extract(epoch FROM min(l.expires) - now()) FROM consumer_leases l"
                        + " WHERE l.reader = cp.reader)"
                        + " FROM checkpoints cp WHERE cp.reader = ?")) {
            ps.setString(1, consumer);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) { // deleted, by another server perhaps
                    throw new Consumers.NoSuchConsumerException(consumer.substring(consumer.indexOf(':') + 1));
                }
                double untilExpiry = rs.getDouble(4);
                Duration next = rs.wasNull() ? null : Duration.ofNanos(Math.max(0, (long) (untilExpiry * 1e9)));
                return new Progress(rs.getLong(1), rs.getInt(2), rs.getLong(3), next);
            }
        } catch (SQLException e) {
            throw new StoreException("reading the progress of " + consumer + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void forget(String consumer) {
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                deleteLeases(c, consumer);
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM consumer_positions WHERE reader = ?")) {
                    ps.setString(1, consumer);
                    ps.executeUpdate();
                }
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("deleting the progress of " + consumer + " failed: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ steps of a transaction

    @FunctionalInterface
    private interface Work<T> {
        T run(Connection c, Position position) throws SQLException;
    }

    /**
     * Runs {@code work} in a transaction holding the consumer's checkpoint row; a consumer that
     * has no checkpoint (deleted meanwhile) is a {@link Consumers.NoSuchConsumerException}.
     */
    private <T> T inTransaction(String consumer, Work<T> work) {
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                Position pos = lockPosition(c, consumer);
                T result = work.run(c, pos);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("updating consumer " + consumer + " failed: " + e.getMessage(), e);
        }
    }

    private static Position lockPosition(Connection c, String consumer) throws SQLException {
        long checkpoint;
        try (PreparedStatement ps =
                c.prepareStatement("SELECT log_offset FROM checkpoints WHERE reader = ? FOR UPDATE")) {
            ps.setString(1, consumer);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new Consumers.NoSuchConsumerException(consumer.substring(consumer.indexOf(':') + 1));
                }
                checkpoint = rs.getLong(1);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO consumer_positions(reader, scanned, missed)"
                + " VALUES (?, ?, 0) ON CONFLICT (reader) DO NOTHING")) {
            ps.setString(1, consumer);
            ps.setLong(2, checkpoint);
            ps.executeUpdate();
        }
        try (PreparedStatement ps =
                c.prepareStatement("SELECT scanned, missed FROM consumer_positions WHERE reader = ?")) {
            ps.setString(1, consumer);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Position(checkpoint, rs.getLong(1), rs.getLong(2));
            }
        }
    }

    /** Leases again, for {@code lease}, up to {@code max} expired leases, and returns their events. */
    private static List<Consumers.Delivery> redeliver(Connection c, String consumer, int max, Duration lease)
            throws SQLException {
        Map<Long, Integer> deliveries = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("UPDATE consumer_leases"
                + " SET expires = now() + ? * interval '1 millisecond', deliveries = deliveries + 1"
                + " WHERE reader = ? AND log_offset IN (SELECT log_offset FROM consumer_leases"
                + " WHERE reader = ? AND expires <= now() ORDER BY log_offset LIMIT ?)"
                + " RETURNING log_offset, deliveries")) {
            ps.setLong(1, lease.toMillis());
            ps.setString(2, consumer);
            ps.setString(3, consumer);
            ps.setInt(4, max);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    deliveries.put(rs.getLong(1), rs.getInt(2));
                }
            }
        }
        if (deliveries.isEmpty()) {
            return List.of();
        }
        List<Consumers.Delivery> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT log_offset, id, type, body FROM events" + " WHERE log_offset = ANY (?) ORDER BY log_offset")) {
            ps.setArray(1, offsetArray(c, deliveries.keySet()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    StoredEvent e = new StoredEvent(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4));
                    out.add(new Consumers.Delivery(e, deliveries.get(e.offset())));
                }
            }
        }
        return out; // leases of events retention deleted meanwhile are dropped by dropLeasesOfDeleted
    }

    /** Drops leases whose events retention deleted; returns how many (they count as missed). */
    private int dropLeasesOfDeleted(Connection c, String consumer) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("DELETE FROM consumer_leases WHERE reader = ? AND log_offset < ?")) {
            ps.setString(1, consumer);
            ps.setLong(2, firstOffset.getAsLong());
            return ps.executeUpdate();
        }
    }

    private static void lease(Connection c, String consumer, List<StoredEvent> events, Duration lease)
            throws SQLException {
        if (events.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO consumer_leases(reader, log_offset, expires,"
                + " deliveries) SELECT ?, o, now() + ? * interval '1 millisecond', 1 FROM unnest(?::bigint[]) AS o")) {
            ps.setString(1, consumer);
            ps.setLong(2, lease.toMillis());
            ps.setArray(
                    3, offsetArray(c, events.stream().map(StoredEvent::offset).toList()));
            ps.executeUpdate();
        }
    }

    private static void deleteLeases(Connection c, String consumer) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM consumer_leases WHERE reader = ?")) {
            ps.setString(1, consumer);
            ps.executeUpdate();
        }
    }

    private static void savePosition(Connection c, String consumer, long scanned, long missed) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("UPDATE consumer_positions SET scanned = ?, missed = ? WHERE reader = ?")) {
            ps.setLong(1, scanned);
            ps.setLong(2, missed);
            ps.setString(3, consumer);
            ps.executeUpdate();
        }
    }

    /** Moves the checkpoint to just before the lowest leased offset, or to {@code scanned}. */
    private void moveCheckpoint(Connection c, String consumer, long before, long scanned) throws SQLException {
        long checkpoint = scanned;
        try (PreparedStatement ps =
                c.prepareStatement("SELECT min(log_offset) FROM consumer_leases WHERE reader = ?")) {
            ps.setString(1, consumer);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long lowest = rs.getLong(1);
                if (!rs.wasNull()) {
                    checkpoint = Math.min(scanned, lowest - 1);
                }
            }
        }
        if (checkpoint == before) {
            return;
        }
        try (PreparedStatement ps =
                c.prepareStatement("UPDATE checkpoints SET log_offset = ?, updated = ? WHERE reader = ?")) {
            ps.setLong(1, checkpoint);
            ps.setLong(2, clock.millis());
            ps.setString(3, consumer);
            ps.executeUpdate();
        }
    }

    private static Array offsetArray(Connection c, Collection<Long> offsets) throws SQLException {
        return c.createArrayOf("bigint", offsets.toArray());
    }
}
