package io.sluice.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A dotted field path ({@code @fields.priority}, {@code a.0.b}) and MongoDB's way of walking it.
 *
 * <p>Walking a path yields <em>leaves</em>: the values the path reaches. Arrays met on the way
 * are traversed implicitly: {@code a.b} reaches {@code 1} and {@code 2} in
 * {@code {"a":[{"b":1},{"b":2}]}}. A numeric segment indexes an array and also names a field
 * of the array's documents. Where the path reaches nothing, the walk yields one {@code null}
 * leaf, meaning "missing". A leaf that is itself an array is handed over whole: operators
 * decide whether they look at the array ({@code $size}) or at its elements ({@code $gt}).
 */
final class FieldPath {
    /** A test of one leaf; {@code leaf} is {@code null} when the path reaches nothing. */
    @FunctionalInterface
    interface LeafTest {
        boolean test(JsonNode leaf);
    }

    private static final int NONE = 0;
    private static final int NO_MATCH = 1;
    private static final int MATCH = 2;

    private final String dotted;
    private final String[] parts;
    private final int[] indexes;

    private FieldPath(String dotted, String[] parts) {
        this.dotted = dotted;
        this.parts = parts;
        this.indexes = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            indexes[i] = arrayIndex(parts[i]);
        }
    }

    /** Parses a dotted path; empty paths and empty segments are rejected. */
    static FieldPath of(String dotted) {
        if (dotted.isEmpty()) {
            throw new QueryException(null, dotted, "empty field path");
        }
        String[] parts = dotted.split("\\.", -1);
        for (int i = 0; i < parts.length; i++) {
            if (parts[i].isEmpty()) {
                throw new QueryException(null, dotted, "field path has an empty segment");
            }
            // Jackson interns field names, so interned segments usually compare by identity.
            parts[i] = parts[i].intern();
        }
        return new FieldPath(dotted, parts);
    }

    /** This path followed by {@code sub} (a path relative to the documents this one reaches). */
    FieldPath child(FieldPath sub) {
        String[] joined = new String[parts.length + sub.parts.length];
        System.arraycopy(parts, 0, joined, 0, parts.length);
        System.arraycopy(sub.parts, 0, joined, parts.length, sub.parts.length);
        return new FieldPath(dotted + "." + sub.dotted, joined);
    }

    String dotted() {
        return dotted;
    }

    /** Whether any leaf the path reaches in {@code doc} passes {@code test}. */
    boolean any(JsonNode doc, LeafTest test) {
        // Fast path: documents all the way down (no array on the way), the common case.
        JsonNode node = doc;
        for (int i = 0; i < parts.length; i++) {
            if (!(node instanceof ObjectNode object)) {
                return walk(node, i, test) == MATCH;
            }
            node = object.get(parts[i]);
            if (node == null) {
                return test.test(null);
            }
        }
        return test.test(node);
    }

    /** Hands every leaf the path reaches to {@code visitor} (missing leaves included, as null). */
    void forEachLeaf(JsonNode doc, LeafTest visitor) {
        JsonNode node = doc;
        for (int i = 0; i < parts.length; i++) {
            if (!(node instanceof ObjectNode object)) {
                walk(node, i, leaf -> {
                    visitor.test(leaf);
                    return false;
                });
                return;
            }
            node = object.get(parts[i]);
            if (node == null) {
                visitor.test(null);
                return;
            }
        }
        visitor.test(node);
    }

    private int walk(JsonNode node, int i, LeafTest test) {
        if (i == parts.length) {
            return test.test(node) ? MATCH : NO_MATCH;
        }
        if (node instanceof ObjectNode object) {
            JsonNode child = object.get(parts[i]);
            if (child == null) {
                return test.test(null) ? MATCH : NO_MATCH;
            }
            return walk(child, i + 1, test);
        }
        if (node.isArray()) {
            int result = NONE;
            int index = indexes[i];
            if (index >= 0) {
                JsonNode element = node.get(index);
                if (element != null) {
                    result = walk(element, i + 1, test);
                    if (result == MATCH) {
                        return MATCH;
                    }
                }
            }
            for (JsonNode element : node) {
                if (element.isObject()) {
                    int r = walk(element, i, test);
                    if (r == MATCH) {
                        return MATCH;
                    }
                    result = Math.max(result, r);
                }
            }
            if (result == NONE) {
                return test.test(null) ? MATCH : NO_MATCH;
            }
            return result;
        }
        return test.test(null) ? MATCH : NO_MATCH;
    }

    private static int arrayIndex(String part) {
        if (part.length() > 9) {
            return -1;
        }
        for (int i = 0; i < part.length(); i++) {
            if (part.charAt(i) < '0' || part.charAt(i) > '9') {
                return -1;
            }
        }
        if (part.length() > 1 && part.charAt(0) == '0') {
            return -1;
        }
        return Integer.parseInt(part);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FieldPath other && other.dotted.equals(dotted);
    }

    @Override
    public int hashCode() {
        return dotted.hashCode();
    }

    @Override
    public String toString() {
        return dotted;
    }
}
