package io.sluice.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.f4b6a3.uuid.UuidCreator;
import io.javalin.Javalin;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.api.Envelope;
import io.sluice.connect.amqp.NotabeneHandler;
import io.sluice.core.connect.InputRunner;
import io.sluice.core.connect.OutputFields;
import io.sluice.core.consume.Consumers;
import io.sluice.core.distill.Distiller;
import io.sluice.core.distill.DistillerException;
import io.sluice.core.handle.Handlers;
import io.sluice.core.handle.PipelineDrivers;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.LiveEvents;
import io.sluice.core.log.Retention;
import io.sluice.core.log.StoreFollower;
import io.sluice.core.query.StandingQuery;
import io.sluice.core.route.QueryBook;
import io.sluice.core.route.Router;
import io.sluice.core.trigger.DefinitionException;
import io.sluice.core.trigger.PipelineHandlers;
import io.sluice.core.trigger.TriggerEngine;
import io.sluice.core.trigger.UsageHandler;
import io.sluice.core.trigger.WinchesterConfig;
import io.sluice.server.config.ConfigException;
import io.sluice.server.config.ServerConfig;
import io.sluice.server.flow.ServerFlows;
import io.sluice.server.http.ConsumerApi;
import io.sluice.server.http.FlowApi;
import io.sluice.server.http.HandlerApi;
import io.sluice.server.http.HttpApi;
import io.sluice.server.http.QueryApi;
import io.sluice.server.http.StreamApi;
import io.sluice.server.zmq.ZeroMqRouter;
import io.sluice.store.postgres.PostgresEventStore;
import io.sluice.store.sqlite.SqliteEventStore;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Sluice server. {@link #start} shows the whole flow in one place:
 *
 * <pre>
 *   inputs (AMQP queue) ─► InputRunner: decode ─► EventLog.append ─► ack once durable
 *   ZeroMQ router: PULL ─► InputRunner; REP ─► append ─► reply as stored; log ─► PUB
 *   HTTP POST /v1/events ─► decode (JSON, NDJSON, CloudEvents) ─► EventLog.append
 *        ─► group commit into the store (durable) ─► answer the producer
 *        ─► committed batch to live followers ─► GET /v1/stream (SSE), from the store when behind
 *        ─► consumers waiting in GET /v1/consumers/{name}/next wake up
 *   HTTP GET /v1/events, /v1/events/{id} ◄── the store
 *   consumers: lease events after their checkpoint ─► ack ─► checkpoint saved in the store
 *   committed events ─► Router: a route per output follows the log from its checkpoint
 *        ─► shared query index ─► matches by key ─► output (amqp, webhook, file, stdout)
 *        ─► retries, dead letters ─► checkpoint; POST /v1/queries changes the queries at an offset
 *   committed events ─► Handlers: a reader per handler from its checkpoint ─► type pattern, filter
 *        ─► shell command / Java class / HTTP call, with concurrency ─► run recorded ─► retries,
 *        dead letters ─► checkpoint; POST /v1/handlers adds one while the others run
 *   committed events ─► TriggerEngine (winchester:): streams by distinguishing traits ─► fire / expire
 *        ─► pipelines (commit: new events appended; rollback: error state) ─► /v1/streams
 *   Retention ── trims the oldest events by count, bytes and age
 * </pre>
 */
public final class SluiceServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SluiceServer.class);

    private final ServerConfig config;
    private final EventStore store;
    private final EventLog log;
    private final Retention retention;
    private final Javalin http;

    private final StoreFollower follower;
    private final Router router;
    private final Handlers handlers;
    private final TriggerEngine triggers; // null without winchester:
    private final List<InputRunner> inputs;
    private final ZeroMqRouter zeromq; // null when not configured
    private final ServerFlows flows;

    private SluiceServer(
            ServerConfig config,
            EventStore store,
            EventLog log,
            StoreFollower follower,
            Retention retention,
            Router router,
            Handlers handlers,
            TriggerEngine triggers,
            List<InputRunner> inputs,
            ZeroMqRouter zeromq,
            ServerFlows flows,
            Javalin http) {
        this.zeromq = zeromq;
        this.flows = flows;
        this.router = router;
        this.handlers = handlers;
        this.triggers = triggers;
        this.inputs = inputs;
        this.config = config;
        this.follower = follower;
        this.store = store;
        this.log = log;
        this.retention = retention;
        this.http = http;
    }

    /** Opens the store, starts the log and the HTTP API, and returns once it serves. */
    public static SluiceServer start(ServerConfig config) {
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(meters);
        new JvmGcMetrics().bindTo(meters);
        new JvmThreadMetrics().bindTo(meters);
        new ProcessorMetrics().bindTo(meters);

        Clock clock = Clock.systemUTC();
        EventStore store = openStore(config, clock);
        store.bindTo(meters);
        EventLog log = new EventLog(
                store,
                config.envelope(),
                clock,
                // Time-ordered (UUIDv7): ids the server assigns land at the end of the store's id
                // index instead of all over it, which keeps appends of id-less events cheap.
                () -> UuidCreator.getTimeOrderedEpoch().toString(),
                meters,
                config.limits().maxEventBytes());
        Retention retention = new Retention(
                store,
                config.retention().maxEvents(),
                config.retention().maxBytes(),
                config.retention().maxAge(),
                clock,
                meters);
        if (config.retention().limited()) {
            retention.start();
        }

        // Who learns of committed events: from this server's own appends, or, when other
        // servers append to the same database, from following the store.
        StoreFollower follower = store.shared() ? new StoreFollower(store) : null;
        Consumer<EventLog.Subscriber> announce = follower != null ? follower::subscribe : log::subscribe;

        LiveEvents live = new LiveEvents();
        announce.accept(live);
        meters.gauge("sluice.stream.followers", live, LiveEvents::followers);

        Consumers consumers = new Consumers(store, clock);
        announce.accept(consumers);
        meters.gauge("sluice.consumers.waiting", consumers, Consumers::waiting);

        Router router = startRouter(config, store, live, clock, meters);
        Handlers handlers = startHandlers(config, store, live, clock, meters);
        TriggerEngine triggers = startTriggers(config, store, log, live, clock, meters);

        HttpApi api = new HttpApi(
                log, live, config.limits(), meters, name -> router.query(name).map(StandingQuery::query));
        Javalin http = Javalin.create(c -> {
            c.showJavalinBanner = false;
            c.useVirtualThreads = true;
        });
        api.register(http);
        new ConsumerApi(consumers).register(http);
        new QueryApi(router, handlers).register(http);
        new HandlerApi(handlers).register(http);
        new StreamApi(triggers).register(http);
        ServerFlows flows;
        try {
            flows = new ServerFlows(
                    config.handling().flows(),
                    ServerFlows.registry(
                            log, store, live, plugins(config.handling().pluginsDir())),
                    meters,
                    System.err::println,
                    clock);
        } catch (IllegalArgumentException e) {
            closeReaders(handlers, triggers, router, log, follower, store);
            throw new ConfigException(e.getMessage());
        }
        new FlowApi(flows).register(http);
        List<InputRunner> inputs = new ArrayList<>();
        for (ServerConfig.InputConfig in : config.routing().inputs()) {
            InputRunner runner = new InputRunner(
                    in.name(),
                    in.source(),
                    in.messages(),
                    log,
                    router,
                    config.limits().maxEventBytes(),
                    meters,
                    distilling(in.distiller(clock)));
            inputs.add(runner);
        }
        ZeroMqRouter zeromq = config.handling().zeromq() == null
                ? null
                : new ZeroMqRouter(
                        config.handling().zeromq(),
                        log,
                        live,
                        router,
                        config.limits().maxEventBytes(),
                        meters);
        String failure = null;
        RuntimeException cause = null;
        try {
            http.start(config.bind(), config.port());
        } catch (RuntimeException e) {
            cause = e;
            failure = "cannot listen on " + config.bind() + ":" + config.port() + ": "
                    + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
        }
        if (failure == null && zeromq != null) {
            try {
                zeromq.start();
            } catch (RuntimeException e) {
                cause = e;
                failure = e.getMessage();
            }
        }
        if (failure != null) {
            if (zeromq != null) {
                zeromq.close();
            }
            http.stop();
            inputs.forEach(InputRunner::close);
            closeReaders(handlers, triggers, router, log, follower, store);
            throw new IllegalStateException(failure, cause);
        }
        inputs.forEach(InputRunner::start);
        flows.start();
        LOG.info(
                "Sluice serving on http://{}:{} ({}; last offset {})",
                config.bind(),
                http.port(),
                store,
                store.lastOffset());
        return new SluiceServer(
                config, store, log, follower, retention, router, handlers, triggers, inputs, zeromq, flows, http);
    }

    /**
     * Opens the routes of the configured outputs, applies the configuration's queries (those
     * not already active as they are), and starts matching.
     */
    private static Router startRouter(
            ServerConfig config, EventStore store, LiveEvents live, Clock clock, PrometheusMeterRegistry meters) {
        List<Router.Output> outputs = new ArrayList<>();
        for (ServerConfig.OutputConfig o : config.routing().outputs()) {
            outputs.add(new Router.Output(
                    o.name(), o.sink(), OutputFields.policy(o.settings()), OutputFields.linger(o.settings())));
        }
        Router router = new Router(store, live, outputs, config.routing().defaultOutput(), clock, meters);
        List<QueryBook.Edit> changed = config.routing().queries().stream()
                .filter(edit -> !(edit instanceof QueryBook.Edit.Put p) || !router.isActive(p.query()))
                .toList();
        if (!changed.isEmpty()) {
            QueryBook.Applied applied = router.apply(changed);
            LOG.info(
                    "applied the configuration's standing queries at offset {}: {} put, {} removed",
                    applied.at(),
                    applied.put().size(),
                    applied.removed().size());
        }
        router.start();
        return router;
    }

    /** Starts the configured handlers and those defined through the API. */
    private static Handlers startHandlers(
            ServerConfig config, EventStore store, LiveEvents live, Clock clock, PrometheusMeterRegistry meters) {
        ServerConfig.Handling h = config.handling();
        Path base = h.base() != null ? h.base() : Path.of("").toAbsolutePath();
        Handlers handlers = new Handlers(store, live, clock, meters, plugins(h.pluginsDir()), base);
        try {
            handlers.start(h.handlers());
        } catch (IllegalArgumentException e) {
            handlers.close();
            throw new ConfigException(e.getMessage());
        }
        return handlers;
    }

    /** Starts Winchester's triggers when the configuration has {@code winchester:}. */
    private static TriggerEngine startTriggers(
            ServerConfig config,
            EventStore store,
            EventLog log,
            LiveEvents live,
            Clock clock,
            PrometheusMeterRegistry meters) {
        WinchesterConfig w = config.handling().winchester();
        if (w == null) {
            return null;
        }
        if (!config.envelope().equals(Envelope.WINCHESTER)) {
            LOG.warn("winchester: triggers read message_id, event_type and timestamp; set envelope: winchester"
                    + " so that the log fills them in");
        }
        PipelineHandlers handlers;
        try {
            handlers = new PipelineHandlers(
                    w.handlers(),
                    pipelineBuiltIns(w),
                    plugins(config.handling().pluginsDir()),
                    w.file().toString());
        } catch (DefinitionException e) {
            throw new ConfigException(e.getMessage());
        }
        Distiller distiller = null;
        if (w.distillerConfig() != null) {
            try {
                distiller = Distiller.load(w.distillerConfig(), w.catchAllNotifications(), clock);
            } catch (DistillerException e) {
                throw new ConfigException(e.getMessage());
            }
        }
        TriggerEngine engine = new TriggerEngine(w, handlers, distiller, store, log, live, clock, meters);
        engine.start();
        LOG.info("winchester: {} triggers from {}", w.triggers().size(), w.file());
        return engine;
    }

    /**
     * An input's distill step: a raw OpenStack notification (a {@code payload} object and a
     * {@code publisher_id}) is replaced by the event its definitions make of it, or dropped when
     * none covers it; anything else is stored as it came.
     */
    private static InputRunner.Preparer distilling(Distiller distiller) {
        if (distiller == null) {
            return InputRunner.Preparer.NONE;
        }
        return new InputRunner.Preparer() {
            @Override
            public String prepare(ObjectNode document) {
                if (!document.path("payload").isObject() || !document.has("publisher_id")) {
                    return null;
                }
                var event = distiller.toEvent(document);
                if (event.isEmpty()) {
                    return InputRunner.Preparer.SKIP;
                }
                document.removeAll();
                document.setAll(event.get());
                return null;
            }

            @Override
            public boolean rewrites() {
                return true;
            }
        };
    }

    /** Closes the readers, then the log and the store under them (readers first: they save checkpoints). */
    private static void closeReaders(
            Handlers handlers,
            TriggerEngine triggers,
            Router router,
            EventLog log,
            StoreFollower follower,
            EventStore store) {
        handlers.close();
        if (triggers != null) {
            triggers.close();
        }
        router.close();
        log.close();
        if (follower != null) {
            follower.close();
        }
        store.close();
    }

    /** Sluice's built-in pipeline handlers, by the names pipeline_handlers gives them. */
    public static Map<String, PipelineHandlers.Factory> pipelineBuiltIns(WinchesterConfig w) {
        return Map.of(
                "logger", params -> new PipelineHandlers.LoggingHandler(),
                "usage", UsageHandler::new,
                "notabene", NotabeneHandler::new,
                "shell",
                        params -> PipelineDrivers.shell(
                                params, w.file().toAbsolutePath().getParent()),
                "webhook", PipelineDrivers::webhook);
    }

    /** The ZeroMQ router, or null. */
    public ZeroMqRouter zeromq() {
        return zeromq;
    }

    /** The trigger engine, or null. */
    public TriggerEngine triggers() {
        return triggers;
    }

    /** The class loader of {@code driver: java} handlers: the jars in {@code dir}, then the classpath. */
    private static ClassLoader plugins(Path dir) {
        ClassLoader parent = SluiceServer.class.getClassLoader();
        if (dir == null) {
            return parent;
        }
        try (var files = Files.list(dir)) {
            URL[] jars = files.filter(f -> f.toString().endsWith(".jar"))
                    .sorted()
                    .map(f -> {
                        try {
                            return f.toUri().toURL();
                        } catch (MalformedURLException e) {
                            throw new IllegalStateException(e);
                        }
                    })
                    .toArray(URL[]::new);
            return new URLClassLoader("sluice-plugins", jars, parent);
        } catch (IOException e) {
            throw new ConfigException("plugins_dir: cannot list " + dir + ": " + e.getMessage());
        }
    }

    /**
     * Applies a configuration read again (SIGHUP): its handlers ({@code handlers:}, {@code
     * event_handlers:}) are added, changed and removed without restarting the others. Changes to
     * other sections take effect at the next start.
     *
     * @throws IllegalArgumentException when a handler cannot be made: then nothing changed
     */
    public Handlers.Reloaded reload(ServerConfig fresh) {
        Handlers.Reloaded r = handlers.reload(fresh.handling().handlers());
        LOG.info("reload: handlers applied; changes to other sections take effect at the next start");
        return r;
    }

    /** The flows of {@code flows:}. */
    public ServerFlows flows() {
        return flows;
    }

    /** The handlers. */
    public Handlers handlers() {
        return handlers;
    }

    private static EventStore openStore(ServerConfig config, Clock clock) {
        return switch (config.store().type()) {
            case "sqlite" ->
                SqliteEventStore.open(
                        config.store().path(), clock, config.store().compression());
            case "postgres" ->
                PostgresEventStore.open(config.store().url(), config.store().schema(), clock);
            default ->
                throw new ConfigException(
                        "store type '" + config.store().type() + "' is not available (available: sqlite, postgres)");
        };
    }

    /** The port the server listens on (useful with port 0). */
    public int port() {
        return http.port();
    }

    /** The base URL, such as {@code http://127.0.0.1:8470}. */
    public String url() {
        return "http://" + config.bind() + ":" + port();
    }

    /** The standing queries and their outputs. */
    public Router router() {
        return router;
    }

    /** The event log. */
    public EventLog log() {
        return log;
    }

    /** Stops serving, commits what is queued, and closes the store. */
    @Override
    public void close() {
        flows.close(); // flows drain into the log, so before it closes
        inputs.forEach(InputRunner::close); // sources first: nothing new comes in
        if (zeromq != null) {
            zeromq.close();
        }
        http.stop();
        retention.close();
        closeReaders(handlers, triggers, router, log, follower, store);
        LOG.info("Sluice stopped");
    }
}
