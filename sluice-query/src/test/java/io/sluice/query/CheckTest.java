package io.sluice.query;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Compiled checks answer exactly what the expressions they come from answer. */
class CheckTest {
    private static final List<String> DOCUMENTS = List.of(
            "{}",
            "{\"a\":\"x\"}",
            "{\"a\":\"y\"}",
            "{\"a\":null}",
            "{\"a\":1}",
            "{\"a\":[\"y\",\"x\"]}",
            "{\"a\":[]}",
            "{\"a\":{\"b\":\"x\"}}",
            "{\"a\":[{\"b\":\"x\"},{\"b\":\"z\"}]}",
            "{\"a\":[{\"c\":1}]}",
            "{\"a\":{\"b\":[\"x\"]},\"t\":\"x\"}",
            "{\"a\":{\"b\":null},\"t\":\"y\"}");

    private static final List<String> QUERIES = List.of(
            "{\"a\":\"x\"}",
            "{\"a.b\":\"x\"}",
            "{\"a\":{\"$in\":[\"x\",\"z\"]}}",
            "{\"a.b\":{\"$in\":[\"x\",\"z\"]}}",
            "{\"a\":{\"$exists\":true}}",
            "{\"a.b\":{\"$exists\":true}}",
            "{\"a.b\":\"x\",\"t\":\"x\"}",
            "{\"a.b\":{\"$exists\":true},\"t\":{\"$in\":[\"y\"]}}",
            "{\"a\":{\"$in\":[\"x\",1]}}",
            "{\"a\":{\"$gt\":0}}",
            "{}");

    @Test
    void compiledChecksAgreeWithTheirExpressionsOnArraysMissingAndOtherTypes() {
        for (String q : QUERIES) {
            Expr root = Query.parse(q).root();
            Check check = Check.of(root);
            for (String d : DOCUMENTS) {
                JsonNode doc = QueryIndexTest.json(d);
                Memo memo = new Memo();
                memo.reset(doc);
                assertThat(check.test(doc, memo)).as("%s on %s", q, d).isEqualTo(root.matches(doc));
                memo.reset(doc);
                assertThat(check.test(doc, memo)).as("again, %s on %s", q, d).isEqualTo(root.matches(doc));
            }
        }
    }

    @Test
    void theCommonConditionsCompileToTheirOwnChecks() {
        assertThat(kind("{\"a\":\"x\"}")).isEqualTo("TextIn");
        assertThat(kind("{\"a\":{\"$in\":[\"x\",\"z\"]}}")).isEqualTo("TextIn");
        assertThat(kind("{\"a\":{\"$exists\":true}}")).isEqualTo("Exists");
        assertThat(kind("{\"a\":\"x\",\"b\":{\"$exists\":true}}")).isEqualTo("All");
        assertThat(kind("{\"a\":{\"$in\":[\"x\",1]}}")).isEqualTo("Evaluate");
        assertThat(kind("{\"a\":1}")).isEqualTo("Evaluate");
        assertThat(Check.of(Query.parse("{}").root()).always()).isTrue();
    }

    private static String kind(String query) {
        return Check.of(Query.parse(query).root()).getClass().getSimpleName();
    }
}
