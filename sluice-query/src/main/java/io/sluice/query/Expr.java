package io.sluice.query;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A compiled query: a tree of logical nodes over {@link Field} nodes, each applying a
 * {@link Cond} to the leaves of one path. Everything here is immutable and thread-safe.
 */
sealed interface Expr {
    /** Whether {@code doc} matches; {@code memo}, when given, remembers paths resolved in {@code doc}. */
    boolean matches(JsonNode doc, Memo memo);

    default boolean matches(JsonNode doc) {
        return matches(doc, null);
    }

    /** Matches every document: the empty query {@code {}}. */
    record True() implements Expr {
        @Override
        public boolean matches(JsonNode doc, Memo memo) {
            return true;
        }
    }

    record And(List<Expr> children) implements Expr {
        @Override
        public boolean matches(JsonNode doc, Memo memo) {
            for (int i = 0, n = children.size(); i < n; i++) { // no iterator: this is the hot loop
                if (!children.get(i).matches(doc, memo)) {
                    return false;
                }
            }
            return true;
        }
    }

    record Or(List<Expr> children) implements Expr {
        @Override
        public boolean matches(JsonNode doc, Memo memo) {
            for (Expr e : children) {
                if (e.matches(doc, memo)) {
                    return true;
                }
            }
            return false;
        }
    }

    record Nor(List<Expr> children) implements Expr {
        @Override
        public boolean matches(JsonNode doc, Memo memo) {
            for (Expr e : children) {
                if (e.matches(doc, memo)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** A condition on the values at one path. */
    record Field(FieldPath path, Cond cond) implements Expr {
        @Override
        public boolean matches(JsonNode doc, Memo memo) {
            return cond.matchesField(path, doc, memo);
        }
    }

    /**
     * A condition on a field. Most conditions hold for a field when they hold for any leaf the
     * path reaches ({@link #matchesLeaf}); negations and {@code $exists}/{@code $all} look at
     * the field as a whole.
     */
    sealed interface Cond extends FieldPath.LeafTest {
        /** Whether the condition holds for one leaf; {@code leaf} is null when missing. */
        boolean matchesLeaf(JsonNode leaf);

        @Override
        default boolean test(JsonNode leaf) {
            return matchesLeaf(leaf);
        }

        default boolean matchesField(FieldPath path, JsonNode doc, Memo memo) {
            return path.any(doc, this, memo);
        }
    }

    /**
     * A condition that holds for a leaf when it holds for the leaf's value or, for an array
     * leaf, for one of its elements: MongoDB's implicit matching of array fields.
     */
    sealed interface Elementwise extends Cond {
        /** Whether the condition holds for one value. */
        boolean matchesValue(JsonNode value);

        /** Whether the condition holds for a missing field. */
        default boolean matchesMissing() {
            return false;
        }

        @Override
        default boolean matchesLeaf(JsonNode leaf) {
            if (leaf == null) {
                return matchesMissing();
            }
            if (matchesValue(leaf)) {
                return true;
            }
            if (leaf.isArray()) {
                for (JsonNode e : leaf) {
                    if (matchesValue(e)) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    /** Equality: the leaf equals the value, or is an array with an element equal to it. */
    record Eq(JsonNode value) implements Elementwise {
        @Override
        public boolean matchesValue(JsonNode v) {
            return Values.equal(v, value);
        }

        @Override
        public boolean matchesMissing() {
            return value.isNull();
        }
    }

    /** {@code $in}: equality with any of the values, or a match of any of the patterns. */
    record In(List<JsonNode> values, List<Pattern> patterns) implements Elementwise {
        @Override
        public boolean matchesValue(JsonNode x) {
            for (int i = 0, n = values.size(); i < n; i++) {
                if (Values.equal(x, values.get(i))) {
                    return true;
                }
            }
            for (int i = 0, n = patterns.size(); i < n; i++) {
                if (Regex.finds(patterns.get(i), x)) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public boolean matchesMissing() {
            for (JsonNode v : values) {
                if (v.isNull()) {
                    return true;
                }
            }
            return false;
        }
    }

    /** {@code $gt $gte $lt $lte}: compares values of the operand's type bracket only. */
    record Cmp(Op op, JsonNode value) implements Elementwise {
        enum Op {
            GT("$gt"),
            GTE("$gte"),
            LT("$lt"),
            LTE("$lte");

            final String name;

            Op(String name) {
                this.name = name;
            }

            boolean lower() {
                return this == GT || this == GTE;
            }

            boolean inclusive() {
                return this == GTE || this == LTE;
            }

            boolean accepts(int c) {
                return switch (this) {
                    case GT -> c > 0;
                    case GTE -> c >= 0;
                    case LT -> c < 0;
                    case LTE -> c <= 0;
                };
            }
        }

        @Override
        public boolean matchesMissing() {
            return value.isNull() && op.inclusive();
        }

        @Override
        public boolean matchesValue(JsonNode v) {
            return Values.bracket(v) == Values.bracket(value) && op.accepts(Values.compare(v, value));
        }
    }

    /** {@code $regex}: a string leaf (or string element of an array leaf) the pattern finds. */
    record Regex(Pattern pattern) implements Elementwise {
        @Override
        public boolean matchesValue(JsonNode v) {
            return finds(pattern, v);
        }

        static boolean finds(Pattern p, JsonNode v) {
            return v.isTextual() && p.matcher(v.textValue()).find();
        }
    }

    /** {@code $exists}: whether the path reaches any value at all. */
    record Exists(boolean wanted) implements Cond {
        @Override
        public boolean matchesLeaf(JsonNode leaf) {
            return (leaf != null) == wanted;
        }

        @Override
        public boolean matchesField(FieldPath path, JsonNode doc, Memo memo) {
            return path.any(doc, leaf -> leaf != null, memo) == wanted;
        }
    }

    /** {@code $type}: the leaf (or an element of an array leaf) has one of the type codes. */
    record Type(Set<Integer> codes) implements Elementwise {
        static final int NUMBER = -2; // the "number" alias: any numeric type

        @Override
        public boolean matchesValue(JsonNode v) {
            int code = Types.code(v);
            return codes.contains(code) || (v.isNumber() && codes.contains(NUMBER));
        }
    }

    /** {@code $mod: [divisor, remainder]}, on numbers truncated to integers. */
    record Mod(long divisor, long remainder) implements Elementwise {
        @Override
        public boolean matchesValue(JsonNode v) {
            if (!v.isNumber()) {
                return false;
            }
            double d = v.doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                return false;
            }
            long n = v.isIntegralNumber() && v.canConvertToLong() ? v.longValue() : (long) d;
            return n % divisor == remainder;
        }
    }

    /** {@code $size}: the leaf is an array of exactly this many elements. */
    record Size(int size) implements Cond {
        @Override
        public boolean matchesLeaf(JsonNode leaf) {
            return leaf != null && leaf.isArray() && leaf.size() == size;
        }
    }

    /**
     * {@code $elemMatch}: the leaf is an array with one element that satisfies everything:
     * either a query over document elements, or conditions on the element values.
     */
    record ElemMatch(Expr query, List<Cond> valueConds) implements Cond {
        @Override
        public boolean matchesLeaf(JsonNode leaf) {
            if (leaf == null || !leaf.isArray()) {
                return false;
            }
            for (JsonNode e : leaf) {
                if (query != null ? e.isObject() && query.matches(e) : allHold(e)) {
                    return true;
                }
            }
            return false;
        }

        private boolean allHold(JsonNode element) {
            for (Cond c : valueConds) {
                if (!c.matchesLeaf(element)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** {@code $all}: every one of the conditions holds for the field (never, when empty). */
    record All(List<Cond> conds) implements Cond {
        @Override
        public boolean matchesLeaf(JsonNode leaf) {
            if (conds.isEmpty()) {
                return false;
            }
            for (Cond c : conds) {
                if (!c.matchesLeaf(leaf)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public boolean matchesField(FieldPath path, JsonNode doc, Memo memo) {
            if (conds.isEmpty()) {
                return false;
            }
            for (Cond c : conds) {
                if (!c.matchesField(path, doc, memo)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Several operators on one field ({@code {$gt: 1, $lt: 5}}): each must hold on its own. */
    record AllOf(List<Cond> conds) implements Cond {
        @Override
        public boolean matchesLeaf(JsonNode leaf) {
            for (Cond c : conds) {
                if (!c.matchesLeaf(leaf)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public boolean matchesField(FieldPath path, JsonNode doc, Memo memo) {
            for (Cond c : conds) {
                if (!c.matchesField(path, doc, memo)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** {@code $not}, {@code $ne}, {@code $nin}: the field as a whole does not satisfy the condition. */
    record Not(Cond inner) implements Cond {
        @Override
        public boolean matchesLeaf(JsonNode leaf) {
            return !inner.matchesLeaf(leaf);
        }

        @Override
        public boolean matchesField(FieldPath path, JsonNode doc, Memo memo) {
            return !inner.matchesField(path, doc, memo);
        }
    }
}
