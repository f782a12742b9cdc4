package io.sluice.server.flow;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.api.Json;
import io.sluice.core.flow.Flow;
import io.sluice.core.flow.FlowDefinition;
import io.sluice.core.flow.FlowQueue;
import io.sluice.core.flow.ModuleRegistry;
import io.sluice.core.flow.modules.FlowModules;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.LiveEvents;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The flows of a server ({@code flows:}) or of {@code sluice flow run}: the module registry
 * (built-ins, connectors, plugin jars), the flows made from their definitions, and their
 * figures as JSON.
 */
public final class ServerFlows implements AutoCloseable {
    private final Map<String, Flow> flows = new LinkedHashMap<>();

    /**
     * Every module type: the built-ins, Sluice's inputs and outputs, and those of plugin jars.
     *
     * @param log the log for sluice.log and sluice.tap; null outside a server
     */
    public static ModuleRegistry registry(EventLog log, EventStore store, LiveEvents live, ClassLoader plugins) {
        ModuleRegistry r = ConnectorModules.register(FlowModules.builtins(log, store, live));
        return plugins == null ? r : r.registerProviders(plugins);
    }

    /**
     * Makes every flow (each checked: module types, arguments, routes), without starting them.
     *
     * @throws io.sluice.core.flow.FlowException for the first that cannot run
     */
    public ServerFlows(
            List<FlowDefinition> definitions,
            ModuleRegistry registry,
            MeterRegistry meters,
            Consumer<String> logLines,
            Clock clock) {
        Flow.Environment env = new Flow.Environment(meters, logLines, 6, clock);
        for (FlowDefinition d : definitions) {
            flows.put(d.name(), Flow.create(d, registry, env));
        }
    }

    /** Starts every flow, in the order given. */
    public void start() {
        flows.values().forEach(Flow::start);
    }

    /** Stops every flow cleanly (each drains), the last first. */
    @Override
    public void close() {
        List<Flow> reversed = new ArrayList<>(flows.values());
        java.util.Collections.reverse(reversed);
        reversed.forEach(Flow::stop);
    }

    /** The flows, in the order given. */
    public List<Flow> flows() {
        return List.copyOf(flows.values());
    }

    /** The flow of that name. */
    public Optional<Flow> flow(String name) {
        return Optional.ofNullable(flows.get(name));
    }

    /** A flow's state and figures: its modules and queues. */
    public static ObjectNode describe(Flow f) {
        ObjectNode o = Json.object();
        o.put("name", f.name());
        o.put("origin", f.definition().origin());
        o.put("ended", f.ended());
        o.put("lost", f.lost());
        ObjectNode modules = o.putObject("modules");
        f.modules().forEach((name, m) -> {
            ObjectNode mo = modules.putObject(name);
            mo.put("type", m.type());
            mo.put("hits", m.hits());
            mo.put("submitted", m.submitted());
            mo.put("total_time_seconds", m.totalNanos() / 1e9);
            mo.put("errors", m.errors());
            mo.put("dropped", m.dropped());
            mo.put("discarded", m.discarded());
            mo.put("rejected", m.rejected());
            mo.put("done", m.done());
        });
        ArrayNode queues = o.putArray("queues");
        for (FlowQueue q : f.queues()) {
            FlowQueue.Stats s = q.stats();
            ObjectNode qo = queues.addObject();
            qo.put("from", q.from());
            qo.put("to", q.to());
            qo.put("capacity", q.capacity());
            qo.put("size", s.size());
            qo.put("in_total", s.inTotal());
            qo.put("out_total", s.outTotal());
            qo.put("in_rate", s.inRate());
            qo.put("out_rate", s.outRate());
        }
        return o;
    }
}
