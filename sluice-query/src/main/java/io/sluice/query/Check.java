package io.sluice.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;

/**
 * What is left of a query once the index found it as a candidate ({@link QueryIndex}), compiled
 * for evaluating against many events.
 *
 * <p><b>Implementation notes.</b> Evaluating an {@link Expr} goes through several interface calls
 * per condition (the node, its condition, the leaf test, the value test); at a call site that
 * sees every kind of query, each is a megamorphic interface call, which HotSpot dispatches by
 * searching the receiver's interface table. The conditions standing queries use most (a string
 * equality, an {@code $in} of strings, {@code $exists: true}, a conjunction of those) are compiled
 * here into subclasses of one abstract class, dispatched through its virtual table, and test the
 * leaf the path resolves to directly when it is a plain value. Whenever the leaf is anything
 * else (missing where that matters, an array, a path through an array) they answer with the
 * {@link Expr} itself, so the result is always exactly {@link Expr#matches}'s.
 */
abstract sealed class Check {
    /** Whether the document satisfies what is left of the query. */
    abstract boolean test(JsonNode doc, Memo memo);

    /** Whether this check holds for every document (nothing left to evaluate). */
    boolean always() {
        return false;
    }

    static final Check ALWAYS = new Always();

    /** The compiled form of {@code expr}. */
    static Check of(Expr expr) {
        return switch (expr) {
            case Expr.True t -> ALWAYS;
            case Expr.And and -> {
                List<Check> parts = new ArrayList<>();
                for (Expr child : and.children()) {
                    Check c = of(child);
                    if (!c.always()) {
                        parts.add(c);
                    }
                }
                yield parts.isEmpty()
                        ? ALWAYS
                        : parts.size() == 1 ? parts.get(0) : new All(parts.toArray(Check[]::new));
            }
            case Expr.Field field -> field(field);
            default -> new Evaluate(expr);
        };
    }

    private static Check field(Expr.Field field) {
        return switch (field.cond()) {
            case Expr.Eq eq
            when eq.value().isTextual() ->
                new TextIn(field, new String[] {eq.value().textValue()});
            case Expr.In in
            when in.patterns().isEmpty() && in.values().stream().allMatch(JsonNode::isTextual) ->
                new TextIn(field, in.values().stream().map(JsonNode::textValue).toArray(String[]::new));
            case Expr.Exists exists when exists.wanted() -> new Exists(field);
            default -> new Evaluate(field);
        };
    }

    /** Nothing left to check. */
    private static final class Always extends Check {
        @Override
        boolean test(JsonNode doc, Memo memo) {
            return true;
        }

        @Override
        boolean always() {
            return true;
        }
    }

    /** Every one of several checks. */
    private static final class All extends Check {
        private final Check[] parts;

        All(Check[] parts) {
            this.parts = parts;
        }

        @Override
        boolean test(JsonNode doc, Memo memo) {
            for (Check c : parts) {
                if (!c.test(doc, memo)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Anything else: the expression itself. */
    private static final class Evaluate extends Check {
        private final Expr expr;

        Evaluate(Expr expr) {
            this.expr = expr;
        }

        @Override
        boolean test(JsonNode doc, Memo memo) {
            return expr.matches(doc, memo);
        }
    }

    /** {@code {path: "a"}} or {@code {path: {$in: ["a", "b"]}}}: a string leaf equal to one of the texts. */
    private static final class TextIn extends Check {
        private final Expr.Field field;
        private final String[] texts;

        TextIn(Expr.Field field, String[] texts) {
            this.field = field;
            this.texts = texts;
        }

        @Override
        boolean test(JsonNode doc, Memo memo) {
            Object leaf = field.path().leaf(doc, memo);
            if (leaf instanceof TextNode t) {
                String value = t.textValue();
                for (String text : texts) {
                    if (text.equals(value)) {
                        return true;
                    }
                }
                return false;
            }
            return leaf != Memo.MISSING && field.matches(doc, memo);
        }
    }

    /** {@code {path: {$exists: true}}}: the path reaches a value. */
    private static final class Exists extends Check {
        private final Expr.Field field;

        Exists(Expr.Field field) {
            this.field = field;
        }

        @Override
        boolean test(JsonNode doc, Memo memo) {
            Object leaf = field.path().leaf(doc, memo);
            if (leaf == Memo.MISSING) {
                return false;
            }
            return leaf != Memo.THROUGH_ARRAY || field.matches(doc, memo);
        }
    }
}
