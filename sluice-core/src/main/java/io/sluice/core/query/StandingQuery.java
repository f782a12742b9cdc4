package io.sluice.core.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Names;
import io.sluice.query.Query;
import io.sluice.query.QueryException;
import java.util.Iterator;
import java.util.Objects;
import java.util.Set;

/**
 * A standing query as PySeps wrote it: {@code {"id": BATCH, "name": ..., "key": ..., "query": {...}}},
 * with PySeps's optional {@code exchange} and Sluice's optional {@code output}.
 *
 * @param batch the batch id ({@code id}): documents with a new batch id replace the active set; may be null
 * @param name the query's unique name
 * @param key the routing key matches are published with; may be null
 * @param exchange the AMQP exchange for matches; may be null
 * @param output the configured output to route matches to; null for the default output
 * @param query the compiled query
 */
public record StandingQuery(String batch, String name, String key, String exchange, String output, Query query) {
    private static final Set<String> FIELDS = Set.of("id", "name", "key", "exchange", "output", "query");

    public StandingQuery {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(query, "query");
    }

    /**
     * Reads one query document.
     *
     * @throws IllegalArgumentException naming the field at fault (and, for the query itself,
     *     the operator and path)
     */
    public static StandingQuery fromJson(JsonNode doc) {
        if (doc == null || !doc.isObject()) {
            throw new IllegalArgumentException("a query document must be a JSON object");
        }
        for (Iterator<String> it = doc.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                throw new IllegalArgumentException("unknown field '" + field
                        + "' in a query document (known: id, name, key, exchange, output, query)");
            }
        }
        String name = text(doc, "name", true);
        try {
            Names.check("query", name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("field 'name': " + e.getMessage(), e);
        }
        JsonNode q = doc.get("query");
        if (q == null) {
            throw new IllegalArgumentException("query '" + name + "': field 'query' is missing");
        }
        Query query;
        try {
            query = Query.parse(q);
        } catch (QueryException e) {
            throw new IllegalArgumentException("query '" + name + "': " + e.getMessage(), e);
        }
        return new StandingQuery(
                text(doc, "id", false),
                name,
                text(doc, "key", false),
                text(doc, "exchange", false),
                text(doc, "output", false),
                query);
    }

    /** The query document, as PySeps would write it (absent fields left out). */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        if (batch != null) {
            o.put("id", batch);
        }
        o.put("name", name);
        if (key != null) {
            o.put("key", key);
        }
        if (exchange != null) {
            o.put("exchange", exchange);
        }
        if (output != null) {
            o.put("output", output);
        }
        o.set("query", query.source());
        return o;
    }

    private static String text(JsonNode doc, String field, boolean required) {
        JsonNode v = doc.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw new IllegalArgumentException("field '" + field + "' is missing");
            }
            return null;
        }
        if (!v.isTextual() && !(field.equals("id") && v.isNumber())) {
            throw new IllegalArgumentException("field '" + field + "' must be a string");
        }
        return v.asText();
    }
}
