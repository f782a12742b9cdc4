package io.sluice.core.log;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the log within {@code max_events}, {@code max_bytes} and {@code max_age}, like
 * PySeps's capped collection but durable: the oldest events are deleted first, in chunks, every
 * second (and on demand with {@link #enforce}). Zero or null means no limit of that kind.
 */
public final class Retention implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Retention.class);
    private static final long CHUNK = 10_000;

    private final EventStore store;
    private final long maxEvents;
    private final long maxBytes;
    private final Duration maxAge;
    private final Clock clock;
    private final Counter deleted;
    private ScheduledExecutorService timer;

    public Retention(
            EventStore store, long maxEvents, long maxBytes, Duration maxAge, Clock clock, MeterRegistry meters) {
        this.store = store;
        this.maxEvents = maxEvents;
        this.maxBytes = maxBytes;
        this.maxAge = maxAge;
        this.clock = clock;
        this.deleted = Counter.builder("sluice.log.retention.deleted")
                .description("events deleted by retention")
                .register(meters);
    }

    /** Starts enforcing every second, on a thread of its own. */
    public synchronized void start() {
        if (timer == null) {
            timer = Executors.newSingleThreadScheduledExecutor(
                    r -> Thread.ofPlatform().name("sluice-retention").daemon().unstarted(r));
            timer.scheduleWithFixedDelay(this::enforceQuietly, 1, 1, TimeUnit.SECONDS);
        }
    }

    /** Deletes what the limits no longer allow; returns how many events. */
    public long enforce() {
        long through = 0;
        if (maxEvents > 0) {
            through = Math.max(through, store.offsetKeeping(maxEvents));
        }
        if (maxBytes > 0) {
            through = Math.max(through, store.offsetKeepingBytes(maxBytes));
        }
        if (maxAge != null) {
            through = Math.max(through, store.lastOffsetIngestedBefore(clock.millis() - maxAge.toMillis()));
        }
        long total = 0;
        while (store.firstOffset() <= through) {
            long n = store.deleteThrough(Math.min(through, store.firstOffset() + CHUNK - 1));
            if (n == 0) {
                break;
            }
            total += n;
        }
        deleted.increment(total);
        return total;
    }

    private void enforceQuietly() {
        try {
            enforce();
        } catch (RuntimeException e) {
            LOG.warn("retention failed; will try again: {}", e.toString());
        }
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }
}
