package io.sluice.core.flow;

import io.sluice.api.flow.FlowEvent;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connection of a flow ({@code a.outbox -> b.inbox}): a bounded queue whose {@link #put}
 * blocks while it is full, so a slow module slows the modules before it. Counts what went in
 * and out, and reports rates as Compysition's queues did.
 *
 * <p>One module puts (its calls are serialised) and one module takes; {@link #close} is said
 * by the flow once the putting module is done, after which the taker drains what is left and
 * stops.
 */
public final class FlowQueue {
    private final String from;
    private final String to;
    private final ArrayBlockingQueue<FlowEvent> events;
    private final AtomicLong in = new AtomicLong();
    private final AtomicLong out = new AtomicLong();
    private volatile boolean closed;
    private final Rate inRate = new Rate();
    private final Rate outRate = new Rate();

    /**
     * @param from the sending end, {@code module.queue}
     * @param to the receiving end, {@code module.queue}
     * @param capacity how many events it holds at most
     */
    public FlowQueue(String from, String to, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException(to + ": queue_size must be at least 1, not " + capacity);
        }
        this.from = from;
        this.to = to;
        this.events = new ArrayBlockingQueue<>(capacity);
    }

    /** The sending end, {@code module.queue}. */
    public String from() {
        return from;
    }

    /** The receiving end, {@code module.queue}. */
    public String to() {
        return to;
    }

    /** Puts an event, waiting while the queue is full. */
    public void put(FlowEvent event) throws InterruptedException {
        events.put(event);
        in.lazySet(in.get() + 1);
    }

    /** Puts an event if there is room; returns whether it was put. */
    public boolean offer(FlowEvent event) {
        if (events.offer(event)) {
            in.incrementAndGet();
            return true;
        }
        return false;
    }

    /** Takes one event, waiting up to the timeout; null if none came. */
    public FlowEvent poll(long timeout, TimeUnit unit) throws InterruptedException {
        FlowEvent e = events.poll(timeout, unit);
        if (e != null) {
            out.lazySet(out.get() + 1);
        }
        return e;
    }

    /**
     * Moves up to {@code max} events into {@code into}, waiting up to the timeout for the first.
     *
     * @return how many were moved
     */
    public int drain(List<FlowEvent> into, int max, long timeout, TimeUnit unit) throws InterruptedException {
        FlowEvent first = events.poll(timeout, unit);
        if (first == null) {
            return 0;
        }
        into.add(first);
        int n = 1 + events.drainTo(into, max - 1);
        out.lazySet(out.get() + n);
        return n;
    }

    /** Events waiting. */
    public int size() {
        return events.size();
    }

    /** How many events it holds at most. */
    public int capacity() {
        return events.size() + events.remainingCapacity();
    }

    /** Says that nothing more will be put. */
    public void close() {
        closed = true;
    }

    /** Whether nothing more will be put. */
    public boolean closed() {
        return closed;
    }

    /** Whether it is closed and empty: its taker has nothing more to do. */
    public boolean exhausted() {
        return closed && events.isEmpty();
    }

    /** Removes and returns what is left (a forced stop counts it as lost). */
    int clear() {
        int n = events.size();
        events.clear();
        return n;
    }

    /** Compysition's statistics of a queue. */
    public Stats stats() {
        long i = in.get();
        long o = out.get();
        return new Stats(events.size(), i, o, inRate.at(i), outRate.at(o));
    }

    /**
     * A queue's statistics.
     *
     * @param size events waiting
     * @param inTotal events put since the flow started
     * @param outTotal events taken since the flow started
     * @param inRate events put per second, over the last second or more
     * @param outRate events taken per second, over the last second or more
     */
    public record Stats(int size, long inTotal, long outTotal, double inRate, double outRate) {}

    /** A rate over the time between two reads at least a second apart. */
    private static final class Rate {
        private long thenNanos = System.nanoTime();
        private long thenCount;
        private double last;

        synchronized double at(long count) {
            long now = System.nanoTime();
            double seconds = (now - thenNanos) / 1e9;
            if (seconds >= 1) {
                last = (count - thenCount) / seconds;
                thenNanos = now;
                thenCount = count;
            }
            return last;
        }
    }
}
