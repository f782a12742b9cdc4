package io.sluice.api.handler;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import java.util.Objects;

/**
 * One run of a handler for one event.
 *
 * @param handler the handler's name
 * @param offset the event's offset in the log
 * @param eventId the event's id
 * @param eventType the event's type (its envelope's type field), or null
 * @param eventJson the event document as stored, JSON text
 * @param attempt 1 for the first try, 2 for the first retry, ...
 */
public record Invocation(String handler, long offset, String eventId, String eventType, String eventJson, int attempt) {
    public Invocation {
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(eventJson, "eventJson");
    }

    /** The event document, parsed (each call parses it again). */
    public JsonNode event() {
        return Json.parse(eventJson);
    }
}
