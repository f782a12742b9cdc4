package io.sluice.core.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

class StandingQueriesTest {
    private static final String SEED = """
            {"id":"07fb983f-ca15-4e38-a3b7-b1e544dc64ce","name":"NonInformational","key":"broker_key","query":{"@fields.priority":{"$in":["1","2","3","4"]}}}

            {"id":"07fb983f-ca15-4e38-a3b7-b1e544dc64ce","name":"Informational","key":"broker_key","query":{"@fields.priority":{"$in":["5","6","7"]}}}
            """;

    @Test
    void readsThePySepsSeedDocumentsUnchanged() throws Exception {
        List<StandingQuery> queries = StandingQueries.read(new StringReader(SEED), "seed.ndjson");
        assertThat(queries).extracting(StandingQuery::name).containsExactly("NonInformational", "Informational");
        StandingQuery q = queries.get(0);
        assertThat(q.batch()).isEqualTo("07fb983f-ca15-4e38-a3b7-b1e544dc64ce");
        assertThat(q.key()).isEqualTo("broker_key");
        assertThat(q.query().matches(new ObjectMapper().readTree("{\"@fields\":{\"priority\":\"2\"}}")))
                .isTrue();
        assertThat(q.toJson().toString()).isEqualTo(SEED.lines().findFirst().orElseThrow());
    }

    @Test
    void readsAJsonArrayToo() throws Exception {
        List<StandingQuery> queries = StandingQueries.read(
                new StringReader("[{\"name\":\"a\",\"query\":{}},\n {\"name\":\"b\",\"query\":{\"x\":1}}]"), "q.json");
        assertThat(queries).extracting(StandingQuery::name).containsExactly("a", "b");
    }

    @Test
    void namesTheLineAndTheProblem() {
        assertThatThrownBy(() -> StandingQueries.read(
                        new StringReader(
                                "{\"name\":\"a\",\"query\":{}}\n\n{\"name\":\"b\",\"query\":{\"x\":{\"$bad\":1}}}"),
                        "q.ndjson"))
                .hasMessage("q.ndjson:3: query 'b': unknown operator $bad (operator $bad, path 'x')");
        assertThatThrownBy(() -> StandingQueries.read(new StringReader("{\"name\":\"a\",\"query\":{}}\n{oops"), "f"))
                .hasMessageStartingWith("f:2: invalid JSON");
        assertThatThrownBy(() -> StandingQueries.read(new StringReader("{\"query\":{}}"), "f"))
                .hasMessage("f:1: field 'name' is missing");
        assertThatThrownBy(() -> StandingQueries.read(new StringReader("{\"name\":\"a\",\"qurey\":{}}"), "f"))
                .hasMessageContaining("unknown field 'qurey'");
        assertThatThrownBy(() -> StandingQueries.read(
                        new StringReader("{\"name\":\"a\",\"query\":{}}\n{\"name\":\"a\",\"query\":{}}"), "f"))
                .hasMessage("f: the query name 'a' is used twice");
    }

    @Test
    void queryNamesFollowTheNameRule() throws Exception {
        assertThatThrownBy(() -> StandingQueries.read(new StringReader("{\"name\":\"\",\"query\":{}}"), "f"))
                .hasMessage("f:1: field 'name': a query name must not be empty");
        assertThatThrownBy(() -> StandingQueries.read(new StringReader("{\"name\":\"../../etc\",\"query\":{}}"), "f"))
                .hasMessageContaining("the query name '../../etc' may hold only ASCII letters, digits and . _ - : @");
        assertThatThrownBy(() -> StandingQueries.read(
                        new StringReader("{\"name\":\"" + "q".repeat(201) + "\",\"query\":{}}"), "f"))
                .hasMessageContaining("at most 200 characters; this one has 201");
        assertThat(StandingQueries.read(
                        new StringReader("{\"name\":\"" + "q".repeat(200) + "\",\"query\":{}}\n"
                                + "{\"name\":\"pyseps:Non-Informational_v1.2@eu\",\"query\":{}}"),
                        "f"))
                .hasSize(2);
    }
}
