package io.sluice.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testkit.QueryWorkload;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A floor under the cost of matching one event against a query set, not an engine: for each
 * field path the index looks up, read the event's value there and probe a hash table of the
 * values the queries name on that path (equalities and {@code $in}). Nothing else: no second
 * keys, no candidates, no conditions checked, no names handed out. Whatever finds the queries
 * an event matches must at least read those fields and find the queries naming their values,
 * so the ratio of this floor at many queries to a full match at one query bounds what any
 * index could reach on that set.
 */
final class LookupFloor {
    private final String[][] paths;
    private final List<Map<String, Integer>> named;

    /**
     * @param queries the query set
     * @param dottedPaths the paths looked up for every event (those the index chose)
     */
    LookupFloor(List<QueryWorkload.GeneratedQuery> queries, List<String> dottedPaths) {
        paths = new String[dottedPaths.size()][];
        named = new ArrayList<>(dottedPaths.size());
        for (int i = 0; i < paths.length; i++) {
            String path = dottedPaths.get(i);
            paths[i] = path.split("\\.");
            Map<String, Integer> values = new HashMap<>();
            for (QueryWorkload.GeneratedQuery q : queries) {
                JsonNode condition = q.query().get(path);
                if (condition == null) {
                    continue;
                }
                if (condition.isTextual()) {
                    values.merge(condition.textValue(), 1, Integer::sum);
                } else if (condition.has("$in")) {
                    condition.get("$in").forEach(v -> values.merge(v.asText(), 1, Integer::sum));
                }
            }
            named.add(values);
        }
    }

    /** How many (path, value) conditions of the set name the event's values. */
    long probe(JsonNode event) {
        long found = 0;
        for (int i = 0; i < paths.length; i++) {
            JsonNode node = event;
            for (String segment : paths[i]) {
                node = node.get(segment);
                if (node == null) {
                    break;
                }
            }
            if (node != null && node.isTextual()) {
                Integer n = named.get(i).get(node.textValue());
                if (n != null) {
                    found += n;
                }
            }
        }
        return found;
    }
}
