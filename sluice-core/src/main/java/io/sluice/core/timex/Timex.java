package io.sluice.core.timex;

import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A parsed timex expression, Winchester's small language of times (from StackTach's timex):
 *
 * <pre>
 *   $last + 2d                 a variable (a datetime trait, $first, $last, $timestamp) plus a duration
 *   $timestamp - 1d 2h         durations: y/yr, mo, d, h/hr, m/min, s/sec, us; several add up
 *   $timestamp @ 6h            replacement: the hour set to 6
 *   $audit_period_beginning to $audit_period_ending     a range (begin inclusive, end exclusive)
 *   day    day($when)    hour, month, year              the range of that unit around $timestamp (or the argument)
 *   day @ 2                    a duration without a unit, on a range: the unit below the range's length (hours)
 *   (… to …) + 1d              parentheses
 * </pre>
 *
 * <p>Precedence, as timex's grammar has it: {@code to} binds loosest ({@code $a to $b + 1d}
 * is {@code $a to ($b + 1d)}); {@code + - @} apply left to right. A duration without a unit is
 * an error on a timestamp, at parse time. Functions other than {@code hour}, {@code day},
 * {@code month} and {@code year} are refused at parse time (timex only failed on use).
 *
 * <h2>Implementation notes</h2>
 *
 * <p>A hand-written recursive-descent parser over timex's tokens (timex used PLY's LALR
 * tables for the same grammar). Each node knows whether it yields a timestamp or a range, which
 * is what the grammar's two expression kinds encode. Evaluation is a walk of the tree against
 * an environment of named times; {@code $timestamp} defaults to the clock's now.
 */
public final class Timex {
    private final Node root;
    private final String source;

    private Timex(Node root, String source) {
        this.root = root;
        this.source = source;
    }

    /**
     * Parses an expression.
     *
     * @throws TimexException saying where and what is wrong
     */
    public static Timex parse(String expression) {
        if (expression == null || expression.isBlank()) {
            throw new TimexException("an empty time expression");
        }
        Parser p = new Parser(expression);
        Node n = p.expression();
        if (p.peek().kind != Kind.END) {
            throw p.error("unexpected " + p.peek().describe());
        }
        return new Timex(n, expression);
    }

    /** Whether the expression yields a range (else a timestamp). */
    public boolean isRange() {
        return root.range();
    }

    /** The expression as written. */
    public String source() {
        return source;
    }

    /**
     * Evaluates against named times.
     *
     * @param env variables (without the {@code $}); {@code timestamp} defaults to {@code now}
     * @throws TimexException when a variable the expression names is not in {@code env}
     */
    public TimeMatcher apply(Map<String, LocalDateTime> env, Supplier<LocalDateTime> now) {
        return root.apply(name -> {
            LocalDateTime t = env.get(name);
            if (t == null && name.equals("timestamp")) {
                t = now.get();
            }
            if (t == null) {
                throw new TimexException("variable $" + name + " is not defined");
            }
            return t;
        });
    }

    /** The variables the expression names (without the {@code $}), for checks. */
    public List<String> variables() {
        List<String> out = new ArrayList<>();
        root.variables(out);
        return out;
    }

    @Override
    public String toString() {
        return source;
    }

    // ------------------------------------------------------------------ tree

    private interface Env {
        LocalDateTime get(String name);
    }

    private sealed interface Node {
        boolean range();

        TimeMatcher apply(Env env);

        void variables(List<String> out);
    }

    private record Variable(String name) implements Node {
        public boolean range() {
            return false;
        }

        public TimeMatcher apply(Env env) {
            return new TimeMatcher.Timestamp(env.get(name));
        }

        public void variables(List<String> out) {
            out.add(name);
        }
    }

    private record To(Node from, Node to) implements Node {
        public boolean range() {
            return true;
        }

        public TimeMatcher apply(Env env) {
            return new TimeMatcher.TimeRange(
                    from.apply(env).begin(), to.apply(env).begin());
        }

        public void variables(List<String> out) {
            from.variables(out);
            to.variables(out);
        }
    }

    private record Function(TimexDuration.Unit unit, Node arg) implements Node {
        public boolean range() {
            return true;
        }

        public TimeMatcher apply(Env env) {
            LocalDateTime t = arg.apply(env).begin();
            LocalDateTime begin =
                    switch (unit) {
                        case HOUR -> t.truncatedTo(ChronoUnit.HOURS);
                        case DAY -> t.truncatedTo(ChronoUnit.DAYS);
                        case MONTH -> t.truncatedTo(ChronoUnit.DAYS).with(TemporalAdjusters.firstDayOfMonth());
                        case YEAR -> t.truncatedTo(ChronoUnit.DAYS).with(TemporalAdjusters.firstDayOfYear());
                        default -> throw new IllegalStateException(unit.name());
                    };
            LocalDateTime end =
                    switch (unit) {
                        case HOUR -> begin.plusHours(1);
                        case DAY -> begin.plusDays(1);
                        case MONTH -> begin.plusMonths(1);
                        case YEAR -> begin.plusYears(1);
                        default -> throw new IllegalStateException(unit.name());
                    };
            return new TimeMatcher.TimeRange(begin, end, t, unit);
        }

        public void variables(List<String> out) {
            arg.variables(out);
        }
    }

    private record Operation(char op, Node expr, TimexDuration duration) implements Node {
        public boolean range() {
            return expr.range();
        }

        public TimeMatcher apply(Env env) {
            TimeMatcher m = expr.apply(env);
            return switch (op) {
                case '+' -> m.plus(duration);
                case '-' -> m.minus(duration);
                default -> m.replace(duration);
            };
        }

        public void variables(List<String> out) {
            expr.variables(out);
        }
    }

    // ------------------------------------------------------------------ parsing

    private enum Kind {
        NUMBER,
        PLUS,
        MINUS,
        REPLACE,
        LPAREN,
        RPAREN,
        VAR,
        IDENTIFIER,
        TO,
        UNIT,
        END
    }

    private record Token(Kind kind, String text, int column, TimexDuration.Unit unit) {
        String describe() {
            return kind == Kind.END ? "end of expression" : "'" + text + "' at column " + column;
        }
    }

    private static TimexDuration.Unit unit(String word) {
        return switch (word) {
            case "us" -> TimexDuration.Unit.MICROSECOND;
            case "s", "sec" -> TimexDuration.Unit.SECOND;
            case "m", "min" -> TimexDuration.Unit.MINUTE;
            case "h", "hr" -> TimexDuration.Unit.HOUR;
            case "d" -> TimexDuration.Unit.DAY;
            case "mo" -> TimexDuration.Unit.MONTH;
            case "y", "yr" -> TimexDuration.Unit.YEAR;
            default -> null;
        };
    }

    private static final class Parser {
        private final String text;
        private final List<Token> tokens = new ArrayList<>();
        private int at;

        Parser(String text) {
            this.text = text;
            int i = 0;
            while (i < text.length()) {
                char c = text.charAt(i);
                int col = i + 1;
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    i++;
                } else if (Character.isDigit(c)) {
                    int j = i;
                    while (j < text.length() && Character.isDigit(text.charAt(j))) {
                        j++;
                    }
                    tokens.add(new Token(Kind.NUMBER, text.substring(i, j), col, null));
                    i = j;
                } else if (Character.isLetter(c) || c == '_') {
                    int j = i;
                    while (j < text.length() && (Character.isLetterOrDigit(text.charAt(j)) || text.charAt(j) == '_')) {
                        j++;
                    }
                    String word = text.substring(i, j);
                    TimexDuration.Unit u = unit(word);
                    Kind k = word.equals("to") ? Kind.TO : u != null ? Kind.UNIT : Kind.IDENTIFIER;
                    tokens.add(new Token(k, word, col, u));
                    i = j;
                } else {
                    Kind k =
                            switch (c) {
                                case '+' -> Kind.PLUS;
                                case '-' -> Kind.MINUS;
                                case '@' -> Kind.REPLACE;
                                case '(' -> Kind.LPAREN;
                                case ')' -> Kind.RPAREN;
                                case '$' -> Kind.VAR;
                                default ->
                                    throw new TimexException(
                                            "'" + text + "': unexpected character '" + c + "' at column " + col);
                            };
                    tokens.add(new Token(k, String.valueOf(c), col, null));
                    i++;
                }
            }
            tokens.add(new Token(Kind.END, "", text.length() + 1, null));
        }

        Token peek() {
            return tokens.get(at);
        }

        Token next() {
            return tokens.get(at++);
        }

        TimexException error(String what) {
            return new TimexException("'" + text + "': " + what);
        }

        /** expression := operand ('to' operand)* */
        Node expression() {
            Node left = operand();
            while (peek().kind == Kind.TO) {
                Token to = next();
                if (left.range()) {
                    throw error("'to' at column " + to.column() + " needs a timestamp on its left, not a range");
                }
                Node right = operand();
                if (right.range()) {
                    throw error("'to' at column " + to.column() + " needs a timestamp on its right, not a range");
                }
                left = new To(left, right);
            }
            return left;
        }

        /** operand := primary (('+' | '-' | '@') duration)* */
        Node operand() {
            Node n = primary();
            while (true) {
                Kind k = peek().kind;
                if (k != Kind.PLUS && k != Kind.MINUS && k != Kind.REPLACE) {
                    return n;
                }
                Token op = next();
                TimexDuration d = duration(op);
                if (d.ambiguous() && !n.range()) {
                    throw error("the duration after '" + op.text() + "' at column " + op.column()
                            + " needs a unit (such as 2h): durations without one apply to ranges only");
                }
                n = new Operation(op.text().charAt(0), n, d);
            }
        }

        /** duration := (NUMBER unit?)+ */
        TimexDuration duration(Token after) {
            if (peek().kind != Kind.NUMBER) {
                throw error("a duration (such as 1d 2h) must follow '" + after.text() + "' at column " + after.column()
                        + ", not " + peek().describe());
            }
            TimexDuration d = null;
            while (peek().kind == Kind.NUMBER) {
                Token n = next();
                int amount;
                try {
                    amount = Integer.parseInt(n.text());
                } catch (NumberFormatException e) {
                    throw error("the number at column " + n.column() + " is too large");
                }
                if (peek().kind == Kind.IDENTIFIER) {
                    throw error("unknown unit '" + peek().text() + "' at column " + peek().column()
                            + " (units: y/yr, mo, d, h/hr, m/min, s/sec, us)");
                }
                TimexDuration part = peek().kind == Kind.UNIT
                        ? TimexDuration.of(next().unit(), amount)
                        : TimexDuration.unitless(amount);
                d = d == null ? part : d.plus(part);
            }
            return d;
        }

        /** primary := '$' IDENTIFIER | FUNCTION ['(' expression ')'] | '(' expression ')' */
        Node primary() {
            Token t = next();
            switch (t.kind) {
                case VAR -> {
                    Token name = next();
                    if (name.kind != Kind.IDENTIFIER) {
                        throw error("a variable name must follow '$' at column " + t.column() + ", not "
                                + name.describe() + (name.kind == Kind.UNIT ? " (a unit)" : ""));
                    }
                    return new Variable(name.text());
                }
                case IDENTIFIER -> {
                    TimexDuration.Unit unit =
                            switch (t.text()) {
                                case "hour" -> TimexDuration.Unit.HOUR;
                                case "day" -> TimexDuration.Unit.DAY;
                                case "month" -> TimexDuration.Unit.MONTH;
                                case "year" -> TimexDuration.Unit.YEAR;
                                default ->
                                    throw error("unknown function '" + t.text() + "' at column " + t.column()
                                            + " (functions: hour, day, month, year; variables start with $)");
                            };
                    Node arg = new Variable("timestamp");
                    if (peek().kind == Kind.LPAREN) {
                        Token open = next();
                        arg = expression();
                        if (arg.range()) {
                            throw error(t.text() + "(...) at column " + t.column() + " takes a timestamp, not a range");
                        }
                        expect(Kind.RPAREN, open);
                    }
                    return new Function(unit, arg);
                }
                case LPAREN -> {
                    Node inner = expression();
                    expect(Kind.RPAREN, t);
                    return inner;
                }
                default -> throw error("expected a $variable, a function (day, ...) or '(' but found " + t.describe());
            }
        }

        private void expect(Kind kind, Token open) {
            Token t = next();
            if (t.kind != kind) {
                throw error("the '(' at column " + open.column() + " is not closed (found " + t.describe() + ")");
            }
        }
    }
}
