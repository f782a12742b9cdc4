package io.sluice.core.handle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads EventReactor's {@code event-handlers.json} unchanged:
 * {@code {"<namespace>:<event_type>": [{"driver": "shell", "handler": "...", "exclusive": false}]}}.
 *
 * <p>Each entry becomes a handler named after its key ({@code local:zmq.test}; the second entry
 * of a key {@code local:zmq.test@2}, and so on) whose filter is the event's {@code namespace}
 * and {@code event_type} fields, as EventReactor's envelope has them. A key without a colon
 * matches {@code event_type} alone. Entries may also carry any of Sluice's handler settings
 * ({@code timeout}, {@code max_attempts}, ...).
 */
public final class EventReactorHandlers {
    private EventReactorHandlers() {}

    /**
     * The handlers of a parsed {@code event-handlers.json}.
     *
     * @param where the file's name, for errors
     * @param base the directory commands run in
     * @throws IllegalArgumentException naming the key and entry at fault
     */
    public static List<HandlerDefinition> read(JsonNode root, String where, Path base) {
        if (!root.isObject()) {
            throw new IllegalArgumentException(
                    where + ": must be an object of \"namespace:event_type\" keys to lists of handlers");
        }
        List<HandlerDefinition> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            JsonNode entries =
                    e.getValue().isObject() ? Json.nodes().arrayNode().add(e.getValue()) : e.getValue();
            if (!entries.isArray()) {
                throw new IllegalArgumentException(
                        where + ": \"" + key + "\": must be a list of {\"driver\", \"handler\"} entries");
            }
            ObjectNode filter = Json.object();
            int colon = key.indexOf(':');
            if (colon >= 0) {
                filter.put("namespace", key.substring(0, colon));
                filter.put("event_type", key.substring(colon + 1));
            } else {
                filter.put("event_type", key);
            }
            for (int i = 0; i < entries.size(); i++) {
                JsonNode entry = entries.get(i);
                String at = where + ": \"" + key + "\"[" + i + "]";
                if (!entry.isObject()) {
                    throw new IllegalArgumentException(at + ": must be an object {\"driver\", \"handler\"}");
                }
                ObjectNode d = ((ObjectNode) entry).deepCopy();
                d.put("name", i == 0 ? key : key + "@" + (i + 1));
                d.set("filter", filter);
                out.add(HandlerDefinition.read(d, at, base));
            }
        }
        return out;
    }
}
