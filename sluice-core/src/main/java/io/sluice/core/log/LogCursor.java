package io.sluice.core.log;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.function.Predicate;

/**
 * Follows the log from a position: the history from the store, then live events as they are
 * committed, without losing or repeating any, however far behind the reader starts or falls.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>The cursor registers a live follower <em>before</em> it reads the store, so an event
 * committed meanwhile is either in what the store returns or in the follower's buffer (or
 * both: offsets at or below the position are skipped). Catch-up reads pages until a page makes
 * no progress, which means the store's head was reached. When the follower's bounded buffer
 * overflows (the reader is too slow for the live rate), the cursor drops the follower,
 * registers a new one and catches up from the store again. Not thread-safe: one reader.
 */
public final class LogCursor implements AutoCloseable {
    private static final int PAGE = 500;

    private final EventStore store;
    private final LiveEvents live;
    private final Predicate<StoredEvent> filter;
    private final int capacity;
    private final ArrayDeque<StoredEvent> pending = new ArrayDeque<>();
    private LiveEvents.Follower follower;
    private boolean catchingUp;
    private long position;

    /**
     * @param after the offset to continue after (0: from the start)
     * @param filter only events that pass are returned
     * @param capacity the live buffer's size
     */
    public LogCursor(EventStore store, LiveEvents live, long after, Predicate<StoredEvent> filter, int capacity) {
        this.store = store;
        this.live = live;
        this.filter = filter;
        this.capacity = capacity;
        this.position = after;
    }

    /** The offset of the last event this cursor went past (returned or filtered out). */
    public long position() {
        return position;
    }

    /**
     * The next event that passes the filter, waiting up to {@code timeout} for one to be
     * committed; null when none came in time.
     *
     * @throws OffsetOutOfRangeException when the events after the position are no longer retained
     */
    public StoredEvent next(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            StoredEvent ready = pending.poll();
            if (ready != null) {
                return ready;
            }
            if (follower == null || follower.overflowed()) {
                if (follower != null) {
                    follower.close();
                }
                follower = live.follow(capacity);
                catchingUp = true;
            }
            if (catchingUp) {
                EventStore.Page page = store.read(position, PAGE, filter);
                boolean progressed = page.scannedTo() > position;
                position = Math.max(position, page.scannedTo());
                pending.addAll(page.events());
                if (!progressed) {
                    catchingUp = false; // at the head: everything after is in the follower's buffer
                }
                continue;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            StoredEvent e = follower.poll(Duration.ofNanos(left));
            if (e == null) {
                return null;
            }
            if (e == LiveEvents.OVERFLOWED || follower.overflowed() || e.offset() <= position) {
                continue; // overflowed: catch up from the store; or already read from it
            }
            position = e.offset();
            if (filter.test(e)) {
                return e;
            }
        }
    }

    /**
     * After an {@link OffsetOutOfRangeException}: goes on from the first event still retained,
     * passing over those retention deleted.
     *
     * @return the offset it now continues after (the last deleted one)
     */
    public long skipToRetained() {
        seek(Math.max(position, store.firstOffset() - 1));
        return position;
    }

    /** Goes on after {@code offset} instead (a checkpoint another server saved). */
    public void seek(long offset) {
        close();
        pending.clear();
        position = offset;
    }

    @Override
    public void close() {
        if (follower != null) {
            follower.close();
            follower = null;
        }
    }
}
