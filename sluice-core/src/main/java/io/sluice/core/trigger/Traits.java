package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * An event as triggers see it: flat traits, as Winchester's events were. A JSON number is an
 * integer ({@code Long}) or a float ({@code Double}); a string that is an ISO-8601 date and time
 * is a datetime (UTC, without zone, as Winchester kept them); other strings and booleans stay
 * as they are. Nested objects and arrays are not traits (StackDistiller flattens notifications
 * first) and are left out.
 */
public final class Traits {
    private static final Pattern DATETIME = Pattern.compile("\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}.*");

    private Traits() {}

    /** The traits of a flat event document. */
    public static Map<String, Object> of(JsonNode event) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = event.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Object v = value(e.getValue());
            if (v != null) {
                out.put(e.getKey(), v);
            }
        }
        return out;
    }

    /** One trait's value, or null when the JSON value is not a trait. */
    public static Object value(JsonNode v) {
        if (v == null || v.isNull() || v.isContainerNode()) {
            return null;
        }
        if (v.isIntegralNumber()) {
            return v.canConvertToLong() ? (Object) v.longValue() : (Object) v.doubleValue();
        }
        if (v.isNumber()) {
            return v.doubleValue();
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        String s = v.asText();
        LocalDateTime t = datetime(s);
        return t != null ? t : s;
    }

    /** A string's datetime (UTC, without zone), or null when it is not an ISO-8601 date and time. */
    public static LocalDateTime datetime(String s) {
        LocalDateTime fast = common(s);
        if (fast != null) {
            return fast;
        }
        if (!DATETIME.matcher(s).matches()) {
            return null;
        }
        String iso = s.replace(' ', 'T');
        try {
            return OffsetDateTime.parse(iso)
                    .withOffsetSameInstant(ZoneOffset.UTC)
                    .toLocalDateTime();
        } catch (DateTimeParseException withoutZone) {
            try {
                return LocalDateTime.parse(iso);
            } catch (DateTimeParseException notATime) {
                return null;
            }
        }
    }

    /**
     * The common shapes read without a parser: {@code yyyy-MM-dd[T ]HH:mm:ss}, then optionally
     * {@code .} and 1 to 9 digits, then nothing or {@code Z}; null for anything else (the general
     * path reads it, or finds it is not a time). Most event times are in these shapes, and the
     * general path costs a parse exception for each one without a zone.
     */
    private static LocalDateTime common(String s) {
        int n = s.length();
        if (n < 19
                || s.charAt(4) != '-'
                || s.charAt(7) != '-'
                || (s.charAt(10) != 'T' && s.charAt(10) != ' ')
                || s.charAt(13) != ':'
                || s.charAt(16) != ':') {
            return null;
        }
        int year = digits(s, 0, 4);
        int month = digits(s, 5, 2);
        int day = digits(s, 8, 2);
        int hour = digits(s, 11, 2);
        int minute = digits(s, 14, 2);
        int second = digits(s, 17, 2);
        if ((year | month | day | hour | minute | second) < 0) {
            return null;
        }
        int i = 19;
        int nanos = 0;
        if (i < n && s.charAt(i) == '.') {
            int start = ++i;
            while (i < n && i - start < 9 && Character.isDigit(s.charAt(i))) {
                nanos = nanos * 10 + (s.charAt(i) - '0');
                i++;
            }
            if (i == start) {
                return null;
            }
            for (int pad = i - start; pad < 9; pad++) {
                nanos *= 10;
            }
        }
        if (i < n && s.charAt(i) == 'Z') {
            i++;
        }
        if (i != n) {
            return null; // an offset, more digits, or something else: the general path
        }
        try {
            return LocalDateTime.of(year, month, day, hour, minute, second, nanos);
        } catch (java.time.DateTimeException notADate) {
            return null;
        }
    }

    private static int digits(String s, int from, int count) {
        int v = 0;
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    /** The datetime traits, which are the variables of timex expressions. */
    public static Map<String, LocalDateTime> datetimes(Map<String, Object> traits) {
        Map<String, LocalDateTime> out = new HashMap<>();
        traits.forEach((k, v) -> {
            if (v instanceof LocalDateTime t) {
                out.put(k, t);
            }
        });
        return out;
    }

    /**
     * Winchester's (Python's) equality of trait values: numbers by value whatever their type
     * ({@code 3 == 3.0}), everything else by type and value ({@code 3 != "3"}).
     */
    public static boolean same(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) {
            return x.doubleValue() == y.doubleValue();
        }
        return a != null && a.equals(b);
    }
}
