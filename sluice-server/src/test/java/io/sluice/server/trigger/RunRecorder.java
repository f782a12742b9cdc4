package io.sluice.server.trigger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.pipeline.PipelineHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A pipeline handler for the scale-out tests: every run adds an event of its own ({@code
 * stream.ran}, a fresh id each time, so the log keeps every run, repeats included) naming the
 * stream, its event count and the process that ran it. Params: {@code sleep_ms} (how long a run
 * takes) and {@code markers} (a directory where a run leaves {@code started-PID-STREAM} before
 * sleeping, so a test can kill a process mid-pipeline).
 */
public final class RunRecorder implements PipelineHandler {
    private final long sleepMs;
    private final Path markers;

    public RunRecorder(JsonNode params) {
        this.sleepMs = params.path("sleep_ms").asLong(0);
        this.markers =
                params.hasNonNull("markers") ? Path.of(params.get("markers").asText()) : null;
    }

    @Override
    public List<ObjectNode> handleEvents(List<ObjectNode> events, Map<String, Object> env) throws Exception {
        long pid = ProcessHandle.current().pid();
        if (markers != null) {
            Files.writeString(markers.resolve("started-" + pid + "-" + env.get("stream_id")), "");
        }
        if (sleepMs > 0) {
            Thread.sleep(sleepMs);
        }
        ObjectNode last = events.getLast();
        ObjectNode ran = last.objectNode();
        ran.put("message_id", "ran-" + UUID.randomUUID());
        ran.put("event_type", "stream.ran");
        ran.put("timestamp", last.path("timestamp").asText());
        ran.put("instance_id", last.path("instance_id").asText());
        ran.put("stream_id", Long.parseLong(String.valueOf(env.get("stream_id"))));
        ran.put("events", events.size());
        ran.put("pid", pid);
        List<ObjectNode> out = new ArrayList<>(events);
        out.add(ran);
        return out;
    }
}
