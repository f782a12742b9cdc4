package io.sluice.core.handle;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a command line into words the way a POSIX shell splits them — blanks separate words,
 * single quotes keep everything literally, double quotes keep blanks (a backslash escapes
 * {@code " \ $ `} in them), a backslash outside quotes escapes the next character — and does
 * nothing else: no variables, globs, substitutions, pipes or redirections. The words are
 * passed to the program directly, never to a shell.
 */
final class ShellWords {
    private ShellWords() {}

    /**
     * The words of {@code line}.
     *
     * @throws IllegalArgumentException on an unclosed quote, a trailing backslash, or no words
     */
    static List<String> split(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            switch (c) {
                case ' ', '\t', '\n', '\r' -> {
                    if (inWord) {
                        words.add(word.toString());
                        word.setLength(0);
                        inWord = false;
                    }
                }
                case '\'' -> {
                    int end = line.indexOf('\'', i + 1);
                    if (end < 0) {
                        throw new IllegalArgumentException("unclosed single quote at character " + (i + 1));
                    }
                    word.append(line, i + 1, end);
                    i = end;
                    inWord = true;
                }
                case '"' -> {
                    int j = i + 1;
                    while (true) {
                        if (j >= line.length()) {
                            throw new IllegalArgumentException("unclosed double quote at character " + (i + 1));
                        }
                        char d = line.charAt(j);
                        if (d == '"') {
                            break;
                        }
                        if (d == '\\' && j + 1 < line.length() && "\"\\$`".indexOf(line.charAt(j + 1)) >= 0) {
                            word.append(line.charAt(j + 1));
                            j += 2;
                            continue;
                        }
                        word.append(d);
                        j++;
                    }
                    i = j;
                    inWord = true;
                }
                case '\\' -> {
                    if (i + 1 >= line.length()) {
                        throw new IllegalArgumentException("a backslash ends the command");
                    }
                    word.append(line.charAt(++i));
                    inWord = true;
                }
                default -> {
                    word.append(c);
                    inWord = true;
                }
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        if (words.isEmpty()) {
            throw new IllegalArgumentException("no command to run");
        }
        return words;
    }
}
