package io.sluice.server.trigger;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.pipeline.PipelineHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A pipeline handler for the crash test: takes a while (so that a kill lands mid-burst) and
 * adds one event per fired stream, with an id derived from the instance, so that a stream fired
 * twice would show as a second pipeline run (the log keeps one event per id).
 */
public final class FiringHandler implements PipelineHandler {
    @Override
    public List<ObjectNode> handleEvents(List<ObjectNode> events, Map<String, Object> env) throws Exception {
        Thread.sleep(15);
        ObjectNode last = events.getLast();
        ObjectNode fired = last.objectNode();
        fired.put("message_id", "fired-" + last.path("instance_id").asText());
        fired.put("event_type", "instance.fired");
        fired.put("timestamp", last.path("timestamp").asText());
        fired.put("instance_id", last.path("instance_id").asText());
        fired.put("stream_id", String.valueOf(env.get("stream_id")));
        fired.put("events", events.size());
        List<ObjectNode> out = new ArrayList<>(events);
        out.add(fired);
        return out;
    }
}
