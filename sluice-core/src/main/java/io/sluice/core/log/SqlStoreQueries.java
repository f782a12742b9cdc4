package io.sluice.core.log;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import javax.sql.DataSource;

/**
 * SQL that stores share. Every SQL store uses {@link #query} and the checkpoint statements
 * over {@code checkpoints(reader, log_offset, state, updated)}; the event reads are for a store
 * with a row per event in {@code events(log_offset, id, type, ingested, body)} (PostgreSQL; the
 * SQLite store keeps runs of events per row and reads them itself). Each method runs on the
 * connection it is given; the store says which and turns an {@link SQLException} into its own
 * error.
 */
public final class SqlStoreQueries {
    /** Rows read per query when scanning. */
    public static final int SCAN_CHUNK = 1_000;

    private SqlStoreQueries() {}

    /** Work on a JDBC connection. */
    @FunctionalInterface
    public interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * Runs {@code work} on a connection of {@code source}, giving the connection back after; an
     * {@link SQLException} becomes a {@link StoreException} whose message is {@code failure}
     * followed by the database's.
     */
    public static <T> T query(DataSource source, String failure, SqlWork<T> work) {
        try (Connection c = source.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new StoreException(failure + e.getMessage(), e);
        }
    }

    /**
     * Reads events after {@code after} as {@link EventStore#read} describes, in chunks.
     *
     * @throws OffsetOutOfRangeException when the first event found is not {@code after + 1}:
     *     retention deleted it between the caller's check and this read
     */
    public static EventStore.Page read(Connection c, long after, int limit, Predicate<StoredEvent> filter)
            throws SQLException {
        List<StoredEvent> out = new ArrayList<>();
        long cursor = after;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT log_offset, id, type, body FROM events WHERE log_offset > ? ORDER BY log_offset LIMIT ?")) {
            while (out.size() < limit) {
                ps.setLong(1, cursor);
                ps.setInt(2, SCAN_CHUNK);
                int rows = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows++;
                        StoredEvent e = event(rs);
                        if (cursor == after && rows == 1 && e.offset() > after + 1) {
                            throw new OffsetOutOfRangeException(after, e.offset());
                        }
                        cursor = e.offset();
                        if (filter.test(e)) {
                            out.add(e);
                            if (out.size() == limit) {
                                break;
                            }
                        }
                    }
                }
                if (rows < SCAN_CHUNK) {
                    break;
                }
            }
        }
        return new EventStore.Page(out, cursor);
    }

    /** The event with that id, if stored. */
    public static Optional<StoredEvent> byId(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT log_offset, id, type, body FROM events WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(event(rs)) : Optional.empty();
            }
        }
    }

    private static StoredEvent event(ResultSet rs) throws SQLException {
        return new StoredEvent(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4));
    }

    /**
     * The offset through which deleting the oldest events frees at least {@code excess} bytes,
     * scanning from {@code first}; the last offset when all of them together are not enough.
     *
     * @param sizeOfBody the SQL expression for a body's size in bytes
     */
    public static long offsetFreeing(Connection c, String sizeOfBody, long first, long excess) throws SQLException {
        long cursor = first - 1;
        long freed = 0;
        try (PreparedStatement ps = c.prepareStatement("SELECT log_offset, " + sizeOfBody
                + " FROM events WHERE log_offset > ? ORDER BY log_offset LIMIT " + SCAN_CHUNK)) {
            while (true) {
                ps.setLong(1, cursor);
                boolean any = false;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        any = true;
                        cursor = rs.getLong(1);
                        freed += rs.getLong(2);
                        if (freed >= excess) {
                            return cursor;
                        }
                    }
                }
                if (!any) {
                    return cursor;
                }
            }
        }
    }

    /**
     * The last offset in {@code [first, last]} ingested before {@code millis}, or 0. Ingest
     * times rise with offsets: a binary search of primary-key lookups, O(log n). An offset
     * deleted meanwhile counts as older.
     */
    public static long lastOffsetIngestedBefore(Connection c, long first, long last, long millis) throws SQLException {
        long lo = first;
        long hi = last;
        long found = 0;
        try (PreparedStatement ps = c.prepareStatement("SELECT ingested FROM events WHERE log_offset = ?")) {
            while (lo <= hi) {
                long mid = (lo + hi) >>> 1;
                ps.setLong(1, mid);
                long ingested;
                try (ResultSet rs = ps.executeQuery()) {
                    ingested = rs.next() ? rs.getLong(1) : Long.MIN_VALUE;
                }
                if (ingested < millis) {
                    found = mid;
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
        }
        return found;
    }

    /** A reader's checkpoint, if it has one. */
    public static Optional<EventStore.Checkpoint> checkpoint(Connection c, String reader) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT log_offset, state FROM checkpoints WHERE reader = ?")) {
            ps.setString(1, reader);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next()
                        ? Optional.of(new EventStore.Checkpoint(rs.getLong(1), rs.getString(2)))
                        : Optional.empty();
            }
        }
    }

    /** Inserts or replaces a reader's checkpoint. */
    public static void saveCheckpoint(Connection c, String reader, EventStore.Checkpoint checkpoint, long nowMillis)
            throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("INSERT INTO checkpoints(reader, log_offset, state, updated) VALUES (?, ?, ?, ?)"
                        + " ON CONFLICT (reader) DO UPDATE SET log_offset = excluded.log_offset,"
                        + " state = excluded.state, updated = excluded.updated")) {
            ps.setString(1, reader);
            ps.setLong(2, checkpoint.offset());
            ps.setString(3, checkpoint.state());
            ps.setLong(4, nowMillis);
            ps.executeUpdate();
        }
    }

    /** All checkpoints, by reader name. */
    public static List<EventStore.NamedCheckpoint> checkpoints(Connection c) throws SQLException {
        List<EventStore.NamedCheckpoint> all = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT reader, log_offset, state FROM checkpoints ORDER BY reader")) {
            while (rs.next()) {
                all.add(new EventStore.NamedCheckpoint(
                        rs.getString(1), new EventStore.Checkpoint(rs.getLong(2), rs.getString(3))));
            }
        }
        return all;
    }

    /** Deletes a reader's checkpoint; whether there was one. */
    public static boolean deleteCheckpoint(Connection c, String reader) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM checkpoints WHERE reader = ?")) {
            ps.setString(1, reader);
            return ps.executeUpdate() > 0;
        }
    }
}
