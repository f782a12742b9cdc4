package io.sluice.core.handle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.api.component.Settings;
import io.sluice.api.handler.Invocation;
import io.sluice.api.pipeline.PipelineHandler;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Trigger pipeline handlers that run the handlers' drivers: {@code shell} runs a command with
 * the stream's events, {@code webhook} POSTs them. Both act while the pipeline runs, not on
 * commit, so that a failure fails the pipeline (rollback, the stream in error, retry); a retry
 * repeats the call, which carries the stream id to recognise it by.
 *
 * <ul>
 *   <li>{@code shell} (params {@code command}, {@code timeout}, default 30s): the command is
 *       split into words and never given to a shell, as for handlers; it gets the events as a
 *       JSON array on stdin, {@code SLUICE_STREAM_ID} and {@code SLUICE_TRIGGER} in its
 *       environment, and runs in the configuration's directory. Exit 0 passes the events on —
 *       or, if it printed a JSON array of objects, those (so a command may add events);
 *       anything else fails the pipeline with its exit code and stderr.
 *   <li>{@code webhook} (params {@code url}, {@code timeout}, default 10s): POSTs {@code
 *       {"stream_id", "trigger", "events": [...]}}; a 2xx passes the events on, anything else
 *       fails the pipeline.
 * </ul>
 */
public final class PipelineDrivers {
    private static final long MAX_OUTPUT = 16L << 20;

    private PipelineDrivers() {}

    /** The {@code shell} pipeline handler for these params; commands resolve against {@code base}. */
    public static PipelineHandler shell(JsonNode params, Path base) {
        String command = text(params, "command", "shell");
        Duration timeout = duration(params, Duration.ofSeconds(30));
        ShellDriver driver = new ShellDriver(
                command,
                base,
                timeout,
                MAX_OUTPUT,
                false,
                inv -> Map.of("SLUICE_STREAM_ID", inv.eventId(), "SLUICE_TRIGGER", inv.eventType()));
        return (events, env) -> {
            Driver.Outcome o = driver.run(invocation("shell", env, Json.write(array(events))));
            if (!o.ok()) {
                throw new IllegalStateException(command + ": " + o.summary());
            }
            return parsedOr(o.output(), events);
        };
    }

    /** The {@code webhook} pipeline handler for these params. */
    public static PipelineHandler webhook(JsonNode params) {
        String url = text(params, "url", "webhook");
        Duration timeout = duration(params, Duration.ofSeconds(10));
        HttpDriver driver = new HttpDriver(url, timeout, MAX_OUTPUT);
        return (events, env) -> {
            ObjectNode body = Json.object();
            body.put("stream_id", String.valueOf(env.get("stream_id")));
            body.put("trigger", String.valueOf(env.get("stream_name")));
            body.set("events", array(events));
            try {
                Driver.Outcome o = driver.run(invocation("webhook", env, Json.write(body)));
                if (!o.ok()) {
                    throw new IllegalStateException(url + ": " + o.summary());
                }
            } finally {
                driver.close();
            }
            return events;
        };
    }

    private static Invocation invocation(String kind, Map<String, Object> env, String json) {
        String stream = String.valueOf(env.get("stream_id"));
        return new Invocation(
                "pipeline:" + kind + ":" + env.get("stream_name"),
                0,
                stream,
                String.valueOf(env.get("stream_name")),
                json,
                1);
    }

    private static ArrayNode array(List<ObjectNode> events) {
        ArrayNode a = Json.nodes().arrayNode();
        events.forEach(a::add);
        return a;
    }

    /** The command's output as events when it is a JSON array of objects; else the events given. */
    private static List<ObjectNode> parsedOr(String output, List<ObjectNode> events) {
        if (output == null || output.isBlank() || !output.strip().startsWith("[")) {
            return events;
        }
        JsonNode parsed;
        try {
            parsed = Json.parse(output);
        } catch (IllegalArgumentException e) {
            return events;
        }
        List<ObjectNode> out = new ArrayList<>();
        for (JsonNode n : parsed) {
            if (!(n instanceof ObjectNode o)) {
                return events;
            }
            out.add(o);
        }
        return out;
    }

    private static String text(JsonNode params, String key, String handler) {
        JsonNode v = params == null ? null : params.get(key);
        if (v == null || !v.isTextual() || v.textValue().isBlank()) {
            throw new IllegalArgumentException("the " + handler + " pipeline handler needs params: {" + key + ": ...}");
        }
        return v.textValue();
    }

    private static Duration duration(JsonNode params, Duration otherwise) {
        JsonNode v = params == null ? null : params.get("timeout");
        return v == null || v.isNull() ? otherwise : Settings.parseDuration(v.asText());
    }
}
