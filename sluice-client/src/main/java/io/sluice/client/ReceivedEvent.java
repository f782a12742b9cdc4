package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;

/**
 * An event handed to a consumer's handler.
 *
 * @param offset its offset in the log
 * @param deliveries how many times it has been delivered to this consumer (1 the first time)
 * @param document the whole event
 */
public record ReceivedEvent(long offset, int deliveries, JsonNode document) {
    /** The event's id. */
    public String id() {
        return document.path("id").asText(null);
    }

    /** The event's type, or null. */
    public String type() {
        return document.path("type").asText(null);
    }

    /** The event's {@code data}, as logged by {@link SluiceClient#log}. */
    public JsonNode data() {
        return document.path("data");
    }

    /** The {@code data} as an instance of {@code type} (a record of a {@link TypedEvent}, say). */
    public <T> T dataAs(Class<T> type) {
        try {
            return Json.mapper().treeToValue(data(), type);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(
                    "event " + id() + ": its data is not a " + type.getSimpleName() + ": " + e.getOriginalMessage(), e);
        }
    }
}
