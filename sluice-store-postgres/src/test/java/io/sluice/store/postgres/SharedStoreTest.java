package io.sluice.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.core.log.EventLog;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.StoreFollower;
import io.sluice.core.log.StoredEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Several writers on one PostgreSQL schema, as several servers on one database are. */
class SharedStoreTest {
    private final String schema = TestPostgres.newSchema();
    private final List<PostgresEventStore> stores = new ArrayList<>();

    private PostgresEventStore open() {
        PostgresEventStore store = PostgresEventStore.open(TestPostgres.url(), schema);
        stores.add(store);
        return store;
    }

    @AfterEach
    void closeAndDrop() {
        stores.forEach(PostgresEventStore::close);
        TestPostgres.drop(schema);
    }

    private static List<EventStore.NewEvent> batch(String prefix, int n) {
        List<EventStore.NewEvent> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = prefix + "-" + i;
            events.add(new EventStore.NewEvent(id, "t", "{\"id\":\"" + id + "\",\"type\":\"t\"}"));
        }
        return events;
    }

    @Test
    void concurrentWritersGiveGapFreeOffsetsAndATailingReaderSkipsNothing() throws Exception {
        PostgresEventStore a = open();
        PostgresEventStore b = open();
        PostgresEventStore reader = open();
        int writers = 4;
        int batches = 60;
        int perBatch = 7;
        int total = writers * batches * perBatch;
        ExecutorService pool = Executors.newFixedThreadPool(writers + 1);
        try {
            // The reader tails with "after my position" reads while the writers race.
            Future<List<Long>> tail = pool.submit(() -> {
                List<Long> seen = new ArrayList<>();
                long position = 0;
                while (seen.size() < total) {
                    reader.awaitAppended(position, Duration.ofMillis(200));
                    EventStore.Page page = reader.read(position, 100, e -> true);
                    for (StoredEvent e : page.events()) {
                        seen.add(e.offset());
                    }
                    position = page.scannedTo();
                }
                return seen;
            });
            List<Future<?>> writing = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                PostgresEventStore store = w % 2 == 0 ? a : b;
                String prefix = "w" + w;
                writing.add(pool.submit(() -> {
                    for (int i = 0; i < batches; i++) {
                        List<EventStore.Appended> r = store.append(batch(prefix + "-" + i, perBatch));
                        for (int k = 1; k < r.size(); k++) {
                            assertThat(r.get(k).offset())
                                    .isEqualTo(r.get(k - 1).offset() + 1); // one request, consecutive
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : writing) {
                f.get(120, TimeUnit.SECONDS);
            }
            List<Long> seen = tail.get(120, TimeUnit.SECONDS);
            List<Long> expected = new ArrayList<>();
            for (long o = 1; o <= total; o++) {
                expected.add(o);
            }
            assertThat(seen).containsExactlyElementsOf(expected);
        } finally {
            pool.shutdownNow();
        }
        assertThat(a.stats().events()).isEqualTo(total);
        assertThat(b.awaitAppended(total - 1, Duration.ofSeconds(5))).isEqualTo(total);
    }

    @Test
    void theCommittedOffsetIsAnotherWritersAtOnce() {
        PostgresEventStore a = open();
        PostgresEventStore b = open();
        a.append(batch("first", 2));
        long before = b.lastOffset(); // b's cached head may or may not have heard of a's commit yet
        assertThat(before).isBetween(0L, 2L);
        assertThat(b.committedOffset()).as("read from the database").isEqualTo(2);
        assertThat(b.lastOffset()).as("and the cached head learns it").isEqualTo(2);
    }

    @Test
    void aDuplicateIdFromAnotherWriterIsAcknowledgedNotStored() {
        PostgresEventStore a = open();
        PostgresEventStore b = open();
        a.append(batch("x", 3));
        List<EventStore.Appended> again = b.append(batch("x", 4));
        assertThat(again)
                .containsExactly(
                        new EventStore.Appended(1, true),
                        new EventStore.Appended(2, true),
                        new EventStore.Appended(3, true),
                        new EventStore.Appended(4, false));
    }

    @Test
    void aFollowerAnnouncesEveryWritersEventsInOffsetOrder() throws Exception {
        PostgresEventStore a = open();
        PostgresEventStore b = open();
        List<Long> announced = new CopyOnWriteArrayList<>();
        CountDownLatch all = new CountDownLatch(60);
        EventLog.Subscriber collect = batch -> batch.forEach(e -> {
            announced.add(e.offset());
            all.countDown();
        });
        try (StoreFollower follower = new StoreFollower(a)) {
            follower.subscribe(collect);
            for (int i = 0; i < 20; i++) {
                (i % 2 == 0 ? a : b).append(batch("f" + i, 3));
            }
            assertThat(all.await(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(announced).hasSize(60);
        Set<Long> distinct = new HashSet<>(announced);
        assertThat(distinct).hasSize(60);
        assertThat(announced).isSorted();
    }

    @Test
    void retentionByAnotherProcessIsReportedToReaders() {
        PostgresEventStore a = open();
        PostgresEventStore b = open();
        a.append(batch("r", 10));
        b.deleteThrough(5);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.read(2, 10, e -> true))
                .isInstanceOf(io.sluice.core.log.OffsetOutOfRangeException.class)
                .hasMessageContaining("earliest retained offset is 6");
        assertThat(a.stats().events()).isEqualTo(5);
    }
}
