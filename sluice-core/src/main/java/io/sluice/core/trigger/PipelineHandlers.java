package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.pipeline.PipelineHandler;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline handlers a configuration may name: Winchester's own by their Winchester names
 * ({@code winchester.pipeline_handler:LoggingHandler} is {@code logger}, and so on), Sluice's
 * built-ins by name, and Java classes implementing {@link PipelineHandler} by class name.
 */
public final class PipelineHandlers {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineHandlers.class);

    /** Makes a fresh handler for one run from its params. */
    public interface Factory extends Function<JsonNode, PipelineHandler> {}

    private final Map<String, Factory> byName = new LinkedHashMap<>();

    /**
     * Resolves {@code pipeline_handlers}.
     *
     * @param handlers handler name to implementation, as the configuration gives them
     * @param builtIns Sluice's built-in handlers by their names ({@code logger}, ...)
     * @param loader where Java handler classes are found
     * @throws DefinitionException naming the handler whose implementation is not available
     */
    public PipelineHandlers(
            Map<String, String> handlers, Map<String, Factory> builtIns, ClassLoader loader, String file) {
        for (Map.Entry<String, String> h : handlers.entrySet()) {
            String impl = h.getValue();
            String builtIn = WinchesterConfig.BUILT_IN.getOrDefault(impl, impl);
            Factory f = builtIns.get(builtIn);
            if (f == null) {
                if (impl.contains(":")) {
                    throw new DefinitionException(file + ": pipeline_handlers." + h.getKey() + ": '" + impl
                            + "' is a Python handler; Sluice runs Java ones: implement "
                            + PipelineHandler.class.getName() + " and give its class name (built-ins: "
                            + String.join(", ", builtIns.keySet()) + ")");
                }
                f = javaClass(impl, loader, file + ": pipeline_handlers." + h.getKey());
            }
            byName.put(h.getKey(), f);
        }
    }

    /** The factory of a handler name. */
    public Factory get(String name) {
        return byName.get(name);
    }

    private static Factory javaClass(String className, ClassLoader loader, String where) {
        Class<?> type;
        try {
            type = Class.forName(className, true, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new DefinitionException(where + ": no class " + className + " on the classpath or in plugins_dir");
        }
        if (!PipelineHandler.class.isAssignableFrom(type)) {
            throw new DefinitionException(
                    where + ": " + className + " does not implement " + PipelineHandler.class.getName());
        }
        java.lang.reflect.Constructor<?> withParams;
        java.lang.reflect.Constructor<?> plain;
        try {
            withParams = type.getConstructor(JsonNode.class);
        } catch (NoSuchMethodException e) {
            withParams = null;
        }
        try {
            plain = type.getConstructor();
        } catch (NoSuchMethodException e) {
            plain = null;
        }
        if (withParams == null && plain == null) {
            throw new DefinitionException(
                    where + ": " + className + " needs a public constructor taking (JsonNode params) or none");
        }
        java.lang.reflect.Constructor<?> wp = withParams;
        java.lang.reflect.Constructor<?> np = plain;
        return params -> {
            try {
                return (PipelineHandler) (wp != null ? wp.newInstance(params) : np.newInstance());
            } catch (java.lang.reflect.InvocationTargetException e) {
                throw new IllegalStateException("cannot make " + className + ": " + e.getCause(), e.getCause());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot make " + className + ": " + e, e);
            }
        };
    }

    /** Winchester's {@code LoggingHandler}: logs how many events the stream has, passes them on. */
    public static final class LoggingHandler implements PipelineHandler {
        @Override
        public List<ObjectNode> handleEvents(List<ObjectNode> events, Map<String, Object> env) {
            LOG.info(
                    "Received {} events. stream {} ({}): first {} last {}",
                    events.size(),
                    env.get("stream_id"),
                    env.get("stream_name"),
                    events.isEmpty()
                            ? null
                            : events.getFirst().path("event_type").asText(),
                    events.isEmpty()
                            ? null
                            : events.getLast().path("event_type").asText());
            return events;
        }
    }
}
