package io.sluice.server.http;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.api.ErrorCode;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Bounds the bytes of request bodies inside the server at once (being read, parsed, or waiting
 * for the log), so that a burst of large requests waits its turn instead of exhausting the
 * heap. Without it, 48 concurrent 15 MB posts to a server with a 512 MB heap ran out of memory
 * and answered 500 to most of them.
 *
 * <p>A request with a declared length takes its whole share before its body is read (at most
 * the whole budget, so a request as large as the body limit can still be admitted alone); a
 * request of unknown length takes a first step and then more as its body arrives. A request
 * that cannot have its share within {@link #WAIT} is answered 503 ({@code unavailable}) and
 * stores nothing; while it waits its body is not read, so the producer's connection is held
 * back by TCP. Waiting is first come, first served: a large request is not overtaken forever
 * by small ones. Shares are released when the request's answer is ready.
 */
final class Admission {
    /** How long a request waits for its share of the budget before it is refused. */
    static final Duration WAIT = Duration.ofSeconds(30);

    /** Permits are kilobytes, so budgets beyond 2 GB fit a semaphore's int. */
    private static final int UNIT = 1024;

    /** What a request of unknown length takes before reading, and then takes more by. */
    private static final long STEP = 1 << 20;

    private final int capacity;
    private final Semaphore permits;
    private final Duration wait;
    private final LongAdder refused = new LongAdder();

    /**
     * @param budgetBytes bytes of bodies admitted at once
     * @param wait how long a request waits for its share before it is refused
     */
    Admission(long budgetBytes, Duration wait) {
        if (budgetBytes < UNIT) {
            throw new IllegalArgumentException("admission budget of " + budgetBytes + " bytes: at least " + UNIT);
        }
        this.capacity = (int) Math.min(Integer.MAX_VALUE, budgetBytes / UNIT);
        this.permits = new Semaphore(capacity, true);
        this.wait = wait;
    }

    /** Registers the bytes admitted now and the requests refused for want of room. */
    void bindTo(MeterRegistry meters) {
        Gauge.builder("sluice.http.inflight", this, Admission::inflightBytes)
                .description("Bytes of request bodies admitted and not yet answered (server.limits.max_inflight_bytes)")
                .baseUnit("bytes")
                .register(meters);
        FunctionCounter.builder("sluice.http.busy", refused, LongAdder::sum)
                .description("Requests answered 503 because their bodies found no room in time")
                .register(meters);
    }

    /** Bytes of bodies admitted now. */
    double inflightBytes() {
        return (double) (capacity - permits.availablePermits()) * UNIT;
    }

    /**
     * Admits a request whose body is {@code declaredBytes} long, or of unknown length when
     * negative; waits for room, and answers 503 if there is none in time.
     */
    Ticket admit(long declaredBytes) {
        Ticket ticket = new Ticket();
        ticket.growTo(declaredBytes >= 0 ? declaredBytes : STEP);
        return ticket;
    }

    /** One request's share; closing it gives the share back. */
    final class Ticket implements AutoCloseable {
        private int held;

        /** Makes the share cover {@code bytes} read so far of a body of unknown length. */
        void cover(long bytes) {
            if ((long) held * UNIT < bytes && held < capacity) {
                growTo(bytes + STEP);
            }
        }

        private void growTo(long bytes) {
            int wanted = (int) Math.min(capacity, (bytes + UNIT - 1) / UNIT);
            int more = wanted - held;
            if (more <= 0) {
                return;
            }
            boolean got;
            try {
                got = permits.tryAcquire(more, wait.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                got = false;
            }
            if (!got) {
                refused.increment();
                throw new ApiException(
                        ErrorCode.UNAVAILABLE,
                        "the server is busy: other requests' bodies fill server.limits.max_inflight_bytes ("
                                + (long) capacity * UNIT + " bytes) and none left room within " + wait.toSeconds()
                                + " s; nothing of this request was stored, send it again later");
            }
            held = wanted;
        }

        @Override
        public void close() {
            permits.release(held);
            held = 0;
        }
    }
}
