package io.sluice.query;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import de.bwaldvogel.mongo.backend.DefaultQueryMatcher;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.Document;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Differential conformance: every (document, filter) case of {@code conformance/corpus.json}
 * runs through Sluice and through mongo-java-server's {@link DefaultQueryMatcher}, an
 * independent implementation of MongoDB's query semantics. They must agree, except for the
 * cases in {@code conformance/deviations.json}, where that implementation departs from MongoDB:
 * there Sluice must give MongoDB's documented result (and the reference must still differ, so
 * that a stale entry is noticed).
 */
class ConformanceTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNode CORPUS = load("conformance/corpus.json");
    private static final Map<String, JsonNode> DEVIATIONS = deviations();

    static Stream<String> groups() {
        List<String> names = new ArrayList<>();
        CORPUS.get("groups").forEach(g -> names.add(g.get("name").textValue()));
        return names.stream();
    }

    @Test
    void corpusHasAtLeast400CasesInManyGroups() {
        int cases = 0;
        for (JsonNode g : CORPUS.get("groups")) {
            cases += g.get("docs").size() * g.get("filters").size();
        }
        assertThat(cases).isGreaterThanOrEqualTo(400);
        assertThat(CORPUS.get("groups").size()).isGreaterThanOrEqualTo(20);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("groups")
    void sluiceAgreesWithTheReferenceImplementation(String groupName) {
        JsonNode group = group(groupName);
        List<String> disagreements = new ArrayList<>();
        int matches = 0;
        for (JsonNode filter : group.get("filters")) {
            Query query = Query.parse(filter);
            for (JsonNode doc : group.get("docs")) {
                boolean sluice = query.matches(doc);
                Boolean reference = reference(doc, filter);
                matches += sluice ? 1 : 0;
                JsonNode deviation = DEVIATIONS.get(key(doc, filter));
                if (deviation != null) {
                    boolean mongodb = deviation.get("mongodb").booleanValue();
                    if (sluice != mongodb) {
                        disagreements.add("deviation case: Sluice says " + sluice + ", MongoDB " + mongodb + ": "
                                + filter + " on " + doc);
                    }
                    if (reference != null && reference == mongodb) {
                        disagreements.add(
                                "stale deviation (the reference now agrees with MongoDB): " + filter + " on " + doc);
                    }
                } else if (reference == null || sluice != reference) {
                    disagreements.add("Sluice " + sluice + ", reference " + (reference == null ? "error" : reference)
                            + ": " + filter + " on " + doc);
                    DUMP.add("{\"group\": " + MAPPER.valueToTree(groupName) + ", \"filter\": " + filter + ", \"doc\": "
                            + doc + ", \"mongodb\": " + sluice + ", \"reference\": \"" + reference
                            + "\", \"reason\": \"\"}");
                }
            }
        }
        assertThat(disagreements).as(groupName).isEmpty();
        assertThat(matches).as("a group where nothing matches tests nothing").isPositive();
    }

    @Test
    void everyDeviationIsACaseOfTheCorpusWithAReason() {
        Map<String, Boolean> cases = new HashMap<>();
        for (JsonNode g : CORPUS.get("groups")) {
            for (JsonNode f : g.get("filters")) {
                for (JsonNode d : g.get("docs")) {
                    cases.put(key(d, f), true);
                }
            }
        }
        for (Map.Entry<String, JsonNode> e : DEVIATIONS.entrySet()) {
            assertThat(cases)
                    .as("deviation %s is not in the corpus", e.getKey())
                    .containsKey(e.getKey());
            assertThat(e.getValue().path("reason").asText()).as(e.getKey()).isNotBlank();
        }
    }

    /** The reference's answer, or null when it fails on the case (it does on some valid queries). */
    private static Boolean reference(JsonNode doc, JsonNode filter) {
        try {
            return new DefaultQueryMatcher().matches(toDocument(doc), toQuery(filter));
        } catch (RuntimeException e) {
            return null;
        }
    }

    static final List<String> DUMP = java.util.Collections.synchronizedList(new ArrayList<>());

    @org.junit.jupiter.api.AfterAll
    static void dump() throws IOException {
        if (System.getenv("CONFORMANCE_DUMP") != null) {
            java.nio.file.Files.write(java.nio.file.Path.of(System.getenv("CONFORMANCE_DUMP")), DUMP);
        }
    }

    private static JsonNode group(String name) {
        for (JsonNode g : CORPUS.get("groups")) {
            if (g.get("name").textValue().equals(name)) {
                return g;
            }
        }
        throw new IllegalArgumentException(name);
    }

    private static String key(JsonNode doc, JsonNode filter) {
        return filter + " on " + doc;
    }

    private static Map<String, JsonNode> deviations() {
        Map<String, JsonNode> map = new HashMap<>();
        for (JsonNode d : load("conformance/deviations.json").get("deviations")) {
            map.put(key(d.get("doc"), d.get("filter")), d);
        }
        return map;
    }

    private static JsonNode load(String resource) {
        try (InputStream in = ConformanceTest.class.getClassLoader().getResourceAsStream(resource)) {
            return MAPPER.readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException(resource, e);
        }
    }

    // --- JSON to the reference implementation's BSON-like values ---

    static Document toDocument(JsonNode node) {
        Document d = new Document();
        node.properties().forEach(e -> d.put(e.getKey(), toValue(e.getValue(), false)));
        return d;
    }

    /** A filter: like a document, but regular expressions written as JSON become real ones. */
    static Document toQuery(JsonNode node) {
        Document d = new Document();
        node.properties()
                .forEach(e -> d.put(e.getKey(), toValue(e.getValue(), e.getKey().startsWith("$") ? e.getKey() : "")));
        return d;
    }

    private static Object toValue(JsonNode v, String operator) {
        if (v.isObject() && v.has("$regularExpression")) {
            JsonNode re = v.get("$regularExpression");
            return new BsonRegularExpression(
                    re.get("pattern").textValue(), re.path("options").asText(""));
        }
        boolean regexStrings =
                operator.equals("$in") || operator.equals("$nin") || operator.equals("$not") || operator.equals("$all");
        if (v.isObject() && regexStrings && v.has("$regex") && !operator.equals("$not")) {
            return new BsonRegularExpression(
                    v.get("$regex").textValue(), v.path("$options").asText(""));
        }
        if (v.isObject()) {
            return toQuery(v);
        }
        if (v.isArray()) {
            List<Object> list = new ArrayList<>();
            v.forEach(e -> list.add(toValue(e, regexStrings ? operator : "")));
            return list;
        }
        if (v.isTextual() && regexStrings) {
            String s = v.textValue();
            int end = s.lastIndexOf('/');
            if (s.length() >= 2 && s.charAt(0) == '/' && end > 0) {
                return new BsonRegularExpression(s.substring(1, end), s.substring(end + 1));
            }
        }
        return toValue(v, false);
    }

    private static Object toValue(JsonNode v, boolean unused) {
        if (v.isObject()) {
            return toDocument(v);
        }
        if (v.isArray()) {
            List<Object> list = new ArrayList<>();
            v.forEach(e -> list.add(toValue(e, false)));
            return list;
        }
        if (v.isInt()) {
            return v.intValue();
        }
        if (v.isIntegralNumber()) {
            return v.longValue();
        }
        if (v.isNumber()) {
            return v.doubleValue();
        }
        if (v.isTextual()) {
            return v.textValue();
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        return null;
    }
}
