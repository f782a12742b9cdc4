package io.sluice.server.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sluice.api.Envelope;
import io.sluice.api.Names;
import io.sluice.api.component.Settings;
import io.sluice.api.component.Sink;
import io.sluice.api.component.Source;
import io.sluice.core.connect.InputRunner;
import io.sluice.core.flow.FlowDefinition;
import io.sluice.core.flow.FlowException;
import io.sluice.core.handle.EventReactorHandlers;
import io.sluice.core.handle.HandlerDefinition;
import io.sluice.core.query.StandingQueries;
import io.sluice.core.query.StandingQuery;
import io.sluice.core.route.QueryBook;
import io.sluice.core.route.QueryEdits;
import io.sluice.core.trigger.DefinitionException;
import io.sluice.core.trigger.WinchesterConfig;
import io.sluice.server.Components;
import io.sluice.server.zmq.ZeroMqRouter;
import io.sluice.store.sqlite.Compression;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server's configuration: from {@code sluice.yaml} (every key optional) and command-line
 * overrides. No file at all gives the embedded defaults: {@code 127.0.0.1:8470}, SQLite in
 * {@code ./sluice-data}.
 *
 * @param bind the address to listen on
 * @param port the port (0: any free port)
 * @param store where events are kept
 * @param limits request limits of the HTTP API
 * @param retention how much of the log is kept
 * @param envelope the names of the id, type and time fields
 * @param routing outputs and standing queries
 * @param handling handlers and where their Java classes are found
 */
public record ServerConfig(
        String bind,
        int port,
        Store store,
        Limits limits,
        Retention retention,
        Envelope envelope,
        Routing routing,
        Handling handling) {

    /** The default port. */
    public static final int DEFAULT_PORT = 8470;

    /**
     * The store.
     *
     * @param type {@code sqlite} (the default) or {@code postgres}
     * @param path the SQLite data directory
     * @param url the PostgreSQL URL ({@code jdbc:postgresql://...} or {@code postgres://...})
     * @param schema the PostgreSQL schema holding Sluice's tables (default {@code sluice})
     * @param compression how the SQLite store writes new chunks (default {@code zstd})
     */
    public record Store(String type, Path path, String url, String schema, Compression compression) {
        /** The default PostgreSQL schema. */
        public static final String DEFAULT_SCHEMA = "sluice";

        /** The embedded store in {@code dir}, compressing chunks with zstd. */
        public static Store sqlite(Path dir) {
            return sqlite(dir, Compression.ZSTD);
        }

        /** The embedded store in {@code dir}, writing chunks as {@code compression} says. */
        public static Store sqlite(Path dir, Compression compression) {
            return new Store("sqlite", dir, null, null, compression);
        }

        /** The shared store at {@code url}, in {@code schema}. */
        public static Store postgres(String url, String schema) {
            return new Store("postgres", null, url, schema, null);
        }
    }

    /**
     * Limits on what one request may carry; larger requests are refused with 413 and store nothing.
     *
     * @param maxBodyBytes bytes of one request body
     * @param maxEventBytes bytes of one event's JSON
     * @param maxEventsPerRequest events in one request
     * @param maxInflightBytes bytes of request bodies inside the server at once (read, parsed or
     *     waiting for the log); further requests wait their turn, then get 503. Zero: the larger
     *     of {@code maxBodyBytes} and an eighth of the heap
     */
    public record Limits(long maxBodyBytes, long maxEventBytes, int maxEventsPerRequest, long maxInflightBytes) {
        public static final Limits DEFAULT = new Limits(64L << 20, 1L << 20, 100_000, 0);

        /** Limits with the in-flight budget chosen from the heap. */
        public Limits(long maxBodyBytes, long maxEventBytes, int maxEventsPerRequest) {
            this(maxBodyBytes, maxEventBytes, maxEventsPerRequest, 0);
        }

        /** The in-flight budget in bytes: {@link #maxInflightBytes}, or chosen from the heap when zero. */
        public long inflightBudget() {
            if (maxInflightBytes > 0) {
                return maxInflightBytes;
            }
            return inflightBudget(Runtime.getRuntime().maxMemory());
        }

        /** The budget chosen for a heap of {@code maxHeapBytes}: an eighth of it, at least the body limit. */
        long inflightBudget(long maxHeapBytes) {
            return maxInflightBytes > 0 ? maxInflightBytes : Math.max(maxBodyBytes, maxHeapBytes / 8);
        }
    }

    /**
     * Retention, enforced continuously: the oldest events go first. Zero means no limit.
     *
     * @param maxEvents keep at most this many events
     * @param maxBytes keep at most this many bytes of event JSON
     * @param maxAge keep events ingested no longer ago than this (null: no limit)
     */
    public record Retention(long maxEvents, long maxBytes, Duration maxAge) {
        public static final Retention NONE = new Retention(0, 0, null);

        public boolean limited() {
            return maxEvents > 0 || maxBytes > 0 || maxAge != null;
        }
    }

    /**
     * One configured output.
     *
     * @param name its name ({@code outputs: {NAME: ...}})
     * @param settings its settings, read by its type's spec
     * @param base the directory relative paths in it are resolved against
     */
    public record OutputConfig(String name, Settings settings, Path base) {
        /** Makes the output's sink. */
        public Sink sink() {
            return Components.output(settings.spec().type()).factory().make(settings, base);
        }
    }

    /**
     * Routing: the outputs, where queries without an output go, and the queries the
     * configuration applies at start.
     *
     * @param outputs the named outputs
     * @param defaultOutput the output of queries that name none; null: none (matches only counted)
     * @param queries standing query edits to apply at start (those already active unchanged are kept)
     */
    public record Routing(
            List<InputConfig> inputs, List<OutputConfig> outputs, String defaultOutput, List<QueryBook.Edit> queries) {
        public static final Routing NONE = new Routing(List.of(), List.of(), null, List.of());

        public Routing {
            inputs = List.copyOf(inputs);
            outputs = List.copyOf(outputs);
            queries = List.copyOf(queries);
        }
    }

    /**
     * One configured input.
     *
     * @param name where it is, such as {@code inputs[0]}
     * @param settings its settings, read by its type's spec
     * @param base the directory relative paths in it are resolved against
     */
    public record InputConfig(String name, Settings settings, Path base) {
        /** Makes the input's source. */
        public Source source() {
            return Components.input(settings.spec().type()).factory().make(settings, base);
        }

        /**
         * The input's distill step ({@code distill:}), or null: raw notifications become the events
         * the definitions make of them.
         *
         * @throws ConfigException naming the definitions file and what is wrong in it
         */
        public io.sluice.core.distill.Distiller distiller(java.time.Clock clock) {
            if (!settings.has("distill")) {
                return null;
            }
            try {
                return io.sluice.core.distill.Distiller.load(
                        base.resolve(settings.string("distill")), settings.bool("distill_catch_all"), clock);
            } catch (io.sluice.core.distill.DistillerException e) {
                throw new ConfigException(name + ".distill: " + e.getMessage());
            }
        }

        /** What its messages hold: events, unless the type has {@code messages} set to queries. */
        public InputRunner.Messages messages() {
            return settings.spec().field("messages") != null && "queries".equals(settings.string("messages"))
                    ? InputRunner.Messages.QUERIES
                    : InputRunner.Messages.EVENTS;
        }
    }

    /**
     * Handlers: the configured definitions ({@code handlers:} and {@code event_handlers:}) and
     * the directory of jars that {@code driver: java} classes may come from.
     *
     * @param handlers the definitions, in the order given
     * @param pluginsDir a directory of jars, or null
     * @param base the directory handlers defined through the API run in (the config file's)
     * @param zeromq EventReactor's ZeroMQ router, or null
     * @param winchester Winchester's triggers and pipelines ({@code winchester: PATH}), or null
     * @param flows Compysition-style flows ({@code flows:}), checked for their shape; their
     *     module types and arguments are checked when the server makes them
     */
    public record Handling(
            List<HandlerDefinition> handlers,
            Path pluginsDir,
            Path base,
            ZeroMqRouter.Config zeromq,
            WinchesterConfig winchester,
            List<FlowDefinition> flows) {
        public static final Handling NONE = new Handling(List.of(), null, null, null, null, List.of());

        public Handling {
            handlers = List.copyOf(handlers);
            flows = List.copyOf(flows);
        }

        /** The same, with these flows. */
        public Handling withFlows(List<FlowDefinition> newFlows) {
            return new Handling(handlers, pluginsDir, base, zeromq, winchester, newFlows);
        }
    }

    /** The defaults, with SQLite in {@code dataDir}. */
    public static ServerConfig defaults(Path dataDir) {
        return new ServerConfig(
                "127.0.0.1",
                DEFAULT_PORT,
                Store.sqlite(dataDir),
                Limits.DEFAULT,
                Retention.NONE,
                Envelope.DEFAULT,
                Routing.NONE,
                Handling.NONE);
    }

    public ServerConfig withBind(String newBind) {
        return new ServerConfig(newBind, port, store, limits, retention, envelope, routing, handling);
    }

    public ServerConfig withPort(int newPort) {
        return new ServerConfig(bind, newPort, store, limits, retention, envelope, routing, handling);
    }

    public ServerConfig withDataDir(Path dir) {
        Compression compression = store.compression() != null ? store.compression() : Compression.ZSTD;
        return new ServerConfig(
                bind, port, Store.sqlite(dir, compression), limits, retention, envelope, routing, handling);
    }

    public ServerConfig withStore(Store newStore) {
        return new ServerConfig(bind, port, newStore, limits, retention, envelope, routing, handling);
    }

    public ServerConfig withRetention(Retention newRetention) {
        return new ServerConfig(bind, port, store, limits, newRetention, envelope, routing, handling);
    }

    public ServerConfig withRouting(Routing newRouting) {
        return new ServerConfig(bind, port, store, limits, retention, envelope, newRouting, handling);
    }

    public ServerConfig withHandling(Handling newHandling) {
        return new ServerConfig(bind, port, store, limits, retention, envelope, routing, newHandling);
    }

    public ServerConfig withLimits(Limits newLimits) {
        return new ServerConfig(bind, port, store, newLimits, retention, envelope, routing, handling);
    }

    // ------------------------------------------------------------------ loading

    private static final Set<String> TOP_LEVEL = Set.of(
            "server",
            "store",
            "envelope",
            "inputs",
            "outputs",
            "default_output",
            "queries",
            "handlers",
            "event_handlers",
            "plugins_dir",
            "zeromq",
            "winchester",
            "flows");

    /**
     * Reads a configuration file; relative paths in it are resolved against its directory.
     *
     * @throws ConfigException naming the file, and the key path or line and column
     */
    public static ServerConfig load(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file");
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            throw new ConfigException(
                    file + (loc == null ? "" : ":" + loc.getLineNr() + ":" + loc.getColumnNr()) + ": invalid YAML: "
                            + e.getOriginalMessage(),
                    e);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        Path base = file.toAbsolutePath().getParent();
        ServerConfig config = defaults(base.resolve("sluice-data"));
        if (root == null || root.isMissingNode() || root.isNull()) {
            return config;
        }
        Reader r = new Reader(file.toString());
        r.object(root, "");
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!TOP_LEVEL.contains(key)) {
                throw new ConfigException(file + ": unknown key '" + key + "' (known: "
                        + String.join(", ", TOP_LEVEL.stream().sorted().toList()) + ")");
            }
        }
        JsonNode server = root.path("server");
        String bind = config.bind;
        int port = config.port;
        Limits limits = config.limits;
        if (!server.isMissingNode()) {
            r.keys(server, "server", Set.of("bind", "port", "limits"));
            bind = r.text(server, "server.bind", bind);
            port = (int) r.integer(server.get("port"), "server.port", port, 0, 65_535);
            JsonNode l = server.path("limits");
            if (!l.isMissingNode()) {
                r.keys(
                        l,
                        "server.limits",
                        Set.of("max_body_bytes", "max_event_bytes", "max_events_per_request", "max_inflight_bytes"));
                limits = new Limits(
                        r.size(l.get("max_body_bytes"), "server.limits.max_body_bytes", limits.maxBodyBytes()),
                        r.size(l.get("max_event_bytes"), "server.limits.max_event_bytes", limits.maxEventBytes()),
                        (int) r.integer(
                                l.get("max_events_per_request"),
                                "server.limits.max_events_per_request",
                                limits.maxEventsPerRequest(),
                                1,
                                Integer.MAX_VALUE),
                        r.size(
                                l.get("max_inflight_bytes"),
                                "server.limits.max_inflight_bytes",
                                limits.maxInflightBytes()));
                if (limits.maxInflightBytes() > 0 && limits.maxInflightBytes() < 1024) {
                    throw new ConfigException(file + ": server.limits.max_inflight_bytes: must be at least 1KiB (or 0,"
                            + " the default: the larger of max_body_bytes and an eighth of the heap), not "
                            + limits.maxInflightBytes());
                }
            }
        }
        Store store = config.store;
        Retention retention = Retention.NONE;
        JsonNode s = root.path("store");
        if (!s.isMissingNode()) {
            r.keys(s, "store", Set.of("type", "path", "url", "schema", "compression", "retention"));
            String type = r.text(s, "store.type", "sqlite");
            String compression = r.text(s, "store.compression", null);
            switch (type) {
                case "sqlite" -> {
                    Compression c = Compression.ZSTD;
                    if (compression != null) {
                        try {
                            c = Compression.named(compression);
                        } catch (IllegalArgumentException e) {
                            throw new ConfigException(file + ": store.compression: " + e.getMessage());
                        }
                    }
                    store = Store.sqlite(base.resolve(r.text(s, "store.path", "sluice-data")), c);
                }
                case "postgres" -> {
                    if (compression != null) {
                        throw new ConfigException(file + ": store.compression: only for the sqlite store"
                                + " (PostgreSQL compresses large values itself)");
                    }
                    String url = r.text(s, "store.url", null);
                    if (url == null) {
                        throw new ConfigException(file + ": store.url: required with type postgres");
                    }
                    store = Store.postgres(url, r.text(s, "store.schema", Store.DEFAULT_SCHEMA));
                }
                default ->
                    throw new ConfigException(file + ": store.type: must be sqlite or postgres, not '" + type + "'");
            }
            JsonNode ret = s.path("retention");
            if (!ret.isMissingNode()) {
                r.keys(ret, "store.retention", Set.of("max_events", "max_bytes", "max_age"));
                retention = new Retention(
                        r.integer(ret.get("max_events"), "store.retention.max_events", 0, 0, Long.MAX_VALUE),
                        r.size(ret.get("max_bytes"), "store.retention.max_bytes", 0),
                        r.duration(ret.get("max_age"), "store.retention.max_age"));
            }
        }
        Envelope envelope = config.envelope;
        JsonNode e = root.path("envelope");
        if (e.isTextual()) {
            try {
                envelope = Envelope.preset(e.textValue());
            } catch (IllegalArgumentException ex) {
                throw new ConfigException(file + ": envelope: " + ex.getMessage());
            }
        } else if (!e.isMissingNode()) {
            r.object(e, "envelope");
            r.keys(e, "envelope", Set.of("id", "type", "time"));
            envelope = new Envelope(
                    r.text(e, "envelope.id", "id"),
                    r.text(e, "envelope.type", "type"),
                    r.text(e, "envelope.time", "time"));
        }
        Routing routing = routing(root, file, base);
        Handling handling = handling(root, file, base);
        return new ServerConfig(bind, port, store, limits, retention, envelope, routing, handling);
    }

    private static Handling handling(JsonNode root, Path file, Path base) {
        List<HandlerDefinition> handlers = new ArrayList<>();
        JsonNode hs = root.path("handlers");
        if (!hs.isMissingNode() && !hs.isNull()) {
            if (!hs.isArray()) {
                throw new ConfigException(
                        file + ": handlers: must be a list of handlers ({name, on, driver, handler, ...})");
            }
            for (int i = 0; i < hs.size(); i++) {
                try {
                    handlers.add(HandlerDefinition.read(hs.get(i), "handlers[" + i + "]", base));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(file + ": " + e.getMessage());
                }
            }
        }
        JsonNode eh = root.path("event_handlers");
        if (!eh.isMissingNode() && !eh.isNull()) {
            if (!eh.isTextual()) {
                throw new ConfigException(file + ": event_handlers: must be the path of an event-handlers.json");
            }
            Path path = base.resolve(eh.textValue());
            JsonNode doc;
            try {
                doc = new ObjectMapper().readTree(Files.readString(path));
            } catch (NoSuchFileException e) {
                throw new ConfigException(file + ": event_handlers: no such file: " + path);
            } catch (JsonProcessingException e) {
                var loc = e.getLocation();
                throw new ConfigException(path + (loc == null ? "" : ":" + loc.getLineNr() + ":" + loc.getColumnNr())
                        + ": invalid JSON: " + e.getOriginalMessage());
            } catch (IOException e) {
                throw new ConfigException(file + ": event_handlers: cannot read " + path + ": " + e.getMessage());
            }
            try {
                handlers.addAll(EventReactorHandlers.read(
                        doc, path.toString(), path.toAbsolutePath().getParent()));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(
                        e.getMessage().startsWith(path.toString()) ? e.getMessage() : path + ": " + e.getMessage());
            }
        }
        Set<String> names = new java.util.HashSet<>();
        for (HandlerDefinition h : handlers) {
            if (!names.add(h.name())) {
                throw new ConfigException(file + ": handlers: two handlers are named '" + h.name() + "'");
            }
        }
        Path plugins = null;
        JsonNode pd = root.path("plugins_dir");
        if (!pd.isMissingNode() && !pd.isNull()) {
            if (!pd.isTextual()) {
                throw new ConfigException(file + ": plugins_dir: must be the path of a directory of jars");
            }
            plugins = base.resolve(pd.textValue());
            if (!Files.isDirectory(plugins)) {
                throw new ConfigException(file + ": plugins_dir: no such directory: " + plugins);
            }
        }
        ZeroMqRouter.Config zeromq = null;
        JsonNode z = root.path("zeromq");
        if (!z.isMissingNode() && !z.isNull()) {
            try {
                zeromq = ZeroMqRouter.Config.read(z);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(file + ": " + e.getMessage());
            }
        }
        WinchesterConfig winchester = null;
        JsonNode w = root.path("winchester");
        if (!w.isMissingNode() && !w.isNull()) {
            if (!w.isTextual()) {
                throw new ConfigException(file + ": winchester: must be the path of a winchester.yaml");
            }
            try {
                winchester = WinchesterConfig.load(base.resolve(w.textValue()));
            } catch (DefinitionException e) {
                throw new ConfigException(e.getMessage());
            }
        }
        return new Handling(handlers, plugins, base, zeromq, winchester, flows(root, file, base));
    }

    /** {@code flows:}: paths of flow files, or flows written in place (with a name:), or one of either. */
    private static List<FlowDefinition> flows(JsonNode root, Path file, Path base) {
        JsonNode f = root.path("flows");
        if (f.isMissingNode() || f.isNull()) {
            return List.of();
        }
        List<JsonNode> items = new ArrayList<>();
        if (f.isArray()) {
            f.forEach(items::add);
        } else {
            items.add(f);
        }
        List<FlowDefinition> flows = new ArrayList<>();
        Set<String> names = new java.util.HashSet<>();
        for (int i = 0; i < items.size(); i++) {
            JsonNode item = items.get(i);
            String where = file + ": flows[" + i + "]";
            FlowDefinition def;
            try {
                if (item.isTextual()) {
                    def = FlowDefinition.load(base.resolve(item.textValue()));
                } else if (item.isObject()) {
                    def = FlowDefinition.of(item, where, base);
                } else {
                    throw new ConfigException(
                            where + ": must be the path of a flow file, or a flow (modules:, routingtable:, name:)");
                }
            } catch (NoSuchFileException e) {
                throw new ConfigException(where + ": no such file: " + base.resolve(item.textValue()));
            } catch (IOException e) {
                throw new ConfigException(where + ": cannot read: " + e.getMessage());
            } catch (FlowException e) {
                throw new ConfigException(e.getMessage());
            }
            if (!names.add(def.name())) {
                throw new ConfigException(where + ": a second flow named '" + def.name() + "'");
            }
            flows.add(def);
        }
        return flows;
    }

    private static Routing routing(JsonNode root, Path file, Path base) {
        List<InputConfig> inputs = new ArrayList<>();
        JsonNode is = root.path("inputs");
        if (!is.isMissingNode() && !is.isNull()) {
            if (!is.isArray()) {
                throw new ConfigException(file + ": inputs: must be a list of inputs ({type: amqp, ...})");
            }
            for (int i = 0; i < is.size(); i++) {
                String where = "inputs[" + i + "]";
                JsonNode type = is.get(i).path("type");
                String types = String.join(
                        ", ",
                        Components.inputs().stream().map(t -> t.spec().type()).toList());
                if (!type.isTextual()) {
                    throw new ConfigException(file + ": " + where + ".type: required (one of " + types + ")");
                }
                Components.InputType t = Components.input(type.textValue());
                if (t == null) {
                    throw new ConfigException(file + ": " + where + ".type: no input type '" + type.textValue()
                            + "' in this version (types: " + types + ")");
                }
                try {
                    InputConfig input = new InputConfig(where, t.spec().read(is.get(i), where), base);
                    input.distiller(java.time.Clock.systemUTC()); // checks the definitions now
                    input.source().close(); // made once here so that its settings are checked now
                    inputs.add(input);
                } catch (IllegalArgumentException ex) {
                    throw new ConfigException(file + ": " + ex.getMessage());
                }
            }
        }
        List<OutputConfig> outputs = new ArrayList<>();
        JsonNode os = root.path("outputs");
        if (!os.isMissingNode() && !os.isNull()) {
            if (!os.isObject()) {
                throw new ConfigException(file + ": outputs: must be a mapping of output names to their settings");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = os.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String where = "outputs." + e.getKey();
                try {
                    Names.check("output", e.getKey());
                } catch (IllegalArgumentException ex) {
                    throw new ConfigException(file + ": " + where + ": " + ex.getMessage());
                }
                JsonNode type = e.getValue().path("type");
                if (!type.isTextual()) {
                    throw new ConfigException(file + ": " + where + ".type: required (one of "
                            + String.join(
                                    ", ",
                                    Components.outputs().stream()
                                            .map(t -> t.spec().type())
                                            .toList()) + ")");
                }
                Components.OutputType t = Components.output(type.textValue());
                if (t == null) {
                    throw new ConfigException(file + ": " + where + ".type: no output type '" + type.textValue()
                            + "' (types: "
                            + String.join(
                                    ", ",
                                    Components.outputs().stream()
                                            .map(x -> x.spec().type())
                                            .toList()) + ")");
                }
                try {
                    OutputConfig output = new OutputConfig(e.getKey(), t.spec().read(e.getValue(), where), base);
                    output.sink().close(); // made once here so that its settings are checked now
                    io.sluice.core.connect.OutputFields.policy(output.settings()); // and the framework's
                    io.sluice.core.connect.OutputFields.linger(output.settings());
                    outputs.add(output);
                } catch (IllegalArgumentException ex) {
                    throw new ConfigException(file + ": " + ex.getMessage());
                }
            }
        }
        String defaultOutput = null;
        JsonNode d = root.path("default_output");
        if (!d.isMissingNode() && !d.isNull()) {
            if (!d.isTextual()) {
                throw new ConfigException(file + ": default_output: must be the name of an output");
            }
            defaultOutput = d.textValue();
            String name = defaultOutput;
            if (outputs.stream().noneMatch(o -> o.name().equals(name))) {
                throw new ConfigException(file + ": default_output: no output is named '" + name + "' ("
                        + (outputs.isEmpty()
                                ? "no outputs are configured"
                                : "outputs: "
                                        + String.join(
                                                ", ",
                                                outputs.stream()
                                                        .map(OutputConfig::name)
                                                        .toList()))
                        + ")");
            }
        }
        List<QueryBook.Edit> queries = new ArrayList<>();
        JsonNode q = root.path("queries");
        try {
            if (q.isTextual()) {
                Path path = base.resolve(q.textValue());
                try (var in = Files.newBufferedReader(path)) {
                    queries.addAll(QueryEdits.read(in, path.toString()));
                } catch (NoSuchFileException e) {
                    throw new ConfigException(file + ": queries: no such file: " + path);
                } catch (IOException e) {
                    throw new ConfigException(file + ": queries: cannot read " + path + ": " + e.getMessage());
                }
            } else if (q.isArray()) {
                int i = 0;
                for (JsonNode doc : q) {
                    queries.add(QueryEdits.edit(doc, file + ": queries[" + i++ + "]"));
                }
            } else if (!q.isMissingNode() && !q.isNull()) {
                throw new ConfigException(
                        file + ": queries: must be a list of query documents or the path of a file of them");
            }
        } catch (StandingQueries.InvalidQueryFileException e) {
            throw new ConfigException(
                    e.getMessage().startsWith(file.toString()) ? e.getMessage() : file + ": " + e.getMessage());
        }
        Set<String> outputNames = new java.util.HashSet<>();
        outputs.forEach(o -> outputNames.add(o.name()));
        for (QueryBook.Edit edit : queries) {
            List<StandingQuery> qs =
                    switch (edit) {
                        case QueryBook.Edit.Put p -> List.of(p.query());
                        case QueryBook.Edit.Batch b -> b.queries();
                        case QueryBook.Edit.Delete del -> List.of();
                    };
            for (StandingQuery sq : qs) {
                if (sq.output() != null && !outputNames.contains(sq.output())) {
                    throw new ConfigException(file + ": queries: query '" + sq.name()
                            + "': field 'output': no output is named '" + sq.output() + "'");
                }
            }
        }
        return new Routing(inputs, outputs, defaultOutput, queries);
    }

    /** Typed reads of YAML values with errors naming the file and key path. */
    private record Reader(String file) {
        void object(JsonNode node, String path) {
            if (!node.isObject()) {
                throw new ConfigException(file + ": " + (path.isEmpty() ? "the configuration" : path)
                        + ": must be a mapping of keys to values");
            }
        }

        void keys(JsonNode node, String path, Set<String> known) {
            object(node, path);
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String key = it.next();
                if (!known.contains(key)) {
                    throw new ConfigException(file + ": " + path + "." + key + ": unknown key (known: "
                            + String.join(", ", known.stream().sorted().toList()) + ")");
                }
            }
        }

        String text(JsonNode parent, String path, String otherwise) {
            JsonNode v = parent.get(path.substring(path.lastIndexOf('.') + 1));
            if (v == null || v.isNull()) {
                return otherwise;
            }
            if (!v.isValueNode() || v.asText().isBlank()) {
                throw new ConfigException(file + ": " + path + ": must be a non-empty string");
            }
            return v.asText();
        }

        long integer(JsonNode v, String path, long otherwise, long min, long max) {
            if (v == null || v.isNull()) {
                return otherwise;
            }
            if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < min || v.asLong() > max) {
                throw new ConfigException(
                        file + ": " + path + ": must be a whole number from " + min + " to " + max + ", not " + v);
            }
            return v.asLong();
        }

        private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmgt]i?b|b)?", Pattern.CASE_INSENSITIVE);
        private static final Map<String, Long> UNITS = Map.of(
                "b",
                1L,
                "kb",
                1_000L,
                "mb",
                1_000_000L,
                "gb",
                1_000_000_000L,
                "tb",
                1_000_000_000_000L,
                "kib",
                1L << 10,
                "mib",
                1L << 20,
                "gib",
                1L << 30,
                "tib",
                1L << 40);

        long size(JsonNode v, String path, long otherwise) {
            if (v == null || v.isNull()) {
                return otherwise;
            }
            if (v.isIntegralNumber() && v.asLong() >= 0) {
                return v.asLong();
            }
            Matcher m = SIZE.matcher(v.asText().strip());
            if (v.isTextual() && m.matches()) {
                String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
                return Math.multiplyExact(Long.parseLong(m.group(1)), UNITS.get(unit));
            }
            throw new ConfigException(file + ": " + path + ": must be a size such as 1048576, 512KB or 2GiB, not " + v);
        }

        private static final Pattern SIMPLE_DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

        Duration duration(JsonNode v, String path) {
            if (v == null || v.isNull()) {
                return null;
            }
            String text = v.asText().strip();
            Matcher m = SIMPLE_DURATION.matcher(text.toLowerCase(Locale.ROOT));
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
            try {
                return Duration.parse(text);
            } catch (DateTimeParseException e) {
                throw new ConfigException(
                        file + ": " + path + ": must be a duration such as 30s, 12h, 7d or PT1H, not " + v);
            }
        }
    }
}
