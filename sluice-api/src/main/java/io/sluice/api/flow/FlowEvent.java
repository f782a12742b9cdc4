package io.sluice.api.flow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import java.util.Objects;

/**
 * What travels through a flow: Compysition's {@code {"header": {...}, "data": ...}}. The
 * header is metadata any module may write; the data is the event itself (for Sluice, an
 * event document).
 *
 * <p>An event may carry a {@link Settlement}: the acknowledgement owed to whoever produced it
 * (a broker message, a log position). The flow passes it on to every event a module submits
 * while consuming this one, and settles it once all of them are done.
 */
public final class FlowEvent {
    private final ObjectNode header;
    private final JsonNode data;
    private Settlement settlement;

    /**
     * An event.
     *
     * @param header its header (kept, not copied)
     * @param data its data, any JSON value
     */
    public FlowEvent(ObjectNode header, JsonNode data) {
        this.header = Objects.requireNonNull(header, "header");
        this.data = Objects.requireNonNull(data, "data");
    }

    /** An event with an empty header. */
    public static FlowEvent of(JsonNode data) {
        return new FlowEvent(Json.object(), data);
    }

    /**
     * A JSON document as a flow event: a document of exactly the shape {@code {"header":
     * {...}, "data": ...}} is taken as it is; anything else becomes the data of an event with an
     * empty header.
     */
    public static FlowEvent wrap(JsonNode document) {
        if (document.isObject()
                && document.size() == 2
                && document.get("header") instanceof ObjectNode h
                && document.has("data")) {
            return new FlowEvent(h, document.get("data"));
        }
        return of(document);
    }

    /** The header; modules may change it. */
    public ObjectNode header() {
        return header;
    }

    /** The data. */
    public JsonNode data() {
        return data;
    }

    /** An event with this header (copied) and other data, carrying nothing to settle. */
    public FlowEvent withData(JsonNode newData) {
        return new FlowEvent(header.deepCopy(), newData);
    }

    /** An independent deep copy of header and data, carrying nothing to settle. */
    public FlowEvent copy() {
        return new FlowEvent(header.deepCopy(), data.deepCopy());
    }

    /** The acknowledgement this event carries, or null. */
    public Settlement settlement() {
        return settlement;
    }

    /** Attaches the acknowledgement owed for this event (the flow calls this; so do input modules). */
    public FlowEvent settleWith(Settlement s) {
        this.settlement = s;
        return this;
    }

    /** The event as {@code {"header": ..., "data": ...}}. */
    public ObjectNode toJson() {
        ObjectNode out = Json.object();
        out.set("header", header);
        out.set("data", data);
        return out;
    }

    @Override
    public String toString() {
        return Json.write(toJson());
    }
}
