package io.sluice.server.zmq;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.api.Envelope;
import io.sluice.api.ErrorCode;
import io.sluice.api.Json;
import io.sluice.api.component.Field;
import io.sluice.api.component.Settings;
import io.sluice.api.component.Spec;
import io.sluice.connect.zeromq.ZmqPullSource;
import io.sluice.core.connect.InputRunner;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.InvalidBatchException;
import io.sluice.core.log.LiveEvents;
import io.sluice.core.log.LogCursor;
import io.sluice.core.log.OffsetOutOfRangeException;
import io.sluice.core.log.StoredEvent;
import io.sluice.core.route.Router;
import io.sluice.query.Query;
import io.sluice.query.QueryException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

/**
 * EventReactor's router ({@code zeromq:} in the configuration): up to three ZeroMQ sockets in
 * front of the log.
 *
 * <pre>
 *   feeders PUSH ─► PULL (bind) ─► InputRunner: batches ─► EventLog.append (durable)
 *   fire-event REQ ─► REP (bind) ─► append one ─► durable ─► reply {"offset":N,"event":{...as stored}}
 *   committed events ─► LogCursor ─► pub_filter ─► PUB (bind) [type frame] + event JSON ─► SUB peers
 * </pre>
 *
 * <p>With {@code envelope: eventreactor}, an event without {@code namespace} gets the router's
 * {@code namespace}, one without {@code event_type} is rejected (logged and counted; REP answers
 * an error object), and the log adds a missing {@code timestamp}. Malformed frames, non-JSON and
 * oversize messages are counted ({@code sluice_zeromq_rejected_total{socket}}) and logged, never
 * fatal. PUB follows the log from its head at start through a {@link LogCursor}, so a burst
 * larger than the live buffer is read back from the store rather than lost; what ZeroMQ drops
 * for a subscriber slower than {@code high_water_mark} is ZeroMQ's PUB/SUB contract.
 */
public final class ZeroMqRouter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ZeroMqRouter.class);

    public static final Field PULL = Field.optional("pull", Field.Type.STRING, null, "PULL endpoint feeders PUSH to");
    public static final Field REP =
            Field.optional("rep", Field.Type.STRING, null, "REP endpoint for custom events (fire-event)");
    public static final Field PUB =
            Field.optional("pub", Field.Type.STRING, null, "PUB endpoint every stored event is published on");
    public static final Field NAMESPACE = Field.optional(
            "namespace", Field.Type.STRING, "default", "namespace of events without one (envelope eventreactor)");
    public static final Field PUB_FILTER =
            Field.optional("pub_filter", Field.Type.ANY, null, "a query: publish only the events that match");
    public static final Field PUB_TOPIC = Field.optional(
            "pub_topic", Field.Type.STRING, "none", "type: a first frame with the event's type, for SUB prefixes");
    public static final Field MAX_MESSAGE_BYTES = Field.optional(
            "max_message_bytes", Field.Type.SIZE, "1MB", "larger messages are dropped (the peer is disconnected)");
    public static final Field HIGH_WATER_MARK =
            Field.optional("high_water_mark", Field.Type.INTEGER, 100_000, "messages a socket queues per peer");

    public static final Spec SPEC = new Spec(
            "router",
            "zeromq",
            "EventReactor's router: PULL and REP sockets into the log, a PUB socket out of it.",
            List.of(PULL, REP, PUB, NAMESPACE, PUB_FILTER, PUB_TOPIC, MAX_MESSAGE_BYTES, HIGH_WATER_MARK));

    /**
     * The router's settings.
     *
     * @param pull the PULL endpoint to bind, or null
     * @param rep the REP endpoint to bind, or null
     * @param pub the PUB endpoint to bind, or null
     * @param namespace what events without a namespace get (envelope eventreactor)
     * @param pubFilter which events PUB publishes (null: all)
     * @param typeTopic whether PUB sends the event's type as a first frame
     * @param maxMessageBytes the largest message taken
     * @param highWaterMark messages queued per peer
     */
    public record Config(
            String pull,
            String rep,
            String pub,
            String namespace,
            JsonNode pubFilter,
            boolean typeTopic,
            long maxMessageBytes,
            int highWaterMark) {

        /** Reads {@code zeromq:}; throws naming the key at fault. */
        public static Config read(JsonNode node) {
            Settings s = SPEC.read(node, "zeromq");
            List<String> endpoints = new ArrayList<>();
            for (Field f : List.of(PULL, REP, PUB)) {
                if (s.has(f.name())) {
                    String e = s.string(f.name());
                    ZmqPullSource.checkEndpoint(s, f.name(), e);
                    if (endpoints.contains(e) && !e.endsWith(":*")) {
                        throw s.invalid(f.name(), "the endpoint " + e + " is given twice");
                    }
                    endpoints.add(e);
                }
            }
            if (endpoints.isEmpty()) {
                throw s.invalid(PULL.name(), "give at least one of pull, rep and pub");
            }
            JsonNode filter = s.has(PUB_FILTER.name()) ? s.any(PUB_FILTER.name()) : null;
            if (filter != null) {
                try {
                    Query.parse(filter);
                } catch (QueryException e) {
                    throw s.invalid(PUB_FILTER.name(), e.getMessage());
                }
            }
            String topic = s.string(PUB_TOPIC.name());
            if (!topic.equals("type") && !topic.equals("none")) {
                throw s.invalid(PUB_TOPIC.name(), "must be type or none, not '" + topic + "'");
            }
            long hwm = s.integer(HIGH_WATER_MARK.name());
            if (hwm < 0 || hwm > 10_000_000) {
                throw s.invalid(HIGH_WATER_MARK.name(), "must be from 0 (no limit) to 10000000, not " + hwm);
            }
            return new Config(
                    s.has(PULL.name()) ? s.string(PULL.name()) : null,
                    s.has(REP.name()) ? s.string(REP.name()) : null,
                    s.has(PUB.name()) ? s.string(PUB.name()) : null,
                    s.string(NAMESPACE.name()),
                    filter,
                    topic.equals("type"),
                    s.size(MAX_MESSAGE_BYTES.name()),
                    (int) hwm);
        }
    }

    private final Config config;
    private final EventLog log;
    private final EventStore store;
    private final LiveEvents live;
    private final InputRunner.Preparer preparer;
    private final InputRunner pull;
    private final ZmqPullSource pullSource;
    private volatile String repBound;
    private volatile String pubBound;
    private final ZContext context = new ZContext(1);
    private final List<Thread> threads = new ArrayList<>();
    private final Counter repRequests;
    private final Counter repRejected;
    private final Counter published;
    private volatile boolean running = true;

    public ZeroMqRouter(
            Config config, EventLog log, LiveEvents live, Router router, long maxEventBytes, MeterRegistry meters) {
        this.config = config;
        this.log = log;
        this.store = log.store();
        this.live = live;
        this.preparer = preparer(log.envelope(), config.namespace());
        this.pullSource = config.pull() == null
                ? null
                : new ZmqPullSource(config.pull(), true, config.maxMessageBytes(), hwm(config));
        this.pull = config.pull() == null
                ? null
                : new InputRunner(
                        "zeromq.pull",
                        pullSource,
                        InputRunner.Messages.EVENTS,
                        log,
                        router,
                        maxEventBytes,
                        meters,
                        preparer);
        this.repRequests = Counter.builder("sluice.zeromq.requests")
                .description("Custom events received on the REP socket")
                .register(meters);
        this.repRejected = Counter.builder("sluice.zeromq.rejected")
                .description("REP requests answered with an error")
                .tag("socket", "rep")
                .register(meters);
        this.published = Counter.builder("sluice.zeromq.published")
                .description("Events sent on the PUB socket")
                .register(meters);
    }

    private static int hwm(Config c) {
        return c.highWaterMark() == 0 ? Integer.MAX_VALUE : c.highWaterMark();
    }

    /**
     * EventReactor's envelope rules: a missing namespace is the router's, a missing event_type
     * is refused. Other envelopes take events as they are.
     */
    static InputRunner.Preparer preparer(Envelope envelope, String namespace) {
        if (!envelope.equals(Envelope.EVENTREACTOR)) {
            return InputRunner.Preparer.NONE;
        }
        return doc -> {
            if (!doc.hasNonNull("namespace")) {
                doc.put("namespace", namespace);
            }
            JsonNode type = doc.get("event_type");
            if (type == null || !type.isTextual() || type.textValue().isEmpty()) {
                return "an EventReactor event needs an event_type (a non-empty string) and a namespace";
            }
            return null;
        };
    }

    /** Binds the sockets and starts serving; throws when an endpoint cannot be bound. */
    public void start() {
        // Each socket is made, bound and used by its own thread, as ZeroMQ wants it.
        if (config.rep() != null) {
            repBound = serve("rep", SocketType.REP, config.rep(), this::serveRep);
        }
        if (config.pub() != null) {
            long from = store.lastOffset();
            pubBound = serve("pub", SocketType.PUB, config.pub(), pub -> publish(pub, from));
        }
        if (pull != null) {
            pull.start();
        }
        LOG.info(
                "ZeroMQ router: {}",
                String.join(
                        ", ",
                        java.util.stream.Stream.of(
                                        config.pull() == null ? null : "PULL " + config.pull(),
                                        config.rep() == null ? null : "REP " + config.rep(),
                                        config.pub() == null ? null : "PUB " + config.pub())
                                .filter(java.util.Objects::nonNull)
                                .toList()));
    }

    /**
     * Where a socket is bound ({@code pull}, {@code rep}, {@code pub}), with the port the
     * system chose for {@code tcp://host:*}; null when not configured (or PULL not bound yet).
     */
    public String endpoint(String socket) {
        return switch (socket) {
            case "pull" -> pullSource == null ? null : pullSource.boundEndpoint();
            case "rep" -> repBound;
            case "pub" -> pubBound;
            default -> throw new IllegalArgumentException("no socket " + socket + " (pull, rep, pub)");
        };
    }

    /** Starts a thread that binds a socket and serves it; returns the bound endpoint once bound. */
    private String serve(String name, SocketType type, String endpoint, java.util.function.Consumer<ZMQ.Socket> body) {
        java.util.concurrent.CompletableFuture<String> bound = new java.util.concurrent.CompletableFuture<>();
        threads.add(Thread.ofPlatform().daemon().name("sluice-zeromq-" + name).start(() -> {
            ZMQ.Socket s;
            try {
                s = bind(type, endpoint);
            } catch (RuntimeException e) {
                bound.completeExceptionally(e);
                return;
            }
            bound.complete(s.getLastEndpoint());
            try {
                body.accept(s);
            } finally {
                s.close();
            }
        }));
        try {
            return bound.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new IllegalStateException("zeromq: the " + name + " socket did not bind", e);
        }
    }

    private ZMQ.Socket bind(SocketType type, String endpoint) {
        ZMQ.Socket s = context.createSocket(type);
        s.setLinger(0);
        s.setMaxMsgSize(config.maxMessageBytes());
        s.setSndHWM(hwm(config));
        s.setRcvHWM(hwm(config));
        try {
            s.bind(endpoint);
        } catch (ZMQException e) {
            throw new IllegalStateException("zeromq: cannot bind " + type + " " + endpoint + ": " + e.getMessage(), e);
        }
        return s;
    }

    private void serveRep(ZMQ.Socket rep) {
        rep.setReceiveTimeOut(100);
        while (running) {
            byte[] request;
            try {
                request = rep.recv(0);
            } catch (ZMQException e) {
                if (!running) {
                    return;
                }
                LOG.warn("zeromq REP: {}", e.getMessage());
                continue;
            }
            if (request == null) {
                continue;
            }
            boolean multipart = false;
            while (rep.hasReceiveMore()) {
                rep.recv(0);
                multipart = true;
            }
            repRequests.increment();
            String reply = multipart
                    ? error(ErrorCode.INVALID_REQUEST, "a request is one frame of JSON, not several")
                    : answer(request);
            try {
                rep.send(reply.getBytes(StandardCharsets.UTF_8), 0);
            } catch (ZMQException e) {
                LOG.warn("zeromq REP: could not reply: {}", e.getMessage());
            }
        }
    }

    /** Appends one custom event and answers it as stored, or an error object. */
    private String answer(byte[] request) {
        JsonNode doc;
        try {
            doc = Json.parse(new String(request, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            return rejected("not JSON: " + e.getMessage());
        }
        if (!doc.isObject()) {
            return rejected("an event must be a JSON object, not "
                    + doc.getNodeType().name().toLowerCase());
        }
        ObjectNode event = (ObjectNode) doc;
        int fields = event.size();
        String problem = preparer.prepare(event);
        if (problem != null) {
            return rejected(problem);
        }
        ByteBuffer text = event.size() == fields ? ByteBuffer.wrap(request) : null;
        try {
            EventLog.AppendResult r =
                    log.append(List.of(event), java.util.Arrays.asList(text)).get(30, TimeUnit.SECONDS);
            StoredEvent stored = store.byId(r.ids().getFirst())
                    .orElseThrow(() -> new IllegalStateException("the stored event is not found"));
            return stored.toLine();
        } catch (InvalidBatchException e) {
            return rejected(e.getMessage().replaceFirst("^event \\d+: ", ""));
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.warn("zeromq REP: could not store an event: {}", e.toString());
            return error(ErrorCode.UNAVAILABLE, "the event could not be stored: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error(ErrorCode.UNAVAILABLE, "the server is stopping");
        }
    }

    private String rejected(String reason) {
        repRejected.increment();
        LOG.warn("zeromq REP: rejected an event: {}", reason);
        return error(ErrorCode.INVALID_EVENT, reason);
    }

    private static String error(ErrorCode code, String message) {
        ObjectNode o = Json.object();
        o.put("error", message);
        o.put("code", code.wireName());
        return Json.write(o);
    }

    private void publish(ZMQ.Socket pub, long from) {
        Query filter = config.pubFilter() == null ? null : Query.parse(config.pubFilter());
        LogCursor cursor = new LogCursor(store, live, from, e -> true, 65_536);
        try {
            while (running) {
                StoredEvent e;
                try {
                    e = cursor.next(Duration.ofMillis(100));
                } catch (OffsetOutOfRangeException gone) {
                    cursor.close();
                    cursor = new LogCursor(store, live, store.firstOffset() - 1, ev -> true, 65_536);
                    continue;
                }
                if (e == null) {
                    continue;
                }
                if (filter != null && !filter.matches(Json.parse(e.json()))) {
                    continue;
                }
                if (config.typeTopic()) {
                    pub.sendMore(e.type() == null ? "" : e.type());
                }
                pub.send(e.json().getBytes(StandardCharsets.UTF_8), 0);
                published.increment();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (running) {
                LOG.error("zeromq PUB stopped: {}", e.toString(), e);
            }
        } finally {
            cursor.close();
        }
    }

    @Override
    public void close() {
        running = false;
        if (pull != null) {
            pull.close();
        }
        for (Thread t : threads) {
            try {
                t.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        context.close();
    }
}
