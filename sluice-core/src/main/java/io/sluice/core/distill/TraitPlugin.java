package io.sluice.core.distill;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * StackDistiller's trait plugins: they compute a trait's value from every field the trait's
 * paths matched ({@code (dotted path, value)} pairs), even when none matched.
 */
interface TraitPlugin {
    /** The value, or null for no trait. */
    JsonNode value(List<Map.Entry<String, JsonNode>> matches);

    /**
     * A plugin from its configuration: a name, or {@code {name, parameters}}.
     *
     * @throws DistillerException naming {@code where}
     */
    static TraitPlugin of(JsonNode cfg, String where) {
        String name;
        JsonNode params;
        if (cfg.isTextual()) {
            name = cfg.textValue();
            params = Json.object();
        } else if (cfg.isObject()) {
            if (!cfg.path("name").isTextual()) {
                throw new DistillerException(where + ": plugin specified, but no plugin name supplied");
            }
            name = cfg.get("name").textValue();
            params = cfg.path("parameters").isObject() ? cfg.get("parameters") : Json.object();
        } else {
            throw new DistillerException(where + ": a plugin name, or {name, parameters}");
        }
        return switch (name) {
            case "split" ->
                new Split(
                        params.path("separator").asText("."),
                        params.path("segment").asInt(0),
                        params.has("max_split") && !params.get("max_split").isNull()
                                ? params.get("max_split").asInt()
                                : -1);
            case "bitfield" -> Bitfield.of(params, where);
            default ->
                throw new DistillerException(
                        where + ": no plugin named " + name + " available (plugins: split, bitfield)");
        };
    }

    /** {@code split}: a piece of the first value, split on {@code separator}. */
    record Split(String separator, int segment, int maxSplit) implements TraitPlugin {
        @Override
        public JsonNode value(List<Map.Entry<String, JsonNode>> matches) {
            if (matches.isEmpty()) {
                return null;
            }
            JsonNode v = matches.getFirst().getValue();
            String s = v.isValueNode() ? v.asText() : Json.write(v);
            String[] parts = s.split(Pattern.quote(separator), maxSplit < 0 ? -1 : maxSplit + 1);
            return segment >= 0 && segment < parts.length ? Json.nodes().textNode(parts[segment]) : null;
        }
    }

    /** {@code bitfield}: bits set by which fields are there (or have a value). */
    record Bitfield(long initial, List<Flag> flags) implements TraitPlugin {
        record Flag(String path, int bit, JsonNode value) {}

        static Bitfield of(JsonNode params, String where) {
            List<Flag> flags = new ArrayList<>();
            for (JsonNode f : params.path("flags")) {
                if (!f.path("path").isTextual() || !f.has("bit")) {
                    throw new DistillerException(where + ".parameters.flags: each flag needs a path and a bit");
                }
                flags.add(new Flag(f.get("path").textValue(), f.get("bit").asInt(), f.get("value")));
            }
            return new Bitfield(params.path("initial_bitfield").asLong(0), flags);
        }

        @Override
        public JsonNode value(List<Map.Entry<String, JsonNode>> matches) {
            Map<String, JsonNode> byPath = new LinkedHashMap<>();
            matches.forEach(m -> byPath.put(m.getKey(), m.getValue()));
            long bits = initial;
            for (Flag f : flags) {
                JsonNode v = byPath.get(f.path());
                if (v != null
                        && (f.value() == null
                                || io.sluice.core.trigger.Traits.same(
                                        io.sluice.core.trigger.Traits.value(v),
                                        io.sluice.core.trigger.Traits.value(f.value())))) {
                    bits |= 1L << f.bit();
                }
            }
            return Json.nodes().numberNode(bits);
        }
    }
}
