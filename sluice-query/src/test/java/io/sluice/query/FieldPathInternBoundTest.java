package io.sluice.query;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * Paths past the bound of {@link FieldPath}'s intern table still match. This fills the
 * JVM-wide table to its cap, after which every new path in that JVM takes the fallback, so
 * the build runs this class alone in a fork of its own (the sluice-query pom's
 * {@code intern-bound} execution) and the other tests keep the interned paths they exercise.
 */
class FieldPathInternBoundTest {
    @Test
    void pathsPastTheInternBoundStillMatch() {
        for (int i = 0; i <= FieldPath.MAX_CANONICAL; i++) {
            FieldPath.of("bound.filler" + i);
        }
        FieldPath late = FieldPath.of("bound.late.path");
        assertThat(late.id()).isEqualTo(-1);
        QueryIndex index = new QueryIndex();
        index.put("late", Query.parse("{\"bound.late.path\": 3}"));
        index.put("also", Query.parse("{\"bound.late.path\": {\"$gt\": 2}, \"x\": 1}"));
        assertThat(index.match(json("{\"bound\": {\"late\": {\"path\": 3}}, \"x\": 1}")))
                .containsExactlyInAnyOrder("late", "also");
        assertThat(index.match(json("{\"bound\": {\"late\": {\"path\": [1, 3]}}}")))
                .containsExactly("late");
    }

    private static JsonNode json(String text) {
        return QueryIndexTest.json(text);
    }
}
