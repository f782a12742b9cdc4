package io.sluice.query;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;
import java.util.Map;

/** BSON type codes and the aliases {@code $type} accepts. */
final class Types {
    static final int DOUBLE = 1;
    static final int STRING = 2;
    static final int OBJECT = 3;
    static final int ARRAY = 4;
    static final int BINARY = 5;
    static final int BOOL = 8;
    static final int NULL = 10;
    static final int INT = 16;
    static final int LONG = 18;
    static final int DECIMAL = 19;

    /** Every alias MongoDB knows, with its code; JSON values only ever have some of them. */
    static final Map<String, Integer> ALIASES = Map.ofEntries(
            Map.entry("double", DOUBLE),
            Map.entry("string", STRING),
            Map.entry("object", OBJECT),
            Map.entry("array", ARRAY),
            Map.entry("binData", BINARY),
            Map.entry("undefined", 6),
            Map.entry("objectId", 7),
            Map.entry("bool", BOOL),
            Map.entry("date", 9),
            Map.entry("null", NULL),
            Map.entry("regex", 11),
            Map.entry("dbPointer", 12),
            Map.entry("javascript", 13),
            Map.entry("symbol", 14),
            Map.entry("javascriptWithScope", 15),
            Map.entry("int", INT),
            Map.entry("timestamp", 17),
            Map.entry("long", LONG),
            Map.entry("decimal", DECIMAL),
            Map.entry("minKey", -1),
            Map.entry("maxKey", 127),
            Map.entry("number", Expr.Type.NUMBER));

    private Types() {}

    /** Whether {@code code} is a BSON type code MongoDB accepts in {@code $type}. */
    static boolean isCode(int code) {
        return (code >= 1 && code <= 19) || code == -1 || code == 127;
    }

    /** The code of an alias, or null. */
    static Integer alias(String name) {
        Integer code = ALIASES.get(name);
        return code != null ? code : ALIASES.get(name.toLowerCase(Locale.ROOT).equals("boolean") ? "bool" : name);
    }

    /** The BSON type code of a JSON value. */
    static int code(JsonNode v) {
        if (v.isInt() || v.isShort()) {
            return INT;
        }
        if (v.isIntegralNumber()) {
            return v.canConvertToLong() ? LONG : DECIMAL;
        }
        if (v.isBigDecimal()) {
            return DECIMAL;
        }
        if (v.isNumber()) {
            return DOUBLE;
        }
        return switch (v.getNodeType()) {
            case STRING -> STRING;
            case OBJECT, POJO -> OBJECT;
            case ARRAY -> ARRAY;
            case BINARY -> BINARY;
            case BOOLEAN -> BOOL;
            default -> NULL;
        };
    }
}
