package io.sluice.bench;

import com.espertech.esper.common.client.EPCompiled;
import com.espertech.esper.common.client.configuration.Configuration;
import com.espertech.esper.compiler.client.CompilerArguments;
import com.espertech.esper.compiler.client.EPCompileException;
import com.espertech.esper.compiler.client.EPCompilerProvider;
import com.espertech.esper.runtime.client.EPDeployException;
import com.espertech.esper.runtime.client.EPDeployment;
import com.espertech.esper.runtime.client.EPEventService;
import com.espertech.esper.runtime.client.EPRuntime;
import com.espertech.esper.runtime.client.EPRuntimeProvider;
import com.espertech.esper.runtime.client.EPStatement;
import com.espertech.esper.runtime.client.UpdateListener;
import io.sluice.testkit.QueryWorkload;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The same standing filters in Esper: one {@code select * from E(...)} statement per query,
 * over a Map event type with the notification fields the queries use.
 */
final class EsperFilters implements AutoCloseable {
    private static final int MODULE_SIZE = 2_000;

    private final EPRuntime runtime;
    private final EPEventService events;
    private long matches;

    EsperFilters(List<QueryWorkload.GeneratedQuery> queries) {
        Configuration config = new Configuration();
        config.getRuntime().getThreading().setInternalTimerEnabled(false);
        config.getCommon()
                .addEventType(
                        "E",
                        Map.of(
                                "event_type", String.class,
                                "publisher_id", String.class,
                                "timestamp", String.class,
                                "sequence", Integer.class,
                                "payload",
                                        Map.of(
                                                "tenant_id", String.class,
                                                "host", String.class,
                                                "memory_mb", Integer.class,
                                                "display_name", String.class,
                                                "image_meta", Map.of("os_type", String.class))));
        runtime = EPRuntimeProvider.getRuntime("sluice-bench-" + UUID.randomUUID(), config);
        UpdateListener count = (newEvents, oldEvents, statement, rt) -> matches += newEvents.length;
        // Compiled and deployed in modules: one module of 100,000 statements is one huge
        // compilation unit, which the compiler does not finish in reasonable time.
        for (int from = 0; from < queries.size(); from += MODULE_SIZE) {
            StringBuilder module = new StringBuilder();
            for (QueryWorkload.GeneratedQuery q : queries.subList(from, Math.min(queries.size(), from + MODULE_SIZE))) {
                module.append("@name('")
                        .append(q.name())
                        .append("') select * from E(")
                        .append(q.epl())
                        .append(");\n");
            }
            try {
                EPCompiled compiled =
                        EPCompilerProvider.getCompiler().compile(module.toString(), new CompilerArguments(config));
                EPDeployment deployment = runtime.getDeploymentService().deploy(compiled);
                for (EPStatement statement : deployment.getStatements()) {
                    statement.addListener(count);
                }
            } catch (EPCompileException | EPDeployException e) {
                runtime.destroy();
                throw new IllegalStateException("Esper rejected the filters: " + e.getMessage(), e);
            }
        }
        events = runtime.getEventService();
    }

    /** Sends one event; returns the total number of matches so far. */
    long send(Map<String, Object> event) {
        events.sendEventMap(event, "E");
        return matches;
    }

    @Override
    public void close() {
        runtime.destroy();
    }
}
