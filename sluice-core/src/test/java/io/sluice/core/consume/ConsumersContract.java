package io.sluice.core.consume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.api.Envelope;
import io.sluice.api.Json;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.EventStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What named consumers must do over any store: each store's test extends this with a real
 * store.
 */
public abstract class ConsumersContract {
    protected static final Duration LEASE = Duration.ofSeconds(30);
    protected static final Consumers.Start EARLIEST = new Consumers.Start.Earliest();

    protected EventStore store;
    protected EventLog log;
    protected Consumers consumers;

    /** A new, empty store. */
    protected abstract EventStore openStore();

    /**
     * Whether leases outlive the {@link Consumers} that handed them out: true for a store that
     * several servers share, whose leases live in the store (an event in flight is delivered
     * again when its lease expires, not when a server restarts).
     */
    protected abstract boolean leasesLiveInTheStore();

    @BeforeEach
    void open() {
        store = openStore();
        log = new EventLog(
                store,
                Envelope.DEFAULT,
                Clock.systemUTC(),
                () -> UUID.randomUUID().toString(),
                new SimpleMeterRegistry());
        consumers = new Consumers(store, Clock.systemUTC());
        log.subscribe(consumers);
    }

    @AfterEach
    void close() {
        log.close();
        store.close();
    }

    protected void append(String... types) throws Exception {
        List<ObjectNode> docs = new ArrayList<>();
        for (String t : types) {
            docs.add((ObjectNode) Json.parse("{\"type\":\"" + t + "\"}"));
        }
        log.append(docs).get(10, TimeUnit.SECONDS);
    }

    protected List<Long> next(String name, int max) throws InterruptedException {
        return next(name, max, ConsumerSpec.ALL);
    }

    private List<Long> next(String name, int max, ConsumerSpec spec) throws InterruptedException {
        return offsets(consumers.next(name, EARLIEST, spec, max, Duration.ZERO, LEASE));
    }

    @Test
    void aNewConsumerSeesTheWholeHistoryAndAcksAdvanceItsCheckpoint() throws Exception {
        append("a", "b", "c");
        assertThat(next("billing", 2)).containsExactly(1L, 2L);
        assertThat(next("billing", 10)).containsExactly(3L); // 1 and 2 are leased
        assertThat(consumers.ack("billing", List.of(2L))).isEqualTo(1);
        assertThat(consumers.status("billing").position()).isZero(); // 1 is not acknowledged yet
        consumers.ack("billing", List.of(1L, 3L, 99L));
        Consumers.Status s = consumers.status("billing");
        assertThat(s.position()).isEqualTo(3);
        assertThat(s.inFlight()).isZero();
        assertThat(s.lag()).isZero();
    }

    @Test
    void anUnacknowledgedEventIsDeliveredAgainWhenItsLeaseExpires() throws Exception {
        append("a");
        List<Consumers.Delivery> first =
                consumers.next("c", EARLIEST, ConsumerSpec.ALL, 10, Duration.ZERO, Duration.ofMillis(100));
        assertThat(first).hasSize(1);
        List<Consumers.Delivery> again =
                consumers.next("c", EARLIEST, ConsumerSpec.ALL, 10, Duration.ofSeconds(10), Duration.ofMillis(100));
        assertThat(again).hasSize(1);
        assertThat(again.getFirst().event().offset()).isEqualTo(1);
        assertThat(again.getFirst().deliveries()).isEqualTo(2);
    }

    @Test
    void processesSharingANameGetDisjointEvents() throws Exception {
        String[] types = new String[100];
        java.util.Arrays.fill(types, "t");
        append(types);
        List<Long> received = drainConcurrently(List.of(consumers, consumers, consumers, consumers), "shared");
        int total = received.size();
        Set<Long> all = new HashSet<>(received);
        assertThat(total).isEqualTo(100);
        assertThat(all).hasSize(100);
        assertThat(consumers.status("shared").position()).isEqualTo(100);
    }

    /** The offsets of delivered events, in delivery order. */
    protected static List<Long> offsets(List<Consumers.Delivery> deliveries) {
        return deliveries.stream().map(d -> d.event().offset()).toList();
    }

    /**
     * One worker per entry of {@code workers} (the same {@link Consumers}, or those of several
     * servers), each taking up to 7 events of consumer {@code name} and acknowledging them
     * until none is left; every offset the workers received, repeats included.
     */
    protected static List<Long> drainConcurrently(List<Consumers> workers, String name) throws Exception {
        List<CompletableFuture<List<Long>>> running = new ArrayList<>();
        for (Consumers on : workers) {
            running.add(CompletableFuture.supplyAsync(() -> {
                List<Long> mine = new ArrayList<>();
                try {
                    List<Long> got;
                    while (!(got = offsets(on.next(name, EARLIEST, ConsumerSpec.ALL, 7, Duration.ZERO, LEASE)))
                            .isEmpty()) {
                        mine.addAll(got);
                        on.ack(name, got);
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return mine;
            }));
        }
        List<Long> received = new ArrayList<>();
        for (CompletableFuture<List<Long>> w : running) {
            received.addAll(w.get(60, TimeUnit.SECONDS));
        }
        return received;
    }

    @Test
    void afterARestartEverythingAfterTheCheckpointIsDeliveredAgain() throws Exception {
        append("a", "b", "c", "d");
        Duration shortLease = Duration.ofSeconds(2);
        long leased = System.nanoTime();
        assertThat(offsets(consumers.next("c", EARLIEST, ConsumerSpec.ALL, 4, Duration.ZERO, shortLease)))
                .containsExactly(1L, 2L, 3L, 4L);
        consumers.ack("c", List.of(1L, 2L, 4L));
        Consumers restarted = new Consumers(store, Clock.systemUTC());
        assertThat(restarted.status("c").position()).isEqualTo(2);
        if (leasesLiveInTheStore()) {
            // 3 is still leased to whoever took it, and comes again once its lease ends; the
            // acknowledged 4 never does.
            assertThat(restarted.status("c").inFlight()).isEqualTo(1);
            List<Long> again = await("3 delivered again after its lease")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(100))
                    .until(
                            () -> offsets(restarted.next("c", EARLIEST, ConsumerSpec.ALL, 10, Duration.ZERO, LEASE)),
                            offsets -> !offsets.isEmpty());
            assertThat(Duration.ofNanos(System.nanoTime() - leased)).isGreaterThanOrEqualTo(shortLease);
            assertThat(again).containsExactly(3L);
        } else { // progress in memory: all after the checkpoint comes again at once
            assertThat(restarted.next("c", EARLIEST, ConsumerSpec.ALL, 10, Duration.ZERO, LEASE))
                    .extracting(d -> d.event().offset())
                    .containsExactly(3L, 4L);
        }
    }

    @Test
    void filtersAndTypePatternsSelectAndTheCheckpointPassesOverTheRest() throws Exception {
        append("user.signup", "order.placed", "user.bought_shirt", "order.paid", "user.signup");
        ConsumerSpec users = new ConsumerSpec(null, List.of("user.*"));
        assertThat(next("users", 10, users)).containsExactly(1L, 3L, 5L);
        consumers.ack("users", List.of(1L, 3L, 5L));
        assertThat(consumers.status("users").position()).isEqualTo(5);

        ConsumerSpec paid = new ConsumerSpec(Json.parse("{\"type\":{\"$regex\":\"paid$\"}}"), List.of());
        assertThat(next("paid", 10, paid)).containsExactly(4L);
        assertThatThrownBy(() -> next("paid", 10, users)).isInstanceOf(Consumers.ConflictException.class);
        assertThatThrownBy(() -> new ConsumerSpec(Json.parse("{\"$bad\":1}"), List.of()))
                .hasMessageContaining("filter: unknown top level operator $bad");
    }

    @Test
    void startsAtLatestAnOffsetOrATimeAndSeekSkipsTheBacklog() throws Exception {
        append("a", "b");
        Instant between = Instant.ofEpochMilli(nextMillisecond(System.currentTimeMillis()));
        nextMillisecond(between.toEpochMilli()); // a and b were ingested before it, c will be after
        append("c");
        assertThat(consumers.next("l", new Consumers.Start.Latest(), ConsumerSpec.ALL, 10, Duration.ZERO, LEASE))
                .isEmpty();
        append("d");
        assertThat(next("l", 10)).containsExactly(4L);
        assertThat(consumers.next("o", new Consumers.Start.After(2), ConsumerSpec.ALL, 10, Duration.ZERO, LEASE))
                .extracting(d -> d.event().offset())
                .containsExactly(3L, 4L);
        assertThat(consumers.next("t", Consumers.start(between.toString()), ConsumerSpec.ALL, 10, Duration.ZERO, LEASE))
                .extracting(d -> d.event().offset())
                .containsExactly(3L, 4L);

        next("backlog", 1);
        Consumers.Status skipped = consumers.seek("backlog", new Consumers.Start.Latest());
        assertThat(skipped.position()).isEqualTo(4);
        assertThat(skipped.inFlight()).isZero();
        assertThat(next("backlog", 10)).isEmpty();
    }

    /** Waits (a millisecond at most) for the clock to pass {@code millis}; returns the new time. */
    private static long nextMillisecond(long millis) {
        long now;
        while ((now = System.currentTimeMillis()) <= millis) {
            Thread.onSpinWait();
        }
        return now;
    }

    @Test
    void aLongPollReturnsAsSoonAsAnEventArrives() throws Exception {
        next("waiting", 1);
        CompletableFuture<List<Consumers.Delivery>> poll = CompletableFuture.supplyAsync(() -> {
            try {
                return consumers.next("waiting", EARLIEST, ConsumerSpec.ALL, 10, Duration.ofSeconds(30), LEASE);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        append("late");
        assertThat(poll.get(20, TimeUnit.SECONDS))
                .extracting(d -> d.event().offset())
                .containsExactly(1L);
    }

    @Test
    void listsAndDeletesConsumers() throws Exception {
        append("a");
        next("b", 1);
        next("a", 1);
        assertThat(consumers.list()).extracting(Consumers.Status::name).containsExactly("a", "b");
        assertThat(new Consumers(store, Clock.systemUTC()).list())
                .extracting(Consumers.Status::name)
                .containsExactly("a", "b");
        assertThat(consumers.delete("a")).isTrue();
        assertThat(consumers.delete("a")).isFalse();
        assertThatThrownBy(() -> consumers.status("a")).isInstanceOf(Consumers.NoSuchConsumerException.class);
        assertThatThrownBy(() -> consumers.ack("nobody", List.of(1L))).hasMessage("no consumer named 'nobody'");
    }
}
