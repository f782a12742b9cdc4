package io.sluice.api;

import java.util.regex.Pattern;

/**
 * The rule for names that become keys — of consumers, standing queries, handlers, outputs:
 * 1 to {@value #MAX_LENGTH} characters of ASCII letters, digits and {@code . _ - : @}, not
 * starting with a dot. Names end up in URLs, metric tags, checkpoint keys and file names, so
 * nothing that a path, a shell or a query string would read differently is allowed.
 */
public final class Names {
    /** The longest name accepted. */
    public static final int MAX_LENGTH = 200;

    private static final Pattern ALLOWED = Pattern.compile("[A-Za-z0-9_:@-][A-Za-z0-9._:@-]*");

    private Names() {}

    /**
     * Returns {@code name} when it is a valid name.
     *
     * @param kind what is named, for the message ("consumer", "query", ...)
     * @throws IllegalArgumentException saying what is wrong with it
     */
    public static String check(String kind, String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a " + kind + " name must not be empty");
        }
        if (name.length() > MAX_LENGTH) {
            throw new IllegalArgumentException(
                    "a " + kind + " name must be at most " + MAX_LENGTH + " characters; this one has " + name.length());
        }
        if (!ALLOWED.matcher(name).matches()) {
            throw new IllegalArgumentException("the " + kind + " name '" + name
                    + "' may hold only ASCII letters, digits and . _ - : @ (and must not start with a dot)");
        }
        return name;
    }
}
