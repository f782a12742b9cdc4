package io.sluice.core.timex;

import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;

/**
 * What a time expression evaluates to: a {@link Timestamp} (matching one instant) or a
 * {@link TimeRange} (matching from its begin, inclusive, to its end, exclusive), to which
 * durations can be added, subtracted, or applied as replacements ({@code @}). Times are UTC
 * without a zone, to the microsecond, as Winchester keeps them.
 */
public sealed interface TimeMatcher permits TimeMatcher.Timestamp, TimeMatcher.TimeRange {
    /** Whether {@code t} is matched. */
    boolean matches(LocalDateTime t);

    /** The timestamp, or a range's begin. */
    LocalDateTime begin();

    /** The timestamp, or a range's end. */
    LocalDateTime end();

    TimeMatcher plus(TimexDuration d);

    TimeMatcher minus(TimexDuration d);

    TimeMatcher replace(TimexDuration d);

    default boolean isRange() {
        return this instanceof TimeRange;
    }

    /** One instant. */
    record Timestamp(LocalDateTime at) implements TimeMatcher {
        @Override
        public boolean matches(LocalDateTime t) {
            return at.equals(t);
        }

        @Override
        public LocalDateTime begin() {
            return at;
        }

        @Override
        public LocalDateTime end() {
            return at;
        }

        @Override
        public TimeMatcher plus(TimexDuration d) {
            return new Timestamp(add(at, unambiguous(d), 1));
        }

        @Override
        public TimeMatcher minus(TimexDuration d) {
            return new Timestamp(add(at, unambiguous(d), -1));
        }

        @Override
        public TimeMatcher replace(TimexDuration d) {
            return new Timestamp(TimeMatcher.replace(at, unambiguous(d)));
        }

        private static TimexDuration unambiguous(TimexDuration d) {
            if (d.ambiguous()) {
                throw new TimexException("a duration without a unit (" + d + ") applies to time ranges only");
            }
            return d;
        }
    }

    /**
     * From {@code begin} (inclusive) to {@code end} (exclusive). A range made by {@code hour},
     * {@code day}, {@code month} or {@code year} is pinned to the time it was made from
     * ({@code pinnedTo}, with the function's {@code unit}): moved by less than that unit, it is
     * shifted by whole lengths until it contains that time again — so {@code day @ 6h} of an
     * event at 02:10 is the range from 06:00 the day before.
     *
     * @param pinnedTo the time a pinned range keeps containing, or null
     * @param unit the pinning function's unit, or null
     */
    record TimeRange(LocalDateTime begin, LocalDateTime end, LocalDateTime pinnedTo, TimexDuration.Unit unit)
            implements TimeMatcher {

        public TimeRange(LocalDateTime begin, LocalDateTime end) {
            this(begin, end, null, null);
        }

        @Override
        public boolean matches(LocalDateTime t) {
            return !t.isBefore(begin) && t.isBefore(end);
        }

        long seconds() {
            return ChronoUnit.SECONDS.between(begin, end);
        }

        @Override
        public TimeMatcher plus(TimexDuration d) {
            TimexDuration c = d.inContext(seconds());
            return pinned(new TimeRange(add(begin, c, 1), add(end, c, 1)), d);
        }

        @Override
        public TimeMatcher minus(TimexDuration d) {
            TimexDuration c = d.inContext(seconds());
            return pinned(new TimeRange(add(begin, c, -1), add(end, c, -1)), d);
        }

        @Override
        public TimeMatcher replace(TimexDuration d) {
            TimexDuration c = d.inContext(seconds());
            return pinned(new TimeRange(TimeMatcher.replace(begin, c), TimeMatcher.replace(end, c)), d);
        }

        /**
         * Keeps a pinned range around its anchor after a move smaller than its unit. (After a
         * larger move timex fails on an attribute error; Sluice returns the moved range, no
         * longer pinned: {@code day + 1d} is the next day.)
         */
        private TimeMatcher pinned(TimeRange moved, TimexDuration by) {
            if (pinnedTo == null || !by.lessThan(TimexDuration.of(unit, 1))) {
                return moved;
            }
            TimeRange r = moved;
            long length = r.seconds();
            if (length <= 0) {
                return new TimeRange(r.begin, r.end, pinnedTo, unit);
            }
            while (r.begin.isAfter(pinnedTo)) {
                r = new TimeRange(r.begin.minusSeconds(length), r.begin);
            }
            while (!r.end.isAfter(pinnedTo)) {
                r = new TimeRange(r.end, r.end.plusSeconds(length));
            }
            return new TimeRange(r.begin, r.end, pinnedTo, unit);
        }
    }

    /**
     * A time moved by a duration ({@code sign} 1 or -1): days down to microseconds as one exact
     * span, then months, then years (a day past the end of the new month is clamped to its last
     * day; timex fails there).
     */
    private static LocalDateTime add(LocalDateTime t, TimexDuration d, int sign) {
        LocalDateTime r = t;
        r = r.plusDays(sign * (long) nz(d.day()));
        r = r.plusHours(sign * (long) nz(d.hour()));
        r = r.plusMinutes(sign * (long) nz(d.minute()));
        r = r.plusSeconds(sign * (long) nz(d.second()));
        r = r.plus(sign * (long) nz(d.microsecond()), ChronoUnit.MICROS);
        r = r.plusMonths(sign * (long) nz(d.month()));
        r = r.plusYears(sign * (long) nz(d.year()));
        return r;
    }

    /** A time with the duration's fields set to its amounts ({@code @ 6h}: hour 6). */
    private static LocalDateTime replace(LocalDateTime t, TimexDuration d) {
        try {
            LocalDateTime r = t;
            if (d.year() != null) {
                r = r.withYear(d.year());
            }
            if (d.month() != null) {
                r = r.withMonth(d.month());
            }
            if (d.day() != null) {
                r = r.withDayOfMonth(d.day());
            }
            if (d.hour() != null) {
                r = r.withHour(d.hour());
            }
            if (d.minute() != null) {
                r = r.withMinute(d.minute());
            }
            if (d.second() != null) {
                r = r.withSecond(d.second());
            }
            if (d.microsecond() != null) {
                if (d.microsecond() < 0 || d.microsecond() > 999_999) {
                    throw new DateTimeException("microsecond must be from 0 to 999999, not " + d.microsecond());
                }
                r = r.withNano(d.microsecond() * 1_000);
            }
            return r;
        } catch (DateTimeException e) {
            throw new TimexException("cannot replace with " + d + ": " + e.getMessage());
        }
    }

    private static int nz(Integer v) {
        return v == null ? 0 : v;
    }
}
