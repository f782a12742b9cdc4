package io.sluice.core.log;

/** A read from before the earliest offset retention has kept. */
public class OffsetOutOfRangeException extends IllegalArgumentException {
    private final long earliest;

    public OffsetOutOfRangeException(long requestedAfter, long earliest) {
        super("events after offset " + requestedAfter + " are no longer retained; the earliest retained offset is "
                + earliest);
        this.earliest = earliest;
    }

    /** The earliest offset still in the log. */
    public long earliest() {
        return earliest;
    }
}
