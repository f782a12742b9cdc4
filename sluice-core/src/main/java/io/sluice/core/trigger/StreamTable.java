package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.SqlStoreQueries;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Streams in the store's {@code trigger_streams} table: one row per stream with its state,
 * times, fire-criteria counts and the log offsets of its events (a JSON array). The engine
 * writes the streams a batch of events changed together with its checkpoint, in one
 * transaction, so that after a crash the streams are exactly as after the last committed event.
 */
final class StreamTable {
    private final EventStore store;

    StreamTable(EventStore store) {
        this.store = store;
        store.transaction("creating the trigger stream table", c -> {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("CREATE TABLE IF NOT EXISTS trigger_streams (id BIGINT PRIMARY KEY,"
                        + " trigger_name TEXT NOT NULL, dist_key TEXT NOT NULL, dist_traits TEXT NOT NULL,"
                        + " state TEXT NOT NULL, first_event TEXT, last_event TEXT, expire_at TEXT, fire_at TEXT,"
                        + " fire_counts TEXT NOT NULL, offsets TEXT NOT NULL, last_error TEXT,"
                        + " attempts INTEGER NOT NULL)");
                s.executeUpdate("CREATE INDEX IF NOT EXISTS trigger_streams_state ON trigger_streams(state, id)");
            }
            // the pipeline workers' columns, added to tables made before them
            addColumn(c, "claimed_by", "TEXT");
            addColumn(c, "claim_expires", "BIGINT");
            addColumn(c, "ran_by", "TEXT");
            addColumn(c, "retry_at", "BIGINT");
            return null;
        });
    }

    private static void addColumn(Connection c, String column, String type) throws SQLException {
        for (String table : new String[] {"trigger_streams", "TRIGGER_STREAMS"}) {
            try (ResultSet rs = c.getMetaData().getColumns(null, null, table, null)) {
                while (rs.next()) {
                    if (rs.getString("COLUMN_NAME").equalsIgnoreCase(column)) {
                        return;
                    }
                }
            }
        }
        try (Statement s = c.createStatement()) {
            s.executeUpdate("ALTER TABLE trigger_streams ADD COLUMN " + column + " " + type);
        }
    }

    /** The states of a stream handed to the pipeline workers and not settled yet. */
    private static final String RUNNING = "('firing','expiring','retry_fire','retry_expire')";

    /**
     * Claims up to {@code limit} streams for {@code owner}'s pipeline worker, oldest first:
     * streams handed over (firing, expiring) or to retry that no live claim holds, and with
     * automatic retry, streams in error whose retry time has come (they become retry_fire or
     * retry_expire). Each claim counts as an attempt. On PostgreSQL the rows are locked with
     * {@code SKIP LOCKED}, so servers claiming at once take different streams.
     */
    List<Stream> claim(String owner, long nowMillis, long until, int limit, boolean retries) {
        String where = "(state IN " + RUNNING + " AND (claim_expires IS NULL OR claim_expires < ?))"
                + (retries ? " OR (state IN ('error','expire_error') AND retry_at IS NOT NULL AND retry_at <= ?)" : "");
        String lock = store.dialect() == EventStore.Dialect.POSTGRES ? " FOR UPDATE SKIP LOCKED" : "";
        return store.transaction("claiming due trigger streams", c -> {
            List<Long> ids = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id FROM trigger_streams WHERE " + where + " ORDER BY id LIMIT ?" + lock)) {
                int i = 1;
                ps.setLong(i++, nowMillis);
                if (retries) {
                    ps.setLong(i++, nowMillis);
                }
                ps.setInt(i, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                    }
                }
            }
            if (ids.isEmpty()) {
                return List.of();
            }
            try (PreparedStatement up =
                    c.prepareStatement("UPDATE trigger_streams SET claimed_by = ?, claim_expires = ?,"
                            + " attempts = attempts + 1, retry_at = NULL, state = CASE state WHEN 'error' THEN 'retry_fire'"
                            + " WHEN 'expire_error' THEN 'retry_expire' ELSE state END WHERE id = ?")) {
                for (long id : ids) {
                    up.setString(1, owner);
                    up.setLong(2, until);
                    up.setLong(3, id);
                    up.addBatch();
                }
                up.executeBatch();
            }
            return read(c, ids);
        });
    }

    /**
     * Claims one stream in error to run again now ({@code POST /v1/streams/ID/retry}).
     *
     * @return the claimed stream, or null when it is not in error (or another server runs it)
     */
    Stream claimForRetry(long id, String owner, long nowMillis, long until) {
        return store.transaction("claiming a stream to retry", c -> {
            try (PreparedStatement up = c.prepareStatement(
                    "UPDATE trigger_streams SET claimed_by = ?, claim_expires = ?,"
                            + " attempts = attempts + 1, retry_at = NULL,"
                            + " state = CASE state WHEN 'error' THEN 'retry_fire' ELSE 'retry_expire' END"
                            + " WHERE id = ? AND state IN ('error','expire_error') AND (claim_expires IS NULL OR claim_expires < ?)")) {
                up.setString(1, owner);
                up.setLong(2, until);
                up.setLong(3, id);
                up.setLong(4, nowMillis);
                if (up.executeUpdate() == 0) {
                    return null;
                }
            }
            List<Stream> got = read(c, List.of(id));
            return got.isEmpty() ? null : got.getFirst();
        });
    }

    /** Extends {@code owner}'s claims on these streams (a pipeline worker still running them). */
    void renew(String owner, Collection<Long> ids, long until) {
        setClaimExpiry("renewing stream claims", owner, ids, until);
    }

    /**
     * Gives claims up unsettled (a stopping server), so that another server's worker, or this
     * one's after a restart, runs them at once rather than after the claim's term.
     */
    void release(String owner, Collection<Long> ids) {
        setClaimExpiry("releasing stream claims", owner, ids, 0);
    }

    private void setClaimExpiry(String what, String owner, Collection<Long> ids, long expires) {
        if (ids.isEmpty()) {
            return;
        }
        store.transaction(what, c -> {
            try (PreparedStatement up = c.prepareStatement(
                    "UPDATE trigger_streams SET claim_expires = ? WHERE id = ? AND claimed_by = ?")) {
                for (long id : ids) {
                    up.setLong(1, expires);
                    up.setLong(2, id);
                    up.setString(3, owner);
                    up.addBatch();
                }
                up.executeBatch();
            }
            return null;
        });
    }

    /**
     * Settles claimed streams after their pipelines ran, in one transaction: each one's new state,
     * error and retry time, who ran it; deleted instead when completed and {@code purge}.
     *
     * @return for each stream, false when the claim was no longer {@code owner}'s (it expired and
     *     another server took the stream): nothing is written for it
     */
    boolean[] settle(List<Stream> streams, String owner, boolean purge) {
        return store.transaction("settling trigger streams", c -> {
            boolean[] done = new boolean[streams.size()];
            try (PreparedStatement delete =
                            c.prepareStatement("DELETE FROM trigger_streams WHERE id = ? AND claimed_by = ?");
                    PreparedStatement update = c.prepareStatement("UPDATE trigger_streams SET state = ?,"
                            + " last_error = ?, retry_at = ?, ran_by = ?, claimed_by = NULL, claim_expires = NULL"
                            + " WHERE id = ? AND claimed_by = ?")) {
                for (int i = 0; i < streams.size(); i++) {
                    Stream s = streams.get(i);
                    if (purge && s.state == Stream.State.COMPLETED) {
                        delete.setLong(1, s.id);
                        delete.setString(2, owner);
                        done[i] = delete.executeUpdate() == 1;
                        continue;
                    }
                    update.setString(1, s.state.wireName());
                    update.setString(2, s.lastError);
                    if (s.retryAt == null) {
                        update.setNull(3, java.sql.Types.BIGINT);
                    } else {
                        update.setLong(3, s.retryAt.toEpochMilli());
                    }
                    update.setString(4, owner);
                    update.setLong(5, s.id);
                    update.setString(6, owner);
                    done[i] = update.executeUpdate() == 1;
                }
            }
            return done;
        });
    }

    /** Streams neither active nor completed: handed to the pipeline workers, or in error. */
    int handedOver() {
        return store.transaction("counting trigger streams", c -> {
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM trigger_streams WHERE state IN " + RUNNING
                            + " OR state IN ('error','expire_error')")) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        });
    }

    /** Streams handed to the pipeline workers and not settled yet (firing, expiring, retrying). */
    int running() {
        return store.transaction("counting running trigger streams", c -> {
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM trigger_streams WHERE state IN " + RUNNING)) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        });
    }

    /** Writes the changed streams and the engine's checkpoint in one transaction. */
    void save(Collection<Stream> changed, String reader, long checkpoint, long nowMillis) {
        store.transaction("saving trigger streams", c -> {
            upsert(c, changed);
            if (reader != null) {
                SqlStoreQueries.saveCheckpoint(c, reader, new EventStore.Checkpoint(checkpoint, null), nowMillis);
            }
            return null;
        });
        changed.forEach(s -> s.dirty = false);
    }

    private static void upsert(Connection c, Collection<Stream> streams) throws SQLException {
        if (streams.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO trigger_streams(id, trigger_name, dist_key,"
                + " dist_traits, state, first_event, last_event, expire_at, fire_at, fire_counts, offsets, last_error,"
                + " attempts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET state = excluded.state,"
                + " first_event = excluded.first_event, last_event = excluded.last_event,"
                + " expire_at = excluded.expire_at, fire_at = excluded.fire_at, fire_counts = excluded.fire_counts,"
                + " offsets = excluded.offsets, last_error = excluded.last_error, attempts = excluded.attempts")) {
            for (Stream s : streams) {
                ps.setLong(1, s.id);
                ps.setString(2, s.trigger);
                ps.setString(3, storedKey(s.key));
                ps.setString(4, Json.write(s.distinguishedBy));
                ps.setString(5, s.state.wireName());
                ps.setString(6, time(s.first));
                ps.setString(7, time(s.last));
                ps.setString(8, time(s.expireAt));
                ps.setString(9, time(s.fireAt));
                ArrayNode counts = Json.nodes().arrayNode();
                for (int n : s.fireCounts) {
                    counts.add(n);
                }
                ps.setString(10, Json.write(counts));
                StringBuilder offsets = new StringBuilder("[");
                for (int i = 0; i < s.offsets.size(); i++) {
                    offsets.append(i == 0 ? "" : ",").append(s.offsets.get(i));
                }
                ps.setString(11, offsets.append(']').toString());
                ps.setString(12, s.lastError);
                ps.setInt(13, s.attempts);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** Active streams (still taking events), for the engine to resume with. */
    List<Stream> active() {
        return query(" WHERE state = 'active' ORDER BY id", ps -> {});
    }

    private static List<Stream> read(Connection c, List<Long> ids) throws SQLException {
        List<Stream> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE id = ?")) {
            for (long id : ids) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        out.add(stream(rs));
                    }
                }
            }
        }
        return out;
    }

    /** The largest stream id ever given, or 0. */
    long maxId() {
        return store.transaction("reading stream ids", c -> {
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT MAX(id) FROM trigger_streams")) {
                return rs.next() ? rs.getLong(1) : 0L;
            }
        });
    }

    /**
     * Streams by filters (each null for any), newest first: trigger and state in SQL, then
     * {@code keep} on each (distinguishing traits, event times), page after page until {@code
     * limit} are kept.
     */
    List<Stream> list(String trigger, String state, long before, int limit, java.util.function.Predicate<Stream> keep) {
        List<Stream> out = new ArrayList<>();
        long below = before;
        int page = Math.max(limit, 500);
        while (out.size() < limit) {
            List<Stream> got = list(trigger, state, below, page);
            for (Stream s : got) {
                if (keep.test(s)) {
                    out.add(s);
                    if (out.size() == limit) {
                        break;
                    }
                }
            }
            if (got.size() < page) {
                break;
            }
            below = got.getLast().id;
        }
        return out;
    }

    private List<Stream> list(String trigger, String state, long before, int limit) {
        StringBuilder where = new StringBuilder(" WHERE id < ?");
        if (trigger != null) {
            where.append(" AND trigger_name = ?");
        }
        if (state != null) {
            where.append(" AND state = ?");
        }
        where.append(" ORDER BY id DESC LIMIT ?");
        return query(where.toString(), ps -> {
            int i = 1;
            ps.setLong(i++, before);
            if (trigger != null) {
                ps.setString(i++, trigger);
            }
            if (state != null) {
                ps.setString(i++, state);
            }
            ps.setInt(i, limit);
        });
    }

    /** One stream. */
    Stream get(long id) {
        List<Stream> l = query(" WHERE id = ?", ps -> ps.setLong(1, id));
        return l.isEmpty() ? null : l.getFirst();
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private static final String SELECT = "SELECT id, trigger_name, dist_key, dist_traits, state, first_event,"
            + " last_event, expire_at, fire_at, fire_counts, offsets, last_error, attempts, claimed_by, ran_by, retry_at"
            + " FROM trigger_streams";

    private List<Stream> query(String where, Binder binder) {
        return store.transaction("reading trigger streams", c -> {
            try (PreparedStatement ps = c.prepareStatement(SELECT + where)) {
                binder.bind(ps);
                List<Stream> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(stream(rs));
                    }
                }
                return out;
            }
        });
    }

    private static Stream stream(ResultSet rs) throws SQLException {
        JsonNode counts = Json.parse(rs.getString(10));
        Stream s = new Stream(
                rs.getLong(1),
                rs.getString(2),
                (ObjectNode) Json.parse(rs.getString(4)),
                keyOf(rs.getString(3)),
                counts.size());
        s.state = Stream.State.of(rs.getString(5));
        s.first = parse(rs.getString(6));
        s.last = parse(rs.getString(7));
        s.expireAt = parse(rs.getString(8));
        s.fireAt = parse(rs.getString(9));
        for (int i = 0; i < counts.size(); i++) {
            s.fireCounts[i] = counts.get(i).asInt();
        }
        for (JsonNode o : Json.parse(rs.getString(11))) {
            s.offsets.add(o.asLong());
        }
        s.lastError = rs.getString(12);
        s.attempts = rs.getInt(13);
        s.claimedBy = rs.getString(14);
        s.ranBy = rs.getString(15);
        long retry = rs.getLong(16);
        s.retryAt = rs.wasNull() ? null : java.time.Instant.ofEpochMilli(retry);
        s.dirty = false;
        return s;
    }

    /**
     * A stream's key as stored: PostgreSQL's text cannot hold the NUL that separates the trigger's
     * name from the distinguishing values in memory, so it is stored as the unit separator
     * (U+001F), which the JSON of the values never holds unescaped.
     */
    static String storedKey(String key) {
        return key.replace('\u0000', '\u001f');
    }

    /** A stored key as the engine keys streams in memory (rows from before either way). */
    static String keyOf(String stored) {
        return stored.replace('\u001f', '\u0000');
    }

    private static String time(LocalDateTime t) {
        return t == null ? null : t.toString();
    }

    private static LocalDateTime parse(String s) {
        return s == null ? null : LocalDateTime.parse(s);
    }
}
