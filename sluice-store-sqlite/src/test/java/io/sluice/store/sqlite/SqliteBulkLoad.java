package io.sluice.store.sqlite;

import io.sluice.core.log.EventStore.NewEvent;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Fills a new SQLite store with millions of small events far faster than appending would, for
 * tests of what a large log costs (startup, restart after a crash). The result is what the
 * store itself would have written: the same chunks, the id table complete.
 */
public final class SqliteBulkLoad {
    private SqliteBulkLoad() {}

    /**
     * Writes events {@code 1..count} with ids {@code ev-00000001}... and type {@code bulk} into
     * the store in {@code directory}, which must be new.
     */
    public static void load(Path directory, long count, long ingestedMillis) throws SQLException {
        SqliteEventStore.open(directory).close(); // the schema, as the server creates it
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + directory.resolve("sluice.db"));
                Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode = OFF"); // a bulk load into a new store needs no journal
            s.execute("PRAGMA synchronous = OFF");
            s.execute("PRAGMA cache_size = -262144");
            c.setAutoCommit(false);
            long bytes = 0;
            long[] hashes = new long[(int) count];
            IdIndex keys = new IdIndex(IdIndex.FLUSH_AT, IdIndex.DEFAULT_HASH);
            try (PreparedStatement insert = c.prepareStatement(Chunk.INSERT);
                    Chunk.Writer rows = new Chunk.Writer(Compression.ZSTD)) {
                List<NewEvent> events = new ArrayList<>(Chunk.MAX_EVENTS);
                for (long offset = 1; offset <= count; offset++) {
                    String digits = Long.toString(offset);
                    String id = "ev-" + "0".repeat(Math.max(0, 8 - digits.length())) + digits;
                    hashes[(int) (offset - 1)] = keys.key(IdIndex.fnv(id), offset); // the table's key
                    events.add(new NewEvent(id, "bulk", "{\"id\":\"" + id + "\",\"type\":\"bulk\"}"));
                    if (events.size() == Chunk.MAX_EVENTS || offset == count) {
                        bytes += rows.addRows(insert, offset - events.size() + 1, events, ingestedMillis)
                                .eventBytes();
                        events.clear();
                    }
                }
                insert.executeBatch();
            }
            long[] offsets = new long[hashes.length];
            for (int i = 0; i < offsets.length; i++) {
                offsets[i] = i + 1;
            }
            IdIndex.PairSort.sort(hashes, offsets);
            try (PreparedStatement insert =
                    c.prepareStatement("INSERT INTO event_ids(hash, log_offset) VALUES (?, ?)")) {
                for (int i = 0; i < hashes.length; i++) {
                    insert.setLong(1, hashes[i]);
                    insert.setLong(2, offsets[i]);
                    insert.addBatch();
                    if (i % 10_000 == 9_999) {
                        insert.executeBatch();
                    }
                }
                insert.executeBatch();
            }
            s.executeUpdate(
                    "UPDATE meta SET value = " + count + " WHERE key IN ('last_offset', 'ids_indexed_through')");
            s.executeUpdate("UPDATE meta SET value = " + bytes + " WHERE key = 'bytes'");
            c.commit();
            c.setAutoCommit(true);
            s.execute("PRAGMA journal_mode = WAL");
        }
    }
}
