package io.sluice.core.distill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.jayway.jsonpath.Configuration;
import com.jayway.jsonpath.InvalidPathException;
import com.jayway.jsonpath.JsonPath;
import com.jayway.jsonpath.Option;
import com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider;
import com.jayway.jsonpath.spi.mapper.JacksonMappingProvider;
import io.sluice.api.Json;
import io.sluice.core.trigger.Traits;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One trait of a StackDistiller event definition: where its value is in a notification
 * ({@code fields}: a JSONPath or a list of them, the first non-null value winning), its
 * {@code type} ({@code text}, {@code int}, {@code float}, {@code datetime}) and an optional
 * {@code plugin} ({@code split}, {@code bitfield}) computing the value from every match.
 *
 * <p>StackDistiller's paths are {@code jsonpath_rw}'s: {@code payload.image_meta.'a.b'} with
 * quoted names, {@code payload.thing.*}, {@code $.x}; they are rewritten into Jayway JsonPath
 * (a real JSONPath library) before use: {@code $.payload.image_meta['a.b']}.
 */
final class TraitDefinition {
    private static final Configuration VALUES = Configuration.builder()
            .jsonProvider(new JacksonJsonNodeJsonProvider(Json.mapper()))
            .mappingProvider(new JacksonMappingProvider(Json.mapper()))
            .options(Option.ALWAYS_RETURN_LIST, Option.SUPPRESS_EXCEPTIONS)
            .build();
    private static final Configuration PATHS =
            VALUES.setOptions(Option.AS_PATH_LIST, Option.ALWAYS_RETURN_LIST, Option.SUPPRESS_EXCEPTIONS);
    private static final Pattern QUOTED = Pattern.compile("\\.'([^']*)'");
    private static final Pattern BRACKET = Pattern.compile("\\['([^']*)'\\]|\\[(\\d+)\\]");

    enum Type {
        TEXT,
        INT,
        FLOAT,
        DATETIME
    }

    final String name;
    final Type type;
    private final List<JsonPath> fields = new ArrayList<>();
    /** For each field, its names when it is a plain chain of names (most are), else null. */
    private final List<String[]> chains = new ArrayList<>();

    private final TraitPlugin plugin;

    TraitDefinition(String name, JsonNode cfg, String where) {
        this.name = name;
        if (!cfg.isObject()) {
            throw new DistillerException(where + ": a trait is a mapping (type, fields, plugin)");
        }
        String t = cfg.path("type").asText("text");
        try {
            this.type = Type.valueOf(t.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new DistillerException(
                    where + ".type: invalid trait type '" + t + "' (types: text, int, float, datetime)");
        }
        JsonNode f = cfg.get("fields");
        if (f == null || f.isNull()) {
            throw new DistillerException(where + ".fields: required (a JSONPath, or a list of them)");
        }
        List<String> paths = new ArrayList<>();
        if (f.isArray()) {
            f.forEach(p -> paths.add(p.asText()));
        } else {
            paths.add(f.asText());
        }
        for (String p : paths) {
            try {
                String compiled = jayway(p);
                fields.add(JsonPath.compile(compiled));
                chains.add(chain(compiled));
            } catch (InvalidPathException | IllegalArgumentException e) {
                throw new DistillerException(where + ".fields: parse error in JSONPath '" + p + "': " + e.getMessage());
            }
        }
        JsonNode pl = cfg.get("plugin");
        this.plugin = pl == null || pl.isNull() ? null : TraitPlugin.of(pl, where + ".plugin");
    }

    /** A jsonpath_rw path in Jayway's syntax. */
    static String jayway(String path) {
        String p = path.strip();
        if (p.startsWith("$")) {
            p = p.substring(1);
            if (p.startsWith(".")) {
                p = p.substring(1);
            }
        }
        Matcher m = QUOTED.matcher("." + p);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement("['" + m.group(1) + "']"));
        }
        m.appendTail(out);
        String s = out.toString();
        if (s.startsWith("'")) {
            s = "." + s;
        }
        // A leading quoted name ('a.b'.c) was handled by the "." prepended above.
        return "$" + (s.startsWith("[") ? s : s.startsWith(".") ? s : "." + s);
    }

    private static final Pattern CHAIN = Pattern.compile("\\$(?:\\.[A-Za-z_][A-Za-z0-9_-]*|\\['[^'*]*'\\])+");
    private static final Pattern LINK = Pattern.compile("\\.([A-Za-z_][A-Za-z0-9_-]*)|\\['([^']*)'\\]");

    /**
     * The names of a path that only names members ({@code $.payload.image_meta['a.b']}), or null:
     * such a path is followed directly, without JsonPath's general evaluation (it finds the
     * same value, and distilling spends most of its time on these).
     */
    static String[] chain(String jayway) {
        if (!CHAIN.matcher(jayway).matches()) {
            return null;
        }
        List<String> names = new ArrayList<>();
        Matcher m = LINK.matcher(jayway);
        while (m.find()) {
            names.add(m.group(1) != null ? m.group(1) : m.group(2));
        }
        return names.toArray(String[]::new);
    }

    /** The trait's value in a notification, converted to its type; null when absent. */
    JsonNode value(JsonNode notification) {
        List<Map.Entry<String, JsonNode>> matches = new ArrayList<>();
        for (int f = 0; f < fields.size(); f++) {
            String[] names = chains.get(f);
            if (names != null) {
                JsonNode at = notification;
                for (String n : names) {
                    at = at != null && at.isObject() ? at.get(n) : null;
                }
                if (at != null && !at.isNull()) {
                    matches.add(new AbstractMap.SimpleEntry<>(String.join(".", names), at));
                }
                continue;
            }
            JsonPath p = fields.get(f);
            JsonNode values = p.read(notification, VALUES);
            JsonNode found = p.read(notification, PATHS);
            if (values == null || !values.isArray()) {
                continue;
            }
            for (int i = 0; i < values.size(); i++) {
                JsonNode v = values.get(i);
                if (v != null && !v.isNull()) {
                    String where = found != null && found.size() > i
                            ? dotted(found.get(i).asText())
                            : "";
                    matches.add(new AbstractMap.SimpleEntry<>(where, v));
                }
            }
        }
        JsonNode value;
        if (plugin != null) {
            value = plugin.value(matches);
        } else {
            value = matches.isEmpty() ? null : matches.getFirst().getValue();
        }
        if (value == null || value.isNull()) {
            return null;
        }
        if (type != Type.TEXT && value.isTextual() && value.textValue().isEmpty()) {
            return null; // Nova sends '' for null dates and numbers
        }
        return convert(value);
    }

    private JsonNode convert(JsonNode v) {
        JsonNodeFactory n = Json.nodes();
        switch (type) {
            case TEXT -> {
                return n.textNode(v.isValueNode() ? v.asText() : Json.write(v));
            }
            case INT -> {
                if (v.isIntegralNumber()) {
                    return n.numberNode(v.longValue());
                }
                try {
                    return n.numberNode(Long.parseLong(v.asText().strip()));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("trait " + name + ": '" + v.asText() + "' is not an int");
                }
            }
            case FLOAT -> {
                if (v.isNumber()) {
                    return n.numberNode(v.doubleValue());
                }
                try {
                    return n.numberNode(Double.parseDouble(v.asText().strip()));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("trait " + name + ": '" + v.asText() + "' is not a float");
                }
            }
            default -> {
                LocalDateTime t = Traits.datetime(v.asText());
                if (t == null) {
                    throw new IllegalArgumentException("trait " + name + ": '" + v.asText() + "' is not a datetime");
                }
                return n.textNode(t.toInstant(ZoneOffset.UTC).toString());
            }
        }
    }

    /** {@code $['payload']['foo'][0]} as StackDistiller's dotted path {@code payload.foo.[0]}. */
    private static String dotted(String jayway) {
        Matcher m = BRACKET.matcher(jayway);
        List<String> parts = new ArrayList<>();
        while (m.find()) {
            parts.add(m.group(1) != null ? m.group(1) : "[" + m.group(2) + "]");
        }
        return String.join(".", parts);
    }
}
