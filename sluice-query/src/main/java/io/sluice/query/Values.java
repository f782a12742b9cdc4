package io.sluice.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.math.BigDecimal;
import java.util.Iterator;
import java.util.Map;

/**
 * MongoDB's value semantics over JSON: type brackets, equality and ordering.
 *
 * <p>Numbers compare by value whatever their representation ({@code 1 == 1.0}, exact for longs
 * beyond 2<sup>53</sup>); strings by code point (MongoDB's binary UTF-8 order); documents field
 * by field <em>in order</em>; arrays element by element. Values of different brackets are
 * never equal and never ordered for matching: {@code {$gt: 5}} does not match {@code "6"}.
 */
final class Values {
    // Bracket numbers follow MongoDB's canonical sort order of BSON types.
    static final int MISSING = 0;
    static final int NULL = 1;
    static final int NUMBER = 2;
    static final int STRING = 3;
    static final int OBJECT = 4;
    static final int ARRAY = 5;
    static final int BINARY = 6;
    static final int BOOLEAN = 8;

    private Values() {}

    /** The type bracket of a value; {@code null} stands for a missing field. */
    static int bracket(JsonNode v) {
        if (v == null || v.isMissingNode()) {
            return MISSING;
        }
        return switch (v.getNodeType()) {
            case NULL -> NULL;
            case NUMBER -> NUMBER;
            case STRING -> STRING;
            case OBJECT, POJO -> OBJECT;
            case ARRAY -> ARRAY;
            case BINARY -> BINARY;
            case BOOLEAN -> BOOLEAN;
            case MISSING -> MISSING;
        };
    }

    /** MongoDB equality: same bracket and equal value (numbers by value, documents in field order). */
    static boolean equal(JsonNode a, JsonNode b) {
        if (a instanceof TextNode ta) { // the common case, without the type switch
            return b instanceof TextNode tb && ta.textValue().equals(tb.textValue());
        }
        int ba = bracket(a);
        if (ba != bracket(b)) {
            return false;
        }
        return switch (ba) {
            case NUMBER -> compareNumbers(a, b) == 0;
            case STRING -> a.textValue().equals(b.textValue());
            case BOOLEAN -> a.booleanValue() == b.booleanValue();
            case ARRAY -> equalArrays(a, b);
            case OBJECT -> equalObjects(a, b);
            default -> a.equals(b); // null, missing, binary
        };
    }

    private static boolean equalArrays(JsonNode a, JsonNode b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!equal(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean equalObjects(JsonNode a, JsonNode b) {
        if (a.size() != b.size()) {
            return false;
        }
        Iterator<Map.Entry<String, JsonNode>> ia = a.properties().iterator();
        Iterator<Map.Entry<String, JsonNode>> ib = b.properties().iterator();
        while (ia.hasNext()) {
            Map.Entry<String, JsonNode> ea = ia.next();
            Map.Entry<String, JsonNode> eb = ib.next();
            if (!ea.getKey().equals(eb.getKey()) || !equal(ea.getValue(), eb.getValue())) {
                return false;
            }
        }
        return true;
    }

    /**
     * MongoDB's total order over values (used within one bracket for {@code $gt} and friends,
     * and across brackets inside documents and arrays).
     */
    static int compare(JsonNode a, JsonNode b) {
        int ba = bracket(a);
        int bb = bracket(b);
        if (ba != bb) {
            return Integer.compare(ba, bb);
        }
        return switch (ba) {
            case NUMBER -> compareNumbers(a, b);
            case STRING -> compareStrings(a.textValue(), b.textValue());
            case BOOLEAN -> Boolean.compare(a.booleanValue(), b.booleanValue());
            case ARRAY -> compareArrays(a, b);
            case OBJECT -> compareObjects(a, b);
            default -> 0;
        };
    }

    private static int compareArrays(JsonNode a, JsonNode b) {
        int n = Math.min(a.size(), b.size());
        for (int i = 0; i < n; i++) {
            int c = compare(a.get(i), b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    private static int compareObjects(JsonNode a, JsonNode b) {
        Iterator<Map.Entry<String, JsonNode>> ia = a.properties().iterator();
        Iterator<Map.Entry<String, JsonNode>> ib = b.properties().iterator();
        while (ia.hasNext() && ib.hasNext()) {
            Map.Entry<String, JsonNode> ea = ia.next();
            Map.Entry<String, JsonNode> eb = ib.next();
            int c = Integer.compare(bracket(ea.getValue()), bracket(eb.getValue()));
            if (c == 0) {
                c = compareStrings(ea.getKey(), eb.getKey());
            }
            if (c == 0) {
                c = compare(ea.getValue(), eb.getValue());
            }
            if (c != 0) {
                return c;
            }
        }
        return Boolean.compare(ia.hasNext(), ib.hasNext());
    }

    /** Compares strings by Unicode code point, which is the order of their UTF-8 bytes. */
    static int compareStrings(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            char ca = a.charAt(i);
            char cb = b.charAt(i);
            if (ca != cb) {
                // Surrogates (U+D800..U+DFFF) encode code points above U+FFFF: they sort after every BMP char.
                boolean sa = Character.isSurrogate(ca);
                boolean sb = Character.isSurrogate(cb);
                if (sa != sb) {
                    return sa ? 1 : -1;
                }
                return Character.compare(ca, cb);
            }
        }
        return Integer.compare(a.length(), b.length());
    }

    /** Compares two JSON numbers by value; NaN equals NaN and sorts below every other number. */
    static int compareNumbers(JsonNode a, JsonNode b) {
        boolean fa = a.isFloatingPointNumber();
        boolean fb = b.isFloatingPointNumber();
        if (!fa && !fb && a.canConvertToLong() && b.canConvertToLong()) {
            return Long.compare(a.longValue(), b.longValue());
        }
        if (a.isDouble() || a.isFloat() || b.isDouble() || b.isFloat()) {
            double da = a.doubleValue();
            double db = b.doubleValue();
            boolean exactA = fa ? !a.isBigDecimal() : exactlyDouble(a);
            boolean exactB = fb ? !b.isBigDecimal() : exactlyDouble(b);
            if (Double.isNaN(da) || Double.isNaN(db)) {
                return Boolean.compare(!Double.isNaN(da), !Double.isNaN(db));
            }
            if ((exactA && exactB) || Double.isInfinite(da) || Double.isInfinite(db)) {
                return da < db ? -1 : (da > db ? 1 : 0); // -0.0 == 0.0, as in MongoDB
            }
        }
        return decimal(a).compareTo(decimal(b));
    }

    /**
     * Whether an integer converts to a double without rounding: at most 2^53 in magnitude,
     * judged on the integer itself (2^53 + 1 rounds to 2^53, so its double says nothing).
     */
    private static boolean exactlyDouble(JsonNode integer) {
        if (!integer.canConvertToLong()) {
            return false;
        }
        long l = integer.longValue();
        return l >= -(1L << 53) && l <= (1L << 53);
    }

    private static BigDecimal decimal(JsonNode n) {
        if (n.isBigDecimal()) {
            return n.decimalValue();
        }
        if (n.isDouble() || n.isFloat()) {
            return new BigDecimal(n.doubleValue());
        }
        return new BigDecimal(n.bigIntegerValue());
    }

    /**
     * A hash key such that values MongoDB calls equal have equal keys (the converse need not
     * hold), for scalar values only: strings, numbers, booleans. Others give {@code null}.
     */
    static Object hashKey(JsonNode v) {
        if (v == null) {
            return null;
        }
        if (v.isTextual()) {
            return v.textValue();
        }
        if (v.isNumber()) {
            return numberKey(v);
        }
        if (v.isBoolean()) {
            return v.booleanValue() ? Boolean.TRUE : Boolean.FALSE;
        }
        return null;
    }

    /** Numeric hash key: a {@code Long} for whole values in long range, else the double value. */
    static Object numberKey(JsonNode v) {
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return v.longValue();
        }
        double d = v.doubleValue();
        if (d == Math.rint(d) && d >= -0x1p63 && d < 0x1p63) {
            return (long) d;
        }
        return Double.isNaN(d) ? Double.NaN : d;
    }

    /** A double that orders like the number (monotonic, possibly rounded), for range indexes. */
    static double orderKey(JsonNode v) {
        double d = v.doubleValue();
        return d == 0.0 ? 0.0 : d; // fold -0.0 into 0.0
    }

    /** MongoDB's name of the type of a value, for messages. */
    static String typeName(JsonNode v) {
        if (v == null || v.isMissingNode()) {
            return "missing";
        }
        if (v.isInt() || v.isShort()) {
            return "int";
        }
        if (v.isIntegralNumber()) {
            return v.canConvertToLong() ? "long" : "decimal";
        }
        if (v.isBigDecimal()) {
            return "decimal";
        }
        if (v.isNumber()) {
            return "double";
        }
        return switch (bracket(v)) {
            case NULL -> "null";
            case STRING -> "string";
            case OBJECT -> "object";
            case ARRAY -> "array";
            case BOOLEAN -> "bool";
            case BINARY -> "binData";
            default -> "unknown";
        };
    }
}
