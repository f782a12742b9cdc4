package io.sluice.api.flow;

import io.sluice.api.component.Settings;
import io.sluice.api.component.Spec;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A kind of flow module: its spec (arguments, defaults, documentation; kind {@code module}),
 * the queues it has, and how to make one.
 *
 * @param spec its arguments; {@code spec.type()} is the name used in flow files
 * @param inboxes its incoming queues; {@link #ANY} alone: any name (a funnel)
 * @param outboxes its outgoing queues besides {@code errors}; {@link #ANY} alone: any name (a fan-out)
 * @param factory makes one from its arguments
 */
public record ModuleType(Spec spec, List<String> inboxes, List<String> outboxes, Factory factory) {
    /** A queue list meaning: any name. */
    public static final List<String> ANY = List.of("*");

    public ModuleType {
        Objects.requireNonNull(spec, "spec");
        if (!spec.kind().equals("module")) {
            throw new IllegalArgumentException("a module type's spec has kind 'module', not '" + spec.kind() + "'");
        }
        inboxes = List.copyOf(inboxes);
        outboxes = List.copyOf(outboxes);
        Objects.requireNonNull(factory, "factory");
    }

    /** The name in flow files. */
    public String name() {
        return spec.type();
    }

    /** Whether the type has that incoming queue. */
    public boolean hasInbox(String queue) {
        return inboxes.equals(ANY) || inboxes.contains(queue);
    }

    /** Whether the type has that outgoing queue ({@code errors} always). */
    public boolean hasOutbox(String queue) {
        return queue.equals("errors") || outboxes.equals(ANY) || outboxes.contains(queue);
    }

    /** Makes a module from its checked arguments. */
    @FunctionalInterface
    public interface Factory {
        /**
         * @param arguments the module's arguments, read through its spec
         * @param base the directory relative paths resolve against (the flow file's)
         */
        Module make(Settings arguments, Path base) throws Exception;
    }
}
