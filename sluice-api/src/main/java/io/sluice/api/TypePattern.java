package io.sluice.api;

import java.util.regex.Pattern;

/**
 * Patterns over dotted event types: {@code *} matches within one segment ({@code user.*}
 * matches {@code user.signup}, not {@code user.shirt.bought}), {@code **} across segments.
 */
public final class TypePattern {
    private TypePattern() {}

    /** The regular expression a type pattern stands for. */
    public static Pattern compile(String pattern) {
        if (pattern == null || pattern.isBlank()) {
            throw new IllegalArgumentException("a type pattern must not be empty");
        }
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '*' && i + 1 < pattern.length() && pattern.charAt(i + 1) == '*') {
                re.append(".*");
                i++;
            } else if (c == '*') {
                re.append("[^.]*");
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString());
    }
}
