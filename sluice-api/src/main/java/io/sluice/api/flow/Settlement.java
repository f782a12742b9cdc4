package io.sluice.api.flow;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An acknowledgement owed for an event, counted: every holder {@link #retain retains} it and
 * {@link #release releases} it when done, and the last release runs the action (acknowledge
 * a broker message, move a checkpoint). Thread-safe.
 */
public final class Settlement {
    private final AtomicInteger holders = new AtomicInteger(1);
    private final Runnable settled;

    private Settlement(Runnable settled) {
        this.settled = settled;
    }

    /** A settlement held once (by its creator), running {@code settled} when fully released. */
    public static Settlement of(Runnable settled) {
        return new Settlement(settled);
    }

    /**
     * A settlement standing for several: it holds each of them and releases them all once it is
     * fully released itself (a buffer's flushed batch stands for the events in it).
     */
    public static Settlement all(List<Settlement> parts) {
        List<Settlement> held = parts.stream().map(Settlement::retain).toList();
        return new Settlement(() -> held.forEach(Settlement::release));
    }

    /** One more holder; returns this. */
    public Settlement retain() {
        if (holders.getAndIncrement() <= 0) {
            throw new IllegalStateException("retained after being settled");
        }
        return this;
    }

    /** One holder fewer; the last runs the action. */
    public void release() {
        int left = holders.decrementAndGet();
        if (left == 0) {
            settled.run();
        } else if (left < 0) {
            throw new IllegalStateException("released more often than retained");
        }
    }

    /** Whether every holder has released it. */
    public boolean settled() {
        return holders.get() <= 0;
    }
}
