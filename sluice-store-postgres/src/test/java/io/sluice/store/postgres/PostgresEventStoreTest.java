package io.sluice.store.postgres;

import io.sluice.core.log.EventStore;
import io.sluice.core.log.EventStoreContract;
import org.junit.jupiter.api.AfterEach;

/** The PostgreSQL store against the store contract. */
class PostgresEventStoreTest extends EventStoreContract {
    private String schema;

    @Override
    protected EventStore openNew() {
        schema = TestPostgres.newSchema();
        return PostgresEventStore.open(TestPostgres.url(), schema, clock);
    }

    @Override
    protected EventStore reopen() {
        return PostgresEventStore.open(TestPostgres.url(), schema, clock);
    }

    @AfterEach
    void dropSchema() {
        store.close(); // before the contract's own close, which then does nothing
        TestPostgres.drop(schema);
    }
}
