package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.node.ObjectNode;
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

    public Debug(int level) {
        this.level = level;
    }

    /** Counts something that happened to the trigger's streams (level 1 and up). */
    public void bump(String counter) {
        if (level >= 1) {
            counters.computeIfAbsent(counter, k -> new AtomicLong()).incrementAndGet();
        }
    }

    /** The group of checks of one kind. */
    public Group group(String name) {
        return level >= 2 ? groups.computeIfAbsent(name, k -> new Group()) : Group.NONE;
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

        /** Records a mismatch; returns false so that checks can {@code return group.mismatch(...)}. */
        public boolean mismatch(String reason) {
            mismatches.incrementAndGet();
            reasons.computeIfAbsent(reason, k -> new AtomicLong()).incrementAndGet();
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
