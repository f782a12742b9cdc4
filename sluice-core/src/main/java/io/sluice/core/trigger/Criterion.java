package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.core.timex.TimeMatcher;
import io.sluice.core.timex.Timex;
import io.sluice.core.timex.TimexException;
import java.time.LocalDateTime;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One trait's condition in a criteria's {@code traits}: a constant ({@code os_distro: ubuntu},
 * type-sensitive), {@code {int: "> 4096"}}, {@code {float: "< 4.02"}}, {@code {datetime:
 * "<timex>"}} or {@code {string: "..."}} (also {@code text}). A missing trait is a mismatch.
 * Numeric comparisons take {@code =}, {@code >}, {@code <} as Winchester did and, improved,
 * {@code >=}, {@code <=}, {@code !=}.
 */
public sealed interface Criterion permits Criterion.Constant, Criterion.Numeric, Criterion.Time {
    /** The trait it checks. */
    String trait();

    /** Whether the event's traits meet it. */
    boolean matches(Map<String, Object> traits, Debug.Group debug, Supplier<LocalDateTime> now);

    /**
     * A criterion from its configuration.
     *
     * @param where for errors, such as {@code triggers.yaml: trigger 't': match_criteria[0].traits.memory_mb}
     */
    static Criterion of(String trait, JsonNode expression, String where) {
        if (expression.isObject()) {
            if (expression.size() != 1) {
                throw new DefinitionException(where + ": exactly one of int, float, datetime, string per trait");
            }
            String type = expression.fieldNames().next();
            JsonNode expr = expression.get(type);
            return switch (type) {
                case "int" -> Numeric.of(trait, expr, false, where + "." + type);
                case "float" -> Numeric.of(trait, expr, true, where + "." + type);
                case "datetime" -> {
                    if (!expr.isTextual()) {
                        throw new DefinitionException(where + ".datetime: must be a time expression (timex)");
                    }
                    try {
                        yield new Time(trait, Timex.parse(expr.textValue()));
                    } catch (TimexException e) {
                        throw new DefinitionException(where + ".datetime: " + e.getMessage());
                    }
                }
                case "string", "text" -> new Constant(trait, Traits.value(expr), expr.asText());
                default ->
                    throw new DefinitionException(where + ": unknown kind of match '" + type
                            + "' (kinds: int, float, datetime, string; or a constant)");
            };
        }
        if (expression.isContainerNode() || expression.isNull()) {
            throw new DefinitionException(where + ": must be a constant or {int|float|datetime|string: ...}");
        }
        return new Constant(trait, constant(expression), expression.asText());
    }

    /** A YAML constant as a trait value: numbers and booleans as such, strings as strings (never datetimes). */
    private static Object constant(JsonNode v) {
        if (v.isTextual()) {
            return v.textValue();
        }
        return Traits.value(v);
    }

    /** Equal to a constant (numbers by value; otherwise type and value). */
    record Constant(String trait, Object value, String text) implements Criterion {
        @Override
        public boolean matches(Map<String, Object> traits, Debug.Group debug, Supplier<LocalDateTime> now) {
            if (!traits.containsKey(trait)) {
                return debug.mismatch("not " + trait);
            }
            Object v = traits.get(trait);
            if (value instanceof String s && v instanceof LocalDateTime) {
                // A datetime trait against a string constant: compare with the constant's time.
                LocalDateTime t = Traits.datetime(s);
                return debug.check(t != null && t.equals(v), "== failed");
            }
            return debug.check(Traits.same(v, value), "== failed");
        }
    }

    /** Compared with a number. */
    record Numeric(String trait, String op, double value, boolean isFloat) implements Criterion {
        static Numeric of(String trait, JsonNode expr, boolean isFloat, String where) {
            if (expr.isNumber()) {
                return new Numeric(trait, "=", expr.doubleValue(), isFloat);
            }
            String text = expr.asText().strip();
            String[] parts = text.split("\\s+", 2);
            String op = "=";
            String number = text;
            if (parts.length == 2) {
                op = parts[0];
                number = parts[1].strip();
            }
            if (text.isEmpty()
                    || !java.util.Set.of("=", "==", ">", "<", ">=", "<=", "!=").contains(op)) {
                throw new DefinitionException(where + ": invalid " + (isFloat ? "float" : "int") + " criterion '" + text
                        + "' (an optional =, >, <, >=, <=, != and a number)");
            }
            double value;
            try {
                value = isFloat ? Double.parseDouble(number) : Long.parseLong(number);
            } catch (NumberFormatException e) {
                throw new DefinitionException(where + ": invalid " + (isFloat ? "float" : "int") + " criterion '" + text
                        + "': '" + number + "' is not " + (isFloat ? "a number" : "an integer"));
            }
            return new Numeric(trait, op.equals("==") ? "=" : op, value, isFloat);
        }

        @Override
        public boolean matches(Map<String, Object> traits, Debug.Group debug, Supplier<LocalDateTime> now) {
            if (!traits.containsKey(trait)) {
                return debug.mismatch("not " + trait);
            }
            if (!(traits.get(trait) instanceof Number n)) {
                return debug.mismatch(op + " failed");
            }
            double v = n.doubleValue();
            boolean ok =
                    switch (op) {
                        case "=" -> v == value;
                        case ">" -> v > value;
                        case "<" -> v < value;
                        case ">=" -> v >= value;
                        case "<=" -> v <= value;
                        default -> v != value;
                    };
            return debug.check(ok, op + " failed");
        }
    }

    /** A datetime trait within (or at) a time expression over the event's datetime traits. */
    record Time(String trait, Timex expression) implements Criterion {
        @Override
        public boolean matches(Map<String, Object> traits, Debug.Group debug, Supplier<LocalDateTime> now) {
            if (!traits.containsKey(trait)) {
                return debug.mismatch("Time: not '" + trait + "'");
            }
            TimeMatcher m;
            try {
                m = expression.apply(Traits.datetimes(traits), now);
            } catch (TimexException e) {
                return debug.mismatch("Time: no referenced trait");
            }
            return debug.check(traits.get(trait) instanceof LocalDateTime t && m.matches(t), "Not in timerange");
        }
    }
}
