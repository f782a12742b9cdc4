package io.sluice.api.component;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A component's settings as read by its {@link Spec}: typed, defaulted and checked. Asking for
 * a setting the spec does not declare is a programming error.
 */
public final class Settings {
    private final Spec spec;
    private final String path;
    private final Map<String, Object> values;

    Settings(Spec spec, String path, Map<String, Object> values) {
        this.spec = spec;
        this.path = path;
        this.values = values;
    }

    /** Where the component is in the configuration, such as {@code outputs.hook}. */
    public String path() {
        return path;
    }

    /** The spec the settings were read with. */
    public Spec spec() {
        return spec;
    }

    public String string(String name) {
        return (String) get(name, Field.Type.STRING);
    }

    public boolean bool(String name) {
        return Boolean.TRUE.equals(get(name, Field.Type.BOOLEAN));
    }

    public long integer(String name) {
        Object v = get(name, Field.Type.INTEGER);
        return v == null ? 0 : (Long) v;
    }

    public Duration duration(String name) {
        return (Duration) get(name, Field.Type.DURATION);
    }

    public long size(String name) {
        Object v = get(name, Field.Type.SIZE);
        return v == null ? 0 : (Long) v;
    }

    @SuppressWarnings("unchecked")
    public Map<String, String> stringMap(String name) {
        Object v = get(name, Field.Type.STRING_MAP);
        return v == null ? Map.of() : (Map<String, String>) v;
    }

    public JsonNode any(String name) {
        return (JsonNode) get(name, Field.Type.ANY);
    }

    /** Whether the setting was given or has a default. */
    public boolean has(String name) {
        return values.containsKey(name);
    }

    /** An error about one setting, naming where it is. */
    public IllegalArgumentException invalid(String name, String problem) {
        return new IllegalArgumentException(path + "." + name + ": " + problem);
    }

    private Object get(String name, Field.Type type) {
        Field f = spec.field(name);
        if (f == null || f.type() != type) {
            throw new IllegalStateException(
                    spec.type() + " " + spec.kind() + " declares no " + type + " setting '" + name + "'");
        }
        return values.get(name);
    }

    /** The settings for a log line: secrets masked. */
    @Override
    public String toString() {
        Map<String, Object> shown = new LinkedHashMap<>();
        values.forEach((k, v) -> shown.put(k, spec.field(k).secret() ? "***" : v));
        return spec.type() + " " + shown;
    }

    static JsonNode node(Object value) {
        return Json.mapper().valueToTree(value);
    }

    static Object convert(Field f, JsonNode v, String where) {
        return switch (f.type()) {
            case STRING -> {
                if (!v.isValueNode()) {
                    throw new IllegalArgumentException(where + ": must be a string, not " + v);
                }
                yield v.asText();
            }
            case BOOLEAN -> {
                if (!v.isBoolean()) {
                    throw new IllegalArgumentException(where + ": must be true or false, not " + v);
                }
                yield v.booleanValue();
            }
            case INTEGER -> {
                if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                    throw new IllegalArgumentException(where + ": must be a whole number, not " + v);
                }
                yield v.longValue();
            }
            case DURATION -> {
                try {
                    if (v.isNumber()) { // seconds, as Compysition and Wishbone wrote them (interval: 0.5)
                        if (v.doubleValue() < 0 || !Double.isFinite(v.doubleValue())) {
                            throw new IllegalArgumentException("must not be negative, not " + v);
                        }
                        yield v.isIntegralNumber()
                                ? Duration.ofSeconds(v.longValue())
                                : Duration.ofNanos(Math.round(v.doubleValue() * 1e9));
                    }
                    yield parseDuration(v.asText());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + ": " + e.getMessage());
                }
            }
            case SIZE -> {
                try {
                    yield v.isIntegralNumber() ? v.longValue() : parseSize(v.asText());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + ": " + e.getMessage());
                }
            }
            case STRING_MAP -> {
                if (!v.isObject()) {
                    throw new IllegalArgumentException(where + ": must be a mapping of names to strings");
                }
                Map<String, String> m = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                        throw new IllegalArgumentException(where + "." + e.getKey() + ": must be a string");
                    }
                    m.put(e.getKey(), e.getValue().asText());
                }
                yield Map.copyOf(m);
            }
            case ANY -> v;
        };
    }

    private static final Pattern SIMPLE_DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    /**
     * Parses a duration such as {@code 250ms}, {@code 30s}, {@code 5m}, {@code 12h}, {@code 7d}
     * or ISO-8601 {@code PT1H}.
     *
     * @throws IllegalArgumentException saying what a duration looks like
     */
    public static Duration parseDuration(String text) {
        String t = text.strip();
        Matcher m = SIMPLE_DURATION.matcher(t.toLowerCase(Locale.ROOT));
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        try {
            return Duration.parse(t);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("must be a duration such as 30s, 12h, 7d or PT1H, not '" + text + "'");
        }
    }

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmgt]i?b|b)?", Pattern.CASE_INSENSITIVE);
    private static final Map<String, Long> UNITS = Map.of(
            "b", 1L,
            "kb", 1_000L,
            "mb", 1_000_000L,
            "gb", 1_000_000_000L,
            "tb", 1_000_000_000_000L,
            "kib", 1L << 10,
            "mib", 1L << 20,
            "gib", 1L << 30,
            "tib", 1L << 40);

    /**
     * Parses a size in bytes such as {@code 1048576}, {@code 512KB} or {@code 2GiB}.
     *
     * @throws IllegalArgumentException saying what a size looks like
     */
    public static long parseSize(String text) {
        Matcher m = SIZE.matcher(text.strip());
        if (m.matches()) {
            String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
            return Math.multiplyExact(Long.parseLong(m.group(1)), UNITS.get(unit));
        }
        throw new IllegalArgumentException("must be a size such as 1048576, 512KB or 2GiB, not '" + text + "'");
    }
}
