package io.sluice.core.log;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Announces the events committed to a {@linkplain EventStore#shared() shared} store — by this
 * process or any other — to subscribers, in offset order, as the {@link EventLog} does for a
 * store only it writes to.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>One thread waits for the store's head to move ({@link EventStore#awaitAppended}), reads
 * everything after its position in pages and hands each page on. The shared store gives
 * offsets under a lock that is held until commit, so a committed offset is never followed by
 * an earlier one committing later: reading after the position never skips an event. Starts at
 * the head as it is when started; readers catch up on older events from the store themselves.
 */
public final class StoreFollower implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StoreFollower.class);
    private static final int PAGE = 1_000;
    private static final Duration WAIT = Duration.ofSeconds(1);

    private final EventStore store;
    private final List<EventLog.Subscriber> subscribers = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile long position;
    private volatile boolean closed;

    /** Starts following {@code store} from its current head. */
    public StoreFollower(EventStore store) {
        this.store = store;
        this.position = store.lastOffset();
        this.thread = Thread.ofPlatform().name("sluice-store-follower").daemon().start(this::run);
    }

    /** Adds a subscriber; it gets every page committed from now on, on the follower's thread. */
    public void subscribe(EventLog.Subscriber subscriber) {
        subscribers.add(subscriber);
    }

    /** The last offset announced. */
    public long position() {
        return position;
    }

    private void run() {
        while (!closed) {
            try {
                long head = store.awaitAppended(position, WAIT);
                while (!closed && head > position) {
                    EventStore.Page page = store.read(position, PAGE, e -> true);
                    if (page.scannedTo() <= position) {
                        break;
                    }
                    position = page.scannedTo();
                    announce(page.events());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (OffsetOutOfRangeException e) {
                LOG.warn("store follower fell behind retention; continuing at offset {}", e.earliest());
                position = e.earliest() - 1;
            } catch (RuntimeException e) {
                LOG.warn("store follower: {}; retrying", e.toString());
                sleepQuietly();
            }
        }
    }

    private void announce(List<StoredEvent> events) {
        if (events.isEmpty()) {
            return;
        }
        for (EventLog.Subscriber s : subscribers) {
            try {
                s.committed(events);
            } catch (RuntimeException e) {
                LOG.error("subscriber {} failed on a committed batch", s, e);
            }
        }
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(WAIT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
