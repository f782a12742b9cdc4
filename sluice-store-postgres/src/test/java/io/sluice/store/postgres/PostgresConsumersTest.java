package io.sluice.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.core.consume.ConsumerSpec;
import io.sluice.core.consume.Consumers;
import io.sluice.core.consume.ConsumersContract;
import io.sluice.core.log.EventStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Named consumers over the PostgreSQL store, whose progress and leases live in the database:
 * the consumer contract, and one consumer shared by two servers.
 */
class PostgresConsumersTest extends ConsumersContract {
    private final String schema = TestPostgres.newSchema();
    private final List<PostgresEventStore> others = new ArrayList<>();

    @Override
    protected EventStore openStore() {
        return PostgresEventStore.open(TestPostgres.url(), schema);
    }

    @Override
    protected boolean leasesLiveInTheStore() {
        return true;
    }

    /** Consumers of a second server on the same database. */
    private Consumers secondServer() {
        PostgresEventStore other = PostgresEventStore.open(TestPostgres.url(), schema);
        others.add(other);
        return new Consumers(other, Clock.systemUTC());
    }

    @AfterEach
    void dropSchema() {
        others.forEach(PostgresEventStore::close);
        TestPostgres.drop(schema);
    }

    private static List<Long> take(Consumers on, String name, int max, Duration lease) throws InterruptedException {
        return offsets(on.next(name, EARLIEST, ConsumerSpec.ALL, max, Duration.ZERO, lease));
    }

    @Test
    void twoServersShareOneConsumerEachEventToOneReceiverAtATime() throws Exception {
        String[] types = new String[120];
        java.util.Arrays.fill(types, "t");
        append(types);
        Consumers a = consumers;
        Consumers b = secondServer();
        List<Long> received = drainConcurrently(List.of(a, b, a, b), "shared");
        int total = received.size();
        Set<Long> all = new HashSet<>(received);
        assertThat(total).as("no event delivered twice").isEqualTo(120);
        assertThat(all).hasSize(120);
        assertThat(a.status("shared").position()).isEqualTo(120);
        assertThat(b.status("shared").position()).isEqualTo(120);
    }

    @Test
    void anEventLeasedOnOneServerIsDeliveredByTheOtherWhenItsLeaseExpires() throws Exception {
        append("a", "b");
        Consumers b = secondServer();
        assertThat(take(consumers, "c", 1, Duration.ofMillis(300))).containsExactly(1L);
        assertThat(take(b, "c", 10, LEASE))
                .as("1 is leased on the first server")
                .containsExactly(2L);
        b.ack("c", List.of(2L));
        assertThat(b.status("c").position()).as("1 is not done yet").isZero();
        List<Consumers.Delivery> again =
                b.next("c", EARLIEST, ConsumerSpec.ALL, 10, Duration.ofSeconds(10), LEASE); // waits for the expiry
        assertThat(again).extracting(d -> d.event().offset()).containsExactly(1L);
        assertThat(again.getFirst().deliveries()).isEqualTo(2);
        assertThat(consumers.ack("c", List.of(1L))).isEqualTo(1); // a late ack from the first receiver counts
        assertThat(consumers.status("c").position()).isEqualTo(2);
        assertThat(consumers.status("c").inFlight()).isZero();
    }

    @Test
    void seekAndDeleteOnOneServerAreSeenByTheOther() throws Exception {
        append("a", "b", "c");
        Consumers b = secondServer();
        assertThat(take(consumers, "c", 1, LEASE)).containsExactly(1L);
        Consumers.Status skipped = b.seek("c", new Consumers.Start.Latest());
        assertThat(skipped.position()).isEqualTo(3);
        assertThat(skipped.inFlight()).isZero();
        assertThat(take(consumers, "c", 10, LEASE)).isEmpty();
        append("d");
        assertThat(take(consumers, "c", 10, LEASE)).containsExactly(4L);
        assertThat(b.delete("c")).isTrue();
        assertThat(take(consumers, "c", 10, LEASE))
                .as("created again from the start")
                .containsExactly(1L, 2L, 3L, 4L);
    }
}
