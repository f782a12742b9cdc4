package io.sluice.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Arbitrary JSON as a query: the parser either compiles it or throws its own
 * {@link QueryException}, nothing else; and whatever it compiles matches documents without
 * throwing.
 */
class QueryFuzzTest {
    private static final List<String> OPERATORS = List.of(
            "$eq",
            "$ne",
            "$gt",
            "$gte",
            "$lt",
            "$lte",
            "$in",
            "$nin",
            "$and",
            "$or",
            "$nor",
            "$not",
            "$exists",
            "$type",
            "$regex",
            "$options",
            "$mod",
            "$all",
            "$elemMatch",
            "$size",
            "$comment",
            "$regularExpression",
            "$bogus",
            "a",
            "b.c",
            "",
            "a..b",
            "0",
            "pattern",
            "options");

    @Property(tries = 2000)
    void parserThrowsOnlyQueryException(@ForAll("anyJson") JsonNode candidate, @ForAll("docs") JsonNode doc) {
        Query q;
        try {
            q = Query.parse(candidate);
        } catch (QueryException expected) {
            return;
        }
        q.matches(doc); // must not throw
        new QueryIndex().put("q", q);
    }

    @Provide
    Arbitrary<JsonNode> anyJson() {
        return json(3);
    }

    @Provide
    Arbitrary<JsonNode> docs() {
        return JsonArbitraries.documents();
    }

    private static Arbitrary<JsonNode> json(int depth) {
        Arbitrary<JsonNode> scalar = JsonArbitraries.scalar();
        Arbitrary<JsonNode> strings = Arbitraries.of("/^a/i", "(", "[a-", "/x/q", "i", "imsx", "number", "string")
                .map(JsonNodeFactory.instance::textNode);
        if (depth == 0) {
            return Arbitraries.oneOf(scalar, strings);
        }
        Arbitrary<JsonNode> object = Arbitraries.maps(
                        Arbitraries.of(OPERATORS), Arbitraries.lazy(() -> json(depth - 1)))
                .ofMaxSize(3)
                .map(m -> {
                    ObjectNode o = JsonNodeFactory.instance.objectNode();
                    m.forEach(o::set);
                    return o;
                });
        Arbitrary<JsonNode> array = Arbitraries.lazy(() -> json(depth - 1))
                .list()
                .ofMaxSize(3)
                .map(l -> {
                    var a = JsonNodeFactory.instance.arrayNode();
                    l.forEach(a::add);
                    return a;
                });
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(1, scalar), net.jqwik.api.Tuple.of(1, strings),
                net.jqwik.api.Tuple.of(4, object), net.jqwik.api.Tuple.of(2, array));
    }
}
