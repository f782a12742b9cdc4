package io.sluice.core.timex;

import java.util.ArrayList;
import java.util.List;

/**
 * A timex duration such as {@code 1d 2h}: an amount per unit (null where not given), and an
 * amount without a unit ({@code day @ 2}), which only a time range can resolve: it takes the
 * unit one below the range's length ({@link #inContext}).
 */
public record TimexDuration(
        Integer year,
        Integer month,
        Integer day,
        Integer hour,
        Integer minute,
        Integer second,
        Integer microsecond,
        Integer unknown) {

    /** Units from the largest down, as timex orders them for comparisons. */
    enum Unit {
        YEAR,
        MONTH,
        DAY,
        HOUR,
        MINUTE,
        SECOND,
        MICROSECOND
    }

    private static final long DAY_SECONDS = 24 * 3600;

    static TimexDuration of(Unit unit, int amount) {
        Integer[] v = new Integer[7];
        v[unit.ordinal()] = amount;
        return new TimexDuration(v[0], v[1], v[2], v[3], v[4], v[5], v[6], null);
    }

    static TimexDuration unitless(int amount) {
        return new TimexDuration(null, null, null, null, null, null, null, amount);
    }

    /** Whether a part has no unit. */
    public boolean ambiguous() {
        return unknown != null;
    }

    Integer get(Unit u) {
        return switch (u) {
            case YEAR -> year;
            case MONTH -> month;
            case DAY -> day;
            case HOUR -> hour;
            case MINUTE -> minute;
            case SECOND -> second;
            case MICROSECOND -> microsecond;
        };
    }

    private Integer[] values() {
        Integer[] v = new Integer[7];
        for (Unit u : Unit.values()) {
            v[u.ordinal()] = get(u);
        }
        return v;
    }

    private static TimexDuration from(Integer[] v, Integer unknown) {
        return new TimexDuration(v[0], v[1], v[2], v[3], v[4], v[5], v[6], unknown);
    }

    /** Both durations' amounts, unit by unit ({@code 1d 2h}). */
    TimexDuration plus(TimexDuration other) {
        Integer[] v = values();
        for (Unit u : Unit.values()) {
            Integer o = other.get(u);
            if (o != null) {
                v[u.ordinal()] = v[u.ordinal()] == null ? o : v[u.ordinal()] + o;
            }
        }
        Integer unk;
        if (unknown == null) {
            unk = other.unknown;
        } else if (other.unknown == null) {
            unk = unknown;
        } else {
            unk = unknown + other.unknown;
        }
        return from(v, unk);
    }

    /**
     * The unitless amount given the unit below the range's length: a range of a year or more
     * takes months, of 28 days or more days, of a day or more hours, of an hour or more minutes,
     * of a minute or more seconds, else microseconds.
     */
    TimexDuration inContext(long rangeSeconds) {
        if (!ambiguous()) {
            return this;
        }
        long d = Math.abs(rangeSeconds);
        Unit unit;
        if (d >= 365 * DAY_SECONDS) {
            unit = Unit.MONTH;
        } else if (d >= 28 * DAY_SECONDS) {
            unit = Unit.DAY;
        } else if (d >= DAY_SECONDS) {
            unit = Unit.HOUR;
        } else if (d >= 3600) {
            unit = Unit.MINUTE;
        } else if (d >= 60) {
            unit = Unit.SECOND;
        } else {
            unit = Unit.MICROSECOND;
        }
        Integer[] v = values();
        v[unit.ordinal()] = v[unit.ordinal()] == null ? unknown : v[unit.ordinal()] + unknown;
        return from(v, null);
    }

    /**
     * Timex's ordering: the first unit, from years down, that either duration gives decides;
     * a duration that gives it and the other does not is the larger.
     */
    boolean lessThan(TimexDuration other) {
        for (Unit u : Unit.values()) {
            Integer ours = get(u);
            Integer theirs = other.get(u);
            if (ours != null && theirs != null) {
                return ours < theirs;
            }
            if (ours != null) {
                return false;
            }
            if (theirs != null) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        String[] names = {"y", "mo", "d", "h", "m", "s", "us"};
        for (Unit u : Unit.values()) {
            if (get(u) != null) {
                parts.add(get(u) + names[u.ordinal()]);
            }
        }
        if (unknown != null) {
            parts.add(unknown.toString());
        }
        return String.join(" ", parts);
    }
}
