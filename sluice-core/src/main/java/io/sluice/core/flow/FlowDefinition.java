package io.sluice.core.flow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.api.component.Settings;
import io.sluice.core.yaml.YamlLines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A flow as written: the bootstrap document Compysition and Wishbone used,
 *
 * <pre>
 * modules:
 *   input:  {module: file_input, arguments: {path: in.ndjson}}
 *   output: {module: stdout}
 * routingtable:
 *   - input.outbox -> output.inbox
 * logs: logformat          # optional: the module that receives every module's log records
 * metrics: graphite        # optional: the module that receives the metrics
 * </pre>
 *
 * checked for its shape only; {@link Flow} resolves the module types and their arguments.
 * Every error names the file, the line and the key, module or route at fault.
 */
public final class FlowDefinition {
    private static final Set<String> KEYS =
            Set.of("name", "modules", "routingtable", "logs", "metrics", "metrics_interval", "stop_timeout");
    private static final Pattern ROUTE = Pattern.compile("\\s*(\\S+)\\.([^.\\s]+)\\s*->\\s*(\\S+)\\.([^.\\s]+)\\s*");

    /**
     * A module as declared.
     *
     * @param name its name in the flow
     * @param type the module type as written ({@code fanout}, {@code wishbone.flow.fanout})
     * @param arguments its arguments (an empty mapping when none)
     * @param line where it is declared (0: unknown)
     */
    public record ModuleDef(String name, String type, ObjectNode arguments, int line) {}

    /**
     * A connection as written, {@code a.outbox -> b.inbox}.
     *
     * @param fromModule the sending module
     * @param fromQueue its outgoing queue
     * @param toModule the receiving module
     * @param toQueue its incoming queue
     * @param text the route as written
     * @param line where it is written (0: unknown)
     */
    public record Route(String fromModule, String fromQueue, String toModule, String toQueue, String text, int line) {
        /** The sending end, {@code module.queue}. */
        public String from() {
            return fromModule + "." + fromQueue;
        }

        /** The receiving end, {@code module.queue}. */
        public String to() {
            return toModule + "." + toQueue;
        }
    }

    private final String name;
    private final String origin;
    private final Path base;
    private final Map<String, ModuleDef> modules;
    private final List<Route> routes;
    private final String logs;
    private final String metrics;
    private final Duration metricsInterval;
    private final Duration stopTimeout;
    private final YamlLines tree;

    private FlowDefinition(String name, String origin, Path base, YamlLines tree) {
        this.name = name;
        this.origin = origin;
        this.base = base;
        this.tree = tree;
        JsonNode root = tree.root();
        if (!root.isObject()) {
            throw error("", "a flow must be a mapping with modules: and routingtable:");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!KEYS.contains(key)) {
                throw error(
                        key,
                        "unknown key (known: modules, routingtable, logs, metrics, metrics_interval, stop_timeout, name)");
            }
        }
        this.modules = new LinkedHashMap<>();
        JsonNode mods = root.get("modules");
        if (mods == null || !mods.isObject() || mods.isEmpty()) {
            throw error("modules", "a flow needs modules: a mapping of names to {module: TYPE, arguments: {...}}");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = mods.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            addModule(e.getKey(), e.getValue(), "modules." + e.getKey());
        }
        this.logs = sideModule("logs");
        this.metrics = sideModule("metrics");
        this.routes = new ArrayList<>();
        JsonNode table = root.get("routingtable");
        if (table != null && !table.isNull()) {
            if (!table.isArray()) {
                throw error("routingtable", "must be a list of routes such as \"input.outbox -> output.inbox\"");
            }
            for (int i = 0; i < table.size(); i++) {
                routes.add(route(table.get(i), "routingtable[" + i + "]"));
            }
        }
        this.metricsInterval = duration("metrics_interval", Duration.ofSeconds(10));
        this.stopTimeout = duration("stop_timeout", Duration.ofSeconds(30));
    }

    /**
     * Reads a flow file; the flow's name is the file's name without its extension.
     *
     * @throws FlowException naming the file and line
     */
    public static FlowDefinition load(Path file) throws IOException {
        String fileName = file.getFileName().toString();
        String stem = fileName.contains(".") ? fileName.substring(0, fileName.lastIndexOf('.')) : fileName;
        YamlLines tree;
        try {
            tree = YamlLines.parse(Files.readString(file), file.toString());
        } catch (IllegalArgumentException e) {
            throw new FlowException(e.getMessage());
        }
        String name =
                tree.root().path("name").isTextual() ? tree.root().get("name").textValue() : stem;
        Path dir = file.toAbsolutePath().getParent();
        return new FlowDefinition(name, file.toString(), dir, tree);
    }

    /**
     * A flow given as a tree (inline in a server configuration).
     *
     * @param document the bootstrap document; its {@code name} key names the flow
     * @param origin where it is written, for errors ({@code sluice.yaml: flows[0]})
     * @param base the directory relative paths resolve against
     */
    public static FlowDefinition of(JsonNode document, String origin, Path base) {
        String name = document.path("name").asText("");
        if (name.isEmpty()) {
            throw new FlowException(origin + ": an inline flow needs a name:");
        }
        return new FlowDefinition(name, origin, base, YamlLines.of(document));
    }

    private void addModule(String moduleName, JsonNode def, String path) {
        if (!moduleName.matches("[A-Za-z0-9_][A-Za-z0-9_-]*")) {
            throw error(path, "a module name is letters, digits, '_' and '-' (it appears in routes as NAME.queue)");
        }
        if (def == null || !def.isObject()) {
            throw error(path, "must be a mapping: {module: TYPE, arguments: {...}}");
        }
        for (Iterator<String> it = def.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!key.equals("module") && !key.equals("arguments")) {
                throw error(path + "." + key, "unknown key of a module (known: module, arguments)");
            }
        }
        JsonNode type = def.get("module");
        if (type == null || !type.isTextual() || type.textValue().isBlank()) {
            throw error(path + ".module", "required: the module's type, such as fanout or file_input");
        }
        JsonNode args = def.get("arguments");
        if (args != null && !args.isNull() && !args.isObject()) {
            throw error(path + ".arguments", "must be a mapping of argument names to values");
        }
        ObjectNode arguments = args == null || args.isNull() ? Json.object() : (ObjectNode) args;
        if (modules.put(moduleName, new ModuleDef(moduleName, type.textValue(), arguments, tree.line(path))) != null) {
            throw error(path, "a second module named '" + moduleName + "'");
        }
    }

    /** {@code logs:} or {@code metrics:}: a module's name, or a module declared in place. */
    private String sideModule(String key) {
        JsonNode v = tree.root().get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isTextual()) {
            if (!modules.containsKey(v.textValue())) {
                throw error(
                        key,
                        "names no module of this flow: '" + v.textValue() + "' (modules: "
                                + String.join(", ", modules.keySet()) + ")");
            }
            return v.textValue();
        }
        addModule(key, v, key);
        return key;
    }

    private Route route(JsonNode item, String path) {
        if (!item.isTextual()) {
            throw error(path, "a route is a string such as \"input.outbox -> output.inbox\", not " + item);
        }
        Matcher m = ROUTE.matcher(item.textValue());
        if (!m.matches()) {
            throw error(path, "malformed route '" + item.textValue() + "': write MODULE.QUEUE -> MODULE.QUEUE");
        }
        Route r = new Route(
                m.group(1), m.group(2), m.group(3), m.group(4), item.textValue().strip(), tree.line(path));
        for (String mod : List.of(r.fromModule(), r.toModule())) {
            if (!modules.containsKey(mod)) {
                throw error(
                        path,
                        "route '" + r.text() + "' names an unknown module '" + mod + "' (modules: "
                                + String.join(", ", modules.keySet()) + ")");
            }
        }
        return r;
    }

    private Duration duration(String key, Duration otherwise) {
        JsonNode v = tree.root().get(key);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        try {
            return v.isIntegralNumber() ? Duration.ofSeconds(v.longValue()) : Settings.parseDuration(v.asText());
        } catch (IllegalArgumentException e) {
            throw error(key, e.getMessage());
        }
    }

    /** An error at a key path: {@code file:line: path: problem}. */
    FlowException error(String path, String problem) {
        int line = tree.line(path);
        return new FlowException(
                origin + (line > 0 ? ":" + line : "") + (path.isEmpty() ? "" : ": " + path) + ": " + problem);
    }

    /** An error about a module's arguments, at the argument's line when known. */
    FlowException argumentError(ModuleDef m, IllegalArgumentException e) {
        String msg = e.getMessage();
        String prefix = "modules." + m.name() + ".arguments";
        String path = prefix;
        if (msg != null && msg.startsWith(prefix + ".")) {
            int colon = msg.indexOf(':');
            path = colon > 0 ? msg.substring(0, colon) : prefix;
        }
        int line = m.name().equals(logs) || m.name().equals(metrics) ? tree.line(m.name()) : tree.line(path);
        return new FlowException(origin + (line > 0 ? ":" + line : "") + ": " + msg);
    }

    /** An error about a route. */
    FlowException routeError(Route r, String problem) {
        return new FlowException(
                origin + (r.line() > 0 ? ":" + r.line() : "") + ": route '" + r.text() + "': " + problem);
    }

    /** The flow's name. */
    public String name() {
        return name;
    }

    /** Where it is written. */
    public String origin() {
        return origin;
    }

    /** The directory relative paths resolve against. */
    public Path base() {
        return base;
    }

    /** The modules, in the order declared. */
    public Map<String, ModuleDef> modules() {
        return modules;
    }

    /** The routes, in routing-table order. */
    public List<Route> routes() {
        return routes;
    }

    /** The module receiving log records, or null (human-readable lines on stderr). */
    public String logs() {
        return logs;
    }

    /** The module receiving metrics, or null. */
    public String metrics() {
        return metrics;
    }

    /** How often metrics are sent to the metrics module. */
    public Duration metricsInterval() {
        return metricsInterval;
    }

    /** How long a clean stop waits for the queues to drain before giving up on what is left. */
    public Duration stopTimeout() {
        return stopTimeout;
    }
}
