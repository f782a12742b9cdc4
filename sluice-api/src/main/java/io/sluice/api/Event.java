package io.sluice.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Objects;

/**
 * An event: a JSON object as it was sent (plus the {@code id} and {@code time} Sluice filled
 * in where they were missing), with its envelope read out for quick access.
 *
 * <p>The document is shared, not copied: treat it as immutable once it is in an {@code Event}.
 *
 * @param id the event's unique id (the envelope's id field)
 * @param type the event's type, or {@code null} when the document has none
 * @param time when the event happened (the envelope's time field)
 * @param document the whole event as stored
 */
public record Event(String id, String type, Instant time, ObjectNode document) {
    public Event {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(document, "document");
    }

    @Override
    public String toString() {
        return Json.write(document);
    }
}
