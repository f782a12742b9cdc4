package io.sluice.core.trigger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sluice.api.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Winchester's {@code winchester.yaml}, loaded unchanged, with the files it names
 * ({@code trigger_definitions}, {@code pipeline_config}, {@code distiller_config}) found through
 * {@code config_path} (a directory or a list, relative to the file) as Winchester finds them.
 * {@code database} is not used: Sluice keeps streams in its own store (a notice says so).
 * Settings Sluice does not need ({@code statistics_period}, {@code logging_config},
 * {@code time_sync_endpoint}) are accepted and ignored; {@code pipeline_worker_batch_size} and
 * {@code pipeline_worker_delay} set the pipeline workers as in Winchester ({@link WorkerSettings}).
 *
 * @param file the winchester.yaml
 * @param triggers the trigger definitions, in file order
 * @param pipelines the pipelines by name
 * @param handlers {@code pipeline_handlers}: handler name to its implementation
 *     ({@code winchester.pipeline_handler:UsageHandler} or a Java class name)
 * @param distillerConfig the StackDistiller definitions file, or null
 * @param catchAllNotifications whether notifications without a definition still become events
 * @param purgeCompletedStreams whether completed streams are deleted rather than kept
 * @param trimEvents whether events of no stream are deleted after {@code trim_events_age}
 * @param eventTime Sluice's {@code sluice: {time: event}}: the triggers' clock is the time of the
 *     events read, not the wall clock (a trigger's own {@code time:} overrides it)
 * @param lateAllowance with event time, how far behind the latest event time an event may be
 *     and still join its streams ({@code sluice: {late_allowance: 10m}}); the triggers' clock
 *     runs this far behind the latest event time
 * @param workers how each server's pipeline workers run due streams
 * @param eventTimeOnly every trigger on event time, whatever its own {@code time:} says (a replay)
 * @param settings every key of the file, for the API
 */
public record WinchesterConfig(
        Path file,
        List<TriggerDefinition> triggers,
        Map<String, PipelineDefinition> pipelines,
        Map<String, String> handlers,
        Path distillerConfig,
        boolean catchAllNotifications,
        boolean purgeCompletedStreams,
        boolean trimEvents,
        boolean eventTime,
        java.time.Duration lateAllowance,
        WorkerSettings workers,
        boolean eventTimeOnly,
        JsonNode settings) {
    private static final Logger LOG = LoggerFactory.getLogger(WinchesterConfig.class);

    /** The same definitions, all on event time (a replay runs on the times of what it reads). */
    public WinchesterConfig withEventTime() {
        return new WinchesterConfig(
                file,
                triggers,
                pipelines,
                handlers,
                distillerConfig,
                catchAllNotifications,
                purgeCompletedStreams,
                trimEvents,
                true,
                lateAllowance,
                workers,
                true,
                settings);
    }

    private static final Set<String> KEYS = Set.of(
            "config_path",
            "trigger_definitions",
            "pipeline_config",
            "pipeline_handlers",
            "distiller_config",
            "distiller_trait_plugins",
            "catch_all_notifications",
            "pipeline_worker_batch_size",
            "pipeline_worker_delay",
            "purge_completed_streams",
            "trim_events",
            "trim_events_age",
            "trim_events_batch_size",
            "statistics_period",
            "logging_config",
            "log_level",
            "database",
            "time_sync_endpoint",
            "sluice");

    /** The implementations of Winchester's own pipeline handlers, by the names Winchester's files give them. */
    public static final Map<String, String> BUILT_IN = Map.of(
            "winchester.pipeline_handler:LoggingHandler", "logger",
            "winchester.pipeline_handler:UsageHandler", "usage",
            "winchester.pipeline_handler:NotabeneHandler", "notabene");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /**
     * Loads a winchester.yaml and the files it names.
     *
     * @throws DefinitionException naming the file and the key, trigger or pipeline at fault
     */
    public static WinchesterConfig load(Path file) {
        JsonNode root = read(file);
        if (!root.isObject()) {
            throw new DefinitionException(file + ": must be a mapping of Winchester settings");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!KEYS.contains(key)) {
                throw new DefinitionException(file + ": " + key + ": unknown Winchester setting (known: "
                        + String.join(", ", KEYS.stream().sorted().toList()) + ")");
            }
        }
        Path base = file.toAbsolutePath().getParent();
        List<Path> searchPath = new ArrayList<>();
        JsonNode cp = root.get("config_path");
        if (cp != null) {
            for (JsonNode p : cp.isArray() ? cp : Json.nodes().arrayNode().add(cp)) {
                searchPath.add(base.resolve(p.asText()));
            }
        }
        searchPath.add(base);
        if (root.has("database")) {
            LOG.info("{}: database is not used: Sluice keeps Winchester's streams in its own store", file);
        }
        Map<String, String> handlers = new LinkedHashMap<>();
        JsonNode ph = root.get("pipeline_handlers");
        if (ph != null) {
            if (!ph.isObject()) {
                throw new DefinitionException(file + ": pipeline_handlers: must map handler names to implementations");
            }
            ph.fields()
                    .forEachRemaining(e -> handlers.put(e.getKey(), e.getValue().asText()));
        }
        Map<String, PipelineDefinition> pipelines = new LinkedHashMap<>();
        JsonNode pc = root.get("pipeline_config");
        if (pc != null) {
            Path p = find(file, "pipeline_config", pc.asText(), searchPath);
            pipelines.putAll(pipelines(read(p), p, handlers));
        }
        List<TriggerDefinition> triggers = new ArrayList<>();
        JsonNode td = root.get("trigger_definitions");
        if (td != null) {
            Path p = find(file, "trigger_definitions", td.asText(), searchPath);
            JsonNode list = read(p);
            if (!list.isArray()) {
                throw new DefinitionException(p + ": must be a list of triggers");
            }
            Set<String> names = new java.util.HashSet<>();
            for (int i = 0; i < list.size(); i++) {
                TriggerDefinition t = new TriggerDefinition(list.get(i), p.toString(), i);
                if (!names.add(t.name())) {
                    throw new DefinitionException(p + ": trigger '" + t.name() + "': name: defined twice");
                }
                for (String[] kp :
                        new String[][] {{"fire_pipeline", t.firePipeline()}, {"expire_pipeline", t.expirePipeline()}}) {
                    if (kp[1] != null && !pipelines.containsKey(kp[1])) {
                        throw new DefinitionException(
                                p + ": trigger '" + t.name() + "': " + kp[0] + ": no pipeline named '" + kp[1]
                                        + "' (pipelines: " + String.join(", ", pipelines.keySet()) + ")");
                    }
                }
                triggers.add(t);
            }
        }
        Path distiller = null;
        JsonNode dc = root.get("distiller_config");
        if (dc != null) {
            distiller = find(file, "distiller_config", dc.asText(), searchPath);
        }
        return new WinchesterConfig(
                file,
                triggers,
                pipelines,
                handlers,
                distiller,
                root.path("catch_all_notifications").asBoolean(false),
                root.path("purge_completed_streams").asBoolean(false),
                root.path("trim_events").asBoolean(false),
                eventTime(root.get("sluice"), file),
                lateAllowance(root.get("sluice"), file),
                WorkerSettings.of(root, root.get("sluice"), file),
                false,
                root);
    }

    /** {@code sluice: {time: wall|event}}: Sluice's own settings, beside Winchester's. */
    private static boolean eventTime(JsonNode sluice, Path file) {
        if (sluice == null || sluice.isNull()) {
            return false;
        }
        if (!sluice.isObject()) {
            throw new DefinitionException(
                    file + ": sluice: must be a mapping (time, late_allowance, pipeline_workers, retry)");
        }
        for (Iterator<String> it = sluice.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!Set.of("time", "late_allowance", "pipeline_workers", "retry").contains(key)) {
                throw new DefinitionException(file + ": sluice." + key
                        + ": unknown setting (known: time, late_allowance, pipeline_workers, retry)");
            }
        }
        String time = sluice.path("time").asText("wall");
        if (!time.equals("wall") && !time.equals("event")) {
            throw new DefinitionException(file + ": sluice.time: must be wall or event, not '" + time + "'");
        }
        return time.equals("event");
    }

    private static java.time.Duration lateAllowance(JsonNode sluice, Path file) {
        JsonNode v = sluice == null ? null : sluice.get("late_allowance");
        if (v == null || v.isNull()) {
            return java.time.Duration.ZERO;
        }
        try {
            return v.isIntegralNumber()
                    ? java.time.Duration.ofSeconds(v.longValue())
                    : io.sluice.api.component.Settings.parseDuration(v.asText());
        } catch (IllegalArgumentException e) {
            throw new DefinitionException(file + ": sluice.late_allowance: " + e.getMessage());
        }
    }

    private static Map<String, PipelineDefinition> pipelines(JsonNode doc, Path file, Map<String, String> handlers) {
        if (!doc.isObject()) {
            throw new DefinitionException(file + ": must map pipeline names to lists of handlers");
        }
        Map<String, PipelineDefinition> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = doc.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String where = file + ": pipeline '" + e.getKey() + "'";
            if (!e.getValue().isArray()) {
                throw new DefinitionException(where + ": must be a list of handlers (names or {name, params})");
            }
            List<PipelineDefinition.Step> steps = new ArrayList<>();
            for (int i = 0; i < e.getValue().size(); i++) {
                JsonNode h = e.getValue().get(i);
                String name;
                JsonNode params = Json.object();
                if (h.isTextual()) {
                    name = h.textValue();
                } else if (h.isObject() && h.path("name").isTextual()) {
                    name = h.get("name").textValue();
                    if (h.has("params")) {
                        params = h.get("params");
                    }
                } else {
                    throw new DefinitionException(where + ": [" + i + "]: a handler name, or {name, params}");
                }
                if (!handlers.containsKey(name)) {
                    throw new DefinitionException(where + ": [" + i + "]: no handler named '" + name
                            + "' in pipeline_handlers (handlers: " + String.join(", ", handlers.keySet()) + ")");
                }
                steps.add(new PipelineDefinition.Step(name, params));
            }
            out.put(e.getKey(), new PipelineDefinition(e.getKey(), steps));
        }
        return out;
    }

    private static Path find(Path file, String key, String name, List<Path> searchPath) {
        for (Path dir : searchPath) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new DefinitionException(file + ": " + key + ": no file " + name + " in the config path ("
                + String.join(", ", searchPath.stream().map(Path::toString).toList()) + ")");
    }

    /** A YAML (or JSON) file, parsed; errors name the file and the line. */
    public static JsonNode read(Path file) {
        try {
            JsonNode n = YAML.readTree(Files.readString(file));
            return n == null ? Json.nodes().missingNode() : n;
        } catch (NoSuchFileException e) {
            throw new DefinitionException(file + ": no such file");
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            throw new DefinitionException(file + (loc == null ? "" : ":" + loc.getLineNr() + ":" + loc.getColumnNr())
                    + ": invalid YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new DefinitionException(file + ": cannot read: " + e.getMessage());
        }
    }
}
