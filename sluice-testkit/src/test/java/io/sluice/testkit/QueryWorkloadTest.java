package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class QueryWorkloadTest {
    private final List<String> types = Notifications.load().eventTypes();

    @Test
    void aSetOfOneShapeHoldsOnlyThatShape() {
        for (QueryWorkload.GeneratedQuery q : QueryWorkload.generate(200, 1, types, QueryWorkload.Shape.TENANT)) {
            assertThat(fields(q.query())).containsExactly("payload.tenant_id");
            assertThat(q.query().get("payload.tenant_id").isTextual()).isTrue();
        }
        for (QueryWorkload.GeneratedQuery q :
                QueryWorkload.generate(200, 1, types, QueryWorkload.Shape.PUBLISHER_AND_OS_TYPE)) {
            assertThat(fields(q.query())).containsExactly("publisher_id", "payload.image_meta.os_type");
        }
    }

    @Test
    void theMixHoldsEveryShapeAndIsTheDefault() {
        List<QueryWorkload.GeneratedQuery> mixed = QueryWorkload.generate(2_000, 7, types);
        assertThat(mixed).isEqualTo(QueryWorkload.generate(2_000, 7, types, QueryWorkload.Shape.MIXED));
        // Eight shapes over seven sets of fields: TENANT and TENANTS both name the tenant only.
        assertThat(mixed.stream().map(q -> fields(q.query())).distinct()).hasSize(7);
    }

    private static List<String> fields(ObjectNode query) {
        List<String> names = new ArrayList<>();
        query.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
