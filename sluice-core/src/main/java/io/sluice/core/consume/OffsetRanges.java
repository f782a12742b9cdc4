package io.sluice.core.consume;

import java.util.Map;
import java.util.TreeMap;

/** A set of offsets kept as disjoint, non-adjacent ranges, so long runs cost one entry. Not thread-safe. */
final class OffsetRanges {
    private final TreeMap<Long, Long> ranges = new TreeMap<>(); // start -> end, inclusive

    /** Adds the offsets {@code from} to {@code to} (inclusive; nothing when from > to). */
    void add(long from, long to) {
        if (from > to) {
            return;
        }
        Map.Entry<Long, Long> below = ranges.floorEntry(from);
        if (below != null && below.getValue() >= from - 1) {
            from = below.getKey();
            to = Math.max(to, below.getValue());
            ranges.remove(below.getKey());
        }
        Map.Entry<Long, Long> next;
        while ((next = ranges.ceilingEntry(from)) != null && next.getKey() <= to + 1) {
            to = Math.max(to, next.getValue());
            ranges.remove(next.getKey());
        }
        ranges.put(from, to);
    }

    boolean contains(long offset) {
        Map.Entry<Long, Long> e = ranges.floorEntry(offset);
        return e != null && e.getValue() >= offset;
    }

    /** Removes and returns the end of the range starting at {@code start}, or {@code start - 1} if none does. */
    long takeRunFrom(long start) {
        Long end = ranges.remove(start);
        return end == null ? start - 1 : end;
    }

    /** Forgets every offset up to {@code offset}. */
    void dropThrough(long offset) {
        while (!ranges.isEmpty() && ranges.firstKey() <= offset) {
            Map.Entry<Long, Long> first = ranges.pollFirstEntry();
            if (first.getValue() > offset) {
                ranges.put(offset + 1, first.getValue());
            }
        }
    }

    int ranges() {
        return ranges.size();
    }
}
