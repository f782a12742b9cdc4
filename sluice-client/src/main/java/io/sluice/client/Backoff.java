package io.sluice.client;

import java.util.concurrent.TimeUnit;

/** Pauses between tries that double from 100 ms up to a ceiling. One per retrying loop, one thread. */
final class Backoff {
    private static final long FIRST_MILLIS = 100;

    private final long maxMillis;
    private long nextMillis = FIRST_MILLIS;

    Backoff(long maxMillis) {
        this.maxMillis = maxMillis;
    }

    /** How long the next {@link #pause} will wait. */
    long nextMillis() {
        return nextMillis;
    }

    /** Waits the next pause, then doubles it (up to the ceiling). */
    void pause() throws InterruptedException {
        TimeUnit.MILLISECONDS.sleep(nextMillis);
        nextMillis = Math.min(nextMillis * 2, maxMillis);
    }

    /** Waits like {@link #pause}; an interrupt ends the wait early and stays set on the thread. */
    void pauseQuietly() {
        try {
            pause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts again from the first pause, after a success. */
    void reset() {
        nextMillis = FIRST_MILLIS;
    }
}
