package io.sluice.core.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDateTime;
import org.junit.jupiter.api.Test;

/** Datetime traits: the shapes read without a parser give what the parser gives. */
class TraitsTest {
    @Test
    void commonShapesAndOthersReadTheSame() {
        assertThat(Traits.datetime("2014-08-01T10:00:00Z")).isEqualTo(LocalDateTime.of(2014, 8, 1, 10, 0));
        assertThat(Traits.datetime("2014-08-01 10:00:00.123456"))
                .isEqualTo(LocalDateTime.of(2014, 8, 1, 10, 0, 0, 123_456_000));
        assertThat(Traits.datetime("2014-08-01T10:00:00.5"))
                .isEqualTo(LocalDateTime.of(2014, 8, 1, 10, 0, 0, 500_000_000));
        assertThat(Traits.datetime("2014-08-01T10:00:00.123456789Z"))
                .isEqualTo(LocalDateTime.of(2014, 8, 1, 10, 0, 0, 123_456_789));
        // not the common shapes: read by the parser
        assertThat(Traits.datetime("2014-08-01T12:00:00+02:00")).isEqualTo(LocalDateTime.of(2014, 8, 1, 10, 0));
        assertThat(Traits.datetime("2014-08-01T10:00")).isEqualTo(LocalDateTime.of(2014, 8, 1, 10, 0));
        // not times
        assertThat(Traits.datetime("2014-02-30T10:00:00")).isNull();
        assertThat(Traits.datetime("compute.instance")).isNull();
    }
}
