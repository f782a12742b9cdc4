package io.sluice.core.consume;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.api.TypePattern;
import io.sluice.core.log.StoredEvent;
import io.sluice.query.Query;
import io.sluice.query.QueryException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * What a consumer receives: events passing an optional query and optional type patterns
 * ({@code order.*}, {@code user.signup}; {@code *} matches within a dotted segment, {@code **}
 * across segments). Fixed when the consumer is created.
 *
 * @param filter the query, or null for every event
 * @param types type patterns, empty for every type
 */
public record ConsumerSpec(JsonNode filter, List<String> types) {
    public static final ConsumerSpec ALL = new ConsumerSpec(null, List.of());

    public ConsumerSpec {
        types = List.copyOf(types);
        if (filter != null) {
            try {
                Query.parse(filter);
            } catch (QueryException e) {
                throw new IllegalArgumentException("filter: " + e.getMessage(), e);
            }
        }
        for (String t : types) {
            if (t.isBlank()) {
                throw new IllegalArgumentException("a type pattern must not be empty");
            }
        }
    }

    /** The predicate over stored events this spec describes. */
    Predicate<StoredEvent> predicate() {
        Query query = filter == null ? null : Query.parse(filter);
        List<Pattern> patterns = new ArrayList<>();
        for (String t : types) {
            patterns.add(TypePattern.compile(t));
        }
        return e -> {
            if (!patterns.isEmpty()) {
                String type = e.type();
                if (type == null
                        || patterns.stream().noneMatch(p -> p.matcher(type).matches())) {
                    return false;
                }
            }
            return query == null || query.matches(e.document());
        };
    }

    ObjectNode toJson() {
        ObjectNode o = Json.object();
        if (filter != null) {
            o.set("filter", filter);
        }
        var array = o.putArray("types");
        types.forEach(array::add);
        return o;
    }

    static ConsumerSpec fromJson(JsonNode o) {
        List<String> types = new ArrayList<>();
        o.path("types").forEach(t -> types.add(t.asText()));
        JsonNode filter = o.get("filter");
        return new ConsumerSpec(filter == null || filter.isNull() ? null : filter, types);
    }
}
