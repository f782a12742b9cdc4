package io.sluice.server.distill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.core.distill.Distiller;
import io.sluice.core.distill.DistillerException;
import io.sluice.testkit.Notifications;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * StackDistiller's own definition files (YAML anchors and merge keys, quoted JSONPath names, the
 * split plugin) applied to OpenStack notifications expanded from the notigen templates.
 */
class DistillerTest {
    private static final Path OPENSTACK = Path.of("..", "sluice-core", "src", "test", "resources", "openstack");
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2014-08-02T00:00:00Z"), ZoneOffset.UTC);

    @TempDir
    Path dir;

    private static ObjectNode eodExists() {
        List<ObjectNode> seq =
                Notifications.load().endOfDayExists(new Random(7), Instant.parse("2014-08-01T00:00:00Z"));
        return seq.stream()
                .filter(n -> n.path("event_type").asText().equals("compute.instance.exists"))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void stackDistillersDefinitionsTurnAnExistsIntoFlatTraits() {
        Distiller d = Distiller.load(OPENSTACK.resolve("stackdistiller/event_definitions.yaml"), false, CLOCK);
        ObjectNode n = eodExists();
        ObjectNode e = d.toEvent(n).orElseThrow();
        JsonNode payload = n.path("payload");
        assertThat(e.path("message_id").asText()).isEqualTo(n.path("message_id").asText());
        assertThat(e.path("event_type").asText()).isEqualTo("compute.instance.exists");
        assertThat(e.path("instance_id").asText())
                .isEqualTo(payload.path("instance_id").asText());
        assertThat(e.path("tenant_id").asText())
                .isEqualTo(payload.path("tenant_id").asText());
        // type: int
        assertThat(e.path("instance_type_id").isIntegralNumber()).isTrue();
        assertThat(e.path("instance_type_id").asLong())
                .isEqualTo(payload.path("instance_type_id").asLong());
        // merge key <<: *instance_traits, plus the exists' own traits, datetimes as ISO UTC
        assertThat(e.path("audit_period_beginning").asText())
                .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z");
        assertThat(e.path("launched_at").asText()).endsWith("Z");
        // quoted JSONPath names
        assertThat(e.path("os_distro").asText())
                .isEqualTo(payload.path("image_meta")
                        .path("org.openstack__1__os_distro")
                        .asText());
        // split plugin: publisher_id "compute.HOST" -> host (segment 1, max_split 1), service (segment 0)
        String publisher = n.path("publisher_id").asText();
        assertThat(e.path("host").asText()).isEqualTo(publisher.split("\\.", 2)[1]);
        assertThat(e.path("service").asText()).isEqualTo(publisher.split("\\.")[0]);
        // an empty deleted_at ('' from Nova) is no trait
        if (payload.path("deleted_at").asText().isEmpty()) {
            assertThat(e.has("deleted_at")).isFalse();
        }
        assertThat(e.path("timestamp").asText()).endsWith("Z");
    }

    @Test
    void theLastMatchingDefinitionWinsAndUncoveredNotificationsAreDroppedUnlessCatchAll() throws Exception {
        Path defs = dir.resolve("defs.yaml");
        Files.writeString(defs, """
                - event_type: "*"
                  traits: {everything: {fields: payload.x}}
                - event_type: [compute.*, "!compute.instance.exists"]
                  traits:
                    x2: {type: int, fields: [payload.missing, payload.x]}
                    flags:
                      fields: [payload.a, payload.b]
                      plugin: {name: bitfield, parameters: {initial_bitfield: 1, flags: [{path: payload.a, bit: 1}, {path: payload.b, bit: 2, value: 5}]}}
                """);
        Distiller d = Distiller.load(defs, false, CLOCK);
        ObjectNode e = d.toEvent(
                        Json.parse(
                                "{\"message_id\":\"m\",\"event_type\":\"compute.x\",\"payload\":{\"x\":\"42\",\"a\":1,\"b\":5}}"))
                .orElseThrow();
        assertThat(e.path("x2").asLong()).isEqualTo(42);
        assertThat(e.has("everything")).isFalse();
        assertThat(e.path("flags").asLong()).isEqualTo(1 | 2 | 4);
        assertThat(e.path("timestamp").asText()).isEqualTo("2014-08-02T00:00:00Z"); // none given: now
        ObjectNode other = d.toEvent(Json.parse("{\"message_id\":\"m2\",\"event_type\":\"compute.instance.exists\","
                        + "\"timestamp\":\"2014-08-01 10:20:30.123456\",\"payload\":{\"x\":1}}"))
                .orElseThrow();
        assertThat(other.path("everything").asInt()).isEqualTo(1);
        assertThat(other.path("timestamp").asText()).isEqualTo("2014-08-01T10:20:30.123456Z");

        Files.writeString(defs, "- event_type: compute.*\n  traits: {}\n");
        assertThat(Distiller.load(defs, false, CLOCK)
                        .toEvent(Json.parse("{\"message_id\":\"m\",\"event_type\":\"image.x\"}")))
                .isEmpty();
        assertThat(Distiller.load(defs, true, CLOCK)
                        .toEvent(Json.parse("{\"message_id\":\"m\",\"event_type\":\"image.x\","
                                + "\"publisher_id\":\"glance.h1\"}"))
                        .orElseThrow()
                        .path("service")
                        .asText())
                .isEqualTo("glance.h1");
    }

    @Test
    void badDefinitionsNameTheFileTheDefinitionAndTheTrait() throws Exception {
        Path defs = dir.resolve("defs.yaml");
        Files.writeString(defs, "- event_type: compute.*\n  traits:\n    size: {type: bytes, fields: payload.size}\n");
        assertThatThrownBy(() -> Distiller.load(defs, false, CLOCK))
                .isInstanceOf(DistillerException.class)
                .hasMessageContaining(
                        "defs.yaml: definition [0] (compute.*): trait size.type: invalid trait type 'bytes'");
        Files.writeString(defs, "- event_type: compute.*\n  traits:\n    size: {type: int}\n");
        assertThatThrownBy(() -> Distiller.load(defs, false, CLOCK))
                .hasMessageContaining("trait size.fields: required");
        Files.writeString(defs, "- event_type: compute.*\n  traits:\n    h: {fields: publisher_id, plugin: nope}\n");
        assertThatThrownBy(() -> Distiller.load(defs, false, CLOCK)).hasMessageContaining("no plugin named nope");
        Files.writeString(defs, "- traits: {}\n");
        assertThatThrownBy(() -> Distiller.load(defs, false, CLOCK)).hasMessageContaining("event_type not specified");
        Files.writeString(defs, "- event_type: [a\n");
        assertThatThrownBy(() -> Distiller.load(defs, false, CLOCK)).hasMessageContaining("invalid YAML");
    }
}
