package io.sluice.core.log;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Fans committed batches out to followers, each with a bounded buffer of its own. The log's
 * writer never waits for a follower: a follower whose buffer is full is marked overflowed and
 * gets nothing more until it catches up from the store (see {@link LogCursor}). So a slow
 * reader never slows the log or other readers.
 */
public final class LiveEvents implements EventLog.Subscriber {
    /** Put in an overflowed follower's emptied buffer so that a waiting reader wakes up at once. */
    static final StoredEvent OVERFLOWED = new StoredEvent(-1, "overflowed", null, "{}");

    private final Set<Follower> followers = ConcurrentHashMap.newKeySet();

    /** Starts following: every batch committed from now on goes to the new follower's buffer. */
    public Follower follow(int capacity) {
        Follower f = new Follower(capacity);
        followers.add(f);
        return f;
    }

    /** The number of followers, for metrics. */
    public int followers() {
        return followers.size();
    }

    @Override
    public void committed(List<StoredEvent> batch) {
        for (Follower f : followers) {
            f.offer(batch);
        }
    }

    /** One reader's buffer of live events. */
    public final class Follower implements AutoCloseable {
        private final ArrayBlockingQueue<StoredEvent> buffer;
        private volatile boolean overflowed;

        private Follower(int capacity) {
            this.buffer = new ArrayBlockingQueue<>(capacity);
        }

        private void offer(List<StoredEvent> batch) {
            if (overflowed) {
                return;
            }
            for (StoredEvent e : batch) {
                if (!buffer.offer(e)) {
                    overflowed = true;
                    buffer.clear();
                    buffer.offer(OVERFLOWED);
                    return;
                }
            }
        }

        /**
         * The next live event, waiting up to {@code timeout}; null when none came. After an
         * overflow it returns {@link #OVERFLOWED} once, and nothing more.
         */
        public StoredEvent poll(Duration timeout) throws InterruptedException {
            return buffer.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        }

        /** Whether events were dropped because the buffer was full. */
        public boolean overflowed() {
            return overflowed;
        }

        @Override
        public void close() {
            followers.remove(this);
        }
    }
}
