package io.sluice.core.trigger;

import java.util.regex.Pattern;

/**
 * Shell-style patterns as Python's {@code fnmatch} reads them, which Winchester and
 * StackDistiller use for event types: {@code *} any characters (dots too), {@code ?} one,
 * {@code [abc]} and {@code [!abc]} sets; case-sensitive.
 */
public final class Fnmatch {
    private Fnmatch() {}

    /** The regular expression of a pattern. */
    public static Pattern compile(String pattern) {
        StringBuilder re = new StringBuilder();
        int n = pattern.length();
        for (int i = 0; i < n; i++) {
            char c = pattern.charAt(i);
            if (c == '*') {
                re.append(".*");
            } else if (c == '?') {
                re.append('.');
            } else if (c == '[') {
                int j = i + 1;
                if (j < n && pattern.charAt(j) == '!') {
                    j++;
                }
                if (j < n && pattern.charAt(j) == ']') {
                    j++;
                }
                while (j < n && pattern.charAt(j) != ']') {
                    j++;
                }
                if (j >= n) {
                    re.append("\\[");
                } else {
                    String set = pattern.substring(i + 1, j).replace("\\", "\\\\");
                    if (set.startsWith("!")) {
                        set = "^" + set.substring(1);
                    } else if (set.startsWith("^")) {
                        set = "\\" + set;
                    }
                    re.append('[').append(set.replace("[", "\\[")).append(']');
                    i = j;
                }
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }
}
