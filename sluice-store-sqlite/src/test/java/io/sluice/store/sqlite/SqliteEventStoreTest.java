package io.sluice.store.sqlite;

import io.sluice.core.log.EventStore;
import io.sluice.core.log.EventStoreContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite store against the store contract. */
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
}
