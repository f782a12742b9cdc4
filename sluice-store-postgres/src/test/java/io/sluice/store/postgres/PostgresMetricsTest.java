package io.sluice.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.core.log.EventStore;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The PostgreSQL store's own meters: head lock waits, commits, the pool, the listener. */
class PostgresMetricsTest {
    private final String schema = TestPostgres.newSchema();
    private final PostgresEventStore store = PostgresEventStore.open(TestPostgres.url(), schema);
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    @AfterEach
    void closeAndDrop() {
        store.close();
        TestPostgres.drop(schema);
    }

    private static EventStore.NewEvent event(String id) {
        return new EventStore.NewEvent(id, "t", "{\"id\":\"" + id + "\",\"type\":\"t\"}");
    }

    @Test
    void appendsAndRetentionAreTimedAndThePoolIsShown() {
        store.bindTo(meters);

        store.append(List.of(event("a"), event("b")));
        store.append(List.of(event("c")));
        store.deleteThrough(1);

        assertThat(meters.get("sluice.postgres.commit").timer().count()).isEqualTo(2);
        assertThat(meters.get("sluice.postgres.head.lock").timer().count()).isEqualTo(3); // two appends, one delete
        assertThat(meters.get("sluice.postgres.head.lock").timer().totalTime(TimeUnit.NANOSECONDS))
                .isPositive();
        assertThat(meters.get("sluice.postgres.connections")
                        .tag("state", "active")
                        .gauge()
                        .value())
                .isZero(); // every connection is back in the pool
        assertThat(meters.get("sluice.postgres.connections")
                        .tag("state", "idle")
                        .gauge()
                        .value())
                .isGreaterThanOrEqualTo(1);
        assertThat(meters.get("sluice.postgres.connections")
                        .tag("state", "pending")
                        .gauge()
                        .value())
                .isZero();
        assertThat(meters.get("sluice.postgres.listener.reconnects")
                        .functionCounter()
                        .count())
                .isZero();
    }

    @Test
    void aListenerWhoseConnectionIsCutReconnectsAndHearsAppendsAgain() throws Exception {
        store.bindTo(meters);
        try (PostgresEventStore other = PostgresEventStore.open(TestPostgres.url(), schema);
                Connection admin = DriverManager.getConnection(TestPostgres.url());
                PreparedStatement kill = admin.prepareStatement("SELECT count(pg_terminate_backend(pid))"
                        + " FROM pg_stat_activity WHERE application_name = ?")) {
            kill.setString(1, "sluice-listener-" + schema);
            int[] killed = {0};
            await().atMost(Duration.ofSeconds(10))
                    .until(
                            () -> { // both stores' listeners, once connected
                                try (ResultSet rs = kill.executeQuery()) {
                                    rs.next();
                                    killed[0] += rs.getInt(1);
                                }
                                return killed[0] >= 2;
                            });

            other.append(List.of(event("after-the-cut")));

            // Only the listener tells this store about the other's append.
            assertThat(store.awaitAppended(0, Duration.ofSeconds(15))).isEqualTo(1);
            // At least once: a listener that reconnected between two polls above can be cut again.
            assertThat(meters.get("sluice.postgres.listener.reconnects")
                            .functionCounter()
                            .count())
                    .isBetween(1.0, (double) killed[0]);
        }
    }

    @Test
    void aStoreNotBoundToARegistryStillAppends() {
        assertThat(store.append(List.of(event("x")))).hasSize(1);
        assertThat(meters.getMeters()).isEmpty();
    }
}
