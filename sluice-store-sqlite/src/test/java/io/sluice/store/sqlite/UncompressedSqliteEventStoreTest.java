package io.sluice.store.sqlite;

import io.sluice.core.log.EventStore;
import io.sluice.core.log.EventStoreContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite store with {@code compression: none} against the store contract. */
class UncompressedSqliteEventStoreTest extends EventStoreContract {
    @TempDir
    Path dir;

    @Override
    protected EventStore openNew() {
        return SqliteEventStore.open(dir, clock, Compression.NONE);
    }

    @Override
    protected EventStore reopen() {
        return SqliteEventStore.open(dir, clock, Compression.NONE);
    }
}
