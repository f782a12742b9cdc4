package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.api.Json;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Winchester's per-trigger debugging ({@code debug_level}): at level 1, counters of what
 * happened ("New stream", "Added events", "Ready to fire", "Fired", "Expired", ...); at level 2
 * also, per check group ("Match", "Fire"), how many events matched and mismatched and why
 * ("Wrong event type", "not 'instance_id'", "== failed", ...). Level 0 keeps nothing.
 */
public final class Debug {
    private final int level;
    private final Map<String, AtomicLong> counters = new ConcurrentHashMap<>();
    private final Map<String, Group> groups = new ConcurrentHashMap<>();
    private volatile MeterRegistry meters;
    private volatile String trigger;

    public Debug(int level) {
        this.level = level;
    }

    /**
     * Exposes the counters as meters too, each registered when first counted: {@code
     * sluice.triggers.debug{trigger, counter}} (level 1), and {@code
     * sluice.triggers.checks{trigger, group, outcome}} and {@code
     * sluice.triggers.mismatches{trigger, group, reason}} (level 2).
     */
    public void bindTo(MeterRegistry registry, String triggerName) {
        this.trigger = triggerName;
        this.meters = registry;
        counters.forEach(this::registerCounter);
        groups.forEach((name, g) -> g.bind(this, name));
    }

    private void registerCounter(String name, AtomicLong n) {
        MeterRegistry m = meters;
        if (m != null) {
            FunctionCounter.builder("sluice.triggers.debug", n, AtomicLong::get)
                    .description("Winchester's per-trigger debug counters (debug_level 1 and up)")
                    .tags("trigger", trigger, "counter", name)
                    .register(m);
        }
    }

    /** Counts something that happened to the trigger's streams (level 1 and up). */
    public void bump(String counter) {
        if (level >= 1) {
            counters.computeIfAbsent(counter, k -> {
                        AtomicLong n = new AtomicLong();
                        registerCounter(k, n);
                        return n;
                    })
                    .incrementAndGet();
        }
    }

    /** The group of checks of one kind. */
    public Group group(String name) {
        return level >= 2
                ? groups.computeIfAbsent(name, k -> {
                    Group g = new Group();
                    g.bind(this, k);
                    return g;
                })
                : Group.NONE;
    }

    /** The counters and groups, for the API. */
    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("debug_level", level);
        ObjectNode c = o.putObject("counters");
        new TreeMap<>(counters).forEach((k, v) -> c.put(k, v.get()));
        if (level >= 2) {
            ObjectNode g = o.putObject("groups");
            new TreeMap<>(groups).forEach((k, v) -> g.set(k, v.toJson()));
        }
        return o;
    }

    /** Match and mismatch counts of one kind of check, with the mismatches' reasons. */
    public static class Group {
        static final Group NONE = new Group() {
            @Override
            public boolean mismatch(String reason) {
                return false;
            }

            @Override
            public boolean match() {
                return true;
            }
        };

        private final AtomicLong matches = new AtomicLong();
        private final AtomicLong mismatches = new AtomicLong();
        private final Map<String, AtomicLong> reasons = new ConcurrentHashMap<>();
        private volatile Debug owner;
        private volatile String name;

        void bind(Debug debug, String groupName) {
            MeterRegistry m = debug.meters;
            this.owner = debug;
            this.name = groupName;
            if (m == null) {
                return;
            }
            for (String outcome : new String[] {"match", "mismatch"}) {
                FunctionCounter.builder(
                                "sluice.triggers.checks",
                                outcome.equals("match") ? matches : mismatches,
                                AtomicLong::get)
                        .description("Winchester's per-trigger checks by group and outcome (debug_level 2)")
                        .tags("trigger", debug.trigger, "group", groupName, "outcome", outcome)
                        .register(m);
            }
            reasons.forEach(this::registerReason);
        }

        private void registerReason(String reason, AtomicLong n) {
            Debug d = owner;
            if (d != null && d.meters != null) {
                FunctionCounter.builder("sluice.triggers.mismatches", n, AtomicLong::get)
                        .description("Winchester's mismatch reasons per trigger and group (debug_level 2)")
                        .tags("trigger", d.trigger, "group", name, "reason", reason)
                        .register(d.meters);
            }
        }

        /** Records a mismatch; returns false so that checks can {@code return group.mismatch(...)}. */
        public boolean mismatch(String reason) {
            mismatches.incrementAndGet();
            reasons.computeIfAbsent(reason, k -> {
                        AtomicLong n = new AtomicLong();
                        registerReason(k, n);
                        return n;
                    })
                    .incrementAndGet();
            return false;
        }

        /** Records a match; returns true. */
        public boolean match() {
            matches.incrementAndGet();
            return true;
        }

        /** A match when {@code ok}, else a mismatch for {@code reason}. */
        public boolean check(boolean ok, String reason) {
            return ok ? match() : mismatch(reason);
        }

        ObjectNode toJson() {
            ObjectNode o = Json.object();
            o.put("match", matches.get());
            o.put("mismatch", mismatches.get());
            ObjectNode r = o.putObject("reasons");
            new TreeMap<>(reasons).forEach((k, v) -> r.put(k, v.get()));
            return o;
        }
    }
}
