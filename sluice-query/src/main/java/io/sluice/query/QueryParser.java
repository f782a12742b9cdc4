package io.sluice.query;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Compiles MongoDB query documents into {@link Expr} trees, rejecting anything MongoDB would
 * reject (and a little it would silently accept) with a {@link QueryException} that names the
 * operator and the path.
 */
final class QueryParser {
    private QueryParser() {}

    static Expr parse(JsonNode query) {
        if (query == null || !query.isObject()) {
            throw new QueryException(null, null, "a query must be a JSON object, not " + Values.typeName(query));
        }
        return document(query, "");
    }

    /** A query document: field conditions and logical operators, all of which must hold. */
    private static Expr document(JsonNode query, String prefix) {
        List<Expr> parts = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : query.properties()) {
            String key = e.getKey();
            JsonNode value = e.getValue();
            if (key.startsWith("$")) {
                Expr logical = logical(key, value, prefix);
                if (logical != null) {
                    parts.add(logical);
                }
            } else {
                FieldPath path = FieldPath.of(key);
                parts.add(new Expr.Field(path, condition(value, prefix + key)));
            }
        }
        if (parts.isEmpty()) {
            return new Expr.True();
        }
        return parts.size() == 1 ? parts.get(0) : new Expr.And(List.copyOf(parts));
    }

    private static Expr logical(String op, JsonNode value, String where) {
        switch (op) {
            case "$and", "$or", "$nor" -> {
                if (!value.isArray() || value.isEmpty()) {
                    throw new QueryException(op, where, op + " needs a non-empty array of query documents");
                }
                List<Expr> children = new ArrayList<>();
                int i = 0;
                for (JsonNode child : value) {
                    if (!child.isObject()) {
                        throw new QueryException(
                                op,
                                where,
                                op + " element " + i + " must be a query document, not " + Values.typeName(child));
                    }
                    children.add(document(child, where));
                    i++;
                }
                return switch (op) {
                    case "$and" -> new Expr.And(List.copyOf(children));
                    case "$or" -> new Expr.Or(List.copyOf(children));
                    default -> new Expr.Nor(List.copyOf(children));
                };
            }
            case "$comment" -> {
                return null;
            }
            case "$where", "$expr", "$text", "$jsonSchema", "$sampleRate" ->
                throw new QueryException(op, where, op + " is not supported by Sluice's query language");
            default -> throw new QueryException(op, where, "unknown top level operator " + op);
        }
    }

    /** The condition a field's value in a query expresses: an operator document or equality. */
    private static Expr.Cond condition(JsonNode value, String path) {
        if (value.isObject() && !value.isEmpty()) {
            String first = value.fieldNames().next();
            if (first.equals("$regularExpression")) {
                return new Expr.Regex(regexLiteral(value, path, "$regularExpression"));
            }
            if (first.startsWith("$")) {
                return operators(value, path);
            }
        }
        return new Expr.Eq(value);
    }

    /** An operator document such as {@code {$gt: 1, $lt: 5}}; every operator must hold. */
    private static Expr.Cond operators(JsonNode ops, String path) {
        List<Expr.Cond> conds = new ArrayList<>();
        JsonNode regex = ops.get("$regex");
        JsonNode options = ops.get("$options");
        if (options != null && regex == null) {
            throw new QueryException("$options", path, "$options needs a $regex");
        }
        for (Map.Entry<String, JsonNode> e : ops.properties()) {
            String op = e.getKey();
            JsonNode arg = e.getValue();
            switch (op) {
                case "$eq" -> conds.add(new Expr.Eq(arg));
                case "$ne" -> conds.add(new Expr.Not(new Expr.Eq(arg)));
                case "$gt" -> conds.add(new Expr.Cmp(Expr.Cmp.Op.GT, arg));
                case "$gte" -> conds.add(new Expr.Cmp(Expr.Cmp.Op.GTE, arg));
                case "$lt" -> conds.add(new Expr.Cmp(Expr.Cmp.Op.LT, arg));
                case "$lte" -> conds.add(new Expr.Cmp(Expr.Cmp.Op.LTE, arg));
                case "$in" -> conds.add(in(op, arg, path));
                case "$nin" -> conds.add(new Expr.Not(in(op, arg, path)));
                case "$exists" -> conds.add(new Expr.Exists(truth(op, arg, path)));
                case "$type" -> conds.add(type(arg, path));
                case "$regex" -> conds.add(new Expr.Regex(regex(arg, options, path)));
                case "$options" -> {
                    // read together with $regex
                }
                case "$mod" -> conds.add(mod(arg, path));
                case "$size" -> conds.add(new Expr.Size(size(arg, path)));
                case "$all" -> conds.add(all(arg, path));
                case "$elemMatch" -> conds.add(elemMatch(arg, path));
                case "$not" -> conds.add(not(arg, path));
                case "$and", "$or", "$nor" ->
                    throw new QueryException(
                            op, path, op + " is a top level operator; it cannot be applied to a field");
                default ->
                    throw new QueryException(
                            op, path, op.startsWith("$") ? "unknown operator " + op : "unknown operator '" + op + "'");
            }
        }
        return conds.size() == 1 ? conds.get(0) : new Expr.AllOf(List.copyOf(conds));
    }

    private static Expr.Cond in(String op, JsonNode arg, String path) {
        if (!arg.isArray()) {
            throw new QueryException(op, path, op + " needs an array, not " + Values.typeName(arg));
        }
        List<JsonNode> values = new ArrayList<>();
        List<Pattern> patterns = new ArrayList<>();
        for (JsonNode v : arg) {
            Pattern p = regexValue(v, op, path);
            if (p != null) {
                patterns.add(p);
            } else if (v.isObject() && v.size() > 0 && v.fieldNames().next().startsWith("$")) {
                throw new QueryException(
                        op, path, "cannot nest an operator (" + v.fieldNames().next() + ") in " + op);
            } else {
                values.add(v);
            }
        }
        return new Expr.In(List.copyOf(values), List.copyOf(patterns));
    }

    /**
     * A regular expression given as a value: {@code {"$regularExpression": {"pattern", "options"}}}
     * (MongoDB Extended JSON), {@code {"$regex": ..., "$options": ...}}, or a string of the
     * form {@code /pattern/flags}. Null when {@code v} is none of these.
     */
    private static Pattern regexValue(JsonNode v, String op, String path) {
        if (v.isObject() && v.has("$regularExpression")) {
            return regexLiteral(v, path, op);
        }
        if (v.isObject() && v.has("$regex")) {
            Iterator<String> names = v.fieldNames();
            while (names.hasNext()) {
                String n = names.next();
                if (!n.equals("$regex") && !n.equals("$options")) {
                    throw new QueryException(op, path, "unexpected field '" + n + "' in a regular expression");
                }
            }
            return regex(v.get("$regex"), v.get("$options"), path);
        }
        if (v.isTextual()) {
            String s = v.textValue();
            int end = s.lastIndexOf('/');
            if (s.length() >= 2
                    && s.charAt(0) == '/'
                    && end > 0
                    && s.substring(end + 1).matches("[imsx]*")) {
                return compile(s.substring(1, end), s.substring(end + 1), op, path);
            }
        }
        return null;
    }

    private static Pattern regexLiteral(JsonNode v, String path, String op) {
        JsonNode re = v.get("$regularExpression");
        if (v.size() != 1 || !re.isObject() || !re.path("pattern").isTextual()) {
            throw new QueryException(op, path, "$regularExpression needs {\"pattern\": string, \"options\": string}");
        }
        JsonNode options = re.get("options");
        if (options != null && !options.isTextual()) {
            throw new QueryException(op, path, "$regularExpression options must be a string");
        }
        return compile(re.get("pattern").textValue(), options == null ? "" : options.textValue(), op, path);
    }

    private static Pattern regex(JsonNode arg, JsonNode options, String path) {
        if (options != null && !options.isTextual()) {
            throw new QueryException("$options", path, "$options needs a string, not " + Values.typeName(options));
        }
        String opts = options == null ? "" : options.textValue();
        if (arg.isTextual()) {
            return compile(arg.textValue(), opts, "$regex", path);
        }
        if (arg.isObject() && arg.has("$regularExpression")) {
            Pattern p = regexLiteral(arg, path, "$regex");
            return options == null ? p : compile(p.pattern(), opts, "$regex", path);
        }
        throw new QueryException("$regex", path, "$regex needs a string, not " + Values.typeName(arg));
    }

    private static Pattern compile(String pattern, String options, String op, String path) {
        int flags = 0;
        for (char c : options.toCharArray()) {
            flags |= switch (c) {
                case 'i' -> Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE;
                case 'm' -> Pattern.MULTILINE;
                case 's' -> Pattern.DOTALL;
                case 'x' -> Pattern.COMMENTS;
                case 'u' -> Pattern.UNICODE_CHARACTER_CLASS;
                default -> throw new QueryException(op, path, "invalid regular expression option '" + c + "'");
            };
        }
        try {
            return Pattern.compile(pattern, flags);
        } catch (PatternSyntaxException e) {
            throw new QueryException(op, path, "invalid regular expression /" + pattern + "/: " + e.getDescription());
        }
    }

    private static boolean truth(String op, JsonNode arg, String path) {
        if (arg.isBoolean()) {
            return arg.booleanValue();
        }
        if (arg.isNumber()) {
            return arg.doubleValue() != 0;
        }
        throw new QueryException(op, path, op + " needs a boolean, not " + Values.typeName(arg));
    }

    private static Expr.Cond type(JsonNode arg, String path) {
        Set<Integer> codes = new HashSet<>();
        if (arg.isArray()) {
            if (arg.isEmpty()) {
                throw new QueryException("$type", path, "$type needs at least one type");
            }
            for (JsonNode t : arg) {
                codes.add(typeCode(t, path));
            }
        } else {
            codes.add(typeCode(arg, path));
        }
        return new Expr.Type(Set.copyOf(codes));
    }

    private static int typeCode(JsonNode t, String path) {
        if (t.isTextual()) {
            Integer code = Types.alias(t.textValue());
            if (code == null) {
                throw new QueryException("$type", path, "unknown type name alias '" + t.textValue() + "'");
            }
            return code;
        }
        if (t.isNumber()) {
            double d = t.doubleValue();
            if (d != Math.rint(d) || !Types.isCode((int) d)) {
                throw new QueryException("$type", path, "invalid numerical type code " + t.asText());
            }
            return (int) d;
        }
        throw new QueryException("$type", path, "$type needs a type name or number, not " + Values.typeName(t));
    }

    private static Expr.Cond mod(JsonNode arg, String path) {
        if (!arg.isArray()
                || arg.size() != 2
                || !arg.get(0).isNumber()
                || !arg.get(1).isNumber()) {
            throw new QueryException("$mod", path, "$mod needs an array of two numbers: [divisor, remainder]");
        }
        double divisor = arg.get(0).doubleValue();
        double remainder = arg.get(1).doubleValue();
        if (!Double.isFinite(divisor) || !Double.isFinite(remainder)) {
            throw new QueryException("$mod", path, "$mod divisor and remainder must be finite numbers");
        }
        if ((long) divisor == 0) {
            throw new QueryException("$mod", path, "$mod divisor cannot be 0");
        }
        return new Expr.Mod((long) divisor, (long) remainder);
    }

    private static int size(JsonNode arg, String path) {
        if (!arg.isNumber()) {
            throw new QueryException("$size", path, "$size needs a number, not " + Values.typeName(arg));
        }
        double d = arg.doubleValue();
        if (d != Math.rint(d) || d < 0 || d > Integer.MAX_VALUE) {
            throw new QueryException("$size", path, "$size needs a non-negative whole number, not " + arg.asText());
        }
        return (int) d;
    }

    private static Expr.Cond all(JsonNode arg, String path) {
        if (!arg.isArray()) {
            throw new QueryException("$all", path, "$all needs an array, not " + Values.typeName(arg));
        }
        List<Expr.Cond> conds = new ArrayList<>();
        for (JsonNode v : arg) {
            if (v.isObject() && v.has("$elemMatch")) {
                if (v.size() != 1) {
                    throw new QueryException("$all", path, "an $elemMatch element of $all cannot have other fields");
                }
                conds.add(elemMatch(v.get("$elemMatch"), path));
                continue;
            }
            Pattern p = regexValue(v, "$all", path);
            if (p != null) {
                conds.add(new Expr.Regex(p));
            } else if (v.isObject() && v.size() > 0 && v.fieldNames().next().startsWith("$")) {
                throw new QueryException("$all", path, "no " + v.fieldNames().next() + " allowed inside $all");
            } else {
                conds.add(new Expr.Eq(v));
            }
        }
        return new Expr.All(List.copyOf(conds));
    }

    private static Expr.Cond elemMatch(JsonNode arg, String path) {
        if (!arg.isObject()) {
            throw new QueryException("$elemMatch", path, "$elemMatch needs an object, not " + Values.typeName(arg));
        }
        boolean valueForm = false;
        for (Iterator<String> it = arg.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (k.startsWith("$") && !k.equals("$and") && !k.equals("$or") && !k.equals("$nor")) {
                valueForm = true;
            }
        }
        if (!valueForm) {
            return new Expr.ElemMatch(document(arg, path + "."), null);
        }
        List<Expr.Cond> conds = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : arg.properties()) {
            if (!e.getKey().startsWith("$")) {
                throw new QueryException(
                        "$elemMatch",
                        path,
                        "$elemMatch mixes operators with the field '" + e.getKey() + "'; use one or the other");
            }
        }
        Expr.Cond c = operators(arg, path);
        conds.add(c);
        return new Expr.ElemMatch(null, List.copyOf(conds));
    }

    private static Expr.Cond not(JsonNode arg, String path) {
        Pattern p = regexValue(arg, "$not", path);
        if (p != null) {
            return new Expr.Not(new Expr.Regex(p));
        }
        if (!arg.isObject()) {
            throw new QueryException(
                    "$not", path, "$not needs an operator document or a regex, not " + Values.typeName(arg));
        }
        if (arg.isEmpty()) {
            throw new QueryException("$not", path, "$not cannot be empty");
        }
        for (Iterator<String> it = arg.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.startsWith("$")) {
                throw new QueryException("$not", path, "$not needs operators, not the field '" + k + "'");
            }
        }
        return new Expr.Not(operators(arg, path));
    }
}
