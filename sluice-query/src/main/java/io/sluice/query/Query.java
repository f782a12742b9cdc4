package io.sluice.query;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A compiled query in MongoDB's query language, matched against JSON documents.
 *
 * <pre>{@code
 * Query q = Query.parse("{\"@fields.priority\": {\"$in\": [\"1\", \"2\", \"3\", \"4\"]}}");
 * boolean hit = q.matches(event);
 * }</pre>
 *
 * <p>Supported: {@code $eq $ne $gt $gte $lt $lte $in $nin $and $or $nor $not $exists $type
 * $regex $options $mod $all $elemMatch $size $comment}, implicit and whole-document equality,
 * dotted paths with implicit array traversal and numeric array indexes. Instances are immutable
 * and thread-safe. See {@code docs/query-language.md} for the semantics in full.
 */
public final class Query {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final JsonNode source;
    private final String text;
    private final Expr root;

    private Query(JsonNode source, Expr root) {
        this.source = source;
        this.text = source.toString();
        this.root = root;
    }

    /**
     * Compiles a query document.
     *
     * @throws QueryException naming the operator and path when the query is invalid
     */
    public static Query parse(JsonNode filter) {
        return new Query(filter.deepCopy(), QueryParser.parse(filter));
    }

    /**
     * Parses JSON text and compiles it.
     *
     * @throws QueryException when the text is not JSON or not a valid query
     */
    public static Query parse(String json) {
        JsonNode node;
        try {
            node = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new QueryException(null, null, "query is not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || node.isMissingNode()) {
            throw new QueryException(null, null, "query is empty");
        }
        return parse(node);
    }

    /** Whether {@code document} matches this query. */
    public boolean matches(JsonNode document) {
        return root.matches(document);
    }

    /** The query document this was compiled from. */
    public JsonNode source() {
        return source;
    }

    Expr root() {
        return root;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Query q && q.text.equals(text); // field order matters in MongoDB documents
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    /** The query as compact JSON. */
    @Override
    public String toString() {
        return text;
    }
}
