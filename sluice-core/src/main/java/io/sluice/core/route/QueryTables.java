package io.sluice.core.route;

import io.sluice.core.log.EventStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The standing queries' tables in the store:
 *
 * <ul>
 *   <li>{@code query_changes(change_id, batch, at_offset)}: each applied change, with the batch
 *       it leaves active and the log offset it switched at (null while it is being applied);
 *   <li>{@code query_versions(version_id, name, doc, added_change, retired_change)}: each
 *       version of a query, valid for the offsets after its added change's and up to its
 *       retired change's;
 *   <li>{@code query_stats(name, matches, last_match, delivered, dead_lettered)}: counters,
 *       saved with the routes' checkpoints.
 * </ul>
 */
final class QueryTables {
    record ChangeRow(long id, String batch, Long at) {}

    record VersionRow(long id, String name, String doc, long added, Long retired) {}

    record StatsRow(String name, long matches, long lastMatch, long delivered, long deadLettered) {}

    record Loaded(List<ChangeRow> changes, List<VersionRow> versions, List<StatsRow> stats) {}

    private final EventStore store;
    /** On a shared store: who may apply a change now (one server at a time). */
    private final io.sluice.core.log.ReaderLease changing;

    private final io.sluice.core.log.ReaderLease probe;

    QueryTables(EventStore store) {
        this.store = store;
        this.changing = new io.sluice.core.log.ReaderLease(
                store, "query-changes", java.time.Clock.systemUTC(), io.sluice.core.log.ReaderLease.TERM);
        this.probe = new io.sluice.core.log.ReaderLease(
                store, "query-changes", java.time.Clock.systemUTC(), io.sluice.core.log.ReaderLease.TERM);
        store.transaction("creating the standing queries' tables", c -> {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("CREATE TABLE IF NOT EXISTS query_changes (change_id BIGINT PRIMARY KEY,"
                        + " batch TEXT, at_offset BIGINT)");
                s.executeUpdate(
                        "CREATE TABLE IF NOT EXISTS query_versions (version_id BIGINT PRIMARY KEY,"
                                + " name TEXT NOT NULL, doc TEXT NOT NULL, added_change BIGINT NOT NULL, retired_change BIGINT)");
                s.executeUpdate("CREATE TABLE IF NOT EXISTS query_stats (name TEXT PRIMARY KEY,"
                        + " matches BIGINT NOT NULL, last_match BIGINT NOT NULL, delivered BIGINT NOT NULL,"
                        + " dead_lettered BIGINT NOT NULL)");
            }
            return null;
        });
    }

    /**
     * Loads the tables, first forgetting a change that was being applied when the server
     * stopped (it was never acknowledged): its versions go, and what it retired stays.
     */
    Loaded load() {
        return store.transaction("loading the standing queries", c -> {
            dropUnswitched(c);
            List<ChangeRow> changes = new ArrayList<>();
            List<VersionRow> versions = new ArrayList<>();
            List<StatsRow> stats = new ArrayList<>();
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery(
                            "SELECT change_id, batch, at_offset FROM query_changes ORDER BY change_id")) {
                while (rs.next()) {
                    changes.add(new ChangeRow(rs.getLong(1), rs.getString(2), rs.getLong(3)));
                }
            }
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT version_id, name, doc, added_change, retired_change"
                            + " FROM query_versions ORDER BY version_id")) {
                while (rs.next()) {
                    long retired = rs.getLong(5);
                    Long retiredChange = rs.wasNull() ? null : retired;
                    versions.add(new VersionRow(
                            rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4), retiredChange));
                }
            }
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery(
                            "SELECT name, matches, last_match, delivered, dead_lettered FROM query_stats")) {
                while (rs.next()) {
                    stats.add(
                            new StatsRow(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5)));
                }
            }
            return new Loaded(changes, versions, stats);
        });
    }

    /**
     * Forgets changes that never switched (their server stopped or died while applying them):
     * their versions go, and what they retired stays. Only with the lock held (or at start of
     * a server on a store of its own).
     */
    void dropUnswitched() {
        store.transaction("forgetting unswitched changes of the standing queries", c -> {
            dropUnswitched(c);
            return null;
        });
    }

    private static void dropUnswitched(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM query_versions WHERE added_change IN"
                    + " (SELECT change_id FROM query_changes WHERE at_offset IS NULL)");
            s.executeUpdate("UPDATE query_versions SET retired_change = NULL WHERE retired_change IN"
                    + " (SELECT change_id FROM query_changes WHERE at_offset IS NULL)");
            s.executeUpdate("DELETE FROM query_changes WHERE at_offset IS NULL");
        }
    }

    /** Whether other servers share these tables (a shared store). */
    boolean shared() {
        return store.shared();
    }

    /**
     * Takes the right to apply a change, waiting for a server that is applying one (on a store
     * that is not shared, at once).
     *
     * @throws IllegalStateException when another server holds it for longer than {@code timeout}
     */
    void lock(java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!changing.hold()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("another server has been applying a change of the standing queries for"
                        + " more than " + timeout.toSeconds() + " s; try again");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting to apply a change", e);
            }
        }
    }

    void unlock() {
        changing.release();
    }

    /** Whether no server is applying a change now (its lock is free or lapsed): asked with a lease of its own. */
    boolean unlocked() {
        if (!probe.hold()) {
            return false;
        }
        probe.release();
        return true;
    }

    /** Changes after {@code change}, switched or not (at null), oldest first. */
    List<ChangeRow> changesAfter(long change) {
        return store.transaction("reading changes of the standing queries", c -> {
            List<ChangeRow> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT change_id, batch, at_offset FROM query_changes WHERE change_id > ? ORDER BY change_id")) {
                ps.setLong(1, change);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long at = rs.getLong(3);
                        Long switched = rs.wasNull() ? null : at; // before another column is read
                        out.add(new ChangeRow(rs.getLong(1), rs.getString(2), switched));
                    }
                }
            }
            return out;
        });
    }

    /**
     * What other servers' changes after {@code change} (through {@code through}) did: the
     * versions they added, the versions they retired, and every version still active.
     */
    record Touched(List<VersionRow> versions, java.util.Set<Long> active) {}

    Touched touchedAfter(long change, long through) {
        return store.transaction("reading changed standing queries", c -> {
            List<VersionRow> versions = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT version_id, name, doc, added_change, retired_change"
                    + " FROM query_versions WHERE (added_change > ? AND added_change <= ?)"
                    + " OR (retired_change > ? AND retired_change <= ?) ORDER BY version_id")) {
                ps.setLong(1, change);
                ps.setLong(2, through);
                ps.setLong(3, change);
                ps.setLong(4, through);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long retired = rs.getLong(5);
                        Long retiredChange = rs.wasNull() ? null : retired; // before another column is read
                        versions.add(new VersionRow(
                                rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4), retiredChange));
                    }
                }
            }
            java.util.Set<Long> active = new java.util.HashSet<>();
            try (PreparedStatement ps =
                    c.prepareStatement("SELECT version_id FROM query_versions WHERE added_change <= ?"
                            + " AND (retired_change IS NULL OR retired_change > ?)")) {
                ps.setLong(1, through);
                ps.setLong(2, through);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        active.add(rs.getLong(1));
                    }
                }
            }
            return new Touched(versions, active);
        });
    }

    /** The largest version id stored, or 0. */
    long maxVersion() {
        return store.transaction("reading query version ids", c -> {
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT MAX(version_id) FROM query_versions")) {
                return rs.next() ? rs.getLong(1) : 0L;
            }
        });
    }

    /** Writes a change that is about to switch: its row (no offset yet), new versions, retirements. */
    void begin(long change, String batch, List<VersionRow> added, Collection<Long> retired) {
        store.transaction("saving a change of the standing queries", c -> {
            try (PreparedStatement ps =
                    c.prepareStatement("INSERT INTO query_changes(change_id, batch, at_offset) VALUES (?, ?, NULL)")) {
                ps.setLong(1, change);
                ps.setString(2, batch);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO query_versions(version_id, name, doc,"
                    + " added_change, retired_change) VALUES (?, ?, ?, ?, NULL)")) {
                for (VersionRow v : added) {
                    ps.setLong(1, v.id());
                    ps.setString(2, v.name());
                    ps.setString(3, v.doc());
                    ps.setLong(4, change);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            try (PreparedStatement ps =
                    c.prepareStatement("UPDATE query_versions SET retired_change = ? WHERE version_id = ?")) {
                for (long id : retired) {
                    ps.setLong(1, change);
                    ps.setLong(2, id);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    /** Records the offset a change switched at: from now on it is applied. */
    void switched(long change, long at) {
        store.transaction("saving the switch offset of a change", c -> {
            try (PreparedStatement ps =
                    c.prepareStatement("UPDATE query_changes SET at_offset = ? WHERE change_id = ?")) {
                ps.setLong(1, at);
                ps.setLong(2, change);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Forgets retired versions no reader needs any more, and the changes nothing refers to. */
    void forget(Collection<Long> versions, long keepChange) {
        store.transaction("forgetting retired queries", c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM query_versions WHERE version_id = ?")) {
                for (long id : versions) {
                    ps.setLong(1, id);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM query_changes WHERE change_id <> ?"
                            + " AND change_id NOT IN (SELECT added_change FROM query_versions)"
                            + " AND change_id NOT IN (SELECT retired_change FROM query_versions WHERE retired_change IS NOT NULL)")) {
                ps.setLong(1, keepChange);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Saves statistics rows in {@code c}, the transaction of a checkpoint. */
    static void saveStats(Connection c, Collection<StatsRow> rows) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO query_stats(name, matches, last_match, delivered,"
                + " dead_lettered) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET matches = excluded.matches,"
                + " last_match = excluded.last_match, delivered = excluded.delivered,"
                + " dead_lettered = excluded.dead_lettered")) {
            for (StatsRow r : rows) {
                ps.setString(1, r.name());
                ps.setLong(2, r.matches());
                ps.setLong(3, r.lastMatch());
                ps.setLong(4, r.delivered());
                ps.setLong(5, r.deadLettered());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }
}
