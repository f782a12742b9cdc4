package io.sluice.query;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The index must always answer exactly what evaluating every query one by one answers. */
class QueryIndexPropertyTest {

    @Property(tries = 300)
    void indexMatchesExactlyWhatALinearScanMatches(
            @ForAll("querySets") List<JsonNode> queries, @ForAll("documentLists") List<JsonNode> documents) {
        assertIndexMatchesScan(queries, documents);
    }

    @Property(tries = 150)
    void explainingFindsWhatMatchingFindsAndOffersEachQueryOnce(
            @ForAll("querySets") List<JsonNode> queries, @ForAll("documentLists") List<JsonNode> documents) {
        Map<String, Query> compiled = compile(queries);
        QueryIndex index = new QueryIndex();
        index.putAll(compiled);
        for (JsonNode doc : documents) {
            Explanation explained = index.explain(doc);
            Set<String> expected = linearScan(compiled, doc);
            assertThat(new HashSet<>(explained.matches())).as("on %s", doc).isEqualTo(expected);
            List<String> offered = explained.candidates().stream()
                    .map(Explanation.Candidate::name)
                    .toList();
            assertThat(offered).as("offered once each").doesNotHaveDuplicates();
            for (Explanation.Candidate c : explained.candidates()) {
                assertThat(c.matched()).as("%s on %s", c, doc).isEqualTo(expected.contains(c.name()));
            }
        }
    }

    @Property(tries = 150)
    void indexStaysExactThroughRemovalsAndReplacements(
            @ForAll("querySets") List<JsonNode> first,
            @ForAll("querySets") List<JsonNode> second,
            @ForAll("documentLists") List<JsonNode> documents) {
        assertExactThroughRemovalsAndReplacements(first, second, documents);
    }

    @Property(tries = 150)
    void pairsStayExactThroughRemovalsAndReplacements(
            @ForAll("pairQuerySets") List<JsonNode> first,
            @ForAll("pairQuerySets") List<JsonNode> second,
            @ForAll("pairDocumentLists") List<JsonNode> documents) {
        assertExactThroughRemovalsAndReplacements(first, second, documents);
    }

    private static void assertExactThroughRemovalsAndReplacements(
            List<JsonNode> first, List<JsonNode> second, List<JsonNode> documents) {
        QueryIndex index = new QueryIndex();
        Map<String, Query> live = new LinkedHashMap<>(compile(first));
        index.putAll(live);
        // remove every other query, then replace the set with an overlapping one
        List<String> names = new ArrayList<>(live.keySet());
        for (int i = 0; i < names.size(); i += 2) {
            index.remove(names.get(i));
            live.remove(names.get(i));
        }
        check(index, live, documents);
        Map<String, Query> next = compile(second);
        live.forEach((name, q) -> next.putIfAbsent(name + "-kept", q));
        index.replaceAll(next);
        check(index, next, documents);
        assertThat(index.names()).isEqualTo(next.keySet());
    }

    private static void check(QueryIndex index, Map<String, Query> live, List<JsonNode> documents) {
        for (JsonNode doc : documents) {
            assertThat(new HashSet<>(index.match(doc))).as("on %s", doc).isEqualTo(linearScan(live, doc));
        }
    }

    @Property(tries = 200)
    void pairsOfKeysMatchExactlyWhatALinearScanMatches(
            @ForAll("pairQuerySets") List<JsonNode> queries, @ForAll("pairDocumentLists") List<JsonNode> documents) {
        assertIndexMatchesScan(queries, documents);
    }

    @Property(tries = 300)
    void rangeHeavySetsMatchExactlyWhatALinearScanMatches(
            @ForAll("rangeQuerySets") List<JsonNode> queries, @ForAll("rangeDocumentLists") List<JsonNode> documents) {
        assertIndexMatchesScan(queries, documents);
    }

    @Property(tries = 150)
    void intervalsStayExactThroughRemovalsAndReplacements(
            @ForAll("rangeQuerySets") List<JsonNode> first,
            @ForAll("rangeQuerySets") List<JsonNode> second,
            @ForAll("rangeDocumentLists") List<JsonNode> documents) {
        assertExactThroughRemovalsAndReplacements(first, second, documents);
    }

    /**
     * On a document whose path holds one scalar, an interval hit is a match of the interval:
     * the lookup checks both ends exactly (rounded keys aside), so candidates stay as few as
     * the matches. Dropping either end's check makes candidates that do not match.
     */
    @Property(tries = 300)
    void anIntervalHitOnOneScalarIsInsideTheInterval(
            @ForAll("windowSets") List<JsonNode> queries, @ForAll("scalarDocumentLists") List<JsonNode> documents) {
        Map<String, Query> compiled = compile(queries);
        QueryIndex index = new QueryIndex();
        index.putAll(compiled);
        for (JsonNode doc : documents) {
            for (Explanation.Candidate c : index.explain(doc).candidates()) {
                if (!"interval".equals(c.by())) {
                    continue;
                }
                JsonNode value = doc.get(c.via());
                boolean rounded = value.isIntegralNumber() && Math.abs(value.asDouble()) >= 0x1p53
                        || queryValueRounded(compiled.get(c.name()));
                if (!rounded) {
                    assertThat(c.matched()).as("%s on %s", c, doc).isTrue();
                }
            }
        }
    }

    private static boolean queryValueRounded(Query q) {
        return q.toString().matches(".*\\b900719925474099[0-9].*");
    }

    @Provide
    Arbitrary<List<JsonNode>> rangeQuerySets() {
        return JsonArbitraries.rangeQuery().list().ofMinSize(1).ofMaxSize(25);
    }

    @Provide
    Arbitrary<List<JsonNode>> rangeDocumentLists() {
        return JsonArbitraries.rangeDocuments().list().ofMinSize(1).ofMaxSize(15);
    }

    @Provide
    Arbitrary<List<JsonNode>> windowSets() {
        return JsonArbitraries.window().list().ofMinSize(1).ofMaxSize(25);
    }

    @Provide
    Arbitrary<List<JsonNode>> scalarDocumentLists() {
        return JsonArbitraries.scalarRangeDocument().list().ofMinSize(1).ofMaxSize(15);
    }

    private static void assertIndexMatchesScan(List<JsonNode> queries, List<JsonNode> documents) {
        Map<String, Query> compiled = compile(queries);
        QueryIndex index = new QueryIndex();
        index.putAll(compiled);
        for (JsonNode doc : documents) {
            assertThat(new HashSet<>(index.match(doc)))
                    .as("index vs scan on %s", doc)
                    .isEqualTo(linearScan(compiled, doc));
        }
    }

    @Provide
    Arbitrary<List<JsonNode>> pairQuerySets() {
        return JsonArbitraries.pairQuery().list().ofMinSize(1).ofMaxSize(25);
    }

    @Provide
    Arbitrary<List<JsonNode>> pairDocumentLists() {
        return JsonArbitraries.pairDocuments().list().ofMinSize(1).ofMaxSize(15);
    }

    @Provide
    Arbitrary<List<JsonNode>> querySets() {
        return JsonArbitraries.query(2).list().ofMinSize(1).ofMaxSize(25);
    }

    @Provide
    Arbitrary<List<JsonNode>> documentLists() {
        return JsonArbitraries.documents().list().ofMinSize(1).ofMaxSize(15);
    }

    private static Map<String, Query> compile(List<JsonNode> queries) {
        Map<String, Query> compiled = new LinkedHashMap<>();
        for (int i = 0; i < queries.size(); i++) {
            compiled.put("q" + i, Query.parse(queries.get(i)));
        }
        return compiled;
    }

    private static Set<String> linearScan(Map<String, Query> queries, JsonNode doc) {
        Set<String> hits = new HashSet<>();
        queries.forEach((name, q) -> {
            if (q.matches(doc)) {
                hits.add(name);
            }
        });
        return hits;
    }
}
