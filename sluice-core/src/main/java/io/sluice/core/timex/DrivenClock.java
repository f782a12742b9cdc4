package io.sluice.core.timex;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock that stands still until it is moved: definition tests and the tests' simulated time (UTC). */
public final class DrivenClock extends Clock {
    private volatile Instant now;

    public DrivenClock(Instant start) {
        this.now = start;
    }

    /** Moves the clock to {@code t}. */
    public void set(Instant t) {
        now = t;
    }

    /** Moves the clock on by {@code d}. */
    public void advance(Duration d) {
        now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        return now;
    }
}
