package io.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class EnvelopeTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);

    private static ObjectNode doc(String json) {
        return (ObjectNode) Json.parse(json);
    }

    @Test
    void fillsInAMissingIdAndTimeAndKeepsEverythingElse() {
        ObjectNode d = doc("{\"type\":\"user.signup\",\"user\":{\"name\":\"ada\"}}");
        Event e = Envelope.DEFAULT.normalize(d, () -> "id-1", CLOCK);
        assertThat(e.id()).isEqualTo("id-1");
        assertThat(e.type()).isEqualTo("user.signup");
        assertThat(e.time()).isEqualTo(Instant.parse("2026-01-02T03:04:05Z"));
        assertThat(Json.write(e.document()))
                .isEqualTo("{\"type\":\"user.signup\",\"user\":{\"name\":\"ada\"},\"id\":\"id-1\","
                        + "\"time\":\"2026-01-02T03:04:05Z\"}");
    }

    @Test
    void readsWinchesterNotificationsWithTheirOwnFieldNamesAndTimestamps() {
        ObjectNode d = doc("{\"message_id\":\"m1\",\"event_type\":\"compute.instance.exists\","
                + "\"timestamp\":\"2014-05-20 21:06:28.123456\"}");
        Event e = Envelope.preset("winchester").normalize(d, () -> "unused", CLOCK);
        assertThat(e.id()).isEqualTo("m1");
        assertThat(e.type()).isEqualTo("compute.instance.exists");
        assertThat(e.time()).isEqualTo(Instant.parse("2014-05-20T21:06:28.123456Z"));
        assertThat(d.size()).isEqualTo(3); // nothing added
    }

    @Test
    void acceptsOffsetsAndIntegerIds() {
        Event e =
                Envelope.DEFAULT.normalize(doc("{\"id\":42,\"time\":\"2026-01-02T05:04:05+02:00\"}"), () -> "x", CLOCK);
        assertThat(e.id()).isEqualTo("42");
        assertThat(e.type()).isNull();
        assertThat(e.time()).isEqualTo(Instant.parse("2026-01-02T03:04:05Z"));
    }

    @Test
    void rejectsEnvelopeFieldsOfTheWrongShapeNamingTheField() {
        assertThatThrownBy(() -> Envelope.DEFAULT.normalize(doc("{\"id\":[1]}")))
                .isInstanceOf(InvalidEventException.class)
                .hasMessageContaining("'id'")
                .extracting(e -> ((InvalidEventException) e).field())
                .isEqualTo("id");
        assertThatThrownBy(() -> Envelope.DEFAULT.normalize(doc("{\"type\":7}")))
                .hasMessageContaining("'type' must be a string");
        assertThatThrownBy(() -> Envelope.DEFAULT.normalize(doc("{\"time\":\"yesterday\"}")))
                .hasMessageContaining("'time' is not an ISO-8601 timestamp");
        assertThatThrownBy(() -> Envelope.preset("nope")).hasMessageContaining("known: default, winchester");
    }

    @Test
    void parseNamesLineAndColumnOfBadJson() {
        assertThatThrownBy(() -> Json.parse("{\n  \"a\": }"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("line 2");
    }
}
