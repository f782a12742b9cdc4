package io.sluice.server.trigger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.api.pipeline.PipelineHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** Pipeline handlers for the tests: they record what they were given and what was called. */
public final class Recording {
    static final List<String> CALLS = new CopyOnWriteArrayList<>();
    static final List<List<String>> RUNS = new CopyOnWriteArrayList<>();
    static volatile boolean failing;

    private Recording() {}

    static void reset() {
        CALLS.clear();
        RUNS.clear();
        failing = false;
    }

    /** Records the stream's event types in order and adds a verified event derived from the last one. */
    public static final class Verify implements PipelineHandler {
        private final String suffix;

        public Verify(JsonNode params) {
            this.suffix = params.path("suffix").asText(".verified");
        }

        @Override
        public List<ObjectNode> handleEvents(List<ObjectNode> events, Map<String, Object> env) {
            List<String> types = new ArrayList<>();
            events.forEach(e -> types.add(e.path("event_type").asText()));
            RUNS.add(types);
            CALLS.add("verify.handle " + env.get("stream_name"));
            List<ObjectNode> out = new ArrayList<>(events);
            ObjectNode last = events.getLast();
            ObjectNode verified = Json.object();
            verified.put("message_id", last.path("message_id").asText() + suffix);
            verified.put("event_type", last.path("event_type").asText() + suffix);
            verified.put("timestamp", last.path("timestamp").asText());
            verified.put("instance_id", last.path("instance_id").asText());
            out.add(verified);
            return out;
        }

        @Override
        public void commit() {
            CALLS.add("verify.commit");
        }

        @Override
        public void rollback() {
            CALLS.add("verify.rollback");
        }
    }

    /** Throws while {@link #failing} is set. */
    public static final class Flaky implements PipelineHandler {
        @Override
        public List<ObjectNode> handleEvents(List<ObjectNode> events, Map<String, Object> env) {
            CALLS.add("flaky.handle");
            if (failing) {
                throw new IllegalStateException("flaky on purpose");
            }
            return events;
        }

        @Override
        public void commit() {
            CALLS.add("flaky.commit");
        }

        @Override
        public void rollback() {
            CALLS.add("flaky.rollback");
        }
    }
}
