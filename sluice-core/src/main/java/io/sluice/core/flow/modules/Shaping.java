package io.sluice.core.flow.modules;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.api.component.Field;
import io.sluice.api.component.Settings;
import io.sluice.api.component.Spec;
import io.sluice.api.flow.FlowEvent;
import io.sluice.api.flow.Module;
import io.sluice.api.flow.ModuleContext;
import io.sluice.api.flow.ModuleType;
import io.sluice.api.flow.Settlement;
import io.sluice.query.Query;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Modules that look at or change events: header, filter, transform, tipping bucket. */
final class Shaping {
    private Shaping() {}

    static final ModuleType HEADER = new ModuleType(
            new Spec(
                    "module",
                    "header",
                    "Sets a header field: header[key] = header (Compysition's header module).",
                    List.of(
                            Field.optional(
                                    "key",
                                    Field.Type.STRING,
                                    null,
                                    "the header field to set; default: the module's name"),
                            Field.optional("header", Field.Type.ANY, Map.of(), "the value to store there"))),
            List.of("inbox"),
            List.of("outbox"),
            Shaping::header);

    private static Module header(Settings args, java.nio.file.Path base) {
        JsonNode value = args.any("header");
        String configured = args.has("key") ? args.string("key") : null;
        return (event, queue, ctx) -> {
            event.header().set(configured == null ? ctx.name() : configured, value.deepCopy());
            ctx.submit(event);
        };
    }

    static final ModuleType FILTER = new ModuleType(
            new Spec(
                    "module",
                    "filter",
                    "Sends events whose data matches a query (Sluice's query language) to outbox, the others to nomatch.",
                    List.of(Field.required(
                            "query", Field.Type.ANY, "the query, such as {\"type\": \"order.created\"}"))),
            List.of("inbox"),
            List.of("outbox", "nomatch"),
            Shaping::filter);

    private static Module filter(Settings args, java.nio.file.Path base) {
        Query query;
        try {
            query = Query.parse(args.any("query"));
        } catch (IllegalArgumentException e) {
            throw args.invalid("query", e.getMessage());
        }
        return (event, queue, ctx) -> ctx.submit(event, query.matches(event.data()) ? "outbox" : "nomatch");
    }

    static final ModuleType TRANSFORM = new ModuleType(
            new Spec(
                    "module",
                    "transform",
                    "Changes the data by dotted paths: renames first, then sets, then removes.",
                    List.of(
                            Field.optional("rename", Field.Type.STRING_MAP, null, "paths to move, {from: to}"),
                            Field.optional("set", Field.Type.ANY, null, "values to set, {path: value}"),
                            Field.optional("remove", Field.Type.ANY, null, "paths to remove, a list"))),
            List.of("inbox"),
            List.of("outbox"),
            Shaping::transform);

    private static Module transform(Settings args, java.nio.file.Path base) {
        Map<String, String> rename = args.has("rename") ? args.stringMap("rename") : Map.of();
        Map<String, JsonNode> set = new LinkedHashMap<>();
        if (args.has("set")) {
            JsonNode s = args.any("set");
            if (!s.isObject()) {
                throw args.invalid("set", "must be a mapping of paths to values");
            }
            s.fields().forEachRemaining(e -> set.put(e.getKey(), e.getValue()));
        }
        List<String> remove = new ArrayList<>();
        if (args.has("remove")) {
            JsonNode r = args.any("remove");
            if (r.isTextual()) {
                remove.add(r.textValue());
            } else if (r.isArray()) {
                r.forEach(p -> remove.add(p.asText()));
            } else {
                throw args.invalid("remove", "must be a path or a list of paths");
            }
        }
        return (event, queue, ctx) -> {
            if (!event.data().isObject()) {
                throw new IllegalArgumentException("transform needs data that is a JSON object, not "
                        + event.data().getNodeType());
            }
            ObjectNode data = (ObjectNode) event.data();
            rename.forEach((from, to) -> {
                JsonNode v = Paths.remove(data, from);
                if (v != null) {
                    Paths.set(data, to, v);
                }
            });
            set.forEach((path, v) -> Paths.set(data, path, v.deepCopy()));
            remove.forEach(path -> Paths.remove(data, path));
            ctx.submit(event);
        };
    }

    static final ModuleType TIPPINGBUCKET = new ModuleType(
            new Spec(
                    "module",
                    "tippingbucket",
                    "Buffers events and sends their data as one array when the bucket is full by age, bytes or count "
                            + "(and on a stop); 0 disables a limit.",
                    List.of(
                            Field.optional(
                                    "age", Field.Type.DURATION, 0, "flush when the oldest buffered event is this old"),
                            Field.optional(
                                    "size",
                                    Field.Type.SIZE,
                                    0,
                                    "flush when the buffered data reaches this many bytes of JSON"),
                            Field.optional("events", Field.Type.INTEGER, 0, "flush when this many events are buffered"),
                            Field.optional(
                                    "predefined_header",
                                    Field.Type.ANY,
                                    null,
                                    "header of the flushed event; default: the first buffered event's"))),
            List.of("inbox"),
            List.of("outbox"),
            (args, base) -> new TippingBucket(
                    args.duration("age"),
                    args.size("size"),
                    args.integer("events"),
                    args.has("predefined_header") ? args.any("predefined_header") : null));

    /**
     * Compysition's tipping bucket. A limit is reached when the bucket holds that many events or
     * bytes (Compysition flushed one event later, once a limit was exceeded); the flushed event
     * settles the events in it.
     */
    static final class TippingBucket implements Module {
        private final Duration age;
        private final long bytes;
        private final long count;
        private final JsonNode predefinedHeader;
        private ArrayNode buffer = Json.nodes().arrayNode();
        private final List<Settlement> held = new ArrayList<>();
        private ObjectNode header;
        private long bufferedBytes;
        private long firstNanos;

        TippingBucket(Duration age, long bytes, long count, JsonNode predefinedHeader) {
            this.age = age;
            this.bytes = bytes;
            this.count = count;
            this.predefinedHeader = predefinedHeader;
            if (predefinedHeader != null && !predefinedHeader.isObject()) {
                throw new IllegalArgumentException("predefined_header must be a mapping");
            }
        }

        @Override
        public void start(ModuleContext ctx) {
            if (!age.isZero()) {
                ctx.every(
                        age.dividedBy(10).compareTo(Duration.ofMillis(10)) < 0
                                ? Duration.ofMillis(10)
                                : age.dividedBy(10),
                        () -> {
                            if (!buffer.isEmpty() && System.nanoTime() - firstNanos >= age.toNanos()) {
                                flush(ctx);
                            }
                        });
            }
        }

        @Override
        public void consume(FlowEvent event, String queue, ModuleContext ctx) throws InterruptedException {
            if (buffer.isEmpty()) {
                firstNanos = System.nanoTime();
                header = event.header();
            }
            buffer.add(event.data());
            if (event.settlement() != null) {
                held.add(event.settlement().retain());
            }
            if (bytes > 0) {
                bufferedBytes += Json.write(event.data()).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            }
            if ((count > 0 && buffer.size() >= count) || (bytes > 0 && bufferedBytes >= bytes)) {
                flush(ctx);
            }
        }

        @Override
        public void close(ModuleContext ctx) throws InterruptedException {
            if (!buffer.isEmpty()) {
                flush(ctx);
            }
        }

        private void flush(ModuleContext ctx) throws InterruptedException {
            ObjectNode h = predefinedHeader != null ? ((ObjectNode) predefinedHeader).deepCopy() : header;
            FlowEvent out = new FlowEvent(h, buffer);
            Settlement s = held.isEmpty() ? null : Settlement.all(held);
            if (s != null) {
                out.settleWith(s);
                held.forEach(Settlement::release);
            }
            held.clear();
            buffer = Json.nodes().arrayNode();
            bufferedBytes = 0;
            try {
                ctx.submit(out);
            } finally {
                if (s != null) {
                    s.release();
                }
            }
        }
    }

    /** Dotted paths into an object, creating objects on the way when setting. */
    static final class Paths {
        private Paths() {}

        static void set(ObjectNode root, String path, JsonNode value) {
            String[] parts = path.split("\\.");
            ObjectNode at = root;
            for (int i = 0; i < parts.length - 1; i++) {
                at = at.get(parts[i]) instanceof ObjectNode o ? o : at.putObject(parts[i]);
            }
            at.set(parts[parts.length - 1], value);
        }

        static JsonNode remove(ObjectNode root, String path) {
            String[] parts = path.split("\\.");
            JsonNode at = root;
            for (int i = 0; i < parts.length - 1; i++) {
                at = at.get(parts[i]);
                if (!(at instanceof ObjectNode)) {
                    return null;
                }
            }
            return ((ObjectNode) at).remove(parts[parts.length - 1]);
        }
    }
}
