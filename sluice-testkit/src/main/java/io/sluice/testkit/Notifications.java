package io.sluice.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * OpenStack notifications generated from StackTach's notigen templates.
 *
 * <p>Each template is the sequence of notifications one operation on one instance produces
 * (create, resize, delete, ...). Element 0 holds the time offsets of its {@code DT_n}
 * placeholders as {@code [days, seconds, microseconds]}; the other elements are notifications
 * with placeholders such as {@code [[[[UUID_0]]]]}, {@code [[[[tenant_id]]]]} and
 * {@code [[[[DT_3]]]]}. Expanding a template replaces every placeholder with a value of its
 * kind, the same value for the same placeholder within one sequence; tenants, users and hosts
 * come from fixed pools so that queries over them match realistically often.
 */
public final class Notifications {
    /** Pool sizes of the named values; queries draw from the same pools. */
    public static final int TENANTS = 1_000;

    public static final int HOSTS = 200;
    public static final int USERS = 5_000;

    private static final String BASE = "io/sluice/testkit/notigen/";
    private static final Pattern PLACEHOLDER = Pattern.compile("\\[\\[\\[\\[(.+?)\\]\\]\\]\\]");
    private static final DateTimeFormatter OPENSTACK_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS", Locale.ROOT);
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final List<Template> templates;
    private final Template endOfDayExists;

    private Notifications(List<Template> templates, Template endOfDayExists) {
        this.templates = templates;
        this.endOfDayExists = endOfDayExists;
    }

    /** Loads the templates shipped with the test kit. */
    public static Notifications load() {
        List<Template> templates = new ArrayList<>();
        for (String name : resourceLines(BASE + "index.txt")) {
            templates.add(Template.read(name, resource(BASE + name)));
        }
        return new Notifications(
                List.copyOf(templates), Template.read("eod_exists.json", resource(BASE + "eod_exists.json")));
    }

    /** The event types the templates produce, in no particular order. */
    public List<String> eventTypes() {
        return templates.stream()
                .flatMap(t -> t.notifications.stream())
                .map(n -> n.path("event_type").asText())
                .distinct()
                .toList();
    }

    /** A tenant id of the pool. */
    public static String tenant(int i) {
        return String.format(Locale.ROOT, "%07d", 5_000_000 + i);
    }

    /** A compute host name of the pool. */
    public static String host(int i) {
        return String.format(Locale.ROOT, "compute-%04d", i);
    }

    /** One operation's notification sequence, from a template picked at random. */
    public List<ObjectNode> sequence(Random random, Instant base) {
        return templates.get(random.nextInt(templates.size())).expand(random, base);
    }

    /** The end-of-day {@code compute.instance.exists} notification sequence. */
    public List<ObjectNode> endOfDayExists(Random random, Instant base) {
        return endOfDayExists.expand(random, base);
    }

    /** Notifications in a {@link #stream} carry their position in it, modulo this, as {@code sequence}. */
    public static final int SEQUENCES = 10_000;

    /**
     * A stream of notifications: sequences of random templates, each starting a little after the
     * previous one, deterministic for a seed. Each carries a top-level {@code sequence} number,
     * its position in the stream modulo {@link #SEQUENCES}, for queries over a numeric window.
     */
    public Iterator<ObjectNode> stream(long seed, Instant start) {
        Random random = new Random(seed);
        return new Iterator<>() {
            private final List<ObjectNode> pending = new ArrayList<>();
            private Instant clock = start;
            private int next;
            private long taken;

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public ObjectNode next() {
                if (next == pending.size()) {
                    pending.clear();
                    next = 0;
                    clock = clock.plusMillis(1 + random.nextInt(2_000));
                    pending.addAll(sequence(random, clock));
                }
                ObjectNode n = pending.get(next++);
                n.put("sequence", (int) (taken++ % SEQUENCES));
                return n;
            }
        };
    }

    /** The first {@code count} notifications of {@link #stream}. */
    public List<ObjectNode> take(int count, long seed) {
        Iterator<ObjectNode> it = stream(seed, Instant.parse("2014-05-20T00:00:00Z"));
        List<ObjectNode> events = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            events.add(it.next());
        }
        return events;
    }

    private record Template(String name, Map<String, long[]> times, List<ObjectNode> notifications) {
        static Template read(String name, InputStream in) {
            try (in) {
                ArrayNode all = (ArrayNode) MAPPER.readTree(in);
                Map<String, long[]> times = new HashMap<>();
                all.get(0).path("time_map").properties().forEach(e -> {
                    JsonNode v = e.getValue();
                    times.put(e.getKey(), new long[] {
                        v.get(0).asLong(), v.get(1).asLong(), v.get(2).asLong()
                    });
                });
                List<ObjectNode> notifications = new ArrayList<>();
                for (int i = 1; i < all.size(); i++) {
                    notifications.add((ObjectNode) all.get(i));
                }
                return new Template(name, times, List.copyOf(notifications));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read template " + name, e);
            }
        }

        List<ObjectNode> expand(Random random, Instant base) {
            Map<String, String> values = new HashMap<>();
            String tenant = tenant(random.nextInt(TENANTS));
            String host = host(random.nextInt(HOSTS));
            String user = String.format(Locale.ROOT, "%d", 100_000 + random.nextInt(USERS));
            List<ObjectNode> out = new ArrayList<>(notifications.size());
            for (ObjectNode n : notifications) {
                out.add((ObjectNode) expandNode(n, values, random, base, tenant, host, user));
            }
            return out;
        }

        private JsonNode expandNode(
                JsonNode node,
                Map<String, String> values,
                Random random,
                Instant base,
                String tenant,
                String host,
                String user) {
            if (node.isTextual()) {
                String text = node.textValue();
                if (text.indexOf("[[[[") < 0) {
                    return node;
                }
                Matcher m = PLACEHOLDER.matcher(text);
                StringBuilder sb = new StringBuilder();
                while (m.find()) {
                    String value = values.computeIfAbsent(
                            m.group(),
                            k -> value(m.group(1).replaceFirst("_\\d+$", ""), k, random, base, tenant, host, user));
                    m.appendReplacement(sb, Matcher.quoteReplacement(value));
                }
                m.appendTail(sb);
                return MAPPER.getNodeFactory().textNode(sb.toString());
            }
            if (node.isObject()) {
                ObjectNode o = MAPPER.createObjectNode();
                node.properties()
                        .forEach(e ->
                                o.set(e.getKey(), expandNode(e.getValue(), values, random, base, tenant, host, user)));
                return o;
            }
            if (node.isArray()) {
                ArrayNode a = MAPPER.createArrayNode();
                node.forEach(e -> a.add(expandNode(e, values, random, base, tenant, host, user)));
                return a;
            }
            return node;
        }

        private String value(
                String kind, String placeholder, Random random, Instant base, String tenant, String host, String user) {
            return switch (kind) {
                case "UUID" -> new UUID(random.nextLong(), random.nextLong()).toString();
                case "XUUID" -> String.format(Locale.ROOT, "%016x%016x", random.nextLong(), random.nextLong());
                case "V4" ->
                    (10 + random.nextInt(200)) + "." + random.nextInt(256) + "." + random.nextInt(256) + "."
                            + (1 + random.nextInt(254));
                case "V6" ->
                    String.format(Locale.ROOT, "2001:db8::%x:%x", random.nextInt(0xffff), random.nextInt(0xffff));
                case "DT" -> time(placeholder, base);
                case "tenant_id" -> tenant;
                case "user_id" -> user;
                case "host" -> host;
                case "hostname", "display_name" -> "server-" + random.nextInt(100_000);
                case "node" -> host + ".example.com";
                case "publisher_id" -> "compute." + host;
                case "reservation_id" -> String.format(Locale.ROOT, "r-%08x", random.nextInt());
                case "image_name" -> "image-" + random.nextInt(50);
                case "device_name" -> "/dev/xvd" + (char) ('b' + random.nextInt(5));
                default -> kind.toLowerCase(Locale.ROOT) + "-" + random.nextInt(1000);
            };
        }

        private String time(String placeholder, Instant base) {
            long[] offset = times.getOrDefault(placeholder, new long[3]);
            Instant t =
                    base.plus(Duration.ofDays(offset[0])).plusSeconds(offset[1]).plusNanos(offset[2] * 1_000);
            return OPENSTACK_TIME.format(LocalDateTime.ofInstant(t, ZoneOffset.UTC));
        }
    }

    private static InputStream resource(String path) {
        InputStream in = Notifications.class.getClassLoader().getResourceAsStream(path);
        if (in == null) {
            throw new IllegalStateException("missing resource " + path);
        }
        return in;
    }

    private static List<String> resourceLines(String path) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(resource(path), StandardCharsets.UTF_8))) {
            return r.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
