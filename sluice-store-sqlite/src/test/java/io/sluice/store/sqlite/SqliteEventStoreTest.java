package io.sluice.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.EventStoreContract;
import io.sluice.core.log.StoreException;
import io.sluice.core.log.StoredEvent;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite store against the store contract, and what is particular to it. */
class SqliteEventStoreTest extends EventStoreContract {
    @TempDir
    Path dir;

    @Override
    protected EventStore openNew() {
        return SqliteEventStore.open(dir, clock);
    }

    @Override
    protected EventStore reopen() {
        return SqliteEventStore.open(dir, clock);
    }

    @Test
    void committedPagesReachTheDatabaseFileOffTheCommitPath() throws Exception {
        // uncompressed: the events' 8 MB reach the WAL as they are
        try (SqliteEventStore store = SqliteEventStore.open(dir, clock, Compression.NONE)) {
            Path db = store.file();
            Path wal = Path.of(db + "-wal");
            for (int batch = 0; batch < 8; batch++) {
                store.append(paddedEvents(batch, 1000));
            }
            // The writer never checkpoints; the background checkpointer copies the WAL's 8 MB.
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(Files.size(db)).isGreaterThan(8_000_000));
            assertThat(Files.exists(wal)).isTrue();
        }
        try (SqliteEventStore store = SqliteEventStore.open(dir, clock)) {
            assertThat(store.lastOffset()).isEqualTo(8000);
            assertThat(store.byId("e-7-999")).isPresent();
        }
        Path wal = Path.of(dir.resolve("sluice.db") + "-wal");
        assertThat(!Files.exists(wal) || Files.size(wal) == 0)
                .as("WAL emptied on close")
                .isTrue();
    }

    @Test
    void theWalStartsOverWhileAppendsGoOn() throws Exception {
        // A WAL of 1 MB is made to start over (checkpoints every 20 ms, so that it cannot grow
        // far meanwhile); appends never pause long enough for the background checkpoint alone
        // to let it (the writer adds frames while it copies).
        long written = 0;
        long longestWal = 0;
        double walGauge = 0;
        int batches = 0;
        try (SqliteEventStore store = openWithShortWal()) {
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            store.bindTo(meters);
            Path wal = Path.of(store.file() + "-wal");
            // Written until the WAL started over three times and its longest extent is under a
            // third of what was written (a WAL that never starts over is as long as everything
            // written); on a loaded machine the checkpointer may fall behind for a while, and
            // more writing makes up for it, so the deadline is only for a store that never does.
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while ((store.walRestarts() < 3 || written < 48_000_000 || longestWal >= written / 3)
                    && System.nanoTime() < deadline) {
                List<EventStore.NewEvent> events = paddedEvents(batches++, 100);
                store.append(events);
                written += events.stream().mapToLong(e -> e.json().length()).sum();
                longestWal = Math.max(longestWal, Files.size(wal));
                // the WAL's length at the last checkpoint: zero just after it started over
                walGauge = Math.max(
                        walGauge, meters.get("sluice.sqlite.wal").gauge().value());
            }
            assertThat(store.walRestarts()).isGreaterThanOrEqualTo(3);
            assertThat(meters.get("sluice.sqlite.wal.restart").timer().count()).isGreaterThanOrEqualTo(3);
            assertThat(meters.get("sluice.sqlite.checkpoint").timer().count()).isPositive();
            assertThat(walGauge).as("the WAL gauge while appending").isPositive();
            assertThat(longestWal)
                    .as("longest WAL, with %d bytes of events written", written)
                    .isLessThan(written / 3);
        }
        try (SqliteEventStore store = SqliteEventStore.open(dir, clock)) {
            assertThat(store.lastOffset()).isEqualTo(batches * 100L);
            assertThat(store.byId("e-0-0")).map(StoredEvent::offset).contains(1L);
            assertThat(store.byId("e-" + (batches - 1) + "-99"))
                    .map(StoredEvent::offset)
                    .contains(batches * 100L);
            assertThat(store.read(0, Integer.MAX_VALUE, e -> true).events()).hasSize(batches * 100);
        }
    }

    /** An append over the threshold is counted (and logged with its parts); one under it is not. */
    @Test
    void theIdFilterAndTableLookupsAreMetered() {
        try (SqliteEventStore s = SqliteEventStore.open(dir.resolve("metered"), clock)) {
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            s.bindTo(meters);
            assertThat(meters.get("sluice.sqlite.id.filter").gauge().value()).isZero();
            s.append(events("before", 20)); // no filter yet: each id is looked up in the table
            assertThat(meters.get("sluice.sqlite.id.table.lookups")
                            .functionCounter()
                            .count())
                    .isEqualTo(20);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> meters.get("sluice.sqlite.id.filter").gauge().value() > 0);
            assertThat(meters.get("sluice.sqlite.id.filter").gauge().value())
                    .isEqualTo(s.idFilter().bytes());
            assertThat(meters.get("sluice.sqlite.id.filter.build").timer().count())
                    .isEqualTo(1);
            s.append(events("after", 1_000));
            assertThat(meters.get("sluice.sqlite.id.table.lookups")
                            .functionCounter()
                            .count())
                    .isEqualTo(s.tableLookups())
                    .isLessThan(20 + 50);
        }
    }

    @Test
    void slowAppendsAreCounted() {
        try (SqliteEventStore s = SqliteEventStore.open(dir.resolve("slow"), clock)) {
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            s.bindTo(meters);
            s.slowAppendThreshold(Duration.ofMinutes(1));
            s.append(events("fast", 10));
            assertThat(meters.get("sluice.sqlite.slow.appends")
                            .functionCounter()
                            .count())
                    .isZero();
            s.slowAppendThreshold(Duration.ZERO);
            s.append(events("slow", 10));
            assertThat(meters.get("sluice.sqlite.slow.appends")
                            .functionCounter()
                            .count())
                    .isEqualTo(1);
        }
    }

    @Test
    void aReaderOnTheWalDelaysItsStartingOverUntilItIsDone() throws Exception {
        try (SqliteEventStore store = openWithShortWal()) {
            Path wal = Path.of(store.file() + "-wal");
            int[] batches = {0};
            Runnable appendBatch = () -> store.append(paddedEvents(batches[0]++, 100));
            appendBatch.run();
            try (Connection reader = DriverManager.getConnection("jdbc:sqlite:" + store.file());
                    Statement s = reader.createStatement()) {
                s.execute("BEGIN");
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM chunks")) {
                    rs.next(); // a read snapshot on the WAL, held until the COMMIT below
                }
                while (Files.size(wal) < 12_000_000) {
                    appendBatch.run();
                }
                assertThat(store.walRestarts()).isZero();
                s.execute("COMMIT");
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (store.walRestarts() == 0 && System.nanoTime() < deadline) {
                appendBatch.run();
            }
            assertThat(store.walRestarts()).isPositive();
            assertThat(store.byId("e-0-0")).isPresent();
            assertThat(store.lastOffset()).isEqualTo(batches[0] * 100L);
        }
    }

    @Test
    void newDatabasesHaveLargerPagesAndOldOnesKeepTheirs() throws Exception {
        try (SqliteEventStore store = SqliteEventStore.open(dir.resolve("new"), clock)) {
            store.append(List.of(new EventStore.NewEvent("a", "t", "{\"id\":\"a\"}")));
            assertThat(count(store.file(), "PRAGMA page_size")).isEqualTo(SqliteEventStore.PAGE_SIZE);
            assertThat(journalMode(store.file())).isEqualTo("wal");
        }
        Path old = dir.resolve("old");
        Files.createDirectories(old);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + old.resolve("sluice.db"));
                Statement s = c.createStatement()) {
            s.execute("PRAGMA page_size = 4096");
            s.execute("CREATE TABLE unrelated (x)"); // the file now exists with 4 KB pages
        }
        try (SqliteEventStore store = SqliteEventStore.open(old, clock)) {
            store.append(List.of(new EventStore.NewEvent("a", "t", "{\"id\":\"a\"}")));
            assertThat(count(store.file(), "PRAGMA page_size")).isEqualTo(4096);
            assertThat(store.byId("a")).isPresent();
        }
    }

    private static String journalMode(Path db) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * A store whose WAL is made to start over past 1 MB, checkpointed every 20 ms; uncompressed,
     * so that what is appended is what the WAL takes.
     */
    private SqliteEventStore openWithShortWal() {
        return SqliteEventStore.open(
                dir,
                clock,
                new IdIndex(IdIndex.FLUSH_AT, IdIndex.DEFAULT_HASH),
                new SqliteEventStore.Wal(1 << 20, 20),
                Compression.NONE);
    }

    /** {@code count} events of about 1 KB each, with ids {@code e-BATCH-I}. */
    private static List<EventStore.NewEvent> paddedEvents(int batch, int count) {
        List<EventStore.NewEvent> events = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String id = "e-" + batch + "-" + i;
            events.add(new EventStore.NewEvent(id, "t", "{\"id\":\"" + id + "\",\"p\":\"" + "x".repeat(1000) + "\"}"));
        }
        return events;
    }

    private static long textBytes(List<EventStore.NewEvent> events) {
        return events.stream()
                .mapToLong(e -> e.json().getBytes(StandardCharsets.UTF_8).length)
                .sum();
    }

    private static List<Long> offsets(List<EventStore.Appended> appended) {
        return appended.stream().map(EventStore.Appended::offset).toList();
    }

    private static long count(Path db, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * The id table is written in bulk, from memory, in slices. Whenever the server dies (before,
     * during or after writing a snapshot), every stored id is found again after the restart;
     * closing writes every id to the table.
     */
    @Test
    void idsWrittenInBulkAreFoundAfterACrashAtAnyPoint() throws Exception {
        Path bulk = dir.resolve("bulk");
        List<EventStore.NewEvent> all = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        try (SqliteEventStore s = SqliteEventStore.open(bulk, clock, new IdIndex(1_000, IdIndex.DEFAULT_HASH))) {
            for (int batch = 0; batch < 30; batch++) {
                List<EventStore.NewEvent> events = events("b" + batch + "-", 150);
                offsets.addAll(offsets(s.append(events)));
                all.addAll(events);
                Path crashed = copyAsACrashWouldLeaveIt(bulk, dir.resolve("crash-" + batch));
                try (SqliteEventStore after =
                        SqliteEventStore.open(crashed, clock, new IdIndex(1_000, IdIndex.DEFAULT_HASH))) {
                    List<EventStore.Appended> again = after.append(all);
                    assertThat(again).allMatch(EventStore.Appended::duplicate);
                    assertThat(offsets(again)).isEqualTo(offsets);
                }
            }
            assertThat(count(bulk.resolve("sluice.db"), "SELECT count(*) FROM event_ids"))
                    .as("written while appending")
                    .isGreaterThanOrEqualTo(3_000);
        }
        Path db = bulk.resolve("sluice.db");
        assertThat(count(db, "SELECT count(*) FROM event_ids"))
                .as("all, on close")
                .isEqualTo(4_500);
        assertThat(count(db, "SELECT value FROM meta WHERE key = 'ids_indexed_through'"))
                .isEqualTo(4_500);
        try (SqliteEventStore s = SqliteEventStore.open(bulk, clock, new IdIndex(1_000, IdIndex.DEFAULT_HASH))) {
            List<EventStore.Appended> again = s.append(all);
            assertThat(again).allMatch(EventStore.Appended::duplicate);
            assertThat(offsets(again)).isEqualTo(offsets);
            for (int i = 0; i < all.size(); i += 97) {
                assertThat(s.byId(all.get(i).id()).map(StoredEvent::offset)).contains(offsets.get(i));
            }
            assertThat(s.byId("never-stored")).isEmpty();
        }
    }

    /**
     * The files a {@code kill -9} would leave now: the database and its WAL (nothing is being
     * written while they are copied; the shared-memory index is rebuilt on open).
     */
    private static Path copyAsACrashWouldLeaveIt(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        Files.copy(from.resolve("sluice.db"), to.resolve("sluice.db"));
        Path wal = from.resolve("sluice.db-wal");
        if (Files.exists(wal)) {
            Files.copy(wal, to.resolve("sluice.db-wal"));
        }
        return to;
    }

    /** A hash names candidates only: ids whose hashes collide are still different events. */
    @Test
    void idsWithTheSameHashAreStillDifferentEvents() {
        try (SqliteEventStore s = SqliteEventStore.open(dir.resolve("collide"), clock, new IdIndex(64, id -> 42L))) {
            List<EventStore.NewEvent> first = events("c", 300);
            List<Long> offsets = new ArrayList<>();
            for (int from = 0; from < 300; from += 50) {
                offsets.addAll(offsets(s.append(first.subList(from, from + 50))));
            }
            assertThat(offsets).doesNotHaveDuplicates().hasSize(300);
            List<EventStore.NewEvent> mixed = new ArrayList<>(events("d", 20));
            mixed.addAll(first.subList(100, 120));
            List<EventStore.Appended> appended = s.append(mixed);
            assertThat(appended.subList(0, 20)).noneMatch(EventStore.Appended::duplicate);
            assertThat(appended.subList(20, 40)).allMatch(EventStore.Appended::duplicate);
            assertThat(offsets(appended.subList(20, 40))).isEqualTo(offsets.subList(100, 120));
            assertThat(s.byId("c250").map(StoredEvent::offset)).contains(offsets.get(250));
            assertThat(s.byId("d7").map(StoredEvent::id)).contains("d7");
            assertThat(s.byId("e1")).isEmpty();
        }
    }

    /**
     * Fresh ids skip the id table once the filter over it is built (in the background, after
     * the first append), ids in the table are still found, and a filter that outgrows its plan is built
     * again, larger.
     */
    @Test
    void freshIdsSkipTheIdTableOnceItsFilterIsBuilt() throws Exception {
        Path filtered = dir.resolve("filtered");
        try (SqliteEventStore s =
                SqliteEventStore.open(filtered, clock, new IdIndex(500, IdIndex.DEFAULT_HASH, 2_000))) {
            for (int batch = 0; batch < 10; batch++) {
                s.append(events("old" + batch + "-", 500));
            }
        }
        Files.deleteIfExists(filtered.resolve("sluice.db-idfilter")); // built from the table, not loaded
        try (SqliteEventStore s =
                SqliteEventStore.open(filtered, clock, new IdIndex(500, IdIndex.DEFAULT_HASH, 2_000))) {
            assertThat(s.idFilter()).as("not built before an append needs it").isNull();
            s.append(events("first", 1));
            await().atMost(Duration.ofSeconds(10)).until(() -> s.idFilter() != null);
            long before = s.tableLookups();
            s.append(events("new", 1_000));
            assertThat(s.tableLookups() - before)
                    .as("fresh ids looked up in the table")
                    .isLessThan(50);
            List<EventStore.Appended> again = s.append(events("old3-", 500));
            assertThat(again).allMatch(EventStore.Appended::duplicate);
            assertThat(s.byId("old0-0")).isPresent();
            assertThat(s.byId("never")).isEmpty();
            IdFilter first = s.idFilter();
            for (int batch = 0; batch < 40; batch++) {
                s.append(events("more" + batch + "-", 500));
            }
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(s.idFilter().capacity()).isGreaterThan(first.capacity()));
            assertThat(s.append(events("old9-", 500))).allMatch(EventStore.Appended::duplicate);
            assertThat(s.append(events("more0-", 500))).allMatch(EventStore.Appended::duplicate);
        }
    }

    /**
     * The id table is keyed by the epoch of each entry's offset above the id's hash, so that a
     * snapshot writes into the latest epochs' keys only: with epochs of 64 offsets, 20,000 events
     * (past the wrap of the epoch byte at 256 epochs) are all found again, by appends and by id,
     * after a clean close and reopen, and with retention deleting the oldest.
     */
    @Test
    void idsKeyedByEpochAreFoundAcrossEpochsAndTheWrap() throws Exception {
        Path epochs = dir.resolve("epochs");
        Path db = epochs.resolve("sluice.db");
        IdIndex shortEpochs = new IdIndex(500, IdIndex.DEFAULT_HASH, 2_000, IdIndex.ASYNC_SORT_AT, 6);
        try (SqliteEventStore s = SqliteEventStore.open(epochs, clock, shortEpochs)) {
            for (int batch = 0; batch < 40; batch++) {
                assertThat(s.append(events("e" + batch + "-", 500))).noneMatch(EventStore.Appended::duplicate);
            }
            assertThat(s.append(events("e3-", 500))).allMatch(EventStore.Appended::duplicate);
            assertThat(s.append(events("e39-", 500))).allMatch(EventStore.Appended::duplicate);
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT hash, log_offset FROM event_ids")) {
            int rows = 0;
            while (rs.next()) {
                assertThat(rs.getLong(1) >>> 56).isEqualTo((rs.getLong(2) >>> 6) & 0xFF);
                rows++;
            }
            assertThat(rows).as("every id in the table after a clean close").isEqualTo(20_000);
        }
        Files.deleteIfExists(epochs.resolve("sluice.db-idfilter")); // the filter built from the table
        try (SqliteEventStore s = SqliteEventStore.open(
                epochs, clock, new IdIndex(500, IdIndex.DEFAULT_HASH, 2_000, IdIndex.ASYNC_SORT_AT, 6))) {
            for (int batch = 0; batch < 40; batch += 13) {
                assertThat(s.append(events("e" + batch + "-", 500))).allMatch(EventStore.Appended::duplicate);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> s.idFilter() != null);
            assertThat(s.append(events("e7-", 500))).allMatch(EventStore.Appended::duplicate);
            assertThat(s.byId("e0-0")).isPresent();
            assertThat(s.byId("e20-499").map(StoredEvent::offset)).hasValue(10_500L);
            assertFreshIdsMostlySkipTheTable(s);
        }
    }

    /** Appends 1,000 ids never seen: the filter must keep all but a few percent of them from the table. */
    private static void assertFreshIdsMostlySkipTheTable(SqliteEventStore s) {
        long before = s.tableLookups();
        s.append(events("fresh-" + java.util.UUID.randomUUID() + "-", 1_000));
        assertThat(s.tableLookups() - before)
                .as("fresh ids looked up in the table")
                .isLessThan(100);
    }

    /**
     * A database of version 3 keeps the entries it wrote under their plain hash: they are still
     * found (by appends, by id, when the filter is built) beside the entries written after the
     * upgrade, which have epochs.
     */
    @Test
    void plainHashEntriesOfVersionThreeAreStillFound() throws Exception {
        Path v3 = dir.resolve("v3");
        Path db = v3.resolve("sluice.db");
        try (SqliteEventStore s = SqliteEventStore.open(v3, clock)) {
            s.append(events("old", 3_000));
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement st = c.createStatement()) { // as version 3 wrote it
            st.executeUpdate("DELETE FROM event_ids");
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO event_ids VALUES (?, ?)")) {
                for (int i = 0; i < 3_000; i++) {
                    insert.setLong(1, IdIndex.fnv("old" + i));
                    insert.setLong(2, i + 1);
                    insert.executeUpdate();
                }
            }
            st.executeUpdate("UPDATE meta SET value = 3 WHERE key = 'schema_version'");
            st.executeUpdate("DELETE FROM meta WHERE key = 'ids_keyed_from'");
        }
        try (SqliteEventStore s = SqliteEventStore.open(v3, clock, new IdIndex(500, IdIndex.DEFAULT_HASH, 2_000))) {
            assertThat(count(db, "SELECT value FROM meta WHERE key = 'ids_keyed_from'"))
                    .isEqualTo(3_001);
            assertThat(s.append(events("old", 3_000))).allMatch(EventStore.Appended::duplicate);
            await().atMost(Duration.ofSeconds(10)).until(() -> s.idFilter() != null);
            for (int batch = 0; batch < 4; batch++) {
                s.append(events("new" + batch + "-", 500));
            }
            assertThat(s.append(events("old", 3_000))).allMatch(EventStore.Appended::duplicate);
            assertThat(s.append(events("new2-", 500))).allMatch(EventStore.Appended::duplicate);
            assertThat(s.byId("old1234").map(StoredEvent::offset)).hasValue(1_235L);
            assertFreshIdsMostlySkipTheTable(s);
        }
        Files.deleteIfExists(v3.resolve("sluice.db-idfilter"));
        try (SqliteEventStore s = SqliteEventStore.open(v3, clock, new IdIndex(500, IdIndex.DEFAULT_HASH, 2_000))) {
            s.append(events("probe", 1));
            await().atMost(Duration.ofSeconds(10)).until(() -> s.idFilter() != null);
            long before = s.tableLookups();
            assertThat(s.append(events("old", 3_000))).allMatch(EventStore.Appended::duplicate);
            assertThat(s.append(events("new1-", 500))).allMatch(EventStore.Appended::duplicate);
            assertThat(s.tableLookups() - before)
                    .as("all of them pass the filter built from both kinds")
                    .isEqualTo(3_500);
        }
    }

    /**
     * A clean close saves the id filter and the next open uses it at once, without reading the
     * id table again; a saved filter that no longer describes the store (appended to since,
     * as after a crash) or a damaged one is not used, and duplicates are still found.
     */
    @Test
    void aCleanCloseSavesTheIdFilterForTheNextOpen() throws Exception {
        Path saved = dir.resolve("saved");
        Path filterFile = saved.resolve("sluice.db-idfilter");
        Path earlier = dir.resolve("earlier-filter");
        try (SqliteEventStore s = SqliteEventStore.open(saved, clock, new IdIndex(500, IdIndex.DEFAULT_HASH, 2_000))) {
            for (int batch = 0; batch < 10; batch++) {
                s.append(events("a" + batch + "-", 500));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> s.idFilter() != null);
        }
        Files.copy(filterFile, earlier);
        try (SqliteEventStore s = SqliteEventStore.open(saved, clock, new IdIndex(500, IdIndex.DEFAULT_HASH, 2_000))) {
            assertThat(s.idFilter()).as("loaded on open").isNotNull();
            assertThat(s.idFilter().added()).isGreaterThanOrEqualTo(5_000);
            long before = s.tableLookups();
            s.append(events("new", 1_000));
            assertThat(s.tableLookups() - before)
                    .as("fresh ids looked up in the table")
                    .isLessThan(50);
            assertThat(s.append(events("a3-", 500))).allMatch(EventStore.Appended::duplicate);
        }

        Files.copy(earlier, filterFile, StandardCopyOption.REPLACE_EXISTING); // does not know the "new" ids
        try (SqliteEventStore s = SqliteEventStore.open(saved, clock, new IdIndex(500, IdIndex.DEFAULT_HASH, 2_000))) {
            assertThat(s.idFilter())
                    .as("a filter saved before the last appends")
                    .isNull();
            assertThat(s.append(events("new", 1_000))).allMatch(EventStore.Appended::duplicate);
            assertThat(s.lastOffset()).isEqualTo(6_000);
        }

        try (RandomAccessFile f = new RandomAccessFile(filterFile.toFile(), "rw")) {
            f.seek(f.length() / 2);
            f.write(~f.read());
        }
        try (SqliteEventStore s = SqliteEventStore.open(saved, clock, new IdIndex(500, IdIndex.DEFAULT_HASH, 2_000))) {
            assertThat(s.idFilter()).as("a damaged filter").isNull();
            assertThat(s.append(events("a9-", 500))).allMatch(EventStore.Appended::duplicate);
        }
    }

    /**
     * A filter is built from the table in short reads, in key order: every row once (rows that
     * share a hash included), and between two reads no read transaction is open, so the WAL can
     * start over while a large table is read.
     */
    @Test
    void theIdFilterIsBuiltFromTheTableInShortReads() throws Exception {
        Path scanned = dir.resolve("scanned");
        Path file;
        try (SqliteEventStore s =
                SqliteEventStore.open(scanned, clock, new IdIndex(64, id -> id.hashCode() % 100, 2_000))) {
            for (int batch = 0; batch < 20; batch++) {
                s.append(events("s" + batch + "-", 100));
            }
            file = s.file();
        }
        try (Connection reader = DriverManager.getConnection("jdbc:sqlite:" + file);
                Connection other = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement o = other.createStatement()) {
            List<Long> hashes = new ArrayList<>();
            try (ResultSet rs = o.executeQuery("SELECT hash FROM event_ids")) {
                while (rs.next()) {
                    hashes.add(rs.getLong(1));
                }
            }
            assertThat(hashes).hasSizeGreaterThan(1_000);
            assertThat(hashes.stream().distinct().count()).isLessThanOrEqualTo(200);
            o.execute("CREATE TABLE scratch (n INTEGER)");
            int[] reads = {0};
            IdIndex ids = new IdIndex(64, IdIndex.DEFAULT_HASH, 2_000);
            boolean built = ids.buildFilter(reader, hashes.size(), 7, () -> {
                try {
                    o.execute("INSERT INTO scratch VALUES (" + reads[0]++ + ")"); // frames in the WAL
                    try (ResultSet rs = o.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
                        assertThat(rs.getInt(1))
                                .as("checkpoint blocked by the build's read")
                                .isZero();
                    }
                    return false;
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(built).isTrue();
            assertThat(reads[0]).isEqualTo(hashes.size() / 7 + 1);
            IdFilter f = ids.filter();
            assertThat(f.added()).as("each row added once").isEqualTo(hashes.size());
            assertThat(hashes).allMatch(key -> f.mayContain(IdIndex.filterValue(key << 8)));
            try (ResultSet rs = o.executeQuery("EXPLAIN QUERY PLAN SELECT hash, log_offset FROM event_ids"
                    + " WHERE (hash, log_offset) > (1, 2) ORDER BY hash, log_offset LIMIT 7")) {
                assertThat(rs.getString(4))
                        .as("each read seeks to where the last ended")
                        .startsWith("SEARCH");
            }
        }
    }

    /**
     * Full sets of pending ids are sorted on a thread of their own while appends go on: ids are
     * found as duplicates while sealed, sorted, half written and in the table, and all of them
     * reach the table.
     */
    @Test
    void idsSortedOnTheirOwnThreadAreFoundThroughout() throws Exception {
        Path sorted = dir.resolve("sorted");
        try (SqliteEventStore s =
                SqliteEventStore.open(sorted, clock, new IdIndex(200, IdIndex.DEFAULT_HASH, 2_000, 1))) {
            for (int batch = 0; batch < 30; batch++) {
                assertThat(s.append(events("s" + batch + "-", 100))).noneMatch(EventStore.Appended::duplicate);
                List<EventStore.NewEvent> again = new ArrayList<>();
                for (int earlier = 0; earlier <= batch; earlier++) {
                    again.add(event("s" + earlier + "-" + (earlier * 7 % 100)));
                }
                assertThat(s.append(again)).as("batch %d", batch).allMatch(EventStore.Appended::duplicate);
            }
        }
        Path db = sorted.resolve("sluice.db");
        assertThat(count(db, "SELECT count(*) FROM event_ids")).isEqualTo(3_000);
        assertThat(count(db, "SELECT value FROM meta WHERE key = 'ids_indexed_through'"))
                .isEqualTo(3_000);
        try (SqliteEventStore s = SqliteEventStore.open(sorted, clock)) {
            assertThat(s.append(events("s29-", 100))).allMatch(EventStore.Appended::duplicate);
        }
    }

    /**
     * Entries of events deleted by retention leave the id table as later snapshots are written,
     * and their ids may be stored again (duplicates are found within retention).
     */
    @Test
    void retentionEmptiesTheIdTableOfDeletedEvents() throws Exception {
        Path cleaned = dir.resolve("cleaned");
        try (SqliteEventStore s = SqliteEventStore.open(cleaned, clock, new IdIndex(256, IdIndex.DEFAULT_HASH))) {
            for (int batch = 0; batch < 20; batch++) {
                s.append(events("r" + batch + "-", 100));
            }
            assertThat(s.deleteThrough(1_500)).isEqualTo(1_500);
            for (int batch = 20; batch < 40; batch++) {
                s.append(events("r" + batch + "-", 100));
            }
            Path db = cleaned.resolve("sluice.db");
            assertThat(count(db, "SELECT count(*) FROM event_ids WHERE log_offset <= 1500"))
                    .isZero();
            assertThat(count(db, "SELECT count(*) FROM event_ids WHERE log_offset > 1500"))
                    .isPositive();
            assertThat(count(db, "SELECT value FROM meta WHERE key = 'ids_cleaned_through'"))
                    .isEqualTo(1_500);
            List<EventStore.Appended> again = s.append(List.of(event("r0-5"), event("r19-99")));
            assertThat(again.get(0).duplicate()).as("deleted, so new again").isFalse();
            assertThat(again.get(1).duplicate()).as("retained").isTrue();
            assertThat(s.byId("r0-6")).isEmpty();
        }
    }

    /**
     * Rows in {@code chunks}, a row per event in the {@code events} view, for people with
     * sqlite3: with their bodies where rows are not compressed, without where they are.
     */
    @Test
    void theEventsViewShowsOneRowPerRetainedEvent() throws Exception {
        Path viewed = dir.resolve("viewed");
        try (SqliteEventStore s = SqliteEventStore.open(viewed, clock, Compression.NONE)) {
            s.append(List.of(
                    new EventStore.NewEvent("v1", "a.b", "{\"id\":\"v1\",\"x\":1}"),
                    new EventStore.NewEvent("v2", null, "{\"id\":\"v2\",\"x\":\"\u00e9\u4e2d\"}"),
                    new EventStore.NewEvent("v3", "a.c", "{\"id\":\"v3\"}")));
            s.deleteThrough(1);
        }
        try (SqliteEventStore s = SqliteEventStore.open(viewed, clock, Compression.ZSTD)) {
            s.append(List.of(
                    new EventStore.NewEvent("v4", "a.d", "{\"id\":\"v4\"}"),
                    new EventStore.NewEvent("v5", null, "{\"id\":\"v5\"}")));
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + viewed.resolve("sluice.db"));
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT log_offset, id, type, body FROM events ORDER BY log_offset")) {
            List<String> rows = new ArrayList<>();
            while (rs.next()) {
                rows.add(rs.getLong(1) + " " + rs.getString(2) + " " + rs.getString(3) + " " + rs.getString(4));
            }
            assertThat(rows)
                    .containsExactly(
                            "2 v2 null {\"id\":\"v2\",\"x\":\"\u00e9\u4e2d\"}",
                            "3 v3 a.c {\"id\":\"v3\"}",
                            "4 v4 a.d null",
                            "5 v5 null null");
        }
    }

    /** Rows written with and without compression read back the same, whichever setting is on now. */
    @Test
    void compressedAndPlainRowsReadTheSame() throws Exception {
        Path mixed = dir.resolve("mixed");
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (SqliteEventStore s = SqliteEventStore.open(mixed, clock, Compression.NONE)) {
            s.bindTo(meters);
            s.append(paddedEvents(0, 300));
            double events =
                    meters.get("sluice.sqlite.event.bytes").functionCounter().count();
            assertThat(events).isEqualTo(textBytes(paddedEvents(0, 300)));
            assertThat(meters.get("sluice.sqlite.stored.bytes")
                            .functionCounter()
                            .count())
                    .as("the JSON array: the events, a comma or bracket each, the opening bracket of two rows")
                    .isEqualTo(events + 300 + 2);
        }
        try (SqliteEventStore s = SqliteEventStore.open(mixed, clock, Compression.ZSTD)) {
            meters = new SimpleMeterRegistry();
            s.bindTo(meters);
            s.append(paddedEvents(1, 300));
            double stored =
                    meters.get("sluice.sqlite.stored.bytes").functionCounter().count();
            double events =
                    meters.get("sluice.sqlite.event.bytes").functionCounter().count();
            assertThat(events).isEqualTo(textBytes(paddedEvents(1, 300)));
            assertThat(stored).as("compressed").isLessThan(events / 4);
            assertThat(s.stats().bytes())
                    .as("retention counts events as received")
                    .isEqualTo(textBytes(paddedEvents(0, 300)) + textBytes(paddedEvents(1, 300)));
        }
        assertThat(count(mixed.resolve("sluice.db"), "SELECT count(*) FROM chunks WHERE substr(events, 1, 1) = X'5B'"))
                .as("plain rows")
                .isEqualTo(2);
        for (Compression now : Compression.values()) {
            try (SqliteEventStore s = SqliteEventStore.open(mixed, clock, now)) {
                List<StoredEvent> read = s.read(0, 1_000, e -> true).events();
                List<String> expected = new ArrayList<>();
                paddedEvents(0, 300).forEach(e -> expected.add(e.json()));
                paddedEvents(1, 300).forEach(e -> expected.add(e.json()));
                assertThat(read.stream().map(StoredEvent::json).toList()).isEqualTo(expected);
                assertThat(s.byId("e-0-299").map(StoredEvent::offset)).contains(300L);
                assertThat(s.byId("e-1-0").map(StoredEvent::offset)).contains(301L);
                assertThat(s.append(paddedEvents(1, 1)).get(0).duplicate()).isTrue();
            }
        }
    }

    /** Events too random to compress, in rows of every size the writer's buffer meets, read back whole. */
    @Test
    void incompressibleRowsOfAnySizeReadBack() throws Exception {
        java.util.Random random = new java.util.Random(7);
        List<EventStore.NewEvent> events = new ArrayList<>();
        for (int size : new int[] {10, 300_000, 10, 700_000, 5_000, 2_000_000, 10}) {
            StringBuilder text = new StringBuilder(size);
            for (int i = 0; i < size; i++) {
                text.append((char) ('#' + random.nextInt(57))); // '#' to '[': no quote, no backslash
            }
            String id = "big-" + events.size();
            events.add(new EventStore.NewEvent(id, "t", "{\"id\":\"" + id + "\",\"p\":\"" + text + "\"}"));
        }
        try (SqliteEventStore s = SqliteEventStore.open(dir.resolve("random"), clock)) {
            for (EventStore.NewEvent e : events) {
                s.append(List.of(e));
            }
            List<StoredEvent> read = s.read(0, 100, e -> true).events();
            assertThat(read.stream().map(StoredEvent::json).toList())
                    .isEqualTo(events.stream().map(EventStore.NewEvent::json).toList());
        }
    }

    /** A damaged row is an error naming where it is, never events cut out of the wrong bytes. */
    @Test
    void aDamagedRowIsReportedWithItsOffset() throws Exception {
        Path damaged = dir.resolve("damaged");
        try (SqliteEventStore s = SqliteEventStore.open(damaged, clock)) {
            s.append(paddedEvents(0, 10));
            s.append(paddedEvents(1, 10));
            s.append(paddedEvents(2, 12));
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + damaged.resolve("sluice.db"));
                Statement st = c.createStatement()) {
            // a zstd frame of other bytes, a frame cut short, text that is neither
            st.executeUpdate("UPDATE chunks SET events = (SELECT events FROM chunks WHERE first_offset = 21)"
                    + " WHERE first_offset = 1");
            st.executeUpdate(
                    "UPDATE chunks SET events = substr(events, 1, length(events) - 8) WHERE first_offset = 11");
            st.executeUpdate(
                    "UPDATE chunks SET events = CAST('{\"not\": \"an array\"}' AS BLOB)" + " WHERE first_offset = 21");
        }
        try (SqliteEventStore s = SqliteEventStore.open(damaged, clock)) {
            for (long[] c : new long[][] {{0, 1}, {10, 11}, {20, 21}}) {
                assertThatThrownBy(() -> s.read(c[0], 5, e -> true))
                        .isInstanceOf(StoreException.class)
                        .hasMessageContaining("corrupt chunk at offset " + c[1]);
            }
            // The rows after them still read, with the decompression contexts the failures used.
            s.append(paddedEvents(3, 10));
            for (int i = 0; i < 20; i++) {
                assertThat(s.read(32, 100, e -> true).events())
                        .extracting(StoredEvent::id)
                        .containsExactlyElementsOf(paddedEvents(3, 10).stream()
                                .map(EventStore.NewEvent::id)
                                .toList());
            }
        }
    }

    /** A database of version 2 (chunks never compressed) becomes version 3 on open; a later one is refused. */
    @Test
    void aVersionTwoDatabaseIsUpgradedAndALaterOneRefused() throws Exception {
        Path v2 = dir.resolve("v2");
        try (SqliteEventStore s = SqliteEventStore.open(v2, clock, Compression.NONE)) {
            s.append(paddedEvents(0, 5));
        }
        Path db = v2.resolve("sluice.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE meta SET value = 2 WHERE key = 'schema_version'");
            st.executeUpdate("DROP VIEW events"); // version 2's view, which read every row as JSON text
            st.executeUpdate("CREATE VIEW events AS SELECT c.first_offset + e.key AS log_offset,"
                    + " c.ids ->> e.key AS id, c.types ->> e.key AS type, c.ingested AS ingested,"
                    + " e.value AS body FROM chunks c, json_each(CAST(c.events AS TEXT)) e");
        }
        try (SqliteEventStore s = SqliteEventStore.open(v2, clock)) {
            s.append(paddedEvents(1, 5)); // compressed
            assertThat(s.read(0, 100, e -> true).events()).hasSize(10);
        }
        assertThat(count(db, "SELECT value FROM meta WHERE key = 'schema_version'"))
                .isEqualTo(SqliteEventStore.SCHEMA_VERSION);
        assertThat(count(db, "SELECT count(*) FROM events"))
                .as("the view reads compressed rows")
                .isEqualTo(10);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE meta SET value = 5 WHERE key = 'schema_version'");
        }
        assertThatThrownBy(() -> SqliteEventStore.open(v2, clock))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("has schema version 5; this Sluice reads version 4");
    }

    /** A database written by version 1 (a row per event) is upgraded in place on open. */
    @Test
    void aRowPerEventDatabaseIsUpgradedOnOpen() throws Exception {
        Path old = dir.resolve("old");
        Files.createDirectories(old);
        List<String> bodies = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + old.resolve("sluice.db"));
                Statement s = c.createStatement()) {
            s.executeUpdate("CREATE TABLE events (log_offset INTEGER PRIMARY KEY, id TEXT NOT NULL, type TEXT,"
                    + " ingested INTEGER NOT NULL, body TEXT NOT NULL)");
            s.executeUpdate("CREATE UNIQUE INDEX events_by_id ON events(id)");
            s.executeUpdate("CREATE TABLE checkpoints (reader TEXT PRIMARY KEY, log_offset INTEGER NOT NULL,"
                    + " state TEXT, updated INTEGER NOT NULL)");
            s.executeUpdate("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
            var insert = c.prepareStatement("INSERT INTO events VALUES (?, ?, ?, ?, ?)");
            long bytes = 0;
            for (int i = 1; i <= 600; i++) {
                String body = "{ \"id\": \"old-" + i + "\", \"text\": \"\u00e9\t" + "x".repeat(i % 7) + "\" }";
                bodies.add(body);
                insert.setLong(1, i);
                insert.setString(2, "old-" + i);
                insert.setString(3, i % 3 == 0 ? null : "t" + i % 3);
                insert.setLong(4, 1_000 + i);
                insert.setString(5, body);
                insert.executeUpdate();
                if (i > 100) {
                    bytes += body.getBytes(StandardCharsets.UTF_8).length;
                }
            }
            s.executeUpdate("DELETE FROM events WHERE log_offset <= 100"); // retention, as version 1 did it
            s.executeUpdate("INSERT INTO checkpoints VALUES ('reader-a', 250, NULL, 1)");
            s.executeUpdate("INSERT INTO meta VALUES ('schema_version', 1), ('last_offset', 600), ('events', 500),"
                    + " ('bytes', " + bytes + ")");
        }
        try (SqliteEventStore s = SqliteEventStore.open(old, clock)) {
            assertThat(s.firstOffset()).isEqualTo(101);
            assertThat(s.lastOffset()).isEqualTo(600);
            assertThat(s.stats().events()).isEqualTo(500);
            assertThat(s.stats().bytes())
                    .isEqualTo(bodies.subList(100, 600).stream()
                            .mapToLong(b -> b.getBytes(StandardCharsets.UTF_8).length)
                            .sum());
            assertThat(s.stats().oldestIngestMillis()).isGreaterThanOrEqualTo(1_101);
            List<StoredEvent> read = s.read(100, 1_000, e -> true).events();
            assertThat(read).hasSize(500);
            assertThat(read.stream().map(StoredEvent::json).toList()).isEqualTo(bodies.subList(100, 600));
            assertThat(read.get(1).type()).isNull(); // offset 102
            assertThat(read.get(0).type()).isEqualTo("t2"); // offset 101
            assertThat(s.byId("old-450").map(StoredEvent::offset)).contains(450L);
            assertThat(s.append(List.of(event("old-300"), event("new-1"))))
                    .containsExactly(new EventStore.Appended(300, true), new EventStore.Appended(601, false));
            assertThat(s.checkpoint("reader-a").map(EventStore.Checkpoint::offset))
                    .contains(250L);
            assertThatOldIngestTimesStillDriveRetention(s);
        }
        assertThat(count(
                        old.resolve("sluice.db"),
                        "SELECT count(*) FROM sqlite_master WHERE name = 'events'" + " AND type = 'view'"))
                .isEqualTo(1);
    }

    private static void assertThatOldIngestTimesStillDriveRetention(SqliteEventStore s) {
        // chunks of 256 events carry their newest event's time: 101..256 -> 1256, 257..512 -> 1512
        assertThat(s.lastOffsetIngestedBefore(1_300)).isEqualTo(256);
        assertThat(s.lastOffsetIngestedBefore(1_100)).isZero();
    }
}
