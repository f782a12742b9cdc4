package io.sluice.server.flow;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.api.component.Message;
import io.sluice.api.component.Sink;
import io.sluice.api.component.Source;
import io.sluice.api.component.Spec;
import io.sluice.api.flow.FlowEvent;
import io.sluice.api.flow.InputModule;
import io.sluice.api.flow.Module;
import io.sluice.api.flow.ModuleContext;
import io.sluice.api.flow.ModuleType;
import io.sluice.api.flow.Settlement;
import io.sluice.core.flow.ModuleRegistry;
import io.sluice.server.Components;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Sluice's inputs and outputs as flow modules, from the same specs and factories as the
 * server's {@code inputs:} and {@code outputs:}: input {@code amqp} is module {@code
 * amqp_input}, output {@code webhook} is module {@code webhook_output}, with the same settings.
 */
public final class ConnectorModules {
    /** Outputs that a built-in module already covers: file_output, stdout. */
    private static final Set<String> COVERED = Set.of("file", "stdout");

    private ConnectorModules() {}

    /** Registers a module type for every input and output type. */
    public static ModuleRegistry register(ModuleRegistry registry) {
        for (Components.InputType in : Components.inputs()) {
            Spec s = in.spec();
            registry.register(new ModuleType(
                    new Spec(
                            "module",
                            s.type() + "_input",
                            s.summary() + " As a flow module: each message an event.",
                            s.fields()),
                    List.of(),
                    List.of("outbox"),
                    (args, base) -> new SourceModule(in.factory().make(args, base))));
        }
        for (Components.OutputType out : Components.outputs()) {
            Spec s = out.spec();
            if (COVERED.contains(s.type())) {
                continue;
            }
            registry.register(new ModuleType(
                    new Spec(
                            "module",
                            s.type() + "_output",
                            s.summary()
                                    + " As a flow module: each event's data is the message; header.key is the routing key.",
                            s.fields()),
                    List.of("inbox"),
                    List.of(),
                    (args, base) -> new SinkModule(out.factory().make(args, base))));
        }
        return registry;
    }

    /**
     * A source as an input module. Each message becomes an event carrying a settlement; the
     * source acknowledges messages in the order it gave them, each once the flow is done with it
     * and with every message before it (a broker's acknowledgement may cover all earlier ones).
     */
    static final class SourceModule implements InputModule {
        private final Source source;
        private final Deque<Pending> inOrder = new ArrayDeque<>();
        /** Notified as messages settle, for the wait on a stop. */
        private final Object settledSignal = new Object();

        private volatile boolean draining;

        SourceModule(Source source) {
            this.source = source;
        }

        private static final class Pending {
            final Source.Received message;
            volatile boolean settled;

            Pending(Source.Received message) {
                this.message = message;
            }
        }

        @Override
        public void run(ModuleContext ctx) throws Exception {
            source.open();
            try {
                while (ctx.running() && !source.finished()) {
                    for (Source.Received r : source.poll(256, Duration.ofMillis(200))) {
                        submit(r, ctx);
                    }
                    ackSettled();
                }
                // a stop: what is in the flow drains; acknowledge it as it settles, for a while
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                draining = true;
                ackSettled();
                while (!inOrder.isEmpty() && System.nanoTime() < deadline) {
                    synchronized (settledSignal) {
                        if (!inOrder.peekFirst().settled) {
                            java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(
                                    settledSignal, Math.max(1, deadline - System.nanoTime()));
                        }
                    }
                    ackSettled();
                }
            } finally {
                source.close();
            }
        }

        private void submit(Source.Received r, ModuleContext ctx) throws Exception {
            String problem = source.problem(r);
            JsonNode doc = null;
            if (problem == null) {
                try {
                    doc = Json.parse(new String(r.body(), StandardCharsets.UTF_8));
                } catch (IllegalArgumentException e) {
                    problem = "not JSON: " + e.getMessage();
                }
            }
            if (problem != null) {
                ackSettled(); // a reject must not overtake what is still waiting
                source.reject(r, problem);
                ctx.reject("a message: " + problem);
                return;
            }
            Pending p = new Pending(r);
            inOrder.add(p);
            Settlement s = Settlement.of(() -> {
                p.settled = true;
                if (draining) { // only a stop waits for settlements
                    synchronized (settledSignal) {
                        settledSignal.notifyAll();
                    }
                }
            });
            try {
                ctx.submit(FlowEvent.wrap(doc).settleWith(s));
            } finally {
                s.release();
            }
        }

        private void ackSettled() throws Exception {
            List<Source.Received> done = new ArrayList<>();
            while (!inOrder.isEmpty() && inOrder.peekFirst().settled) {
                done.add(inOrder.pollFirst().message);
            }
            if (!done.isEmpty()) {
                source.ack(done);
            }
        }
    }

    /**
     * A sink as a module: each event's data is sent as one message; a refusal or a failure
     * fails the event (to {@code errors}, or rescued), and the sink is opened again.
     */
    static final class SinkModule implements Module {
        private final Sink sink;
        private boolean open;

        SinkModule(Sink sink) {
            this.sink = sink;
        }

        @Override
        public void consume(FlowEvent event, String queue, ModuleContext ctx) throws Exception {
            if (!open) {
                sink.open();
                open = true;
            }
            JsonNode data = event.data();
            String id = data.path("id").isTextual()
                    ? data.get("id").textValue()
                    : event.header().path("id").asText(UUID.randomUUID().toString());
            Message m = new Message(
                    event.header().path("offset").asLong(0),
                    id,
                    Json.write(data),
                    ctx.flow() + ":" + ctx.name(),
                    event.header().path("key").isTextual()
                            ? event.header().get("key").textValue()
                            : null,
                    event.header().path("exchange").isTextual()
                            ? event.header().get("exchange").textValue()
                            : null);
            List<Sink.Refusal> refused;
            try {
                refused = sink.send(List.of(m));
            } catch (Exception e) {
                sink.close();
                open = false;
                throw e;
            }
            if (!refused.isEmpty()) {
                throw new IllegalStateException("refused: " + refused.get(0).reason());
            }
        }

        @Override
        public void close(ModuleContext ctx) {
            if (open) {
                sink.close();
            }
        }
    }
}
