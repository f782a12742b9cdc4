package io.sluice.core.distill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.core.trigger.Fnmatch;
import io.sluice.core.trigger.Traits;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * StackDistiller: turns raw OpenStack notifications into flat events by the definitions of an
 * {@code event_definitions.yaml}, loaded unchanged (YAML anchors and merge keys included).
 *
 * <p>The last definition whose {@code event_type} patterns ({@code !} excludes) match wins. The
 * event gets {@code message_id}, {@code event_type} and {@code timestamp} (the notification's
 * {@code timestamp}, else {@code _context_timestamp}, else now; UTC), the default traits
 * {@code service} ({@code publisher_id}), {@code request_id} ({@code _context_request_id}) and
 * {@code tenant_id} ({@code payload.tenant_id} or {@code _context_tenant}), and the
 * definition's traits; a trait without a value is left out. With {@code catch_all}, a
 * notification no definition covers still becomes an event with the envelope and the default
 * traits. Datetime traits are ISO-8601 UTC strings ({@code 2014-08-01T00:00:00Z}), which
 * triggers read as datetimes.
 */
public final class Distiller {
    private static final Map<String, String> DEFAULT_TRAITS_YAML = Map.of(
            "service", "{type: text, fields: publisher_id}",
            "request_id", "{type: text, fields: _context_request_id}",
            "tenant_id", "{type: text, fields: [payload.tenant_id, _context_tenant]}");

    /** A definition; {@code typeMatches} remembers its answer for each event type seen. */
    private record Definition(
            List<Pattern> included,
            List<Pattern> excluded,
            boolean catchAll,
            List<TraitDefinition> traits,
            Map<String, Boolean> typeMatches) {
        boolean matches(String type) {
            Boolean known = typeMatches.get(type);
            if (known != null) {
                return known;
            }
            boolean m = included.stream().anyMatch(p -> p.matcher(type).matches())
                    && excluded.stream().noneMatch(p -> p.matcher(type).matches());
            if (typeMatches.size() < 10_000) { // event types are few: remember each one's answer
                typeMatches.put(type, m);
            }
            return m;
        }
    }

    private final List<Definition> definitions = new ArrayList<>(); // last in the file first
    private final Clock clock;

    /**
     * @param definitions the parsed file: a list of {@code {event_type, traits}}
     * @param file its name, for errors
     * @param catchAll whether notifications no definition covers still become events
     * @throws DistillerException naming the file, the definition and the trait
     */
    public Distiller(JsonNode definitions, String file, boolean catchAll, Clock clock) {
        this.clock = clock;
        if (!definitions.isArray()) {
            throw new DistillerException(file + ": must be a list of event definitions ({event_type, traits})");
        }
        for (int i = definitions.size() - 1; i >= 0; i--) {
            this.definitions.add(definition(definitions.get(i), file + ": definition [" + i + "]"));
        }
        if (catchAll && this.definitions.stream().noneMatch(Definition::catchAll)) {
            this.definitions.add(
                    definition(Json.parse("{\"event_type\": \"*\", \"traits\": {}}"), file + ": catch-all"));
        }
    }

    /** Loads an {@code event_definitions.yaml}. */
    public static Distiller load(Path file, boolean catchAll, Clock clock) {
        return new Distiller(readYaml(file), file.toString(), catchAll, clock);
    }

    /** A YAML file with anchors, aliases and merge keys resolved, as a JSON tree. */
    public static JsonNode readYaml(Path file) {
        try (Reader in = Files.newBufferedReader(file)) {
            Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
            return Json.mapper().valueToTree(doc);
        } catch (NoSuchFileException e) {
            throw new DistillerException(file + ": no such file");
        } catch (MarkedYAMLException e) {
            throw new DistillerException(file + ":" + (e.getProblemMark().getLine() + 1) + ":"
                    + (e.getProblemMark().getColumn() + 1) + ": invalid YAML: " + e.getProblem());
        } catch (IOException | RuntimeException e) {
            throw new DistillerException(file + ": cannot read: " + e.getMessage());
        }
    }

    private static Definition definition(JsonNode cfg, String where) {
        if (!cfg.isObject()) {
            throw new DistillerException(where + ": must be a mapping {event_type, traits}");
        }
        JsonNode types = cfg.get("event_type");
        if (types == null) {
            throw new DistillerException(where + ": required field event_type not specified");
        }
        JsonNode traits = cfg.get("traits");
        if (traits == null || !traits.isObject()) {
            throw new DistillerException(where + ": required field traits not specified (a mapping of traits)");
        }
        List<String> inc = new ArrayList<>();
        List<String> exc = new ArrayList<>();
        for (JsonNode t : types.isArray() ? types : Json.nodes().arrayNode().add(types)) {
            String s = t.asText();
            if (s.startsWith("!")) {
                exc.add(s.substring(1));
            } else {
                inc.add(s);
            }
        }
        if (!exc.isEmpty() && inc.isEmpty()) {
            inc.add("*");
        }
        String at = where + " (" + String.join(", ", types.isArray() ? iterate(types) : List.of(types.asText())) + ")";
        Map<String, TraitDefinition> byName = new LinkedHashMap<>();
        DEFAULT_TRAITS_YAML.forEach((name, yaml) -> byName.put(
                name, new TraitDefinition(name, Json.mapper().valueToTree(new Yaml().load(yaml)), at + ": " + name)));
        for (Iterator<Map.Entry<String, JsonNode>> it = traits.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            byName.put(e.getKey(), new TraitDefinition(e.getKey(), e.getValue(), at + ": trait " + e.getKey()));
        }
        return new Definition(
                inc.stream().map(Fnmatch::compile).toList(),
                exc.stream().map(Fnmatch::compile).toList(),
                inc.contains("*") && exc.isEmpty(),
                List.copyOf(byName.values()),
                new java.util.concurrent.ConcurrentHashMap<>());
    }

    private static List<String> iterate(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /**
     * The event of a notification, or empty when no definition covers it (or it has no
     * {@code event_type} or {@code message_id}).
     *
     * @throws IllegalArgumentException when a trait's value cannot take its type (naming the trait)
     */
    public Optional<ObjectNode> toEvent(JsonNode notification) {
        JsonNode type = notification.get("event_type");
        JsonNode id = notification.get("message_id");
        if (type == null || !type.isTextual() || id == null || id.isNull()) {
            return Optional.empty();
        }
        Definition d = null;
        for (Definition def : definitions) {
            if (def.matches(type.textValue())) {
                d = def;
                break;
            }
        }
        if (d == null) {
            return Optional.empty();
        }
        ObjectNode event = Json.object();
        event.put("message_id", id.asText());
        event.put("event_type", type.textValue());
        event.put("timestamp", when(notification));
        for (TraitDefinition t : d.traits()) {
            JsonNode v = t.value(notification);
            if (v != null) {
                event.set(t.name, v);
            }
        }
        return Optional.of(event);
    }

    private String when(JsonNode n) {
        for (String f : List.of("timestamp", "_context_timestamp")) {
            JsonNode v = n.get(f);
            if (v != null && v.isTextual() && !v.textValue().isEmpty()) {
                LocalDateTime t = Traits.datetime(v.textValue());
                if (t != null) {
                    return t.toInstant(ZoneOffset.UTC).toString();
                }
            }
        }
        return clock.instant().toString();
    }
}
