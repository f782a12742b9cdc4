package io.sluice.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Random JSON documents and MongoDB queries over a small vocabulary of fields and values, so
 * that random queries really do match random documents (and array traversal, nulls, mixed
 * numeric types and nested documents all come up).
 */
final class JsonArbitraries {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final List<String> KEYS = List.of("a", "b", "c", "0");
    private static final List<String> PATHS = List.of("a", "b", "c", "a.b", "a.c", "a.0", "b.a", "a.b.c", "0");

    private JsonArbitraries() {}

    static Arbitrary<JsonNode> scalar() {
        return Arbitraries.oneOf(
                Arbitraries.integers().between(-2, 5).map(F::numberNode),
                Arbitraries.of(0.5, 1.0, 2.0, 2.5, -1.5).map(F::numberNode),
                Arbitraries.longs().between(3_000_000_000L, 3_000_000_002L).map(F::numberNode),
                Arbitraries.of("a", "b", "ab", "B", "1", "2", "").map(F::textNode),
                Arbitraries.of(true, false).map(F::booleanNode),
                Arbitraries.just(F.nullNode()));
    }

    static Arbitrary<JsonNode> value(int depth) {
        if (depth <= 0) {
            return scalar();
        }
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, scalar()),
                net.jqwik.api.Tuple.of(2, array(depth - 1)),
                net.jqwik.api.Tuple.of(2, object(depth - 1)));
    }

    static Arbitrary<JsonNode> array(int depth) {
        return value(depth).list().ofMaxSize(3).map(list -> {
            ArrayNode a = F.arrayNode();
            list.forEach(a::add);
            return a;
        });
    }

    static Arbitrary<JsonNode> object(int depth) {
        return Arbitraries.maps(Arbitraries.of(KEYS), value(depth)).ofMaxSize(3).map(JsonArbitraries::objectOf);
    }

    /**
     * Documents whose values are mostly the strings and booleans {@link #pairQuery} names, alone,
     * in arrays or in nested documents (also inside arrays), so that pairs of keys are hit.
     */
    static Arbitrary<JsonNode> pairDocuments() {
        return pairObject(2);
    }

    private static Arbitrary<JsonNode> pairObject(int depth) {
        Arbitrary<JsonNode> exact = Arbitraries.oneOf(
                Arbitraries.of("a", "b", "ab").map(F::textNode),
                Arbitraries.of(true, false).map(F::booleanNode));
        Arbitrary<JsonNode> value = depth <= 0
                ? exact
                : Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(4, exact),
                        net.jqwik.api.Tuple.of(2, exact.list().ofMaxSize(3).map(JsonArbitraries::arrayOf)),
                        net.jqwik.api.Tuple.of(2, Arbitraries.lazy(() -> pairObject(depth - 1))),
                        net.jqwik.api.Tuple.of(
                                1,
                                Arbitraries.lazy(() -> pairObject(depth - 1))
                                        .list()
                                        .ofMaxSize(2)
                                        .map(JsonArbitraries::arrayOf)));
        return Arbitraries.maps(Arbitraries.of(KEYS), value).ofMaxSize(3).map(JsonArbitraries::objectOf);
    }

    private static JsonNode arrayOf(List<JsonNode> values) {
        ArrayNode a = F.arrayNode();
        values.forEach(a::add);
        return a;
    }

    /** Documents: objects up to three levels deep. */
    static Arbitrary<JsonNode> documents() {
        return object(3);
    }

    /** Valid queries: field conditions and logical operators, nested up to {@code depth}. */
    static Arbitrary<JsonNode> query(int depth) {
        Arbitrary<JsonNode> fieldQuery = Arbitraries.maps(Arbitraries.of(PATHS), condition(depth))
                .ofMinSize(1)
                .ofMaxSize(2)
                .map(JsonArbitraries::objectOf);
        if (depth <= 0) {
            return Arbitraries.frequencyOf(
                    net.jqwik.api.Tuple.of(4, fieldQuery), net.jqwik.api.Tuple.of(1, pairQuery()));
        }
        Arbitrary<JsonNode> logical = Combinators.combine(
                        Arbitraries.of("$and", "$or", "$nor"),
                        Arbitraries.lazy(() -> query(depth - 1))
                                .list()
                                .ofMinSize(1)
                                .ofMaxSize(3))
                .as((op, list) -> {
                    ArrayNode a = F.arrayNode();
                    list.forEach(a::add);
                    return (JsonNode) objectOf(Map.of(op, a));
                });
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, fieldQuery),
                net.jqwik.api.Tuple.of(1, logical),
                net.jqwik.api.Tuple.of(1, pairQuery()));
    }

    /**
     * Two equalities (or {@code $in}s) of strings or booleans on two paths, which the index looks
     * up as a pair of keys; sometimes with a third condition.
     */
    static Arbitrary<JsonNode> pairQuery() {
        Arbitrary<JsonNode> exact = Arbitraries.oneOf(
                Arbitraries.of("a", "b", "ab", "").map(F::textNode),
                Arbitraries.of(true, false).map(F::booleanNode));
        Arbitrary<JsonNode> equality =
                Arbitraries.oneOf(exact, exact.list().ofMinSize(1).ofMaxSize(3).map(list -> {
                    ArrayNode in = F.arrayNode();
                    list.forEach(in::add);
                    return (JsonNode) F.objectNode().set("$in", in);
                }));
        return Combinators.combine(
                        Arbitraries.of(PATHS).list().ofSize(2).uniqueElements(),
                        equality,
                        equality,
                        Arbitraries.maps(Arbitraries.of(PATHS), condition(0)).ofMaxSize(1))
                .as((paths, first, second, extra) -> {
                    ObjectNode q = F.objectNode();
                    extra.forEach(q::set);
                    q.set(paths.get(0), first);
                    q.set(paths.get(1), second);
                    return (JsonNode) q;
                });
    }

    static Arbitrary<JsonNode> condition(int depth) {
        Arbitrary<JsonNode> ops = Arbitraries.maps(
                        Arbitraries.of(
                                "$eq",
                                "$ne",
                                "$gt",
                                "$gte",
                                "$lt",
                                "$lte",
                                "$in",
                                "$nin",
                                "$exists",
                                "$type",
                                "$regex",
                                "$size",
                                "$all",
                                "$mod",
                                "$not",
                                "$elemMatch"),
                        Arbitraries.just(F.nullNode()))
                .ofMinSize(1)
                .ofMaxSize(2)
                .flatMap(map -> Combinators.combine(map.keySet().stream()
                                .map(op -> operand(op, depth).map(v -> Map.entry(op, v)))
                                .toList())
                        .as(entries -> {
                            ObjectNode o = F.objectNode();
                            entries.forEach(e -> o.set(e.getKey(), e.getValue()));
                            return (JsonNode) o;
                        }));
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, value(1)), net.jqwik.api.Tuple.of(4, ops));
    }

    private static Arbitrary<JsonNode> operand(String op, int depth) {
        return switch (op) {
            case "$in", "$nin", "$all" ->
                value(1).list().ofMaxSize(3).map(list -> {
                    ArrayNode a = F.arrayNode();
                    list.forEach(a::add);
                    return a;
                });
            case "$exists" -> Arbitraries.of(true, false).map(F::booleanNode);
            case "$type" ->
                Arbitraries.of("number", "string", "array", "object", "null", "bool", "int", "double", "long")
                        .map(F::textNode);
            case "$regex" -> Arbitraries.of("^a", "b$", "a", "^$", "A").map(F::textNode);
            case "$size" -> Arbitraries.integers().between(0, 3).map(F::numberNode);
            case "$mod" -> Arbitraries.of(2, 3).map(d -> F.arrayNode().add(d).add(1));
            case "$not" ->
                Arbitraries.of("$gt", "$eq", "$in", "$exists", "$size").flatMap(inner -> operand(inner, depth)
                        .map(v -> (JsonNode) F.objectNode().set(inner, v)));
            case "$elemMatch" ->
                depth <= 0
                        ? Arbitraries.just(F.objectNode().set("$gt", F.numberNode(1)))
                        : Arbitraries.oneOf(
                                query(0), Arbitraries.just(F.objectNode().put("$gte", 2)));
            default -> value(1);
        };
    }

    private static ObjectNode objectOf(Map<String, JsonNode> map) {
        ObjectNode o = F.objectNode();
        map.forEach(o::set);
        return o;
    }

    // ------------------------------------------------------------------ range-heavy sets

    private static final List<String> RANGE_PATHS = List.of("n", "t", "a.n");

    /**
     * Values ranges are compared with: small integers (negative too), doubles between them,
     * integers beyond 2^53 (which doubles round), ISO times and other strings, and a few of
     * other types.
     */
    static Arbitrary<JsonNode> rangeValue() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, Arbitraries.integers().between(-3, 6).map(F::numberNode)),
                net.jqwik.api.Tuple.of(
                        2, Arbitraries.of(-1.5, 0.5, 2.0, 2.5, 4.999).map(F::numberNode)),
                net.jqwik.api.Tuple.of(
                        2,
                        Arbitraries.longs()
                                .between((1L << 53) - 1, (1L << 53) + 3)
                                .map(F::numberNode)),
                net.jqwik.api.Tuple.of(
                        1,
                        Arbitraries.of(9007199254740993.0, 9007199254740992.0).map(F::numberNode)),
                net.jqwik.api.Tuple.of(
                        3,
                        Arbitraries.of(
                                        "2026-12-01T10:00:00Z",
                                        "2026-12-01T10:00:05Z",
                                        "2026-12-01T10:00:05.5Z",
                                        "2026-12-01T10:01:00Z",
                                        "2026-12-02T00:00:00Z",
                                        "b",
                                        "")
                                .map(F::textNode)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(true, false).map(F::booleanNode)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(F.nullNode())));
    }

    /**
     * Queries mostly of two-sided ranges: every combination of open and closed ends, in one
     * operator document or across {@code $and}, equal and inverted bounds, sometimes beside an
     * equality or inside {@code $or}, {@code $not} and {@code $elemMatch}.
     */
    static Arbitrary<JsonNode> rangeQuery() {
        Arbitrary<JsonNode> oneWindow = window();
        Arbitrary<String> lowerOp = Arbitraries.of("$gt", "$gte");
        Arbitrary<String> upperOp = Arbitraries.of("$lt", "$lte");
        Arbitrary<JsonNode> split = Combinators.combine(
                        Arbitraries.of(RANGE_PATHS), lowerOp, rangeValue(), upperOp, rangeValue())
                .as((path, lo, a, hi, b) -> {
                    ObjectNode q = F.objectNode();
                    q.putArray("$and")
                            .add(F.objectNode().set(path, F.objectNode().set(lo, a)))
                            .add(F.objectNode().set(path, F.objectNode().set(hi, b)));
                    return q;
                });
        Arbitrary<JsonNode> withEquality = Combinators.combine(oneWindow, Arbitraries.of("n", "t", "e"), rangeValue())
                .as((w, path, v) -> {
                    ObjectNode q = ((ObjectNode) w).deepCopy();
                    if (!q.has(path)) {
                        q.set(path, v);
                    }
                    return q;
                });
        Arbitrary<JsonNode> wrapped = Combinators.combine(
                        Arbitraries.of("$or", "$not", "$elemMatch", "oneSided"), oneWindow, oneWindow)
                .as((kind, w1, w2) -> {
                    String path = w1.fieldNames().next();
                    return switch (kind) {
                        case "$or" ->
                            F.objectNode().set("$or", F.arrayNode().add(w1).add(w2));
                        case "$not" -> F.objectNode().set(path, F.objectNode().set("$not", w1.get(path)));
                        case "$elemMatch" ->
                            F.objectNode().set(path, F.objectNode().set("$elemMatch", w1.get(path)));
                        default -> {
                            ObjectNode ops = (ObjectNode) w1.get(path);
                            ObjectNode q = F.objectNode();
                            q.set(
                                    path,
                                    F.objectNode()
                                            .set(
                                                    ops.fieldNames().next(),
                                                    ops.elements().next()));
                            yield q;
                        }
                    };
                });
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, oneWindow),
                net.jqwik.api.Tuple.of(2, split),
                net.jqwik.api.Tuple.of(2, withEquality),
                net.jqwik.api.Tuple.of(2, wrapped));
    }

    /** A path's lower and upper bound in one operator document: {@code {n: {$gte: 1, $lt: 3}}}. */
    static Arbitrary<JsonNode> window() {
        Arbitrary<String> lowerOp = Arbitraries.of("$gt", "$gte");
        Arbitrary<String> upperOp = Arbitraries.of("$lt", "$lte");
        Arbitrary<JsonNode> window = Combinators.combine(
                        lowerOp,
                        rangeValue(),
                        upperOp,
                        rangeValue(),
                        Arbitraries.integers().between(0, 99))
                .as((lo, a, hi, b, shape) -> {
                    JsonNode upper = shape < 30 ? a : b; // often the same value: equal bounds
                    ObjectNode ops = F.objectNode().set(lo, a);
                    ops.set(hi, upper);
                    return ops;
                });
        return Combinators.combine(Arbitraries.of(RANGE_PATHS), window)
                .as((path, ops) -> F.objectNode().set(path, ops));
    }

    /** Documents whose range paths ({@code n}, {@code t}) each hold one scalar, or nothing. */
    static Arbitrary<JsonNode> scalarRangeDocument() {
        return Arbitraries.maps(Arbitraries.of("n", "t"), rangeValue())
                .ofMaxSize(2)
                .map(JsonArbitraries::objectOf);
    }

    /**
     * Documents for range queries: each path missing, null, a value, or an array of values
     * (elements inside and outside an interval, one element per bound), {@code a} sometimes an
     * array of documents so that {@code a.n} reaches several leaves.
     */
    static Arbitrary<JsonNode> rangeDocuments() {
        Arbitrary<JsonNode> leaf = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, rangeValue()),
                net.jqwik.api.Tuple.of(2, rangeValue().list().ofMaxSize(3).map(JsonArbitraries::arrayOf)),
                net.jqwik.api.Tuple.of(
                        1,
                        rangeValue()
                                .list()
                                .ofMaxSize(2)
                                .map(JsonArbitraries::arrayOf)
                                .list()
                                .ofMaxSize(2)
                                .map(JsonArbitraries::arrayOf)));
        Arbitrary<JsonNode> inner =
                Arbitraries.maps(Arbitraries.of("n", "t"), leaf).ofMaxSize(2).map(JsonArbitraries::objectOf);
        Arbitrary<JsonNode> a =
                Arbitraries.oneOf(inner, inner.list().ofMinSize(1).ofMaxSize(3).map(JsonArbitraries::arrayOf));
        return Combinators.combine(
                        Arbitraries.maps(Arbitraries.of("n", "t", "e"), leaf).ofMaxSize(3),
                        a,
                        Arbitraries.of(true, false))
                .as((top, nested, withA) -> {
                    ObjectNode o = (ObjectNode) objectOf(top);
                    if (withA) {
                        o.set("a", nested);
                    }
                    return o;
                });
    }
}
