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

    /**
     * One instance per dotted path, so that a path's {@link #id} can key per-event memos. Bounded:
     * past {@link #MAX_CANONICAL} distinct paths (ad-hoc filters in a long-running server), new
     * paths get no id and are simply not memoised.
     */
    private static final java.util.concurrent.ConcurrentHashMap<String, FieldPath> CANONICAL =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static final java.util.concurrent.atomic.AtomicInteger IDS =
            new java.util.concurrent.atomic.AtomicInteger();

    static final int MAX_CANONICAL = 1 << 16;

    private final String dotted;
    private final String[] parts;
    private final int[] indexes;
    private final int id;

    /** The path without its last segment, when both are memoised (so its resolution is shared); else null. */
    private final FieldPath parent;

    private FieldPath(String dotted, String[] parts, int id, FieldPath parent) {
        this.dotted = dotted;
        this.parts = parts;
        this.id = id;
        this.parent = parent;
        this.indexes = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            indexes[i] = arrayIndex(parts[i]);
        }
    }

    /** Parses a dotted path; empty paths and empty segments are rejected. The same path gives the same instance. */
    static FieldPath of(String dotted) {
        FieldPath known = CANONICAL.get(dotted);
        if (known != null) {
            return known;
        }
        String[] parts = split(dotted);
        if (CANONICAL.size() >= MAX_CANONICAL) {
            return new FieldPath(dotted, parts, -1, null);
        }
        // The parent is interned first, outside the map's update (which must not recurse).
        FieldPath parent = parts.length > 1 ? of(dotted.substring(0, dotted.lastIndexOf('.'))) : null;
        FieldPath memoisedParent = parent != null && parent.id >= 0 ? parent : null;
        return CANONICAL.computeIfAbsent(
                dotted, path -> new FieldPath(path, parts, IDS.getAndIncrement(), memoisedParent));
    }

    private static String[] split(String dotted) {
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
        return parts;
    }

    String dotted() {
        return dotted;
    }

    /** Dense id of an interned path, or -1 for a path past the bound (never memoised). */
    int id() {
        return id;
    }

    /** Whether any leaf the path reaches in {@code doc} passes {@code test}. */
    boolean any(JsonNode doc, LeafTest test) {
        return any(doc, test, null);
    }

    /** As {@link #any(JsonNode, LeafTest)}, remembering plain object paths in {@code memo} (may be null). */
    boolean any(JsonNode doc, LeafTest test, Memo memo) {
        Object resolved = resolve(doc, memo);
        if (resolved == Memo.THROUGH_ARRAY) {
            return walk(doc, 0, test) == MATCH;
        }
        return test.test(resolved == Memo.MISSING ? null : (JsonNode) resolved);
    }

    /** Hands every leaf the path reaches to {@code visitor} (missing leaves included, as null). */
    void forEachLeaf(JsonNode doc, LeafTest visitor, Memo memo) {
        Object resolved = resolve(doc, memo);
        if (resolved == Memo.THROUGH_ARRAY) {
            walk(doc, 0, leaf -> {
                visitor.test(leaf);
                return false;
            });
        } else {
            visitor.test(resolved == Memo.MISSING ? null : (JsonNode) resolved);
        }
    }

    /**
     * What the path resolves to in {@code doc} without walking arrays: its leaf (which may be
     * an array), {@link Memo#MISSING}, or {@link Memo#THROUGH_ARRAY} when an array is met on the
     * way (then only a walk, as {@link #any} does, tells the leaves).
     */
    Object leaf(JsonNode doc, Memo memo) {
        return resolve(doc, memo);
    }

    /**
     * The leaf of a path through documents alone (the common case: no recursion), or
     * {@link Memo#MISSING}, or {@link Memo#THROUGH_ARRAY} when an array is met on the way.
     */
    private Object resolve(JsonNode doc, Memo memo) {
        if (memo != null) {
            Object known = memo.get(this, doc);
            if (known != null) {
                return known;
            }
            if (parent != null) { // a.b.c: a.b is often known already (a sibling path resolved it)
                Object resolved = child(parent.resolve(doc, memo));
                memo.put(this, doc, resolved);
                return resolved;
            }
        }
        Object resolved = doc;
        JsonNode node = doc;
        for (int i = 0; i < parts.length; i++) {
            if (!(node instanceof ObjectNode object)) {
                resolved = node.isArray() ? Memo.THROUGH_ARRAY : Memo.MISSING;
                break;
            }
            node = object.get(parts[i]);
            if (node == null) {
                resolved = Memo.MISSING;
                break;
            }
            resolved = node;
        }
        if (memo != null) {
            memo.put(this, doc, resolved);
        }
        return resolved;
    }

    /** What this path's last segment reaches from what its parent path resolved to. */
    private Object child(Object parentResolved) {
        if (parentResolved instanceof ObjectNode object) {
            JsonNode node = object.get(parts[parts.length - 1]);
            return node == null ? Memo.MISSING : node;
        }
        if (parentResolved == Memo.THROUGH_ARRAY || (parentResolved instanceof JsonNode n && n.isArray())) {
            return Memo.THROUGH_ARRAY;
        }
        return Memo.MISSING;
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
