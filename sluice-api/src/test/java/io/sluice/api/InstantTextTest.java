package io.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class InstantTextTest {
    private static void sameAsIsoInstant(Instant instant) {
        assertThat(InstantText.format(instant))
                .as("%s", instant)
                .isEqualTo(DateTimeFormatter.ISO_INSTANT.format(instant));
    }

    @Test
    void writesWhatIsoInstantWritesForEveryKindOfFraction() {
        for (String text : new String[] {
            "2026-11-30T09:45:12Z",
            "2026-11-30T09:45:12.100Z",
            "2026-11-30T09:45:12.001Z",
            "2026-11-30T09:45:12.000100Z",
            "2026-11-30T09:45:12.000001Z",
            "2026-11-30T09:45:12.120000001Z",
            "2026-11-30T09:45:12.999999999Z",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.5Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999Z",
            "-0001-12-31T23:59:59Z",
            "+10000-01-01T00:00:00.25Z"
        }) {
            sameAsIsoInstant(Instant.parse(text));
        }
        sameAsIsoInstant(Instant.MIN);
        sameAsIsoInstant(Instant.MAX);
    }

    @Test
    void writesWhatIsoInstantWritesForRandomInstantsAndRunsOfTheSameSecond() {
        SplittableRandom random = new SplittableRandom(20261130);
        long span = Instant.parse("2100-01-01T00:00:00Z").getEpochSecond();
        for (int i = 0; i < 20_000; i++) {
            long second = random.nextLong(-span, span);
            int nano =
                    switch (random.nextInt(4)) {
                        case 0 -> 0;
                        case 1 -> random.nextInt(1_000) * 1_000_000;
                        case 2 -> random.nextInt(1_000_000) * 1_000;
                        default -> random.nextInt(1_000_000_000);
                    };
            sameAsIsoInstant(Instant.ofEpochSecond(second, nano));
            sameAsIsoInstant(Instant.ofEpochSecond(second, random.nextInt(1_000_000_000))); // the same second again
        }
    }
}
