package io.sluice.core.consume;

import io.sluice.core.log.StoredEvent;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;

/**
 * Consumer progress kept in a store that several servers share: the scan position, the leases
 * of delivered events and the checkpoint all live in the store, changed in one transaction per
 * call and serialised per consumer, so that servers on one database share a consumer name as
 * processes on one server do. A store that several servers share implements this beside
 * {@link io.sluice.core.log.EventStore}; {@link Consumers} then keeps no progress of its own.
 *
 * <p>Consumers are keyed by their checkpoint name ({@code consumer:NAME}); the checkpoint itself
 * is the store's checkpoint of that name, which these calls move.
 */
public interface SharedConsumerProgress {
    /**
     * Hands out up to {@code max} events: leases that expired first (delivered again), then
     * events after the scan position that pass {@code filter}; moves the checkpoint to just
     * before the lowest event still leased (or to the scan position).
     *
     * @param lease how long the receiver has to acknowledge, by the store's clock
     */
    List<Consumers.Delivery> take(String consumer, int max, Duration lease, Predicate<StoredEvent> filter);

    /** Ends the leases of these offsets; returns how many there were. */
    int ack(String consumer, Collection<Long> offsets);

    /** Drops every lease and moves the scan position and the checkpoint to {@code offset}. */
    void seek(String consumer, long offset);

    /** The consumer's progress as the store has it. */
    Progress progress(String consumer);

    /** Forgets the consumer's leases and scan position (its checkpoint is deleted separately). */
    void forget(String consumer);

    /**
     * A consumer's progress.
     *
     * @param checkpoint every offset up to here is done
     * @param inFlight events leased and not acknowledged
     * @param missed events retention deleted before the consumer read them
     * @param untilNextExpiry time until the first lease expires, or null when none is held
     */
    record Progress(long checkpoint, int inFlight, long missed, Duration untilNextExpiry) {}
}
