package io.sluice.server.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.api.Envelope;
import io.sluice.api.Json;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.LiveEvents;
import io.sluice.core.log.LogCursor;
import io.sluice.core.log.OffsetOutOfRangeException;
import io.sluice.store.sqlite.SqliteEventStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A reader whose next events were deleted by retention goes on from the first one retained. */
class LogCursorRetentionTest {
    @TempDir
    Path dir;

    @Test
    void aCursorBehindRetentionSkipsToTheFirstRetainedEvent() throws Exception {
        SqliteEventStore store = SqliteEventStore.open(dir, Clock.systemUTC());
        EventLog log = new EventLog(
                store,
                Envelope.DEFAULT,
                Clock.systemUTC(),
                () -> UUID.randomUUID().toString(),
                new SimpleMeterRegistry());
        LiveEvents live = new LiveEvents();
        log.subscribe(live);
        try (LogCursor cursor = new LogCursor(store, live, 0, e -> true, 64)) {
            List<com.fasterxml.jackson.databind.JsonNode> docs = new ArrayList<>();
            for (int i = 1; i <= 10; i++) {
                docs.add(Json.parse("{\"id\":\"e" + i + "\",\"type\":\"t\"}"));
            }
            log.append(docs).get();
            store.deleteThrough(5);
            assertThatThrownBy(() -> cursor.next(Duration.ofMillis(100))).isInstanceOf(OffsetOutOfRangeException.class);
            assertThat(cursor.skipToRetained()).isEqualTo(5);
            assertThat(cursor.next(Duration.ofSeconds(1)).offset()).isEqualTo(6);
            assertThat(cursor.next(Duration.ofSeconds(1)).id()).isEqualTo("e7");
        } finally {
            log.close();
            store.close();
        }
    }
}
