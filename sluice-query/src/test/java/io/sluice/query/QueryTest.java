package io.sluice.query;

import static io.sluice.query.QueryIndexTest.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class QueryTest {

    @Test
    void matchesTheSeedQuery() {
        Query q = Query.parse("{\"@fields.priority\":{\"$in\":[\"1\",\"2\",\"3\",\"4\"]}}");
        assertThat(q.matches(json("{\"@fields\":{\"priority\":\"3\"}}"))).isTrue();
        assertThat(q.matches(json("{\"@fields\":{\"priority\":\"5\"}}"))).isFalse();
        assertThat(q.toString()).isEqualTo("{\"@fields.priority\":{\"$in\":[\"1\",\"2\",\"3\",\"4\"]}}");
    }

    @Test
    void equalityDependsOnFieldOrderOfEmbeddedDocumentsLikeMongoDb() {
        assertThat(Query.parse("{\"d\":{\"x\":1,\"y\":2}}")).isNotEqualTo(Query.parse("{\"d\":{\"y\":2,\"x\":1}}"));
        assertThat(Query.parse("{\"d\":{\"x\":1,\"y\":2}}").matches(json("{\"d\":{\"y\":2,\"x\":1}}")))
                .isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"a\":{\"$foo\":1}}|$foo|a|unknown operator $foo",
                "{\"$gt\":1}|$gt||unknown top level operator $gt",
                "{\"a.b\":{\"$in\":5}}|$in|a.b|$in needs an array",
                "{\"a\":{\"$nin\":{}}}|$nin|a|$nin needs an array",
                "{\"a\":{\"$regex\":\"(\"}}|$regex|a|invalid regular expression",
                "{\"a\":{\"$regex\":\"x\",\"$options\":\"q\"}}|$regex|a|invalid regular expression option 'q'",
                "{\"a\":{\"$options\":\"i\"}}|$options|a|$options needs a $regex",
                "{\"a\":{\"$mod\":[4]}}|$mod|a|two numbers",
                "{\"a\":{\"$mod\":[\"4\",1]}}|$mod|a|two numbers",
                "{\"a\":{\"$mod\":[0,1]}}|$mod|a|divisor cannot be 0",
                "{\"a\":{\"$size\":-1}}|$size|a|non-negative whole number",
                "{\"a\":{\"$size\":1.5}}|$size|a|non-negative whole number",
                "{\"a\":{\"$size\":\"1\"}}|$size|a|needs a number",
                "{\"a\":{\"$type\":\"text\"}}|$type|a|unknown type name alias 'text'",
                "{\"a\":{\"$type\":99}}|$type|a|invalid numerical type code",
                "{\"a\":{\"$exists\":\"yes\"}}|$exists|a|needs a boolean",
                "{\"$or\":[]}|$or||non-empty array",
                "{\"$and\":{}}|$and||non-empty array",
                "{\"$nor\":[1]}|$nor||element 0 must be a query document",
                "{\"a\":{\"$not\":1}}|$not|a|operator document or a regex",
                "{\"a\":{\"$not\":{}}}|$not|a|cannot be empty",
                "{\"a\":{\"$not\":{\"b\":1}}}|$not|a|needs operators",
                "{\"a\":{\"$elemMatch\":1}}|$elemMatch|a|needs an object",
                "{\"a\":{\"$elemMatch\":{\"$gt\":1,\"b\":2}}}|$elemMatch|a|mixes operators",
                "{\"a\":{\"$all\":1}}|$all|a|needs an array",
                "{\"a\":{\"$in\":[{\"$gt\":1}]}}|$in|a|cannot nest an operator",
                "{\"a\":{\"$or\":[{\"b\":1}]}}|$or|a|top level operator",
                "{\"$where\":\"1\"}|$where||not supported",
                "{\"a\":{\"$gt\":1,\"b\":2}}|b|a|unknown operator 'b'",
            })
    void rejectsInvalidQueriesNamingOperatorAndPath(String query, String operator, String path, String message) {
        assertThatThrownBy(() -> Query.parse(query))
                .isInstanceOf(QueryException.class)
                .hasMessageContaining(message)
                .satisfies(e -> {
                    QueryException qe = (QueryException) e;
                    assertThat(qe.operator()).isEqualTo(operator);
                    assertThat(qe.path() == null ? "" : qe.path()).isEqualTo(path == null ? "" : path);
                });
    }

    @Test
    void rejectsMalformedPathsAndNonObjects() {
        assertThatThrownBy(() -> Query.parse("{\"a..b\":1}"))
                .isInstanceOf(QueryException.class)
                .hasMessageContaining("empty segment")
                .hasMessageContaining("'a..b'");
        assertThatThrownBy(() -> Query.parse("[1]"))
                .isInstanceOf(QueryException.class)
                .hasMessageContaining("must be a JSON object");
        assertThatThrownBy(() -> Query.parse("{\"a\":"))
                .isInstanceOf(QueryException.class)
                .hasMessageContaining("not valid JSON");
    }
}
