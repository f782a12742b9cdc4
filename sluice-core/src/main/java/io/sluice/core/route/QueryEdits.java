package io.sluice.core.route;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.core.query.StandingQueries;
import io.sluice.core.query.StandingQuery;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Reads changes of the standing queries from documents: a PySeps query document
 * ({@code {"id", "name", "key", "query"}}) puts one query; a batch document
 * {@code {"id": B, "queries": [...]}} replaces the active set by exactly its queries (none, if
 * the list is empty).
 */
public final class QueryEdits {
    private QueryEdits() {}

    /**
     * Reads NDJSON, a JSON array or one JSON document of query and batch documents.
     *
     * @throws StandingQueries.InvalidQueryFileException naming the source, line and problem
     */
    public static List<QueryBook.Edit> read(Reader in, String source) throws IOException {
        List<QueryBook.Edit> edits = new ArrayList<>();
        for (StandingQueries.Document d : StandingQueries.documents(in, source)) {
            edits.add(edit(d.json(), d.where()));
        }
        return edits;
    }

    /** One document's edit; {@code where} names it in errors. */
    public static QueryBook.Edit edit(JsonNode doc, String where) {
        try {
            if (doc != null && doc.isObject() && doc.has("queries")) {
                return batch(doc, where);
            }
            return new QueryBook.Edit.Put(StandingQuery.fromJson(doc));
        } catch (IllegalArgumentException e) {
            throw new StandingQueries.InvalidQueryFileException(where + ": " + e.getMessage(), e);
        }
    }

    private static QueryBook.Edit batch(JsonNode doc, String where) {
        for (Iterator<String> it = doc.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!field.equals("id") && !field.equals("queries")) {
                throw new IllegalArgumentException(
                        "unknown field '" + field + "' in a batch document (known: id, queries)");
            }
        }
        JsonNode id = doc.get("id");
        if (id == null || !(id.isTextual() || id.isNumber())) {
            throw new IllegalArgumentException("a batch document needs an 'id' (a string or a number)");
        }
        JsonNode list = doc.get("queries");
        if (!list.isArray()) {
            throw new IllegalArgumentException("field 'queries' must be an array of query documents");
        }
        List<StandingQuery> queries = new ArrayList<>();
        int i = 0;
        for (JsonNode q : list) {
            try {
                StandingQuery sq = StandingQuery.fromJson(q);
                if (sq.batch() != null && !sq.batch().equals(id.asText())) {
                    throw new IllegalArgumentException(
                            "its id '" + sq.batch() + "' differs from the batch's '" + id.asText() + "'");
                }
                queries.add(
                        new StandingQuery(id.asText(), sq.name(), sq.key(), sq.exchange(), sq.output(), sq.query()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("queries[" + i + "]: " + e.getMessage(), e);
            }
            i++;
        }
        return new QueryBook.Edit.Batch(id.asText(), queries);
    }
}
