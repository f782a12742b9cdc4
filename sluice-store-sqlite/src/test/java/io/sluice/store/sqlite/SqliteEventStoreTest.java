package io.sluice.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.core.log.EventStore;
import io.sluice.core.log.EventStoreContract;
import java.nio.file.Files;
import java.nio.file.Path;
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
        String padding = "x".repeat(1000);
        try (SqliteEventStore store = SqliteEventStore.open(dir, clock)) {
            Path db = store.file();
            Path wal = Path.of(db + "-wal");
            for (int batch = 0; batch < 8; batch++) {
                List<EventStore.NewEvent> events = new ArrayList<>();
                for (int i = 0; i < 1000; i++) {
                    String id = "e-" + batch + "-" + i;
                    events.add(new EventStore.NewEvent(id, "t", "{\"id\":\"" + id + "\",\"p\":\"" + padding + "\"}"));
                }
                store.append(events);
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
}
