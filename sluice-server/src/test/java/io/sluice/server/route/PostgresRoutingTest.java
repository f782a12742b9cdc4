package io.sluice.server.route;

import io.sluice.store.postgres.TestPostgres;

/** The routing scenarios with the PostgreSQL store (the machine's, else an embedded one). */
class PostgresRoutingTest extends RoutingTest {
    private final String schema = TestPostgres.newSchema();

    @Override
    String storeYaml() {
        return "store: {type: postgres, url: \"" + TestPostgres.url() + "\", schema: " + schema + "}\n";
    }

    @Override
    void afterStop() {
        TestPostgres.drop(schema);
    }
}
