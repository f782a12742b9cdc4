package io.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.query.QueryIndex;
import io.sluice.testkit.Notifications;
import io.sluice.testkit.QueryWorkload;
import java.util.List;
import java.util.Map;

/** The benchmark compares like with like: Esper's filters match exactly what Sluice's queries match. */
class SameMatchesTest {
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(
            value = QueryWorkload.Shape.class,
            names = {"MIXED", "RANGES"})
    void esperAndSluiceCountTheSameMatches(QueryWorkload.Shape shape) {
        Notifications notifications = Notifications.load();
        List<ObjectNode> events = notifications.take(2_000, 3);
        List<QueryWorkload.GeneratedQuery> queries =
                QueryWorkload.generate(2_000, 3, notifications.eventTypes(), shape);
        QueryIndex index = QueryWorkload.index(queries);
        long sluice = events.stream().mapToLong(e -> index.match(e).size()).sum();

        ObjectMapper mapper = new ObjectMapper();
        long esperTotal = 0;
        try (EsperFilters esper = new EsperFilters(queries)) {
            for (ObjectNode e : events) {
                esperTotal = esper.send(mapper.convertValue(e, new TypeReference<Map<String, Object>>() {}));
            }
        }
        assertThat(sluice).isPositive().isEqualTo(esperTotal);
    }
}
