package io.sluice.core.log;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * A timer a store owns from the start and registers when it is bound to the server's registry
 * ({@link EventStore#bindTo}); what it times before then is not kept.
 */
public final class StoreTimer {
    private final String name;
    private final String description;
    private volatile Timer timer; // null until bound

    /**
     * @param name the meter's dotted name ({@code sluice.sqlite.checkpoint})
     * @param description what it times, for the metrics' help text
     */
    public StoreTimer(String name, String description) {
        this.name = name;
        this.description = description;
    }

    /** Registers the timer in {@code meters}. */
    public void bindTo(MeterRegistry meters) {
        timer = Timer.builder(name).description(description).register(meters);
    }

    /** Records the time since {@code startedNanos} ({@link System#nanoTime}), once bound. */
    public void recordSince(long startedNanos) {
        Timer t = timer;
        if (t != null) {
            t.record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
        }
    }
}
