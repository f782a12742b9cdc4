package io.sluice.testkit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.query.Query;
import io.sluice.query.QueryIndex;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Standing query sets over {@link Notifications}, mixing the kinds of predicate real users
 * write: equality on {@code event_type}, tenant and host, {@code $in}, numeric ranges,
 * {@code $exists}, and 1% regular expressions. Each query is one of:
 *
 * <table>
 *   <caption>Query mix</caption>
 *   <tr><th>share</th><th>shape</th></tr>
 *   <tr><td>30%</td><td>{@code {event_type: E, payload.tenant_id: T}}</td></tr>
 *   <tr><td>20%</td><td>{@code {payload.tenant_id: T}}</td></tr>
 *   <tr><td>15%</td><td>{@code {payload.host: H, event_type: {$in: [E1, E2]}}}</td></tr>
 *   <tr><td>10%</td><td>{@code {payload.tenant_id: T, payload.memory_mb: {$gte: lo, $lt: hi}}}</td></tr>
 *   <tr><td>10%</td><td>{@code {payload.tenant_id: {$in: [T1, T2, T3]}}}</td></tr>
 *   <tr><td>9%</td><td>{@code {publisher_id: P, payload.image_meta.os_type: {$exists: true}}}</td></tr>
 *   <tr><td>5%</td><td>{@code {payload.host: H, payload.memory_mb: {$gt: m}}}</td></tr>
 *   <tr><td>1%</td><td>{@code {payload.tenant_id: T, payload.display_name: {$regex: "^server-1"}}}</td></tr>
 * </table>
 *
 * <p>The {@link Shape#RANGES} set is range-heavy: 15% narrow windows on a number,
 * {@code {sequence: {$gte: lo, $lt: lo + w}}} (w from 1 to 5 over 0 to 9,999), 15% windows of 1 to
 * 10 seconds on the notification's time, {@code {timestamp: {$gte: A, $lt: B}}} (over the first
 * hour of the stream; OpenStack's times compare as strings), and 70% the mix above.
 *
 * <p>Tenants and hosts are drawn from a universe that grows with the number of queries (at
 * least the pools events use, else one tenant per two queries and one host per ten): more
 * subscriptions cover more tenants, most of them quiet at any moment, as in a real
 * deployment. So the matches per event stay about the same from 10,000 to 100,000 queries,
 * and the benchmark measures the index rather than the growth of its output.
 */
public final class QueryWorkload {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final int[] MEMORY = {512, 1024, 2048, 4096, 8192, 15360, 30720};

    private QueryWorkload() {}

    /** A generated query: its name, its MongoDB form, and the same filter in Esper's EPL. */
    public record GeneratedQuery(String name, ObjectNode query, String epl) {}

    /**
     * The shapes of query in the mix (the table above, in order), or {@link #MIXED} for the mix
     * itself. A set of one shape shows how matching scales with the number of queries when
     * every set looks at the same fields.
     */
    public enum Shape {
        MIXED(-1),
        TYPE_AND_TENANT(0),
        TENANT(30),
        HOST_AND_TYPES(50),
        TENANT_AND_MEMORY(65),
        TENANTS(75),
        PUBLISHER_AND_OS_TYPE(85),
        HOST_AND_MEMORY(94),
        TENANT_AND_NAME(99),
        /** Narrow numeric and time windows, 30%, mixed with the rest (see above). */
        RANGES(-2);

        private final int dice;

        Shape(int dice) {
            this.dice = dice;
        }
    }

    /** {@code count} queries of the mix, deterministic for a seed. */
    public static List<GeneratedQuery> generate(int count, long seed, List<String> eventTypes) {
        return generate(count, seed, eventTypes, Shape.MIXED);
    }

    /** An index holding {@code queries}, added one at a time as standing queries arrive. */
    public static QueryIndex index(List<GeneratedQuery> queries) {
        QueryIndex index = new QueryIndex();
        for (GeneratedQuery q : queries) {
            index.put(q.name(), Query.parse(q.query()));
        }
        return index;
    }

    /** {@code count} queries of one shape (or of the mix), deterministic for a seed. */
    public static List<GeneratedQuery> generate(int count, long seed, List<String> eventTypes, Shape shape) {
        Random r = new Random(seed);
        int tenants = Math.max(Notifications.TENANTS, count / 2);
        int hosts = Math.max(Notifications.HOSTS, count / 10);
        List<GeneratedQuery> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int dice = r.nextInt(100);
            if (shape == Shape.RANGES && dice < 30) {
                out.add(window("q" + i, dice < 15, r));
                continue;
            }
            if (shape == Shape.RANGES) {
                dice = r.nextInt(100);
            }
            boolean mixed = shape == Shape.MIXED || shape == Shape.RANGES;
            out.add(one("q" + i, mixed ? dice : shape.dice, r, eventTypes, tenants, hosts));
        }
        return out;
    }

    private static GeneratedQuery one(String name, int dice, Random r, List<String> types, int tenants, int hosts) {
        ObjectNode q = MAPPER.createObjectNode();
        String type = types.get(r.nextInt(types.size()));
        String tenant = Notifications.tenant(r.nextInt(tenants));
        String host = Notifications.host(r.nextInt(hosts));
        String epl;
        if (dice < 30) {
            q.put("event_type", type).put("payload.tenant_id", tenant);
            epl = "event_type=" + s(type) + ", payload.tenant_id=" + s(tenant);
        } else if (dice < 50) {
            q.put("payload.tenant_id", tenant);
            epl = "payload.tenant_id=" + s(tenant);
        } else if (dice < 65) {
            int o = r.nextInt(types.size());
            String other = types.get(o);
            if (other.equals(type)) { // two different types: Esper fires a statement twice for `in ('a', 'a')`
                other = types.get((o + 1) % types.size());
            }
            q.put("payload.host", host);
            q.putObject("event_type").putArray("$in").add(type).add(other);
            epl = "payload.host=" + s(host) + ", event_type in (" + s(type) + ", " + s(other) + ")";
        } else if (dice < 75) {
            int lo = MEMORY[r.nextInt(MEMORY.length - 1)];
            int hi = lo * (2 + r.nextInt(4));
            q.put("payload.tenant_id", tenant);
            q.putObject("payload.memory_mb").put("$gte", lo).put("$lt", hi);
            epl = "payload.tenant_id=" + s(tenant) + ", payload.memory_mb >= " + lo + ", payload.memory_mb < " + hi;
        } else if (dice < 85) {
            ArrayNode in = q.putObject("payload.tenant_id").putArray("$in");
            StringBuilder list = new StringBuilder();
            for (int k = 0; k < 3; k++) {
                String t = Notifications.tenant(r.nextInt(tenants));
                in.add(t);
                list.append(k == 0 ? "" : ", ").append(s(t));
            }
            epl = "payload.tenant_id in (" + list + ")";
        } else if (dice < 94) {
            q.put("publisher_id", "compute." + host);
            q.putObject("payload.image_meta.os_type").put("$exists", true);
            epl = "publisher_id=" + s("compute." + host) + ", payload.image_meta.os_type is not null";
        } else if (dice < 99) {
            int m = MEMORY[r.nextInt(MEMORY.length)];
            q.put("payload.host", host);
            q.putObject("payload.memory_mb").put("$gt", m);
            epl = "payload.host=" + s(host) + ", payload.memory_mb > " + m;
        } else {
            q.put("payload.tenant_id", tenant);
            q.putObject("payload.display_name").put("$regex", "^server-1");
            epl = "payload.tenant_id=" + s(tenant) + ", payload.display_name regexp 'server-1.*'";
        }
        return new GeneratedQuery(name, q, epl);
    }

    private static final Instant STREAM_START = Instant.parse("2014-05-20T00:00:00Z");
    private static final DateTimeFormatter OPENSTACK_TIME = DateTimeFormatter.ofPattern(
                    "yyyy-MM-dd HH:mm:ss.SSSSSS", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    /** A narrow window on the sequence number or on the time, with Esper's one-range form. */
    private static GeneratedQuery window(String name, boolean numeric, Random r) {
        ObjectNode q = MAPPER.createObjectNode();
        String epl;
        if (numeric) {
            int lo = r.nextInt(Notifications.SEQUENCES);
            int hi = lo + 1 + r.nextInt(5);
            q.putObject("sequence").put("$gte", lo).put("$lt", hi);
            epl = "sequence in [" + lo + ":" + hi + ")";
        } else {
            Instant from = STREAM_START.plusMillis(r.nextInt(3_600_000));
            String lo = OPENSTACK_TIME.format(from);
            String hi = OPENSTACK_TIME.format(from.plusSeconds(1 + r.nextInt(10)));
            q.putObject("timestamp").put("$gte", lo).put("$lt", hi);
            epl = "timestamp in [" + s(lo) + ":" + s(hi) + ")";
        }
        return new GeneratedQuery(name, q, epl);
    }

    private static String s(String text) {
        return "'" + text.replace("'", "\\'") + "'";
    }
}
