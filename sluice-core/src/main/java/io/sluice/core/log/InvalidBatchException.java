package io.sluice.core.log;

/** A request with an invalid event: nothing of it was stored. Names the index of the first bad event. */
public class InvalidBatchException extends IllegalArgumentException {
    private final int index;

    public InvalidBatchException(int index, String reason, Throwable cause) {
        super("event " + index + ": " + reason, cause);
        this.index = index;
    }

    /** The index (from 0) of the first bad event in the request. */
    public int index() {
        return index;
    }
}
