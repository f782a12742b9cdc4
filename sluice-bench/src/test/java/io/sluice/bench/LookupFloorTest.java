package io.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.query.Explanation;
import io.sluice.query.QueryIndex;
import io.sluice.testkit.Notifications;
import io.sluice.testkit.QueryWorkload;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The floor does the lookups it stands for: every query of the mix names a value on one of
 * the paths the index looks up, so each query an event matches was found by the floor's probes.
 */
class LookupFloorTest {
    @Test
    void findsAtLeastEveryQueryAnEventMatches() {
        Notifications notifications = Notifications.load();
        List<ObjectNode> events = notifications.take(2_000, 5);
        List<QueryWorkload.GeneratedQuery> queries = QueryWorkload.generate(5_000, 5, notifications.eventTypes());
        QueryIndex index = QueryWorkload.index(queries);
        List<String> paths = index.explain(Json.object()).lookups().stream()
                .map(Explanation.Lookup::path)
                .toList();
        assertThat(paths).hasSizeGreaterThan(1);
        LookupFloor floor = new LookupFloor(queries, paths);

        long matched = 0;
        for (ObjectNode event : events) {
            int matches = index.match(event).size();
            assertThat(floor.probe(event)).as(Json.write(event)).isGreaterThanOrEqualTo(matches);
            matched += matches;
        }
        assertThat(matched).isPositive();
    }
}
