package io.sluice.core.log;

/** An event larger than the configured limit; nothing of its request was stored. */
public class EventTooLargeException extends InvalidBatchException {
    public EventTooLargeException(int index, long size, long limit) {
        super(index, "the event is " + size + " bytes of JSON; the limit is " + limit, null);
    }
}
