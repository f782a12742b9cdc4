package io.sluice.api.component;

import java.util.Objects;

/**
 * What a reader hands a {@link Sink}: one event for one standing definition (a query's match,
 * a handler's run).
 *
 * @param offset the event's offset in the log
 * @param eventId the event's id
 * @param eventJson the event document as stored, JSON text
 * @param source the name of the query (or handler) the event is delivered for
 * @param key the routing key (a query's {@code key}); may be null
 * @param exchange the AMQP exchange a query names; null for the output's own
 */
public record Message(long offset, String eventId, String eventJson, String source, String key, String exchange) {
    public Message {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(eventJson, "eventJson");
        Objects.requireNonNull(source, "source");
    }

    /**
     * The idempotency key {@code EVENTID:SOURCE}: the same for every delivery of this event for
     * this query, so a receiver can drop the duplicates that at-least-once delivery allows.
     */
    public String idempotencyKey() {
        return eventId + ":" + source;
    }
}
