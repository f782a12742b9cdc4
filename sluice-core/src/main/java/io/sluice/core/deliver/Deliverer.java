package io.sluice.core.deliver;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sluice.api.component.Message;
import io.sluice.api.component.Sink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives one {@link Sink} for one reader: delivers lists of messages in order, reconnecting
 * with backoff while the destination is unreachable, retrying refused messages with backoff up
 * to the attempt limit, and parking those that still fail as {@linkplain DeadLetters dead
 * letters}. Every sink gets the same behaviour and the same metrics
 * ({@code sluice.delivery.*}, tagged with the reader).
 *
 * <h2>Implementation notes</h2>
 *
 * <p>Two kinds of failure are kept apart. A destination that cannot be reached (the sink
 * throws) counts against no message: the deliverer waits, reconnects and sends the same list
 * again, however long that takes, so a broker down for an hour loses nothing. A message the
 * destination refuses (an HTTP 4xx, a rejected publish) counts one attempt; after
 * {@code maxAttempts} it is parked and the reader moves on, so one poison message never blocks
 * an output for good. Backoff doubles from {@code initialBackoff} to {@code maxBackoff}.
 *
 * <p>{@link #deliver} returns only when every message is delivered or parked, or when the
 * reader is stopping (then it returns false and nothing after the last checkpoint counts as
 * done). One thread, the reader's, uses a deliverer.
 */
public final class Deliverer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Deliverer.class);

    /** What a deliverer reports per message, for counters. */
    public interface Outcomes {
        void delivered(Message m);

        void parked(Message m);

        Outcomes NONE = new Outcomes() {
            @Override
            public void delivered(Message m) {}

            @Override
            public void parked(Message m) {}
        };
    }

    /**
     * How hard to try.
     *
     * @param maxAttempts attempts per refused message before it is parked
     * @param initialBackoff the first wait after a failure
     * @param maxBackoff the longest wait
     */
    public record Policy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
        public static final Policy DEFAULT = new Policy(5, Duration.ofMillis(200), Duration.ofSeconds(30));

        public Policy {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("max_attempts must be at least 1, not " + maxAttempts);
            }
        }

        /** The wait after the {@code failures}-th failure in a row. */
        public Duration backoff(int failures) {
            long millis = initialBackoff.toMillis() << Math.min(failures - 1, 20);
            return Duration.ofMillis(Math.min(Math.max(millis, 1), maxBackoff.toMillis()));
        }
    }

    private final String reader;
    private final Sink sink;
    private final Policy policy;
    private final DeadLetters deadLetters;
    private final Outcomes outcomes;
    private final Counter delivered;
    private final Counter refused;
    private final Counter parked;
    private final Counter unreachable;
    private final Timer sends;
    private boolean open;
    private volatile String lastError;
    private volatile boolean connected;

    public Deliverer(
            String reader, Sink sink, Policy policy, DeadLetters deadLetters, Outcomes outcomes, MeterRegistry meters) {
        this.reader = reader;
        this.sink = sink;
        this.policy = policy;
        this.deadLetters = deadLetters;
        this.outcomes = outcomes;
        this.delivered = Counter.builder("sluice.delivery.delivered")
                .description("Messages the destination took")
                .tag("reader", reader)
                .register(meters);
        this.refused = Counter.builder("sluice.delivery.refused")
                .description("Delivery attempts the destination refused")
                .tag("reader", reader)
                .register(meters);
        this.parked = Counter.builder("sluice.delivery.dead_lettered")
                .description("Messages parked in the dead-letter list after their last attempt")
                .tag("reader", reader)
                .register(meters);
        this.unreachable = Counter.builder("sluice.delivery.unreachable")
                .description("Sends that failed because the destination could not be reached")
                .tag("reader", reader)
                .register(meters);
        this.sends = Timer.builder("sluice.delivery.send")
                .description("Time to send one list of messages and have it confirmed")
                .tag("reader", reader)
                .register(meters);
    }

    /** Whether the last send reached the destination. */
    public boolean connected() {
        return connected;
    }

    /** The last failure, or null. */
    public String lastError() {
        return lastError;
    }

    /**
     * Delivers {@code messages} in order; each is delivered or parked when this returns true.
     *
     * @param running false once the reader is stopping
     * @return false when the reader stopped first (what was not delivered is not done)
     */
    public boolean deliver(List<Message> messages, BooleanSupplier running) throws InterruptedException {
        List<Message> pending = messages;
        int[] attempts = new int[messages.size()];
        List<Integer> indexes = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            indexes.add(i);
        }
        int outages = 0;
        int refusalRounds = 0;
        while (!pending.isEmpty()) {
            if (!running.getAsBoolean()) {
                return false;
            }
            List<Sink.Refusal> refusals;
            try {
                if (!open) {
                    sink.open();
                    open = true;
                }
                long started = System.nanoTime();
                refusals = sink.send(pending);
                sends.record(Duration.ofNanos(System.nanoTime() - started));
                connected = true;
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                connected = false;
                unreachable.increment();
                outages++;
                lastError = describe(e);
                Duration wait = policy.backoff(outages);
                if (outages == 1 || outages % 10 == 0) {
                    LOG.warn("{}: cannot deliver ({}); retrying in {} ms", reader, lastError, wait.toMillis());
                }
                closeQuietly();
                Thread.sleep(wait.toMillis());
                continue;
            }
            boolean[] refusedAt = new boolean[pending.size()];
            boolean[] counts = new boolean[pending.size()];
            String[] reasons = new String[pending.size()];
            boolean anyCounted = false;
            boolean failedAsWhole = false;
            for (Sink.Refusal r : refusals) {
                refusedAt[r.index()] = true;
                counts[r.index()] = r.counts();
                reasons[r.index()] = r.reason();
                anyCounted |= r.counts();
                failedAsWhole |= !r.counts();
            }
            if (outages > 0 && !failedAsWhole) {
                LOG.info("{}: delivering again", reader);
                outages = 0;
            }
            List<Message> again = new ArrayList<>();
            List<Integer> againIndexes = new ArrayList<>();
            for (int i = 0; i < pending.size(); i++) {
                Message m = pending.get(i);
                if (!refusedAt[i]) {
                    delivered.increment();
                    outcomes.delivered(m);
                    continue;
                }
                int original = indexes.get(i);
                lastError = reasons[i];
                if (!counts[i]) {
                    again.add(m);
                    againIndexes.add(original);
                    continue;
                }
                refused.increment();
                attempts[original]++;
                if (attempts[original] >= policy.maxAttempts()) {
                    long id = deadLetters.add(reader, m, attempts[original], reasons[i]);
                    parked.increment();
                    outcomes.parked(m);
                    LOG.warn(
                            "{}: parked event {} for {} as dead letter {} after {} attempts: {}",
                            reader,
                            m.eventId(),
                            m.source(),
                            id,
                            attempts[original],
                            reasons[i]);
                } else {
                    again.add(m);
                    againIndexes.add(original);
                }
            }
            pending = again;
            indexes = againIndexes;
            if (!pending.isEmpty()) {
                if (anyCounted) {
                    refusalRounds++;
                    Thread.sleep(policy.backoff(refusalRounds).toMillis());
                } else {
                    outages++; // the destination failed as a whole: back off as for an outage
                    Thread.sleep(policy.backoff(outages).toMillis());
                }
            }
        }
        return true;
    }

    /**
     * Tries one message once (a dead letter's replay).
     *
     * @return null when delivered, else why not
     */
    public String tryOnce(Message m) {
        try {
            if (!open) {
                sink.open();
                open = true;
            }
            List<Sink.Refusal> refusals = sink.send(List.of(m));
            if (refusals.isEmpty()) {
                delivered.increment();
                outcomes.delivered(m);
                return null;
            }
            return refusals.getFirst().reason();
        } catch (Exception e) {
            closeQuietly();
            return describe(e);
        }
    }

    private static String describe(Exception e) {
        String m = e.getMessage();
        if (m == null && e.getCause() != null) {
            m = e.getCause().getMessage();
        }
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private void closeQuietly() {
        open = false;
        try {
            sink.close();
        } catch (RuntimeException e) {
            LOG.debug("{}: closing the sink failed: {}", reader, e.getMessage());
        }
    }

    @Override
    public void close() {
        closeQuietly();
    }
}
