package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.core.timex.TimeMatcher;
import io.sluice.core.timex.Timex;
import io.sluice.core.timex.TimexException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * One Winchester trigger, as {@code triggers.yaml} defines it: which events it collects
 * ({@code match_criteria}, the first matching entry wins), into which stream
 * ({@code distinguished_by}: trait names, or {@code {trait: timex}} giving a time range such as
 * the day), when the stream fires ({@code fire_criteria}: every entry met by at least
 * {@code number} of its events, then after {@code fire_delay} seconds) or expires
 * ({@code expiration}, over {@code $first}, {@code $last} and the event's datetime traits), and
 * which pipelines run then.
 */
public final class TriggerDefinition {
    private static final Set<String> KEYS = Set.of(
            "name",
            "debug_level",
            "distinguished_by",
            "expiration",
            "fire_delay",
            "fire_pipeline",
            "expire_pipeline",
            "match_criteria",
            "fire_criteria",
            "load_criteria",
            "time");

    /** A distinguishing trait: its name, and a time expression that turns its value into a range, or null. */
    public record Distinguished(String trait, Timex range) {}

    private final String name;
    private final int debugLevel;
    private final List<Distinguished> distinguishedBy = new ArrayList<>();
    private final Timex expiration;
    private final long fireDelaySeconds;
    private final String firePipeline;
    private final String expirePipeline;
    private final List<Criteria> matchCriteria = new ArrayList<>();
    private final List<Criteria> fireCriteria = new ArrayList<>();
    private final List<Criteria> loadCriteria = new ArrayList<>();
    private final Debug debug;
    private final Boolean eventTime;

    /**
     * Reads one trigger.
     *
     * @param file the file it is in, for errors
     * @param index its position in the file, for errors when it has no name
     * @throws DefinitionException naming the file, the trigger and the field
     */
    public TriggerDefinition(JsonNode config, String file, int index) {
        if (!config.isObject()) {
            throw new DefinitionException(file + ": trigger [" + index + "]: must be a mapping (name, ...)");
        }
        JsonNode n = config.get("name");
        if (n == null || !n.isTextual() || n.textValue().isBlank()) {
            throw new DefinitionException(file + ": trigger [" + index + "]: name: required");
        }
        this.name = n.textValue();
        String where = file + ": trigger '" + name + "'";
        for (Iterator<String> it = config.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!KEYS.contains(key)) {
                throw new DefinitionException(where + ": " + key + ": unknown key (known: "
                        + String.join(", ", KEYS.stream().sorted().toList()) + ")");
            }
        }
        JsonNode dl = config.get("debug_level");
        this.debugLevel = dl == null ? 0 : dl.asInt(-1);
        if (debugLevel < 0 || debugLevel > 2) {
            throw new DefinitionException(where + ": debug_level: must be 0, 1 or 2, not " + dl);
        }
        JsonNode db = config.get("distinguished_by");
        if (db != null) {
            if (!db.isArray()) {
                throw new DefinitionException(where + ": distinguished_by: must be a list of trait names");
            }
            for (int i = 0; i < db.size(); i++) {
                JsonNode d = db.get(i);
                String at = where + ": distinguished_by[" + i + "]";
                if (d.isTextual()) {
                    distinguishedBy.add(new Distinguished(d.textValue(), null));
                } else if (d.isObject() && d.size() == 1) {
                    String trait = d.fieldNames().next();
                    try {
                        distinguishedBy.add(new Distinguished(
                                trait, Timex.parse(d.get(trait).asText())));
                    } catch (TimexException e) {
                        throw new DefinitionException(at + "." + trait + ": " + e.getMessage());
                    }
                } else {
                    throw new DefinitionException(at + ": a trait name, or {trait: timex} with exactly one trait");
                }
            }
        }
        JsonNode time = config.get("time");
        if (time == null || time.isNull()) {
            this.eventTime = null;
        } else if (time.isTextual()
                && (time.textValue().equals("event") || time.textValue().equals("wall"))) {
            this.eventTime = time.textValue().equals("event");
        } else {
            throw new DefinitionException(where + ": time: must be wall or event, not " + time);
        }
        JsonNode fd = config.get("fire_delay");
        if (fd == null) {
            this.fireDelaySeconds = 0;
        } else if (fd.isNumber() && fd.asLong() >= 0) {
            this.fireDelaySeconds = fd.asLong();
        } else {
            throw new DefinitionException(where + ": fire_delay: must be a number of seconds, not " + fd);
        }
        JsonNode ex = config.get("expiration");
        if (ex == null) {
            throw new DefinitionException(where + ": expiration: required (a time expression such as $last + 1h)");
        }
        try {
            this.expiration = Timex.parse(ex.asText());
        } catch (TimexException e) {
            throw new DefinitionException(where + ": expiration: " + e.getMessage());
        }
        this.firePipeline = text(config, "fire_pipeline", where);
        this.expirePipeline = text(config, "expire_pipeline", where);
        if (firePipeline == null && expirePipeline == null) {
            throw new DefinitionException(where + ": fire_pipeline or expire_pipeline: at least one is required");
        }
        criteria(config, "fire_criteria", where, fireCriteria, true);
        criteria(config, "match_criteria", where, matchCriteria, true);
        criteria(config, "load_criteria", where, loadCriteria, false);
        this.debug = new Debug(debugLevel);
    }

    private static String text(JsonNode config, String key, String where) {
        JsonNode v = config.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual() || v.textValue().isBlank()) {
            throw new DefinitionException(where + ": " + key + ": must be the name of a pipeline");
        }
        return v.textValue();
    }

    private static void criteria(JsonNode config, String key, String where, List<Criteria> into, boolean required) {
        JsonNode list = config.get(key);
        if (list == null) {
            if (required) {
                throw new DefinitionException(where + ": " + key + ": required (a list of criteria)");
            }
            return;
        }
        if (!list.isArray()) {
            throw new DefinitionException(where + ": " + key + ": must be a list of criteria");
        }
        for (int i = 0; i < list.size(); i++) {
            into.add(new Criteria(list.get(i), where + ": " + key + "[" + i + "]"));
        }
    }

    public String name() {
        return name;
    }

    public int debugLevel() {
        return debugLevel;
    }

    /**
     * Sluice's {@code time:} on the trigger: true for event time, false for the wall clock, null
     * for what winchester.yaml's {@code sluice: {time}} says for all triggers.
     */
    public Boolean eventTime() {
        return eventTime;
    }

    public Debug debug() {
        return debug;
    }

    public List<Distinguished> distinguishedBy() {
        return distinguishedBy;
    }

    public Timex expiration() {
        return expiration;
    }

    public long fireDelaySeconds() {
        return fireDelaySeconds;
    }

    public String firePipeline() {
        return firePipeline;
    }

    public String expirePipeline() {
        return expirePipeline;
    }

    public List<Criteria> matchCriteria() {
        return matchCriteria;
    }

    public List<Criteria> fireCriteria() {
        return fireCriteria;
    }

    public List<Criteria> loadCriteria() {
        return loadCriteria;
    }

    /**
     * The match criteria an event meets first, or null: the event must carry every
     * distinguishing trait.
     */
    public Criteria match(Map<String, Object> event, Supplier<LocalDateTime> now) {
        Debug.Group group = debug.group("Match");
        for (Distinguished d : distinguishedBy) {
            if (!event.containsKey(d.trait())) {
                group.mismatch("not '" + d.trait() + "'");
                return null;
            }
        }
        for (Criteria c : matchCriteria) {
            if (c.matches(event, group, now)) {
                group.match();
                return c;
            }
        }
        group.mismatch("No matching criteria");
        return null;
    }

    /**
     * The values that name an event's stream: each distinguishing trait's value (through the
     * matching criteria's {@code map_distinguished_by}), or the time range its expression gives.
     *
     * @return trait name to value ({@link TimeMatcher} for a range), in definition order; null
     *     when a mapped trait is missing or a range cannot be computed
     */
    public Map<String, Object> distinguishingTraits(
            Map<String, Object> event, Criteria matched, Supplier<LocalDateTime> now) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Distinguished d : distinguishedBy) {
            String from = matched.mapDistinguishedBy().getOrDefault(d.trait(), d.trait());
            Object v = event.get(from);
            if (v == null) {
                debug.group("Match").mismatch("not '" + from + "'");
                return null;
            }
            if (d.range() != null) {
                if (!(v instanceof LocalDateTime t)) {
                    debug.group("Match").mismatch("'" + from + "' is not a datetime");
                    return null;
                }
                try {
                    v = d.range().apply(Map.of("timestamp", t), now);
                } catch (TimexException e) {
                    debug.group("Match").mismatch("distinguished_by " + d.trait() + ": " + e.getMessage());
                    return null;
                }
            }
            out.put(d.trait(), v);
        }
        return out;
    }

    /** When a stream that became ready at {@code at} fires. */
    public LocalDateTime fireTime(LocalDateTime at) {
        return at.plus(Duration.ofSeconds(fireDelaySeconds));
    }

    /**
     * Whether events meet the fire criteria: each entry by at least its {@code number}. (The
     * engine counts incrementally instead of calling this with a stream's events.)
     */
    public boolean shouldFire(List<Map<String, Object>> events, Supplier<LocalDateTime> now) {
        Debug.Group group = debug.group("Fire");
        for (Criteria c : fireCriteria) {
            int matches = 0;
            for (Map<String, Object> e : events) {
                if (c.matches(e, group, now) && ++matches >= c.number()) {
                    break;
                }
            }
            if (matches < c.number()) {
                return group.mismatch("Not enough matching criteria");
            }
        }
        return group.match();
    }

    /**
     * The expiry time of a stream whose first and last events are at these times (the
     * expression sees {@code $first}, {@code $last} and {@code $timestamp}, now, as in Winchester).
     */
    public LocalDateTime expiresAt(LocalDateTime first, LocalDateTime last, Supplier<LocalDateTime> now) {
        return expiration.apply(Map.of("first", first, "last", last), now).begin();
    }
}
