package io.sluice.store.sqlite;

import io.sluice.core.log.StoreException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

/**
 * The SQLite store's tables: created on first open, and brought up to date from the layout of
 * earlier versions.
 *
 * <ul>
 *   <li>{@code chunks}: runs of consecutive events ({@link Chunk}), keyed by their first offset;
 *   <li>{@code event_ids}: id hashes and offsets ({@link IdIndex});
 *   <li>{@code checkpoints}: readers' progress;
 *   <li>{@code meta}: {@code schema_version}, {@code first_offset}, {@code last_offset},
 *       {@code bytes}, {@code ids_indexed_through}, {@code ids_cleaned_through},
 *       {@code ids_keyed_from};
 *   <li>the {@code events} view: one row per retained event ({@code log_offset, id, type,
 *       ingested, body}), for people reading the database with {@code sqlite3}; {@code body}
 *       is null for events in compressed rows.
 * </ul>
 *
 * <p>Versions: 1 kept a row per event; 2 chunks; 3 chunks that may be compressed (the same
 * tables: the version only keeps older Sluice versions from reading compressed rows as text);
 * 4 keys {@code event_ids} by epoch and hash ({@link IdIndex#key}), entries of offsets from
 * {@code ids_keyed_from} on (earlier ones, written by version 3 or before, keep their plain
 * hash as key and are still found).
 */
final class SqliteSchema {
    private SqliteSchema() {}

    /** Creates the tables, or upgrades those of an earlier version, in one transaction. */
    static void prepare(Connection c, Path file, IdIndex ids) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("BEGIN IMMEDIATE");
            try {
                s.executeUpdate("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
                boolean rowPerEvent = isTable(c, "events");
                s.executeUpdate("CREATE TABLE IF NOT EXISTS chunks (first_offset INTEGER PRIMARY KEY,"
                        + " last_offset INTEGER NOT NULL, ingested INTEGER NOT NULL, bytes INTEGER NOT NULL,"
                        + " ids TEXT NOT NULL, types TEXT NOT NULL, sizes TEXT NOT NULL, events BLOB NOT NULL)");
                s.executeUpdate("CREATE TABLE IF NOT EXISTS event_ids (hash INTEGER NOT NULL,"
                        + " log_offset INTEGER NOT NULL, PRIMARY KEY (hash, log_offset)) WITHOUT ROWID");
                s.executeUpdate("CREATE TABLE IF NOT EXISTS checkpoints (reader TEXT PRIMARY KEY,"
                        + " log_offset INTEGER NOT NULL, state TEXT, updated INTEGER NOT NULL)");
                s.executeUpdate("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', "
                        + SqliteEventStore.SCHEMA_VERSION + "), ('last_offset', 0), ('bytes', 0),"
                        + " ('ids_indexed_through', 0), ('ids_cleaned_through', 0), ('ids_keyed_from', 1)");
                long version = meta(c).get("schema_version");
                if (rowPerEvent && version == 1) {
                    fromRowPerEvent(c, ids);
                } else if (version == 2 || version == 3) {
                    // Version 3 may compress rows, version 4 keys the id table by epoch: older
                    // versions must not read rows as text nor look ids up by their plain hash.
                    setVersion(c);
                } else if (version != SqliteEventStore.SCHEMA_VERSION) {
                    throw new StoreException(file + " has schema version " + version + "; this Sluice reads version "
                            + SqliteEventStore.SCHEMA_VERSION + " (and upgrades versions 1 to 3)");
                }
                if (version < SqliteEventStore.SCHEMA_VERSION) {
                    // The id entries written so far are keyed by their plain hash, later ones by epoch and hash.
                    s.executeUpdate("INSERT OR REPLACE INTO meta(key, value)"
                            + " SELECT 'ids_keyed_from', value + 1 FROM meta WHERE key = 'ids_indexed_through'");
                }
                s.executeUpdate("INSERT OR IGNORE INTO meta(key, value)"
                        + " SELECT 'first_offset', value + 1 FROM meta WHERE key = 'last_offset'");
                s.executeUpdate("DROP VIEW IF EXISTS events"); // made again, as this version reads rows
                s.executeUpdate(EVENTS_VIEW);
                s.execute("COMMIT");
            } catch (SQLException | RuntimeException e) {
                s.execute("ROLLBACK");
                throw e;
            }
        }
    }

    /**
     * A row per retained event: plain rows (their events column a JSON array) with their
     * bodies, compressed rows ({@link Compression}) with their offsets, ids and types and a
     * null body, as {@code sqlite3} cannot decompress them. Each half reads only its own rows:
     * {@code json_each} is given an empty array for the others.
     */
    private static final String EVENTS_VIEW = "CREATE VIEW events AS"
            + " SELECT c.first_offset + e.key AS log_offset, c.ids ->> e.key AS id, c.types ->> e.key AS type,"
            + " c.ingested AS ingested, e.value AS body"
            + " FROM chunks c, json_each(CASE WHEN substr(c.events, 1, 1) = X'5B'"
            + " THEN CAST(c.events AS TEXT) ELSE '[]' END) e"
            + " WHERE c.first_offset + e.key >= (SELECT value FROM meta WHERE key = 'first_offset')"
            + " UNION ALL"
            + " SELECT c.first_offset + e.key, e.value, c.types ->> e.key, c.ingested, NULL"
            + " FROM chunks c, json_each(CASE WHEN substr(c.events, 1, 1) = X'5B' THEN '[]' ELSE c.ids END) e"
            + " WHERE c.first_offset + e.key >= (SELECT value FROM meta WHERE key = 'first_offset')";

    private static void setVersion(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate(
                    "UPDATE meta SET value = " + SqliteEventStore.SCHEMA_VERSION + " WHERE key = 'schema_version'");
        }
    }

    /** The {@code meta} table. */
    static Map<String, Long> meta(Connection c) throws SQLException {
        Map<String, Long> meta = new HashMap<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT key, value FROM meta")) {
            while (rs.next()) {
                meta.put(rs.getString(1), rs.getLong(2));
            }
        }
        return meta;
    }

    private static boolean isTable(Connection c, String name) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * Version 1 kept a row per event with a unique index on the id. Its events move into chunks
     * of {@link Chunk#MAX_EVENTS} (texts unchanged; a chunk's ingest time is its newest event's,
     * so retention by age never deletes early) and their ids into {@code event_ids}.
     */
    private static void fromRowPerEvent(Connection c, IdIndex ids) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO chunks(first_offset, last_offset, ingested, bytes, ids, types, sizes, events)"
                    + " SELECT min(log_offset), max(log_offset), max(ingested), sum(length(CAST(body AS BLOB))),"
                    + " json_group_array(id ORDER BY log_offset), json_group_array(type ORDER BY log_offset),"
                    + " json_group_array(length(CAST(body AS BLOB)) ORDER BY log_offset),"
                    + " CAST('[' || group_concat(body, ',' ORDER BY log_offset) || ']' AS BLOB)"
                    + " FROM events GROUP BY (log_offset - 1) / " + Chunk.MAX_EVENTS);
            try (PreparedStatement insert =
                            c.prepareStatement("INSERT OR IGNORE INTO event_ids(hash, log_offset) VALUES (?, ?)");
                    ResultSet rs = s.executeQuery("SELECT id, log_offset FROM events")) {
                int batched = 0;
                while (rs.next()) {
                    insert.setLong(1, ids.hash(rs.getString(1)));
                    insert.setLong(2, rs.getLong(2));
                    insert.addBatch();
                    if (++batched % 10_000 == 0) {
                        insert.executeBatch();
                    }
                }
                insert.executeBatch();
            }
            s.executeUpdate("INSERT OR REPLACE INTO meta(key, value) SELECT 'first_offset', coalesce(min(log_offset),"
                    + " (SELECT value + 1 FROM meta WHERE key = 'last_offset')) FROM events");
            s.executeUpdate("UPDATE meta SET value = (SELECT value FROM meta WHERE key = 'last_offset')"
                    + " WHERE key = 'ids_indexed_through'");
            setVersion(c);
            s.executeUpdate("DELETE FROM meta WHERE key = 'events'");
            s.executeUpdate("DROP TABLE events");
        }
    }
}
