package io.sluice.api;

import java.time.Instant;
import java.time.format.DateTimeFormatter;

/**
 * {@link DateTimeFormatter#ISO_INSTANT}'s text for an instant, without formatting the date and
 * time of day again for every instant of the same second: the server stamps each event that
 * arrives without a time, so it formats many instants a second, all in the same few seconds.
 * The text is exactly {@code ISO_INSTANT}'s: the fraction in groups of three digits, left out
 * when zero; instants outside the years 0–9999 are handed to {@code ISO_INSTANT} itself.
 */
final class InstantText {
    /** The last second formatted: its epoch second and its text without the zone ("...T09:45:12"). */
    private record Second(long epochSecond, String text) {}

    private static final long FIRST_SECOND =
            Instant.parse("0000-01-01T00:00:00Z").getEpochSecond();
    private static final long LAST_SECOND =
            Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();

    private static volatile Second last = new Second(0, "1970-01-01T00:00:00");

    private InstantText() {}

    /** The instant as {@link DateTimeFormatter#ISO_INSTANT} writes it. */
    static String format(Instant instant) {
        long epochSecond = instant.getEpochSecond();
        if (epochSecond < FIRST_SECOND || epochSecond > LAST_SECOND) {
            return DateTimeFormatter.ISO_INSTANT.format(instant);
        }
        Second second = last;
        if (second.epochSecond != epochSecond) {
            String whole = DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochSecond(epochSecond));
            second = new Second(epochSecond, whole.substring(0, whole.length() - 1)); // without the "Z"
            last = second;
        }
        int nano = instant.getNano();
        if (nano == 0) {
            return second.text + 'Z';
        }
        StringBuilder b =
                new StringBuilder(second.text.length() + 11).append(second.text).append('.');
        int digits = nano % 1_000_000 == 0 ? 3 : nano % 1_000 == 0 ? 6 : 9;
        int value = nano / (digits == 3 ? 1_000_000 : digits == 6 ? 1_000 : 1);
        String number = Integer.toString(value);
        for (int pad = number.length(); pad < digits; pad++) {
            b.append('0');
        }
        return b.append(number).append('Z').toString();
    }
}
