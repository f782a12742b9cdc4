package io.sluice.core.flow.modules;

import io.sluice.api.component.Field;
import io.sluice.api.component.Spec;
import io.sluice.api.flow.FlowEvent;
import io.sluice.api.flow.Module;
import io.sluice.api.flow.ModuleContext;
import io.sluice.api.flow.ModuleType;
import java.util.List;

/** Modules that only move events: fan-out, funnel, round robin, lock buffer, null. */
final class Plumbing {
    private Plumbing() {}

    static final ModuleType FANOUT = new ModuleType(
            new Spec(
                    "module",
                    "fanout",
                    "Sends every event to every connected outgoing queue, whatever its name.",
                    List.of(
                            Field.optional(
                                    "clone",
                                    Field.Type.BOOLEAN,
                                    true,
                                    "give each queue its own deep copy; false shares one event, which no module may then change"))),
            List.of("inbox"),
            ModuleType.ANY,
            (args, base) -> new Fanout(args.bool("clone")));

    static final ModuleType FUNNEL = new ModuleType(
            new Spec(
                    "module",
                    "funnel",
                    "Merges every connected incoming queue, whatever its name, into outbox.",
                    List.of()),
            ModuleType.ANY,
            List.of("outbox"),
            (args, base) -> (event, queue, ctx) -> ctx.submit(event));

    static final ModuleType ROUNDROBIN = new ModuleType(
            new Spec(
                    "module",
                    "roundrobin",
                    "Sends each event to the next connected outgoing queue in turn, whatever their names.",
                    List.of()),
            List.of("inbox"),
            ModuleType.ANY,
            (args, base) -> new RoundRobin());

    static final ModuleType LOCKBUFFER = new ModuleType(
            new Spec(
                    "module",
                    "lockbuffer",
                    "Passes events on through an inbox of a fixed size, so that a full buffer holds up the modules before it.",
                    List.of(Field.optional(
                            "size", Field.Type.INTEGER, 100, "the inbox's capacity (overrides queue_size)"))),
            List.of("inbox"),
            List.of("outbox"),
            (args, base) -> (event, queue, ctx) -> ctx.submit(event));

    static final ModuleType NULL = new ModuleType(
            new Spec("module", "null", "Discards every event.", List.of()), List.of("inbox"), List.of(), (args, base) ->
                    (event, queue, ctx) -> {});

    private static final class Fanout implements Module {
        private final boolean clone;

        Fanout(boolean clone) {
            this.clone = clone;
        }

        @Override
        public void consume(FlowEvent event, String queue, ModuleContext ctx) throws InterruptedException {
            List<String> targets = ctx.outgoing();
            for (int i = 0; i < targets.size(); i++) {
                // the last queue may take the original: nobody else holds it any more
                FlowEvent e = clone && i < targets.size() - 1 ? event.copy() : event;
                ctx.submit(e, targets.get(i));
            }
        }
    }

    private static final class RoundRobin implements Module {
        private int next;

        @Override
        public void consume(FlowEvent event, String queue, ModuleContext ctx) throws InterruptedException {
            List<String> targets = ctx.outgoing();
            if (targets.isEmpty()) {
                return;
            }
            ctx.submit(event, targets.get(next++ % targets.size()));
        }
    }
}
