package io.sluice.core.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link EventStore} must have. A store module extends this class and
 * says how to open a fresh store and how to reopen it (a restart).
 */
public abstract class EventStoreContract {
    /** A clock the tests move by hand; stores read ingest times from it. */
    protected static final class TestClock extends Clock {
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");

        public void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    protected final TestClock clock = new TestClock();
    protected EventStore store;

    /** A new, empty store using {@link #clock}. */
    protected abstract EventStore openNew();

    /** The same store again, after {@code store} was closed (a restart). */
    protected abstract EventStore reopen();

    @BeforeEach
    void openStore() {
        store = openNew();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    protected static EventStore.NewEvent event(String id) {
        return new EventStore.NewEvent(id, "test.event", "{\"id\":\"" + id + "\",\"type\":\"test.event\",\"n\":1}");
    }

    protected static List<EventStore.NewEvent> events(String prefix, int n) {
        return IntStream.range(0, n).mapToObj(i -> event(prefix + i)).toList();
    }

    @Test
    void eventTextComesBackExactlyWhateverItHolds() {
        // Tabs, carriage returns, escapes and backslashes in the text, a type with a tab, no type,
        // characters beyond the BMP: a store must not reinterpret any of it.
        String text = "{\"id\":\"odd\",\t\"s\":\"a\\\\b\\tc\\nd \\\"q\\\" \\\\N é 😀\"\r,\"n\":1}";
        store.append(List.of(
                new EventStore.NewEvent("odd", "t\tab", text),
                new EventStore.NewEvent("untyped", null, "{\"id\":\"untyped\"}")));
        StoredEvent odd = store.byId("odd").orElseThrow();
        assertThat(odd.json()).isEqualTo(text);
        assertThat(odd.type()).isEqualTo("t\tab");
        assertThat(store.byId("untyped").orElseThrow().type()).isNull();
        assertThat(store.read(0, 10, e -> true).events())
                .extracting(StoredEvent::json)
                .first()
                .isEqualTo(text);
    }

    @Test
    void anEmptyStoreStartsBeforeOffsetOne() {
        assertThat(store.lastOffset()).isZero();
        assertThat(store.firstOffset()).isEqualTo(1);
        assertThat(store.read(0, 10, e -> true).events()).isEmpty();
    }

    @Test
    void appendsGetConsecutiveOffsetsFromOne() {
        List<EventStore.Appended> first = store.append(events("a", 3));
        List<EventStore.Appended> second = store.append(events("b", 2));
        assertThat(first).extracting(EventStore.Appended::offset).containsExactly(1L, 2L, 3L);
        assertThat(second).extracting(EventStore.Appended::offset).containsExactly(4L, 5L);
        assertThat(store.lastOffset()).isEqualTo(5);
        assertThat(store.read(0, 100, e -> true).events())
                .extracting(StoredEvent::id)
                .containsExactly("a0", "a1", "a2", "b0", "b1");
    }

    @Test
    void aStoredIdIsAcknowledgedWithItsOffsetAndNotStoredAgainLeavingNoGap() {
        store.append(events("a", 2));
        List<EventStore.Appended> again = store.append(List.of(event("a1"), event("c"), event("c"), event("d")));
        assertThat(again)
                .containsExactly(
                        new EventStore.Appended(2, true),
                        new EventStore.Appended(3, false),
                        new EventStore.Appended(3, true),
                        new EventStore.Appended(4, false));
        assertThat(store.read(0, 100, e -> true).events())
                .extracting(StoredEvent::offset)
                .containsExactly(1L, 2L, 3L, 4L);
        assertThat(store.stats().events()).isEqualTo(4);
    }

    @Test
    void readsOldestFirstAfterAnOffsetWithLimitAndFilterReportingHowFarItScanned() {
        store.append(events("e", 2_500));
        EventStore.Page page = store.read(10, 5, e -> true);
        assertThat(page.events()).extracting(StoredEvent::offset).containsExactly(11L, 12L, 13L, 14L, 15L);
        assertThat(page.scannedTo()).isEqualTo(15);

        EventStore.Page filtered = store.read(0, 3, e -> e.id().endsWith("99"));
        assertThat(filtered.events()).extracting(StoredEvent::id).containsExactly("e99", "e199", "e299");
        assertThat(filtered.scannedTo()).isEqualTo(300);

        EventStore.Page rest = store.read(2_400, 1_000, e -> false);
        assertThat(rest.events()).isEmpty();
        assertThat(rest.scannedTo()).isEqualTo(2_500);
        StoredEvent one = store.read(41, 1, e -> true).events().getFirst();
        assertThat(one.toLine()).isEqualTo("{\"offset\":42,\"event\":" + one.json() + "}");
        assertThat(one.document().get("id").asText()).isEqualTo("e41");
    }

    @Test
    void findsAnEventById() {
        store.append(events("x", 3));
        assertThat(store.byId("x1")).hasValueSatisfying(e -> {
            assertThat(e.offset()).isEqualTo(2);
            assertThat(e.type()).isEqualTo("test.event");
            assertThat(e.json()).contains("\"x1\"");
        });
        assertThat(store.byId("nope")).isEmpty();
    }

    @Test
    void keepsCheckpoints() {
        assertThat(store.checkpoint("r")).isEmpty();
        store.saveCheckpoint("r", new EventStore.Checkpoint(7, null));
        store.saveCheckpoint("r", new EventStore.Checkpoint(9, "{\"s\":1}"));
        store.saveCheckpoint("a", new EventStore.Checkpoint(1, null));
        assertThat(store.checkpoint("r")).contains(new EventStore.Checkpoint(9, "{\"s\":1}"));
        assertThat(store.checkpoints())
                .extracting(EventStore.NamedCheckpoint::reader)
                .containsExactly("a", "r");
        assertThat(store.deleteCheckpoint("a")).isTrue();
        assertThat(store.deleteCheckpoint("a")).isFalse();
        assertThat(store.checkpoints()).hasSize(1);
    }

    @Test
    void retentionDeletesFromTheOldestAndNamesTheEarliestOffsetToLateReaders() {
        store.append(events("e", 10));
        assertThat(store.offsetKeeping(4)).isEqualTo(6);
        assertThat(store.offsetKeeping(40)).isZero();
        assertThat(store.deleteThrough(6)).isEqualTo(6);
        assertThat(store.firstOffset()).isEqualTo(7);
        assertThat(store.stats().events()).isEqualTo(4);
        assertThat(store.read(6, 100, e -> true).events())
                .extracting(StoredEvent::offset)
                .containsExactly(7L, 8L, 9L, 10L);
        assertThatThrownBy(() -> store.read(2, 10, e -> true))
                .isInstanceOf(OffsetOutOfRangeException.class)
                .hasMessageContaining("earliest retained offset is 7");
        assertThat(store.byId("e0")).isEmpty();
        store.append(events("e", 1)); // e0 is no longer retained: stored again, as a new event
        assertThat(store.lastOffset()).isEqualTo(11);
    }

    @Test
    void retentionByBytesAndByAge() {
        long size = event("e0").json().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        store.append(events("e", 5));
        clock.advance(Duration.ofHours(1));
        store.append(events("f", 5));
        assertThat(store.stats().bytes()).isEqualTo(10 * size);
        assertThat(store.offsetKeepingBytes(7 * size)).isEqualTo(3);
        assertThat(store.offsetKeepingBytes(10 * size)).isZero();
        assertThat(store.lastOffsetIngestedBefore(clock.millis())).isEqualTo(5);
        assertThat(store.lastOffsetIngestedBefore(clock.millis() + 1)).isEqualTo(10);
        assertThat(store.stats().oldestIngestMillis())
                .isEqualTo(clock.millis() - Duration.ofHours(1).toMillis());
    }

    @Test
    void deletingEverythingKeepsTheOffsetsGoing() {
        store.append(events("e", 3));
        store.deleteThrough(3);
        assertThat(store.firstOffset()).isEqualTo(4);
        assertThat(store.read(3, 10, e -> true).events()).isEmpty();
        store.close();
        store = reopen();
        assertThat(store.lastOffset()).isEqualTo(3);
        assertThat(store.firstOffset()).isEqualTo(4);
        assertThat(store.append(events("g", 1)).getFirst().offset()).isEqualTo(4);
    }

    @Test
    void everythingSurvivesARestart() {
        store.append(events("e", 100));
        store.saveCheckpoint("reader", new EventStore.Checkpoint(42, null));
        store.close();
        store = reopen();
        assertThat(store.lastOffset()).isEqualTo(100);
        assertThat(store.stats().events()).isEqualTo(100);
        assertThat(store.checkpoint("reader")).contains(new EventStore.Checkpoint(42, null));
        assertThat(store.append(List.of(event("e5"), event("new"))))
                .containsExactly(new EventStore.Appended(6, true), new EventStore.Appended(101, false));
    }

    @Test
    void appendsCheckpointsAndRetentionFromDifferentThreadsDoNotConflict() throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            var appends = pool.submit(() -> {
                for (int i = 0; i < 200; i++) {
                    store.read(Math.max(0, store.lastOffset() - 5), 5, e -> true); // read, then write
                    store.append(events("a" + i + "-", 5));
                }
                return null;
            });
            var checkpoints = pool.submit(() -> {
                for (int i = 0; i < 200; i++) {
                    store.saveCheckpoint("reader-" + (i % 3), new EventStore.Checkpoint(i, "{\"i\":" + i + "}"));
                }
                return null;
            });
            var retention = pool.submit(() -> {
                for (int i = 0; i < 50; i++) {
                    store.deleteThrough(store.offsetKeeping(500));
                }
                return null;
            });
            appends.get(60, java.util.concurrent.TimeUnit.SECONDS);
            checkpoints.get(60, java.util.concurrent.TimeUnit.SECONDS);
            retention.get(60, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            pool.shutdown();
        }
        assertThat(store.lastOffset()).isEqualTo(1_000);
        assertThat(store.checkpoint("reader-1")).isPresent();
    }

    @Test
    void largeBatchesAndReadsStayCorrect() {
        List<EventStore.NewEvent> batch = new ArrayList<>(events("big", 5_000));
        store.append(batch);
        assertThat(store.read(4_990, 100, e -> true).events()).hasSize(10);
        assertThat(store.lastOffset()).isEqualTo(5_000);
    }
}
