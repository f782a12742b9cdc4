package io.sluice.core.flow;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.sluice.api.Json;
import io.sluice.api.component.Settings;
import io.sluice.api.flow.FlowEvent;
import io.sluice.api.flow.InputModule;
import io.sluice.api.flow.Module;
import io.sluice.api.flow.ModuleContext;
import io.sluice.api.flow.ModuleType;
import io.sluice.api.flow.Settlement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A running flow: modules connected 1:1 by bounded queues (Compysition's router).
 *
 * <pre>
 *   input ──► [queue] ──► module ──► [queue] ──► module          every module: one virtual thread
 *     │                     │ errors ──► [queue] ──► ...          per incoming queue (its calls
 *     └──────── log records ┴──────────► logs module ─► ...       serialised by the module's lock)
 *                metrics every interval ► metrics module ─► ...
 * </pre>
 *
 * <h2>Implementation notes</h2>
 *
 * <ul>
 *   <li><b>Threads.</b> An input module runs {@link InputModule#run} on its own virtual thread;
 *       every other module has one virtual thread per connected incoming queue, which drains
 *       the queue in batches and calls {@link Module#consume} under the module's lock, so a
 *       module sees one call at a time whatever its number of inboxes and timers.
 *   <li><b>Backpressure.</b> {@link FlowQueue#put} blocks while the queue is full, so a slow
 *       module stops the one before it, and so on back to the input module, which stops
 *       reading its file, socket or broker.
 *   <li><b>Settlements.</b> An event may carry a {@link Settlement} (the acknowledgement owed to
 *       its producer). Each queue an event is put on holds it once; the event's consumer
 *       releases that holding when {@code consume} returns; an event created during {@code
 *       consume} without one inherits the consumed event's. So the acknowledgement is given
 *       when every event derived from the original is done (written, dropped by a filter,
 *       appended durably to the log).
 *   <li><b>Errors.</b> When {@code consume} throws, the event goes, with {@code header.error},
 *       to the module's {@code errors} queue if it is connected; otherwise it is tried again
 *       up to {@code max_rescue} times with a doubling backoff, then dropped, logged and
 *       counted. A poison event costs at most the backoffs, never the queue.
 *   <li><b>Stopping.</b> A stop turns {@link ModuleContext#running()} false: input modules
 *       return; a module whose every incoming queue is closed and empty is {@link
 *       Module#close closed} (it may still submit: a buffer flushes) and then closes its
 *       outgoing queues. So modules stop in dependency order, each after its queues drained,
 *       and nothing in flight is lost. A flow whose inputs all end by themselves (a file read
 *       to its end) ends the same way. In a cycle the queues never close: after {@code
 *       stop_timeout} the flow gives up, and counts and logs what was left in the queues.
 *   <li><b>Logs and metrics</b> are events too: log records go to the {@code logs:} module's
 *       inbox (without one, human-readable lines on stderr), metrics every {@code
 *       metrics_interval} to the {@code metrics:} module's; both through queues that never
 *       block a module (a full one drops and counts). The same figures are Micrometer meters
 *       ({@code sluice.flow.*}, on {@code /metrics} in the server).
 * </ul>
 */
public final class Flow implements AutoCloseable {
    /**
     * What flows may use from their surroundings.
     *
     * @param meters where the queue and module meters are registered
     * @param logLines where log records go, as lines, when the flow has no logs module (stderr)
     * @param logLevel the highest syslog level printed there (6: informational; 7: debug too)
     * @param clock the time of log records and metrics
     */
    public record Environment(MeterRegistry meters, Consumer<String> logLines, int logLevel, Clock clock) {}

    private static final int BATCH = 256;
    private static final long POLL_MILLIS = 100;

    private final FlowDefinition definition;
    private final Environment env;
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final List<FlowQueue> queues = new ArrayList<>();
    private final Node logNode;
    private final Node metricNode;
    private final Set<Node> side = new HashSet<>();
    private final AtomicLong logsDropped = new AtomicLong();
    private final AtomicLong metricsDropped = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private final CountDownLatch ended;
    private final CountDownLatch mainDone;
    private final CountDownLatch stopMetrics = new CountDownLatch(1);
    private final CountDownLatch stopping = new CountDownLatch(1);
    private volatile boolean running;
    private volatile boolean started;
    private Thread metricThread;

    private Flow(FlowDefinition definition, ModuleRegistry registry, Environment env) {
        this.definition = definition;
        this.env = env;
        for (FlowDefinition.ModuleDef m : definition.modules().values()) {
            ModuleType type = registry.lookup(m.type());
            if (type == null) {
                List<String> known =
                        registry.types().stream().map(ModuleType::name).toList();
                throw definition.error(
                        "modules." + m.name() + ".module",
                        "unknown module type '" + m.type() + "' (known: " + String.join(", ", known) + ")");
            }
            Settings args;
            Module module;
            try {
                args = type.spec().read(m.arguments(), "modules." + m.name() + ".arguments");
                module = type.factory().make(args, definition.base());
            } catch (IllegalArgumentException e) {
                throw definition.argumentError(m, e);
            } catch (Exception e) {
                throw definition.error("modules." + m.name(), "cannot be made: " + e.getMessage());
            }
            nodes.put(m.name(), new Node(m.name(), type, module, args));
        }
        if (definition.logs() != null && definition.logs().equals(definition.metrics())) {
            throw definition.error(
                    "metrics", "the logs and the metrics need two modules, not both '" + definition.logs() + "'");
        }
        logNode = definition.logs() == null ? null : nodes.get(definition.logs());
        metricNode = definition.metrics() == null ? null : nodes.get(definition.metrics());
        connect();
        markSide();
        ended = new CountDownLatch(nodes.size());
        mainDone = new CountDownLatch(nodes.size() - side.size());
    }

    /**
     * Makes a flow from its definition: every module type, argument and route is checked.
     *
     * @throws FlowException naming the file, line and the module, argument or route at fault
     */
    public static Flow create(FlowDefinition definition, ModuleRegistry registry, Environment env) {
        return new Flow(definition, registry, env);
    }

    private void connect() {
        Map<String, FlowDefinition.Route> fromEnds = new LinkedHashMap<>();
        Map<String, FlowDefinition.Route> toEnds = new LinkedHashMap<>();
        for (FlowDefinition.Route r : definition.routes()) {
            Node from = nodes.get(r.fromModule());
            Node to = nodes.get(r.toModule());
            if (!from.type.hasOutbox(r.fromQueue())) {
                throw definition.routeError(
                        r,
                        r.fromModule() + " (" + from.type.name() + ") has no outgoing queue '" + r.fromQueue()
                                + "' (it has: " + queueList(from.type.outboxes(), true) + ")");
            }
            if (!to.type.hasInbox(r.toQueue())) {
                throw definition.routeError(
                        r,
                        r.toModule() + " (" + to.type.name() + ") has no incoming queue '" + r.toQueue() + "' (it has: "
                                + queueList(to.type.inboxes(), false) + ")");
            }
            if ((to == logNode || to == metricNode) && r.toQueue().equals("inbox")) {
                throw definition.routeError(
                        r,
                        r.toModule() + " receives the flow's " + (to == logNode ? "log records" : "metrics")
                                + "; it takes no other incoming queue");
            }
            FlowDefinition.Route before = fromEnds.putIfAbsent(r.from(), r);
            if (before != null) {
                throw definition.routeError(
                        r,
                        r.from() + " is already connected by '" + before.text() + "'"
                                + (before.line() > 0 ? " (line " + before.line() + ")" : "")
                                + "; a queue connects 1:1, use a fanout module to send to several");
            }
            before = toEnds.putIfAbsent(r.to(), r);
            if (before != null) {
                throw definition.routeError(
                        r,
                        r.to() + " is already connected by '" + before.text() + "'"
                                + (before.line() > 0 ? " (line " + before.line() + ")" : "")
                                + "; a queue connects 1:1, use a funnel module to receive from several");
            }
            FlowQueue q = new FlowQueue(r.from(), r.to(), capacity(to));
            from.out.put(r.fromQueue(), q);
            to.in.put(r.toQueue(), q);
            queues.add(q);
        }
        for (Node side : new Node[] {logNode, metricNode}) {
            if (side != null) {
                FlowQueue q = new FlowQueue(side == logNode ? "(logs)" : "(metrics)", side.name + ".inbox", (int)
                        side.args.integer("queue_size"));
                side.in.put("inbox", q);
                queues.add(q);
            }
        }
    }

    /** An incoming queue's capacity: queue_size, or a lock buffer's size (Compysition's name for it). */
    private static int capacity(Node to) {
        if (to.type.name().equals("lockbuffer") && to.args.has("size")) {
            return (int) to.args.integer("size");
        }
        return (int) to.args.integer("queue_size");
    }

    private static String queueList(List<String> names, boolean outgoing) {
        List<String> all = new ArrayList<>(names.equals(ModuleType.ANY) ? List.of("any name") : names);
        if (outgoing) {
            all.add("errors");
        }
        return all.isEmpty() ? "none" : String.join(", ", all);
    }

    /** The log and metrics modules and what only they feed stop last, after the rest. */
    private void markSide() {
        Deque<Node> todo = new ArrayDeque<>();
        for (Node n : new Node[] {logNode, metricNode}) {
            if (n != null) {
                todo.add(n);
            }
        }
        while (!todo.isEmpty()) {
            Node n = todo.poll();
            if (side.add(n)) {
                for (FlowQueue q : n.out.values()) {
                    todo.add(nodes.get(q.to().substring(0, q.to().lastIndexOf('.'))));
                }
            }
        }
    }

    /** Starts every module (inputs last, so the rest is ready), then the metrics timer. */
    public synchronized void start() {
        if (started) {
            throw new IllegalStateException(definition.name() + ": already started");
        }
        started = true;
        running = true;
        registerMeters();
        List<Node> order = new ArrayList<>(nodes.values());
        order.sort((a, b) -> Boolean.compare(a.input(), b.input()));
        for (Node n : order) {
            try {
                n.module.start(n);
            } catch (Exception e) {
                running = false;
                throw new FlowException(definition.origin() + ": module " + n.name + " (" + n.type.name()
                        + ") failed to start: " + e.getMessage());
            }
        }
        for (Node n : order) {
            n.launch();
        }
        metricThread = Thread.ofVirtual()
                .name("flow-" + definition.name() + "-metrics")
                .start(this::metricLoop);
        log(
                "flow",
                ModuleContext.INFO,
                "started " + nodes.size() + " modules, " + definition.routes().size() + " routes");
    }

    /**
     * Stops cleanly: inputs stop reading, every queue drains, modules close in dependency
     * order. Returns once the flow ended, or after {@code stop_timeout} with what was left
     * counted as lost.
     */
    public void stop() {
        if (!started) {
            return;
        }
        running = false;
        stopping.countDown();
        try {
            if (!mainDone.await(definition.stopTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                long left = 0;
                for (FlowQueue q : queues) {
                    if (!isSideQueue(q)) {
                        left += q.clear();
                        q.close();
                    }
                }
                lost.addAndGet(left);
                log(
                        "flow",
                        ModuleContext.ERROR,
                        "did not drain within " + definition.stopTimeout()
                                + " (a cycle, or a module that does not return); " + left
                                + " events left in queues are lost");
                for (Node n : nodes.values()) {
                    if (!side.contains(n)) {
                        n.threads.forEach(Thread::interrupt);
                    }
                }
                mainDone.await(5, TimeUnit.SECONDS);
            }
            closeSideQueues();
            ended.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stopMetrics.countDown();
        }
    }

    private boolean isSideQueue(FlowQueue q) {
        return q.from().startsWith("(");
    }

    private void closeSideQueues() {
        for (FlowQueue q : queues) {
            if (isSideQueue(q)) {
                q.close();
            }
        }
    }

    /** Waits for the flow to end (by itself or by {@link #stop}); returns whether it did. */
    public boolean awaitEnd(Duration timeout) throws InterruptedException {
        if (mainDone.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            closeSideQueues();
            boolean done = ended.await(5, TimeUnit.SECONDS);
            stopMetrics.countDown();
            return done;
        }
        return false;
    }

    /** Whether every module has stopped. */
    public boolean ended() {
        return ended.getCount() == 0;
    }

    @Override
    public void close() {
        stop();
    }

    /** The flow's name. */
    public String name() {
        return definition.name();
    }

    /** Its definition. */
    public FlowDefinition definition() {
        return definition;
    }

    /** Its queues, in routing-table order (then the logs and metrics queues). */
    public List<FlowQueue> queues() {
        return List.copyOf(queues);
    }

    /** Each module's figures, by name. */
    public Map<String, ModuleStats> modules() {
        Map<String, ModuleStats> out = new LinkedHashMap<>();
        nodes.values().forEach(n -> out.put(n.name, n.stats()));
        return out;
    }

    /** Events given up for good: dropped after their rescues, or left in queues by a stop that timed out. */
    public long lost() {
        long total = lost.get();
        for (Node n : nodes.values()) {
            total += n.dropped.get();
        }
        return total;
    }

    /**
     * One module's figures.
     *
     * @param type its type
     * @param hits events it consumed
     * @param submitted events it put on its connected outgoing queues
     * @param totalNanos time spent consuming them
     * @param errors events that failed at least once
     * @param dropped events given up after their rescues
     * @param discarded events it submitted to a queue connected to nothing
     * @param rejected input it read that could not become an event (not JSON)
     * @param done whether it has stopped
     */
    public record ModuleStats(
            String type,
            long hits,
            long submitted,
            long totalNanos,
            long errors,
            long dropped,
            long discarded,
            long rejected,
            boolean done) {}

    // ---------------------------------------------------------------- logs and metrics

    void log(String module, int level, String message) {
        ObjectNode data = Json.object();
        data.put("time", env.clock().instant().toString());
        data.put("level", level);
        data.put("pid", ProcessHandle.current().pid());
        data.put("module", module);
        data.put("message", message);
        data.put("flow", definition.name());
        FlowQueue q = logNode == null ? null : logNode.in.get("inbox");
        if (q != null && !module.equals(logNode.name) && !q.closed()) {
            if (!q.offer(FlowEvent.of(data))) {
                logsDropped.incrementAndGet();
            }
            return;
        }
        if (level <= env.logLevel()) {
            env.logLines().accept(HumanLog.format(data));
        }
    }

    private void metricLoop() {
        try {
            while (!stopMetrics.await(definition.metricsInterval().toMillis(), TimeUnit.MILLISECONDS)) {
                if (metricNode == null) {
                    continue;
                }
                FlowQueue q = metricNode.in.get("inbox");
                String now = env.clock().instant().toString();
                for (Map.Entry<String, Double> m : metrics().entrySet()) {
                    ObjectNode data = Json.object();
                    data.put("time", now);
                    data.put("type", "sluice");
                    data.put("source", definition.name());
                    data.put("name", m.getKey());
                    data.put("value", m.getValue());
                    if (q.closed() || !q.offer(FlowEvent.of(data))) {
                        metricsDropped.incrementAndGet();
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Compysition's metric names and values: {@code queue.MODULE.QUEUE.size|in_total|out_total|
     * in_rate|out_rate} and {@code function.MODULE.consume.total_time|hits}.
     */
    public Map<String, Double> metrics() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (FlowQueue q : queues) {
            FlowQueue.Stats s = q.stats();
            String p = "queue." + q.to() + ".";
            out.put(p + "size", (double) s.size());
            out.put(p + "in_total", (double) s.inTotal());
            out.put(p + "out_total", (double) s.outTotal());
            out.put(p + "in_rate", s.inRate());
            out.put(p + "out_rate", s.outRate());
        }
        for (Node n : nodes.values()) {
            out.put("function." + n.name + ".consume.total_time", n.nanos.get() / 1e9);
            out.put("function." + n.name + ".consume.hits", (double) n.hits.get());
        }
        return out;
    }

    private void registerMeters() {
        MeterRegistry m = env.meters();
        for (FlowQueue q : queues) {
            String module = q.to().substring(0, q.to().lastIndexOf('.'));
            String queue = q.to().substring(q.to().lastIndexOf('.') + 1);
            Tags tags = Tags.of("flow", definition.name(), "module", module, "queue", queue);
            Gauge.builder("sluice.flow.queue.size", q, FlowQueue::size)
                    .description("Events waiting in a flow queue")
                    .tags(tags)
                    .register(m);
            FunctionCounter.builder("sluice.flow.queue.in", q, x -> x.stats().inTotal())
                    .description("Events put in a flow queue")
                    .tags(tags)
                    .register(m);
            FunctionCounter.builder("sluice.flow.queue.out", q, x -> x.stats().outTotal())
                    .description("Events taken from a flow queue")
                    .tags(tags)
                    .register(m);
        }
        for (Node n : nodes.values()) {
            Tags tags = Tags.of("flow", definition.name(), "module", n.name);
            FunctionCounter.builder("sluice.flow.module.hits", n.hits, AtomicLong::get)
                    .description("Events a flow module consumed")
                    .tags(tags)
                    .register(m);
            FunctionCounter.builder("sluice.flow.module.seconds", n.nanos, x -> x.get() / 1e9)
                    .description("Time a flow module spent consuming")
                    .tags(tags)
                    .register(m);
            FunctionCounter.builder("sluice.flow.module.rejected", n.rejected, AtomicLong::get)
                    .description("Input a flow module read that could not become an event")
                    .tags(tags)
                    .register(m);
            FunctionCounter.builder("sluice.flow.module.dropped", n.dropped, AtomicLong::get)
                    .description("Events a flow module gave up after max_rescue retries")
                    .tags(tags)
                    .register(m);
        }
        FunctionCounter.builder("sluice.flow.logs.dropped", logsDropped, AtomicLong::get)
                .description("Log records dropped because the logs module's queue was full")
                .tags("flow", definition.name())
                .register(m);
    }

    // ---------------------------------------------------------------- one module

    /** A module in the flow, and its context. */
    private final class Node implements ModuleContext {
        final String name;
        final ModuleType type;
        final Module module;
        final Settings args;
        final Map<String, FlowQueue> out = new LinkedHashMap<>();
        final Map<String, FlowQueue> in = new LinkedHashMap<>();
        final ReentrantLock lock = new ReentrantLock();
        final List<Thread> threads = new ArrayList<>();
        final CountDownLatch stopTimers = new CountDownLatch(1);
        final AtomicLong hits = new AtomicLong();
        final AtomicLong nanos = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final AtomicLong dropped = new AtomicLong();
        final AtomicLong discarded = new AtomicLong();
        final AtomicLong rejected = new AtomicLong();
        final AtomicLong submitted = new AtomicLong();
        final int maxRescue;
        private AtomicInteger openInboxes;
        private Settlement current;
        private volatile boolean done;

        Node(String name, ModuleType type, Module module, Settings args) {
            this.name = name;
            this.type = type;
            this.module = module;
            this.args = args;
            this.maxRescue = (int) args.integer("max_rescue");
        }

        boolean input() {
            return module instanceof InputModule;
        }

        void launch() {
            if (input()) {
                threads.add(Thread.ofVirtual()
                        .name("flow-" + definition.name() + "-" + name)
                        .start(this::runInput));
                return;
            }
            openInboxes = new AtomicInteger(in.size());
            if (in.isEmpty()) {
                Thread.ofVirtual().start(this::finish);
                return;
            }
            for (Map.Entry<String, FlowQueue> e : in.entrySet()) {
                threads.add(Thread.ofVirtual()
                        .name("flow-" + definition.name() + "-" + name + "-" + e.getKey())
                        .start(() -> consumeLoop(e.getKey(), e.getValue())));
            }
        }

        private void runInput() {
            long backoff = 100;
            while (running) {
                try {
                    ((InputModule) module).run(this);
                    break;
                } catch (InterruptedException e) {
                    break;
                } catch (Exception e) {
                    errors.incrementAndGet();
                    log(ERROR, "failed: " + e + "; running again in " + backoff + " ms");
                    try {
                        stopTimers.await(backoff, TimeUnit.MILLISECONDS);
                    } catch (InterruptedException ie) {
                        break;
                    }
                    backoff = Math.min(backoff * 2, 10_000);
                }
            }
            finish();
        }

        private void consumeLoop(String queueName, FlowQueue queue) {
            List<FlowEvent> batch = new ArrayList<>(BATCH);
            try {
                while (!queue.exhausted()) {
                    if (queue.drain(batch, BATCH, POLL_MILLIS, TimeUnit.MILLISECONDS) == 0) {
                        continue;
                    }
                    lock.lock();
                    try {
                        for (FlowEvent e : batch) {
                            process(e, queueName);
                        }
                    } finally {
                        lock.unlock();
                    }
                    batch.clear();
                }
            } catch (InterruptedException e) {
                lost.addAndGet(batch.size());
            }
            if (openInboxes.decrementAndGet() == 0) {
                finish();
            }
        }

        /** Consumes one event (the module's lock held), with the rescue rules of the notes above. */
        private void process(FlowEvent event, String queueName) throws InterruptedException {
            Settlement s = event.settlement();
            current = s;
            try {
                for (int attempt = 0; ; attempt++) {
                    long t0 = System.nanoTime();
                    try {
                        module.consume(event, queueName, this);
                        hits.lazySet(hits.get() + 1);
                        nanos.lazySet(nanos.get() + System.nanoTime() - t0);
                        return;
                    } catch (InterruptedException e) {
                        throw e;
                    } catch (Exception e) {
                        nanos.lazySet(nanos.get() + System.nanoTime() - t0);
                        if (attempt == 0) {
                            errors.incrementAndGet();
                        }
                        FlowQueue errorQueue = out.get("errors");
                        if (errorQueue != null) {
                            ObjectNode error = event.header().putObject("error");
                            error.put("module", name);
                            error.put("queue", queueName);
                            error.put("message", String.valueOf(e.getMessage()));
                            error.put("exception", e.getClass().getName());
                            submit(event, "errors");
                            return;
                        }
                        if (attempt >= maxRescue) {
                            dropped.incrementAndGet();
                            log(
                                    ERROR,
                                    "dropped an event after " + (attempt + 1) + " attempts: " + e + " (connect " + name
                                            + ".errors to keep such events)");
                            return;
                        }
                        Thread.sleep(Math.min(10L << Math.min(attempt, 10), 1_000));
                    }
                }
            } finally {
                current = null;
                if (s != null) {
                    s.release();
                }
            }
        }

        /** After the last incoming queue drained (or the input returned): close, then close what it feeds. */
        private void finish() {
            stopTimers.countDown();
            lock.lock();
            try {
                module.close(this);
            } catch (Exception e) {
                log(ERROR, "failed to close: " + e);
            } finally {
                lock.unlock();
            }
            out.values().forEach(FlowQueue::close);
            done = true;
            if (!side.contains(this)) {
                mainDone.countDown();
                if (mainDone.getCount() == 0) {
                    closeSideQueues();
                }
            }
            ended.countDown();
        }

        ModuleStats stats() {
            return new ModuleStats(
                    type.name(),
                    hits.get(),
                    submitted.get(),
                    nanos.get(),
                    errors.get(),
                    dropped.get(),
                    discarded.get(),
                    rejected.get(),
                    done);
        }

        // ------------------------------------------------------------ ModuleContext

        @Override
        public String name() {
            return name;
        }

        @Override
        public String flow() {
            return definition.name();
        }

        @Override
        public void submit(FlowEvent event, String queue) throws InterruptedException {
            FlowQueue q = out.get(queue);
            if (q == null) {
                if (!type.hasOutbox(queue)) {
                    throw new IllegalArgumentException(
                            name + " (" + type.name() + ") has no outgoing queue '" + queue + "'");
                }
                discarded.incrementAndGet();
                return;
            }
            Settlement s = event.settlement();
            if (s == null && current != null) {
                s = current;
                event.settleWith(s);
            }
            if (s != null) {
                s.retain();
            }
            try {
                q.put(event);
                submitted.incrementAndGet();
            } catch (InterruptedException e) {
                if (s != null) {
                    s.release();
                }
                throw e;
            }
        }

        @Override
        public List<String> outgoing() {
            List<String> names = new ArrayList<>();
            for (String q : out.keySet()) {
                if (!q.equals("errors")) {
                    names.add(q);
                }
            }
            return names;
        }

        @Override
        public boolean connected(String queue) {
            return out.containsKey(queue);
        }

        @Override
        public int backlog() {
            int n = 0;
            for (FlowQueue q : in.values()) {
                n += q.size();
            }
            return n;
        }

        @Override
        public boolean running() {
            return running;
        }

        @Override
        public void reject(String reason) {
            rejected.incrementAndGet();
            log(WARNING, "rejected: " + reason);
        }

        @Override
        public boolean awaitStop(Duration timeout) throws InterruptedException {
            return stopping.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        }

        @Override
        public void log(int level, String message) {
            Flow.this.log(name, level, message);
        }

        @Override
        public void every(Duration period, Task task) {
            long millis = Math.max(1, period.toMillis());
            threads.add(Thread.ofVirtual()
                    .name("flow-" + definition.name() + "-" + name + "-timer")
                    .start(() -> {
                        try {
                            while (!stopTimers.await(millis, TimeUnit.MILLISECONDS)) {
                                lock.lock();
                                try {
                                    task.run();
                                } catch (InterruptedException e) {
                                    return;
                                } catch (Exception e) {
                                    log(ERROR, "timer failed: " + e);
                                } finally {
                                    lock.unlock();
                                }
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }));
        }
    }

    /** Every module type's name the flow uses, for messages. */
    Collection<String> moduleNames() {
        return nodes.keySet();
    }
}
