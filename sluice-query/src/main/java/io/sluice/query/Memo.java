package io.sluice.query;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;

/**
 * What paths resolved to in one document, so that matching many queries against one event walks
 * each path once: the index looks paths up, then candidates are evaluated over the same paths.
 * Only paths through documents alone are remembered; a path that meets an array is walked each
 * time. One thread, one document at a time: {@link #reset} before each.
 */
final class Memo {
    /** A path that meets an array on the way: not remembered. */
    static final Object THROUGH_ARRAY = new Object();

    /** A path that reaches nothing. */
    static final Object MISSING = new Object();

    private Object[] values = new Object[16];
    private int[] stamps = new int[16];
    private int stamp = 1;
    private JsonNode document;

    /** Starts on a new document. */
    void reset(JsonNode doc) {
        document = doc;
        if (++stamp == 0) {
            Arrays.fill(stamps, 0);
            stamp = 1;
        }
    }

    /** What the path resolved to (a leaf, {@link #MISSING} or {@link #THROUGH_ARRAY}), or null if not yet known. */
    Object get(FieldPath path, JsonNode doc) {
        int id = path.id();
        return doc == document && id >= 0 && id < stamps.length && stamps[id] == stamp ? values[id] : null;
    }

    void put(FieldPath path, JsonNode doc, Object value) {
        if (doc != document) {
            return; // an embedded document ($elemMatch): not the event this memo is for
        }
        int id = path.id();
        if (id < 0) {
            return;
        }
        if (id >= stamps.length) {
            int size = Math.max(id + 1, stamps.length * 2);
            stamps = Arrays.copyOf(stamps, size);
            values = Arrays.copyOf(values, size);
        }
        stamps[id] = stamp;
        values[id] = value;
    }
}
