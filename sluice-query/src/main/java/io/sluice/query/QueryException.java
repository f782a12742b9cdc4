package io.sluice.query;

/**
 * A query that cannot be parsed. The message names the operator and the path at fault, for
 * example {@code unknown operator $foo at path 'a.b'}; {@link #operator()} and {@link #path()}
 * give them to programs.
 */
public class QueryException extends IllegalArgumentException {
    private final String operator;
    private final String path;

    QueryException(String operator, String path, String message) {
        super(message + describe(operator, path));
        this.operator = operator;
        this.path = path;
    }

    private static String describe(String operator, String path) {
        StringBuilder sb = new StringBuilder();
        if (operator != null) {
            sb.append(" (operator ").append(operator);
        }
        if (path != null && !path.isEmpty()) {
            sb.append(sb.isEmpty() ? " (" : ", ").append("path '").append(path).append('\'');
        }
        return sb.isEmpty() ? "" : sb.append(')').toString();
    }

    /** The operator at fault (such as {@code $regex}), or {@code null}. */
    public String operator() {
        return operator;
    }

    /** The dotted field path at fault, or {@code null} (or empty) at the top level. */
    public String path() {
        return path;
    }
}
