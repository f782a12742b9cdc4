package io.sluice.core.flow.modules;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.api.component.Field;
import io.sluice.api.component.Settings;
import io.sluice.api.component.Spec;
import io.sluice.api.flow.FlowEvent;
import io.sluice.api.flow.InputModule;
import io.sluice.api.flow.Module;
import io.sluice.api.flow.ModuleContext;
import io.sluice.api.flow.ModuleType;
import io.sluice.api.flow.Settlement;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.LiveEvents;
import io.sluice.core.log.LogCursor;
import io.sluice.core.log.OffsetOutOfRangeException;
import io.sluice.core.log.StoredEvent;
import io.sluice.query.Query;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.function.Predicate;

/**
 * The modules that connect a flow to Sluice's log: {@code sluice.log} appends (an ingest flow's
 * end), {@code sluice.tap} reads from a durable checkpoint (an output flow's start).
 */
final class LogModules {
    private LogModules() {}

    /**
     * What the log modules use: the server's log, store and live feed. Null outside a server
     * (then a flow using them cannot be made, with a message saying so).
     */
    record Services(EventLog log, EventStore store, LiveEvents live) {}

    static ModuleType append(Services services) {
        return new ModuleType(
                new Spec(
                        "module",
                        "sluice.log",
                        "Appends each event's data (a JSON object) to Sluice's log; what it consumed is acknowledged upstream "
                                + "only once the append is durable. An invalid event fails (to errors, if connected).",
                        List.of()),
                List.of("inbox"),
                List.of(),
                (args, base) -> new Append(services));
    }

    private static Services need(Services s, String type) {
        if (s == null) {
            throw new IllegalArgumentException(
                    type + " needs Sluice's log: run the flow from a server (flows: in sluice.yaml)");
        }
        return s;
    }

    /** Appends; {@code services} is checked when the flow starts, so that a flow can be checked without a log. */
    private record Append(Services services) implements Module {
        @Override
        public void start(ModuleContext ctx) {
            need(services, "sluice.log");
        }

        @Override
        public void consume(FlowEvent event, String queue, ModuleContext ctx) {
            if (!event.data().isObject()) {
                throw new IllegalArgumentException("an event for the log must be a JSON object, not "
                        + event.data().getNodeType().name().toLowerCase(java.util.Locale.ROOT));
            }
            Settlement s = event.settlement();
            if (s != null) {
                s.retain(); // released when the append is durable: the acknowledgement waits for it
            }
            services.log().append(List.of(event.data().deepCopy())).whenComplete((result, failure) -> {
                if (failure != null) {
                    ctx.log(
                            ModuleContext.ERROR,
                            "append failed, the event is not acknowledged: " + failure.getMessage());
                } else if (s != null) {
                    s.release();
                }
            });
        }
    }

    static ModuleType tap(Services services) {
        return new ModuleType(
                new Spec(
                        "module",
                        "sluice.tap",
                        "Reads Sluice's log from a durable checkpoint: each event as data, its offset in header.offset. "
                                + "The checkpoint moves past an event once the flow is done with it.",
                        List.of(
                                Field.optional("filter", Field.Type.ANY, null, "only events matching this query"),
                                Field.optional(
                                        "reader",
                                        Field.Type.STRING,
                                        null,
                                        "the checkpoint's name; default flow:FLOW:MODULE"),
                                Field.optional(
                                        "start",
                                        Field.Type.STRING,
                                        "beginning",
                                        "without a checkpoint yet: beginning (the whole log) or end (new events only)"))),
                List.of(),
                List.of("outbox"),
                (args, base) -> tap(services, args));
    }

    private static Module tap(Services services, Settings args) {
        Predicate<StoredEvent> filter = e -> true;
        if (args.has("filter")) {
            try {
                Query q = Query.parse(args.any("filter"));
                filter = e -> q.matches(e.document());
            } catch (IllegalArgumentException e) {
                throw args.invalid("filter", e.getMessage());
            }
        }
        String start = args.string("start");
        if (!start.equals("beginning") && !start.equals("end")) {
            throw args.invalid("start", "must be beginning or end, not '" + start + "'");
        }
        return new Tap(services, filter, args.has("reader") ? args.string("reader") : null, start.equals("end"));
    }

    /** The tap: a cursor on the log, and the offsets submitted but not yet settled. */
    private static final class Tap implements InputModule {
        private final Services services;
        private final Predicate<StoredEvent> filter;
        private final String configuredReader;
        private final boolean fromEnd;
        private final ConcurrentSkipListSet<Long> unsettled = new ConcurrentSkipListSet<>();
        private volatile long submitted;
        private long saved = -1;
        private String reader;

        Tap(Services services, Predicate<StoredEvent> filter, String reader, boolean fromEnd) {
            this.services = services;
            this.filter = filter;
            this.configuredReader = reader;
            this.fromEnd = fromEnd;
        }

        @Override
        public void start(ModuleContext ctx) {
            need(services, "sluice.tap");
            reader = configuredReader != null ? configuredReader : "flow:" + ctx.flow() + ":" + ctx.name();
            EventStore store = services.store();
            submitted = store.checkpoint(reader)
                    .map(EventStore.Checkpoint::offset)
                    .orElse(fromEnd ? store.lastOffset() : 0L);
            saved = submitted;
            ctx.every(Duration.ofSeconds(1), () -> save(ctx));
        }

        @Override
        public void run(ModuleContext ctx) throws InterruptedException {
            LogCursor cursor = new LogCursor(services.store(), services.live(), submitted, filter, 8_192);
            try {
                while (ctx.running()) {
                    StoredEvent e;
                    try {
                        e = cursor.next(Duration.ofMillis(200));
                    } catch (OffsetOutOfRangeException gone) {
                        long gapEnd = cursor.skipToRetained();
                        ctx.log(
                                ModuleContext.WARNING,
                                "events " + (submitted + 1) + " to " + gapEnd
                                        + " were deleted by retention before the tap read them");
                        submitted = gapEnd;
                        continue;
                    }
                    if (e == null) {
                        if (unsettled.isEmpty()) {
                            submitted = Math.max(submitted, cursor.position()); // filtered-out events are done too
                        }
                        continue;
                    }
                    long offset = e.offset();
                    unsettled.add(offset);
                    Settlement s = Settlement.of(() -> unsettled.remove(offset));
                    ObjectNode header = Json.object();
                    header.put("offset", offset);
                    header.put("reader", reader);
                    FlowEvent fe = new FlowEvent(header, e.document()).settleWith(s);
                    try {
                        ctx.submit(fe);
                    } finally {
                        s.release();
                    }
                    submitted = offset;
                }
            } finally {
                cursor.close();
            }
        }

        /** The checkpoint: just before the oldest unsettled event, or the last submitted. */
        private long settledThrough() {
            Long oldest = unsettled.isEmpty() ? null : unsettled.first();
            return oldest == null ? submitted : oldest - 1;
        }

        private void save(ModuleContext ctx) {
            long at = settledThrough();
            if (at != saved) {
                services.store().saveCheckpoint(reader, new EventStore.Checkpoint(at, null));
                saved = at;
            }
        }

        @Override
        public void close(ModuleContext ctx) {
            save(ctx);
        }
    }
}
