package io.sluice.core.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Winchester's usage checks, through whole runs of the handler: the scenarios of
 * {@code tests/test_usage_handler.py} (openstack-archive/stacktach-winchester) without its
 * mocks — each check's error code from the events that cause it.
 */
class UsageHandlerTest {
    private static ObjectNode ev(String json) {
        return (ObjectNode) Json.parse(json);
    }

    private static ObjectNode exists(String more) {
        return ev("{\"event_type\":\"compute.instance.exists\",\"message_id\":\"ex-1\",\"instance_id\":\"inst\","
                + "\"timestamp\":\"2014-12-31T00:05:00Z\",\"audit_period_beginning\":\"2014-12-30T00:00:00Z\","
                + "\"audit_period_ending\":\"2014-12-31T00:00:00Z\"" + (more.isEmpty() ? "" : "," + more) + "}");
    }

    private record Run(List<ObjectNode> returned, List<ObjectNode> notifications) {
        ObjectNode last() {
            return notifications.getLast();
        }
    }

    @SuppressWarnings("unchecked")
    private static Run run(ObjectNode... events) {
        Map<String, Object> env = new HashMap<>();
        env.put("stream_id", 123L);
        List<ObjectNode> out = new UsageHandler().handleEvents(new ArrayList<>(List.of(events)), env);
        return new Run(out, (List<ObjectNode>) env.get("usage_notifications"));
    }

    @Test
    void noEventsNoNotifications() {
        Run r = run();
        assertThat(r.returned()).isEmpty();
        assertThat(r.notifications()).isEmpty();
    }

    @Test
    void eventsWithoutAnExistsFailWithU0() {
        Run r = run(ev("{\"event_type\":\"foo\",\"message_id\":\"m1\",\"instance_id\":\"inst\"}"));
        assertThat(r.notifications()).hasSize(1);
        assertThat(r.last().path("event_type").asText()).isEqualTo("compute.instance.exists.failed");
        assertThat(r.last().path("error_code").asText()).isEqualTo("U0");
        assertThat(r.returned()).hasSize(2); // the event and (Sluice) the notification, to be appended
    }

    @Test
    void aGoodDayIsVerified() {
        Run r = run(
                ev("{\"event_type\":\"compute.instance.create.end\",\"message_id\":\"c1\",\"tenant_id\":\"t\"}"),
                exists("\"state\":\"active\",\"launched_at\":\"2014-12-30T01:00:00Z\",\"tenant_id\":\"t\""));
        ObjectNode n = r.last();
        assertThat(n.path("event_type").asText()).isEqualTo("compute.instance.exists.verified");
        assertThat(n.path("error").asText()).isEqualTo("None");
        assertThat(n.path("error_code").isNull()).isTrue();
        assertThat(n.path("stream_id").asLong()).isEqualTo(123);
        assertThat(n.path("payload").path("instance_id").asText()).isEqualTo("inst");
        assertThat(n.path("original_message_id").asText()).isEqualTo("ex-1");
        assertThat(n.path("timestamp").asText()).isEqualTo("2014-12-31T00:05:00Z");
        // Derived ids: a second run gives the same, so nothing is stored twice.
        assertThat(run(
                                ev("{\"event_type\":\"compute.instance.create.end\",\"message_id\":\"c1\"}"),
                                exists("\"state\":\"active\",\"launched_at\":\"2014-12-30T01:00:00Z\""))
                        .last()
                        .path("message_id")
                        .asText())
                .isEqualTo(n.path("message_id").asText());
    }

    private static String code(Run r) {
        assertThat(r.last().path("event_type").asText()).isEqualTo("compute.instance.exists.failed");
        return r.last().path("error_code").asText();
    }

    @Test
    void eachCheckHasItsCode() {
        assertThat(code(run(exists("\"state\":\"active\"")))).isEqualTo("U1");
        assertThat(code(run(
                        ev("{\"event_type\":\"compute.instance.rebuild.end\",\"message_id\":\"r\",\"tenant_id\":\"a\","
                                + "\"launched_at\":\"2014-12-30T01:00:00Z\"}"),
                        exists("\"state\":\"active\",\"launched_at\":\"2014-12-30T01:00:00Z\",\"tenant_id\":\"b\""))))
                .isEqualTo("U2");
        assertThat(code(run(exists("\"state\":\"active\",\"launched_at\":\"2014-12-29T01:00:00Z\","
                        + "\"deleted_at\":\"2014-12-30T01:00:00Z\""))))
                .isEqualTo("U3");
        assertThat(code(run(exists("\"state\":\"deleted\",\"launched_at\":\"2014-12-31T02:00:00Z\","
                        + "\"deleted_at\":\"2014-12-31T01:00:00Z\""))))
                .isEqualTo("U4");
        assertThat(code(run(exists("\"state\":\"deleted\",\"launched_at\":\"2014-12-30T01:00:00Z\","
                        + "\"deleted_at\":\"2014-12-30T02:00:00Z\""))))
                .isEqualTo("U5");
        assertThat(code(run(
                        ev("{\"event_type\":\"compute.instance.delete.end\",\"message_id\":\"d\"}"),
                        exists("\"state\":\"deleted\",\"launched_at\":\"2014-12-29T01:00:00Z\""))))
                .isEqualTo("U6");
        assertThat(code(run(
                        ev("{\"event_type\":\"compute.instance.delete.end\",\"message_id\":\"d1\"}"),
                        ev("{\"event_type\":\"compute.instance.delete.end\",\"message_id\":\"d2\"}"),
                        exists("\"state\":\"deleted\",\"launched_at\":\"2014-12-29T01:00:00Z\","
                                + "\"deleted_at\":\"2014-12-30T02:00:00Z\""))))
                .isEqualTo("U7");
        assertThat(code(run(exists("\"state\":\"active\",\"launched_at\":\"2014-12-30T01:00:00Z\""))))
                .isEqualTo("U8");
    }

    @Test
    void aNonEndOfDayExistsWithoutAnOperationWarns() {
        ObjectNode hourly =
                ev("{\"event_type\":\"compute.instance.exists\",\"message_id\":\"h1\",\"instance_id\":\"inst\","
                        + "\"timestamp\":\"2014-12-31T02:00:00Z\",\"audit_period_beginning\":\"2014-12-31T01:00:00Z\","
                        + "\"audit_period_ending\":\"2014-12-31T02:00:00Z\",\"state\":\"deleted\"}");
        Run r = run(hourly);
        assertThat(r.notifications())
                .extracting(n -> n.path("event_type").asText())
                .containsExactly("compute.instance.exists.warnings", "compute.instance.exists.verified");
        assertThat(r.notifications().getFirst().path("warnings").get(0).asText())
                .contains("Non-EOD .exists found (msg_id: h1)");
        assertThat(UsageHandler.isEodExists(hourly)).isFalse();
        assertThat(UsageHandler.isEodExists(exists(""))).isTrue();
    }

    @Test
    void eventsAfterTheLastExistsAreADanglingBlock() {
        Run r = run(
                ev("{\"event_type\":\"foo\",\"message_id\":\"a\"}"),
                exists("\"state\":\"deleted\""),
                ev("{\"event_type\":\"foo\",\"message_id\":\"b\"}"));
        assertThat(r.notifications())
                .extracting(n -> n.path("error_code").asText("null"))
                .containsExactly("null", "U0");
    }
}
