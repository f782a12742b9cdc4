package io.sluice.api.component;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The single source of truth about one kind of component (an output's or an input's type):
 * its settings with their types and defaults. Configurations are read and checked through it,
 * and its documentation is written from it.
 *
 * @param kind what the component is: {@code output}, {@code input}, ...
 * @param type the name in configurations ({@code type: amqp})
 * @param summary one sentence on what it does
 * @param fields its settings, in the order documentation lists them
 */
public record Spec(String kind, String type, String summary, List<Field> fields) {
    public Spec {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(summary, "summary");
        fields = List.copyOf(fields);
        Map<String, Field> seen = new LinkedHashMap<>();
        for (Field f : fields) {
            if (seen.put(f.name(), f) != null) {
                throw new IllegalArgumentException(
                        kind + " " + type + ": the setting '" + f.name() + "' is declared twice");
            }
        }
    }

    /** The keys every component but a flow module takes besides its settings: its type. */
    private static final List<String> COMMON = List.of("type");

    /** Every output's (and handler's) setting: deliveries of a refused message before it is parked. */
    public static final Field MAX_ATTEMPTS = Field.optional(
            "max_attempts",
            Field.Type.INTEGER,
            5,
            "deliveries of a refused message before it is parked as a dead letter");

    /** Every output's setting: the first wait after a failure. */
    public static final Field BACKOFF = Field.optional(
            "backoff", Field.Type.DURATION, "200ms", "the first wait after a failure; doubles up to max_backoff");

    /** Every output's setting: how long a round of routing waits for more events when few have come. */
    public static final Field LINGER = Field.optional(
            "linger",
            Field.Type.DURATION,
            "5ms",
            "how long a round waits for more events when fewer than 256 have come, so that sends are fuller (0: not at"
                    + " all)");

    /** Every output's setting: the longest wait between attempts. */
    public static final Field MAX_BACKOFF =
            Field.optional("max_backoff", Field.Type.DURATION, "30s", "the longest wait between attempts");

    /** Every flow module's setting: the capacity of each of its incoming queues. */
    public static final Field QUEUE_SIZE = Field.optional(
            "queue_size",
            Field.Type.INTEGER,
            1000,
            "capacity of each incoming queue; a full queue blocks the module sending to it");

    /** Every flow module's setting: retries of an event whose processing threw, before it is dropped. */
    public static final Field MAX_RESCUE = Field.optional(
            "max_rescue",
            Field.Type.INTEGER,
            5,
            "retries (with backoff) of an event that failed, when no errors queue is connected; then it is dropped and counted");

    /** Every input's setting: StackDistiller definitions turning raw notifications into events. */
    public static final Field DISTILL = Field.optional(
            "distill",
            Field.Type.STRING,
            null,
            "an event_definitions.yaml: raw OpenStack notifications are stored as the events these"
                    + " StackDistiller definitions make of them; those no definition covers are acknowledged and dropped");

    /** Every input's setting: keep notifications no definition covers, with the default traits. */
    public static final Field DISTILL_CATCH_ALL = Field.optional(
            "distill_catch_all",
            Field.Type.BOOLEAN,
            false,
            "with distill: notifications no definition covers become events too (envelope and default traits)");

    /**
     * The settings the framework reads for every component of a kind (retries, for outputs and
     * handlers; queues and rescues, for flow modules), so that no component declares, or
     * handles, them itself.
     */
    public static List<Field> framework(String kind) {
        return switch (kind) {
            case "output" -> List.of(MAX_ATTEMPTS, BACKOFF, MAX_BACKOFF, LINGER);
            case "handler" -> List.of(MAX_ATTEMPTS, BACKOFF, MAX_BACKOFF);
            case "module" -> List.of(QUEUE_SIZE, MAX_RESCUE);
            case "input" -> List.of(DISTILL, DISTILL_CATCH_ALL);
            default -> List.of();
        };
    }

    /** The component's own settings and the framework's, in the order documentation lists them. */
    public List<Field> allFields() {
        List<Field> all = new ArrayList<>(fields);
        all.addAll(framework(kind));
        return all;
    }

    /**
     * Reads a component's settings from its configuration mapping.
     *
     * @param node the mapping, such as {@code {type: webhook, url: ...}}
     * @param path where it is in the configuration, such as {@code outputs.hook}, for errors
     * @throws IllegalArgumentException naming {@code path} and the key at fault
     */
    public Settings read(JsonNode node, String path) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException(path + ": must be a mapping of settings");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            List<String> common = kind.equals("module") ? List.of() : COMMON; // a module's type is beside its arguments
            if (!common.contains(key) && field(key) == null) {
                List<String> known = new ArrayList<>(common);
                allFields().forEach(f -> known.add(f.name()));
                throw new IllegalArgumentException(path + "." + key + ": unknown setting of a " + type + " " + kind
                        + " (known: " + String.join(", ", known) + ")");
            }
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (Field f : allFields()) {
            JsonNode v = node.get(f.name());
            String where = path + "." + f.name();
            if (v == null || v.isNull()) {
                if (f.required()) {
                    throw new IllegalArgumentException(
                            where + ": required by a " + type + " " + kind + " (" + f.description() + ")");
                }
                if (f.defaultValue() != null) {
                    values.put(f.name(), Settings.convert(f, Settings.node(f.defaultValue()), where));
                }
                continue;
            }
            values.put(f.name(), Settings.convert(f, v, where));
        }
        return new Settings(this, path, values);
    }

    /** The declared field of that name, or null. */
    public Field field(String name) {
        for (Field f : allFields()) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        return null;
    }

    /** The settings as a Markdown table, for the documentation. */
    public String markdown() {
        StringBuilder out = new StringBuilder("| setting | type | default | meaning |\n|---|---|---|---|\n");
        for (Field f : allFields()) {
            out.append("| `")
                    .append(f.name())
                    .append("` | ")
                    .append(f.type().name().toLowerCase(java.util.Locale.ROOT));
            out.append(" | ")
                    .append(f.required() ? "required" : f.defaultValue() == null ? "" : "`" + f.defaultValue() + "`");
            out.append(" | ")
                    .append(f.description())
                    .append(f.secret() ? " (secret)" : "")
                    .append(" |\n");
        }
        return out.toString();
    }
}
