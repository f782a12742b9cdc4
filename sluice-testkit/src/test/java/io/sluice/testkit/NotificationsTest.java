package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.query.QueryIndex;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NotificationsTest {
    private final Notifications notifications = Notifications.load();

    @Test
    void expandsEveryPlaceholderConsistentlyWithinASequence() {
        List<ObjectNode> seq = notifications.sequence(new Random(1), Instant.parse("2014-05-20T10:00:00Z"));
        assertThat(seq).isNotEmpty();
        for (ObjectNode n : seq) {
            assertThat(n.toString()).doesNotContain("[[[[");
            assertThat(n.path("event_type").asText()).isNotEmpty();
            assertThat(n.path("timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6}");
        }
        String tenant = seq.get(0).path("payload").path("tenant_id").asText();
        assertThat(seq)
                .allSatisfy(n ->
                        assertThat(n.path("payload").path("tenant_id").asText()).isEqualTo(tenant));
        assertThat(seq.stream().map(n -> n.path("message_id").asText()).distinct())
                .hasSize(seq.size());
    }

    @Test
    void isDeterministicForASeed() {
        assertThat(notifications.take(50, 7)).isEqualTo(notifications.take(50, 7));
        assertThat(notifications.take(50, 7)).isNotEqualTo(notifications.take(50, 8));
        assertThat(notifications
                        .endOfDayExists(new Random(3), Instant.EPOCH)
                        .get(0)
                        .path("event_type")
                        .asText())
                .isEqualTo("compute.instance.exists");
    }

    @Test
    void generatedQueriesAreValidAndMatchRealisticallyOften() {
        List<QueryWorkload.GeneratedQuery> queries = QueryWorkload.generate(2_000, 1, notifications.eventTypes());
        QueryIndex index = QueryWorkload.index(queries);
        long hits = notifications.take(1_000, 2).stream()
                .mapToLong(e -> index.match(e).size())
                .sum();
        assertThat(hits).isBetween(100L, 100_000L);
        assertThat(queries.stream()
                        .filter(q -> q.query().toString().contains("$regex"))
                        .count())
                .isBetween(5L, 50L);
        assertThat(index.stats().residue()).isZero();
    }
}
