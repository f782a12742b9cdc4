package io.sluice.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Envelope;
import io.sluice.api.Json;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the envelope fields of one NDJSON line straight from its UTF-8 bytes, checking on the
 * way that the whole line is a JSON object that {@link Json#mapper()} would accept — without
 * decoding field names, building strings or a tree.
 *
 * <p>It never rejects a line. It answers the envelope fields (an object holding those of
 * {@code id}, {@code type} and {@code time} that the line has), or {@code null} when it is not
 * sure: the line is invalid, or unusual (an envelope field that is not a plain string, a
 * field name with escapes, nesting near the depth limit...). The caller then parses the line
 * with Jackson, whose answer, document or error message, stands. So this class only has to be
 * at least as strict as Jackson, never as lenient, and a differential test holds it to that.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>One pass, no recursion: a stack of open containers (object or array) and a state,
 * "a value is expected", "a field name is expected" or "a value has ended". Strings are
 * checked for escapes, control characters and well-formed UTF-8 (stricter than Jackson, which
 * lets some malformed sequences through). Numbers follow RFC 8259's grammar. Duplicate field
 * names, which the shared mapper rejects at every level, are found per object when it
 * closes: each name's bytes are hashed; up to {@link #PAIRWISE} names are compared pairwise,
 * more go through a small open-addressing table; equal hashes are confirmed on the bytes.
 * Names with escapes are left to Jackson, so equal names have equal bytes. Plain runs of
 * string content are skipped eight bytes at a time.
 */
final class EnvelopeScanner {
    /** Objects with at most this many names are checked for duplicates pairwise. */
    private static final int PAIRWISE = 8;

    /** Deeper lines are left to Jackson, which rejects them past {@link Json#MAX_DEPTH}. */
    private static final int MAX_DEPTH = Json.MAX_DEPTH - 1;

    /** Longer numbers and names are left to Jackson and its read constraints. */
    private static final int MAX_NUMBER_LENGTH = 500;

    private static final int MAX_NAME_LENGTH = 10_000;

    private static final int EXPECT_VALUE = 0;
    private static final int EXPECT_NAME = 1;
    private static final int AFTER_VALUE = 2;

    private final String[] envelopeNames;
    private final byte[][] envelopeBytes;

    // Scratch, reused from line to line: open containers, and the names of open objects.
    private final boolean[] isObject = new boolean[MAX_DEPTH + 1];
    private final int[] firstName = new int[MAX_DEPTH + 1];
    private int[] nameStart = new int[64];
    private int[] nameLength = new int[64];
    private int[] nameHash = new int[64];
    private int[] table = new int[64]; // hasDuplicate's table of name indexes
    private int[] tableStamps = new int[64];
    private int tableStamp;

    /** A scanner for lines whose envelope fields are named as in {@code envelope}; one thread at a time. */
    EnvelopeScanner(Envelope envelope) {
        envelopeNames = new String[] {envelope.idField(), envelope.typeField(), envelope.timeField()};
        envelopeBytes = new byte[envelopeNames.length][];
        for (int i = 0; i < envelopeNames.length; i++) {
            envelopeBytes[i] = envelopeNames[i].getBytes(StandardCharsets.UTF_8);
        }
    }

    /**
     * The envelope fields of the JSON object in {@code bytes[from, to)}, or null when the line
     * should be parsed by Jackson instead (see the class comment).
     */
    ObjectNode scan(byte[] bytes, int from, int to) {
        String[] found = null;
        int depth = 0;
        int names = 0;
        int state = EXPECT_VALUE;
        int p = from;
        while (true) {
            p = skipWhitespace(bytes, p, to);
            if (p >= to) {
                if (state == AFTER_VALUE && depth == 0) {
                    return envelope(found);
                }
                return null;
            }
            int c = bytes[p];
            switch (state) {
                case EXPECT_VALUE -> {
                    if (c == '{' || c == '[') {
                        if (depth == MAX_DEPTH || (depth == 0 && c != '{')) {
                            return null;
                        }
                        isObject[depth] = c == '{';
                        firstName[depth] = names;
                        depth++;
                        p = skipWhitespace(bytes, p + 1, to);
                        if (p < to && bytes[p] == (c == '{' ? '}' : ']')) {
                            depth--;
                            p++;
                            state = AFTER_VALUE;
                        } else {
                            state = c == '{' ? EXPECT_NAME : EXPECT_VALUE;
                        }
                        continue;
                    }
                    if (depth == 0) {
                        return null; // not an object
                    }
                    p = c == '"'
                            ? string(bytes, p, to, true)
                            : c == '-' || isDigit(c) ? number(bytes, p, to) : literal(bytes, p, to);
                    if (p < 0) {
                        return null;
                    }
                    state = AFTER_VALUE;
                }
                case EXPECT_NAME -> {
                    if (c != '"') {
                        return null;
                    }
                    int start = p + 1;
                    p = string(bytes, p, to, false);
                    int length = p - 1 - start;
                    if (p < 0 || length > MAX_NAME_LENGTH) {
                        return null;
                    }
                    names = addName(names, start, length, hash(bytes, start, length));
                    p = skipWhitespace(bytes, p, to);
                    if (p >= to || bytes[p] != ':') {
                        return null;
                    }
                    p++;
                    int field = depth == 1 ? envelopeField(bytes, start, length) : -1;
                    if (field >= 0) { // an envelope field: its value must be a plain string
                        p = skipWhitespace(bytes, p, to);
                        if (p >= to || bytes[p] != '"') {
                            return null;
                        }
                        int valueStart = p + 1;
                        p = string(bytes, p, to, false);
                        if (p < 0) {
                            return null;
                        }
                        if (found == null) {
                            found = new String[envelopeNames.length];
                        }
                        if (found[field] != null) {
                            return null; // a duplicate name; Jackson reports it
                        }
                        found[field] = new String(bytes, valueStart, p - 1 - valueStart, StandardCharsets.UTF_8);
                        state = AFTER_VALUE;
                        continue;
                    }
                    // Most members are scalars: the value, and the comma before the next name,
                    // are read here rather than in two more turns of the loop.
                    p = skipWhitespace(bytes, p, to);
                    int v = p < to ? bytes[p] : '{';
                    if (v == '{' || v == '[') { // a container (or nothing): the loop opens it
                        state = EXPECT_VALUE;
                        continue;
                    }
                    p = v == '"'
                            ? string(bytes, p, to, true)
                            : v == '-' || isDigit(v) ? number(bytes, p, to) : literal(bytes, p, to);
                    if (p < 0) {
                        return null;
                    }
                    p = skipWhitespace(bytes, p, to);
                    if (p < to && bytes[p] == ',') {
                        p++; // and a name is expected
                    } else {
                        state = AFTER_VALUE;
                    }
                }
                default -> { // AFTER_VALUE
                    if (depth == 0) {
                        return null; // content after the object
                    }
                    boolean inObject = isObject[depth - 1];
                    if (c == ',') {
                        p++;
                        state = inObject ? EXPECT_NAME : EXPECT_VALUE;
                    } else if (c == (inObject ? '}' : ']')) {
                        depth--;
                        if (inObject) {
                            if (hasDuplicate(bytes, firstName[depth], names)) {
                                return null;
                            }
                            names = firstName[depth];
                        }
                        p++;
                    } else {
                        return null;
                    }
                }
            }
        }
    }

    private ObjectNode envelope(String[] found) {
        ObjectNode fields = Json.object();
        if (found != null) {
            for (int i = 0; i < found.length; i++) {
                if (found[i] != null) {
                    fields.put(envelopeNames[i], found[i]);
                }
            }
        }
        return fields;
    }

    private int envelopeField(byte[] bytes, int start, int length) {
        for (int i = 0; i < envelopeBytes.length; i++) {
            byte[] name = envelopeBytes[i];
            if (name.length == length
                    && (length == 0 || bytes[start] == name[0])
                    && Arrays.equals(bytes, start, start + length, name, 0, length)) {
                return i;
            }
        }
        return -1;
    }

    private static int skipWhitespace(byte[] bytes, int p, int to) {
        while (p < to) {
            byte b = bytes[p];
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                break;
            }
            p++;
        }
        return p;
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    /**
     * Scans the string whose opening quote is at {@code p}: the position after its closing
     * quote, or -1 if it is not a valid JSON string, or has escapes where they are not allowed
     * (names and envelope values, which are left to Jackson then).
     */
    private static int string(byte[] bytes, int p, int to, boolean escapesAllowed) {
        p++;
        while (p < to) {
            // Eight bytes at a time to the first that is not plain: a quote, a backslash, a
            // control character or non-ASCII.
            while (p + 8 <= to) {
                long special = special(ByteWords.word(bytes, p));
                if (special != 0) {
                    p += ByteWords.firstFlagged(special);
                    break;
                }
                p += 8;
            }
            if (p == to) {
                break;
            }
            int c = bytes[p] & 0xff;
            if (c == '"') {
                return p + 1;
            }
            if (c == '\\') {
                if (!escapesAllowed || p + 1 >= to) {
                    return -1;
                }
                int e = bytes[p + 1];
                if (e == 'u') {
                    if (p + 6 > to) {
                        return -1;
                    }
                    for (int i = p + 2; i < p + 6; i++) {
                        if (Character.digit(bytes[i], 16) < 0) {
                            return -1;
                        }
                    }
                    p += 6;
                } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r'
                        || e == 't') {
                    p += 2;
                } else {
                    return -1;
                }
            } else if (c < 0x20) {
                return -1; // control characters must be escaped
            } else if (c < 0x80) {
                p++;
            } else {
                int n = utf8Sequence(bytes, p, to);
                if (n < 0) {
                    return -1;
                }
                p += n;
            }
        }
        return -1; // no closing quote
    }

    /** Flags those of the eight bytes of {@code w} that are {@code "}, {@code \}, below 0x20 or above 0x7f. */
    private static long special(long w) {
        return ByteWords.equalTo(w, '"')
                | ByteWords.equalTo(w, '\\')
                | ByteWords.below(w, 0x20)
                | ByteWords.nonAscii(w);
    }

    /**
     * The length of the well-formed UTF-8 sequence of a non-ASCII character at {@code p}
     * (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF), or -1.
     */
    private static int utf8Sequence(byte[] bytes, int p, int to) {
        int c = bytes[p] & 0xff;
        int n;
        int min;
        int max = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            min = c == 0xe0 ? 0xa0 : 0x80;
            max = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            min = c == 0xf0 ? 0x90 : 0x80;
            max = c == 0xf4 ? 0x8f : 0xbf;
        } else {
            return -1;
        }
        if (p + n > to) {
            return -1;
        }
        int second = bytes[p + 1] & 0xff;
        if (second < min || second > max) {
            return -1;
        }
        for (int i = p + 2; i < p + n; i++) {
            if ((bytes[i] & 0xc0) != 0x80) {
                return -1;
            }
        }
        return n;
    }

    /** Scans a number (RFC 8259 grammar) at {@code p}: the position after it, or -1. */
    private static int number(byte[] bytes, int p, int to) {
        int start = p;
        if (bytes[p] == '-') {
            p++;
        }
        if (p >= to) {
            return -1;
        }
        if (bytes[p] == '0') {
            p++;
        } else if (isDigit(bytes[p])) {
            p = digits(bytes, p, to);
        } else {
            return -1;
        }
        if (p < to && bytes[p] == '.') {
            int fraction = p + 1;
            p = digits(bytes, fraction, to);
            if (p == fraction) {
                return -1;
            }
        }
        if (p < to && (bytes[p] == 'e' || bytes[p] == 'E')) {
            p++;
            if (p < to && (bytes[p] == '+' || bytes[p] == '-')) {
                p++;
            }
            int exponent = p;
            p = digits(bytes, exponent, to);
            if (p == exponent) {
                return -1;
            }
        }
        return p - start > MAX_NUMBER_LENGTH ? -1 : p;
    }

    private static int digits(byte[] bytes, int p, int to) {
        while (p < to && isDigit(bytes[p])) {
            p++;
        }
        return p;
    }

    private static final byte[] TRUE = {'t', 'r', 'u', 'e'};
    private static final byte[] FALSE = {'f', 'a', 'l', 's', 'e'};
    private static final byte[] NULL = {'n', 'u', 'l', 'l'};

    /** Scans {@code true}, {@code false} or {@code null} at {@code p}: the position after it, or -1. */
    private static int literal(byte[] bytes, int p, int to) {
        byte[] word =
                switch (bytes[p]) {
                    case 't' -> TRUE;
                    case 'f' -> FALSE;
                    case 'n' -> NULL;
                    default -> null;
                };
        if (word == null || p + word.length > to || !Arrays.equals(bytes, p, p + word.length, word, 0, word.length)) {
            return -1;
        }
        return p + word.length; // what follows ("truex") is the caller's to check
    }

    /**
     * A hash of a name's bytes, cheap rather than thorough (equal hashes are confirmed on the
     * bytes): its length and its first and last eight bytes.
     */
    private static int hash(byte[] bytes, int start, int length) {
        long h;
        if (length >= 8) {
            h = ByteWords.word(bytes, start) * 31 + ByteWords.word(bytes, start + length - 8);
        } else {
            h = 0;
            for (int i = start; i < start + length; i++) {
                h = (h << 8) | (bytes[i] & 0xff);
            }
        }
        h = (h + length) * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    private int addName(int names, int start, int length, int h) {
        if (names == nameStart.length) {
            int size = names * 2;
            nameStart = Arrays.copyOf(nameStart, size);
            nameLength = Arrays.copyOf(nameLength, size);
            nameHash = Arrays.copyOf(nameHash, size);
        }
        nameStart[names] = start;
        nameLength[names] = length;
        nameHash[names] = h;
        return names + 1;
    }

    /** Whether two of the names {@code [from, to)} (one object's) are equal. */
    private boolean hasDuplicate(byte[] bytes, int from, int to) {
        int count = to - from;
        if (count <= PAIRWISE) {
            for (int i = from; i < to; i++) {
                for (int j = i + 1; j < to; j++) {
                    if (nameHash[i] == nameHash[j] && sameName(bytes, i, j)) {
                        return true;
                    }
                }
            }
            return false;
        }
        // More names: an open-addressing table of name indexes, entries valid for this stamp only.
        int size = Integer.highestOneBit(count * 2 - 1) << 1;
        if (table.length < size) {
            table = new int[size];
            tableStamps = new int[size];
        }
        if (++tableStamp == 0) {
            Arrays.fill(tableStamps, 0);
            tableStamp = 1;
        }
        int mask = size - 1;
        for (int i = from; i < to; i++) {
            int slot = nameHash[i] & mask;
            while (tableStamps[slot] == tableStamp) {
                int j = table[slot];
                if (nameHash[i] == nameHash[j] && sameName(bytes, i, j)) {
                    return true;
                }
                slot = (slot + 1) & mask;
            }
            tableStamps[slot] = tableStamp;
            table[slot] = i;
        }
        return false;
    }

    private boolean sameName(byte[] bytes, int i, int j) {
        int length = nameLength[i];
        return length == nameLength[j]
                && Arrays.equals(
                        bytes, nameStart[i], nameStart[i] + length, bytes, nameStart[j], nameStart[j] + length);
    }
}
