package io.sluice.store.sqlite;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Bloom filter over the id hashes in the {@code event_ids} table: says "surely not there" for
 * most ids the log has never seen, so an append of fresh ids does not look each one up in the
 * table.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>The keys are {@link IdIndex} hashes, already mixed 64-bit values, so they are not hashed
 * again: the top bits choose one 64-bit word, and six 6-bit fields of the low bits set six bits
 * in it (a <em>blocked</em> filter: one memory access per lookup). With {@link #BITS_PER_ENTRY}
 * bits per planned entry, about 2% of the ids never seen still need the table; more once more
 * than {@link #capacity()} hashes are in, which is when the store builds a larger one.
 *
 * <p>Bits are only ever set, with an atomic OR, so a builder thread and the writer can add to
 * the same filter; a filter is read only by the writer (and by-id readers) once published.
 */
final class IdFilter {
    /** Bits per planned entry. */
    static final int BITS_PER_ENTRY = 10;

    /** The largest filter: 2^30 bits (128 MB), about 100 million entries at the planned rate. */
    static final int MAX_WORDS = 1 << 24;

    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] words;
    private final int shift;
    private final long capacity;
    private final AtomicLong added = new AtomicLong();

    /** The smallest filter: 64 words. */
    private static final int MIN_WORDS = 64;

    /** A filter planned for {@code capacity} entries. */
    IdFilter(long capacity) {
        long wanted = Math.max(MIN_WORDS, Math.max(1, capacity) * BITS_PER_ENTRY / 64);
        int n = (int) Math.min(MAX_WORDS, Long.highestOneBit(wanted - 1) << 1);
        this.words = new long[n];
        this.shift = 64 - Integer.numberOfTrailingZeros(n);
        this.capacity = capacity;
    }

    /** Adds a hash. Safe from several threads. */
    void add(long hash) {
        WORDS.getAndBitwiseOr(words, word(hash), mask(hash));
        added.incrementAndGet();
    }

    /** False when the hash was surely never added; true when it may have been. */
    boolean mayContain(long hash) {
        long mask = mask(hash);
        return (words[word(hash)] & mask) == mask;
    }

    /** How many entries the filter was planned for. */
    long capacity() {
        return capacity;
    }

    /** How many hashes were added (repeats included). */
    long added() {
        return added.get();
    }

    /** Whether more hashes were added than planned, so that lookups say "maybe" too often. */
    boolean full() {
        return added.get() > capacity;
    }

    /** Memory used by the bits. */
    long bytes() {
        return words.length * 8L;
    }

    private int word(long hash) {
        return (int) (hash >>> shift);
    }

    private static long mask(long hash) {
        long mask = 0;
        for (int i = 0; i < 6; i++) {
            mask |= 1L << (hash >>> (6 * i));
        }
        return mask;
    }
}
