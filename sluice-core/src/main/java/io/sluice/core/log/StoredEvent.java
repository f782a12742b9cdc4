package io.sluice.core.log;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import java.util.Objects;

/**
 * An event as the log holds it: its offset, id and type, and the document as JSON text
 * (parsed only when needed, so that serving history does not re-serialise).
 *
 * @param offset the event's position in the log, from 1
 * @param id the event's id
 * @param type the event's type, or null
 * @param json the whole event document as JSON text
 */
public record StoredEvent(long offset, String id, String type, String json) {
    public StoredEvent {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(json, "json");
    }

    /** The document, parsed. */
    public ObjectNode document() {
        return (ObjectNode) Json.parse(json);
    }

    /** The line format of {@code find}, {@code tail} and {@code GET /v1/events}: {@code {"offset":N,"event":{...}}}. */
    public String toLine() {
        return "{\"offset\":" + offset + ",\"event\":" + json + "}";
    }
}
