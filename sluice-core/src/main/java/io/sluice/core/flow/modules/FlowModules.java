package io.sluice.core.flow.modules;

import io.sluice.core.flow.ModuleRegistry;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.LiveEvents;

/** Every built-in flow module type, in one readable list. */
public final class FlowModules {
    private FlowModules() {}

    /**
     * A registry of the built-in module types.
     *
     * @param log the server's log for {@code sluice.log} and {@code sluice.tap}; null outside a
     *     server (flows using them are then refused with a message saying why)
     * @param store the log's store (null with {@code log})
     * @param live the log's live feed (null with {@code log})
     */
    public static ModuleRegistry builtins(EventLog log, EventStore store, LiveEvents live) {
        LogModules.Services services = log == null ? null : new LogModules.Services(log, store, live);
        return new ModuleRegistry()
                .register(Plumbing.FANOUT)
                .register(Plumbing.FUNNEL)
                .register(Plumbing.ROUNDROBIN)
                .register(Plumbing.LOCKBUFFER)
                .register(Shaping.TIPPINGBUCKET)
                .register(Shaping.HEADER)
                .register(Shaping.FILTER)
                .register(Shaping.TRANSFORM)
                .register(Io.TESTEVENT)
                .register(Io.FILE_INPUT)
                .register(Io.FILE_OUTPUT)
                .register(Io.STDOUT)
                .register(Plumbing.NULL)
                .register(Io.LOGLEVELFILTER)
                .register(Io.HUMANLOGFORMATTER)
                .register(LogModules.append(services))
                .register(LogModules.tap(services));
    }
}
