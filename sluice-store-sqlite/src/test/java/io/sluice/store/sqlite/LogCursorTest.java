package io.sluice.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.api.Envelope;
import io.sluice.api.Json;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.LiveEvents;
import io.sluice.core.log.LogCursor;
import io.sluice.core.log.OffsetOutOfRangeException;
import io.sluice.core.log.StoredEvent;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Following the log: history, then live, with no loss or repetition, even for slow readers. */
class LogCursorTest {
    @TempDir
    Path dir;

    private SqliteEventStore store;
    private EventLog log;
    private final LiveEvents live = new LiveEvents();

    @BeforeEach
    void open() {
        store = SqliteEventStore.open(dir);
        log = new EventLog(
                store,
                Envelope.DEFAULT,
                Clock.systemUTC(),
                () -> UUID.randomUUID().toString(),
                new SimpleMeterRegistry());
        log.subscribe(live);
    }

    @AfterEach
    void close() {
        log.close();
        store.close();
    }

    private void append(int n) throws Exception {
        List<ObjectNode> docs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            docs.add((ObjectNode) Json.parse("{\"n\":" + i + "}"));
        }
        log.append(docs).get(10, TimeUnit.SECONDS);
    }

    private static List<Long> take(LogCursor cursor, int n) throws InterruptedException {
        List<Long> offsets = new ArrayList<>();
        while (offsets.size() < n) {
            StoredEvent e = cursor.next(Duration.ofSeconds(10));
            assertThat(e).as("event %d of %d", offsets.size() + 1, n).isNotNull();
            offsets.add(e.offset());
        }
        return offsets;
    }

    @Test
    void readsHistoryThenLiveEventsInOrder() throws Exception {
        append(5);
        try (LogCursor cursor = new LogCursor(store, live, 2, e -> true, 100)) {
            assertThat(take(cursor, 3)).containsExactly(3L, 4L, 5L);
            assertThat(cursor.next(Duration.ofMillis(50))).isNull();
            append(2);
            assertThat(take(cursor, 2)).containsExactly(6L, 7L);
            assertThat(live.followers()).isEqualTo(1);
        }
        assertThat(live.followers()).isZero();
    }

    @Test
    void aSlowReaderWithATinyBufferLosesAndRepeatsNothing() throws Exception {
        try (LogCursor cursor = new LogCursor(store, live, 0, e -> true, 2)) {
            CompletableFuture<List<Long>> reader = CompletableFuture.supplyAsync(() -> {
                try {
                    return take(cursor, 3_000);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            for (int i = 0; i < 30; i++) {
                append(100);
            }
            List<Long> offsets = reader.get(60, TimeUnit.SECONDS);
            assertThat(offsets)
                    .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, 3_000)
                            .boxed()
                            .toList());
        }
    }

    @Test
    void filtersAndReportsEventsNoLongerRetained() throws Exception {
        append(10);
        try (LogCursor cursor = new LogCursor(store, live, 0, e -> e.json().contains("\"n\":7"), 10)) {
            assertThat(take(cursor, 1)).containsExactly(8L);
            assertThat(cursor.position()).isEqualTo(10);
        }
        store.deleteThrough(5);
        try (LogCursor late = new LogCursor(store, live, 1, e -> true, 10)) {
            assertThatThrownBy(() -> late.next(Duration.ofSeconds(1)))
                    .isInstanceOf(OffsetOutOfRangeException.class)
                    .hasMessageContaining("earliest retained offset is 6");
        }
    }
}
