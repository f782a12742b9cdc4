package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.core.timex.TimeMatcher;
import io.sluice.core.timex.Timex;
import io.sluice.core.timex.TimexException;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * One entry of a trigger's {@code match_criteria} or {@code fire_criteria}: event type globs
 * (a leading {@code !} excludes; only exclusions include everything else), an optional
 * {@code timestamp} time expression the event's timestamp must fall in, {@code traits}
 * conditions, {@code number} (how many events of the stream must meet it, for fire criteria)
 * and {@code map_distinguished_by} (which event trait gives a distinguishing trait's value).
 */
public final class Criteria {
    private static final Set<String> KEYS =
            Set.of("event_type", "number", "timestamp", "traits", "map_distinguished_by", "map_distingushed_by");

    private final List<String> included = new ArrayList<>();
    private final List<String> excluded = new ArrayList<>();
    private final List<Pattern> includedPatterns = new ArrayList<>();
    private final List<Pattern> excludedPatterns = new ArrayList<>();
    private final int number;
    private final Timex timestamp;
    private final Map<String, String> mapDistinguishedBy = new LinkedHashMap<>();
    private final List<Criterion> traits = new ArrayList<>();

    /**
     * @param where for errors, such as {@code triggers.yaml: trigger 't': fire_criteria[0]}
     */
    public Criteria(JsonNode config, String where) {
        if (!config.isObject()) {
            throw new DefinitionException(where + ": must be a mapping (event_type, traits, ...)");
        }
        for (Iterator<String> it = config.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!KEYS.contains(key)) {
                throw new DefinitionException(where + "." + key + ": unknown key (known: event_type, number,"
                        + " timestamp, traits, map_distinguished_by)");
            }
        }
        JsonNode types = config.get("event_type");
        if (types != null) {
            List<JsonNode> list = new ArrayList<>();
            if (types.isArray()) {
                types.forEach(list::add);
            } else {
                list.add(types);
            }
            for (JsonNode t : list) {
                if (!t.isTextual()) {
                    throw new DefinitionException(where + ".event_type: must be a pattern or a list of patterns");
                }
                String p = t.textValue();
                if (p.startsWith("!")) {
                    excluded.add(p.substring(1));
                } else {
                    included.add(p);
                }
            }
        } else {
            included.add("*");
        }
        if (!excluded.isEmpty() && included.isEmpty()) {
            included.add("*");
        }
        included.forEach(p -> includedPatterns.add(Fnmatch.compile(p)));
        excluded.forEach(p -> excludedPatterns.add(Fnmatch.compile(p)));
        JsonNode n = config.get("number");
        if (n == null) {
            number = 1;
        } else if (n.canConvertToInt() && n.isIntegralNumber() && n.intValue() >= 1) {
            number = n.intValue();
        } else {
            throw new DefinitionException(where + ".number: must be a whole number of at least 1, not " + n);
        }
        JsonNode ts = config.get("timestamp");
        if (ts != null) {
            try {
                timestamp = Timex.parse(ts.asText());
            } catch (TimexException e) {
                throw new DefinitionException(where + ".timestamp: " + e.getMessage());
            }
        } else {
            timestamp = null;
        }
        // Winchester's own triggers.yaml spells it map_distingushed_by once; both are read.
        JsonNode map = config.has("map_distinguished_by")
                ? config.get("map_distinguished_by")
                : config.get("map_distingushed_by");
        if (map != null) {
            if (!map.isObject()) {
                throw new DefinitionException(where + ".map_distinguished_by: must map trait names to event traits");
            }
            map.fields()
                    .forEachRemaining(
                            e -> mapDistinguishedBy.put(e.getKey(), e.getValue().asText()));
        }
        JsonNode ts2 = config.get("traits");
        if (ts2 != null) {
            if (!ts2.isObject()) {
                throw new DefinitionException(where + ".traits: must map trait names to criteria");
            }
            ts2.fields()
                    .forEachRemaining(
                            e -> traits.add(Criterion.of(e.getKey(), e.getValue(), where + ".traits." + e.getKey())));
        }
    }

    public List<String> includedTypes() {
        return included;
    }

    public List<String> excludedTypes() {
        return excluded;
    }

    /** How many of a stream's events must meet these criteria (fire criteria). */
    public int number() {
        return number;
    }

    public Timex timestamp() {
        return timestamp;
    }

    public Map<String, String> mapDistinguishedBy() {
        return mapDistinguishedBy;
    }

    public List<Criterion> traits() {
        return traits;
    }

    /** Whether an event type is included and not excluded. */
    public boolean matchType(String eventType) {
        if (eventType == null) {
            return false;
        }
        Boolean known = typeMatches.get(eventType);
        if (known != null) {
            return known;
        }
        boolean m = includedPatterns.stream().anyMatch(p -> p.matcher(eventType).matches())
                && excludedPatterns.stream().noneMatch(p -> p.matcher(eventType).matches());
        if (typeMatches.size() < TYPES_REMEMBERED) {
            typeMatches.put(eventType, m);
        }
        return m;
    }

    /** Event types are few: each one's answer is remembered, up to this many types. */
    private static final int TYPES_REMEMBERED = 10_000;

    private final java.util.concurrent.ConcurrentHashMap<String, Boolean> typeMatches =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** Whether an event (its traits, with {@code event_type} and {@code timestamp}) meets these criteria. */
    public boolean matches(Map<String, Object> event, Debug.Group debug, Supplier<LocalDateTime> now) {
        if (!matchType(event.get("event_type") instanceof String s ? s : null)) {
            return debug.mismatch("Wrong event type");
        }
        if (timestamp != null) {
            TimeMatcher t;
            try {
                t = timestamp.apply(Traits.datetimes(event), now);
            } catch (TimexException e) {
                return debug.mismatch("No timestamp trait");
            }
            if (!(event.get("timestamp") instanceof LocalDateTime at) || !t.matches(at)) {
                return debug.mismatch("Not time yet.");
            }
        }
        if (traits.isEmpty()) {
            return debug.match();
        }
        for (Criterion c : traits) {
            if (!c.matches(event, debug, now)) {
                return false;
            }
        }
        return true;
    }
}
