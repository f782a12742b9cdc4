package io.sluice.store.sqlite;

import io.sluice.core.consume.ConsumersContract;
import io.sluice.core.log.EventStore;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** Named consumers over the SQLite store: progress and leases kept by the server. */
class SqliteConsumersTest extends ConsumersContract {
    @TempDir
    Path dir;

    @Override
    protected EventStore openStore() {
        return SqliteEventStore.open(dir);
    }

    @Override
    protected boolean leasesLiveInTheStore() {
        return false;
    }
}
