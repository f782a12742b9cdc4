package io.sluice.server.http;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Bytes tested eight at a time: a byte array read as little-endian longs (the first byte of a
 * word is its lowest), and tests that flag bytes by setting their high bit. A flag can spill
 * onto bytes after a flagged one (a borrow carries upward), never onto bytes before it, so the
 * lowest flag is exact: {@link #firstFlagged} is where a scan stops and looks closer.
 */
final class ByteWords {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private static final long ONES = 0x0101010101010101L;
    private static final long HIGH_BITS = ONES << 7;

    private ByteWords() {}

    /** The eight bytes from {@code p} on (there must be eight). */
    static long word(byte[] bytes, int p) {
        return (long) LONGS.get(bytes, p);
    }

    /** Flags the bytes of {@code w} equal to {@code c}: where {@code w ^ c..} has a zero byte. */
    static long equalTo(long w, char c) {
        long x = w ^ (ONES * c);
        return (x - ONES) & ~x & HIGH_BITS;
    }

    /** Flags the bytes of {@code w} below {@code limit} (at most 0x80): subtracting it borrows into their high bit. */
    static long below(long w, int limit) {
        return (w - ONES * limit) & ~w & HIGH_BITS;
    }

    /** Flags the bytes of {@code w} that are not ASCII: their own high bit. */
    static long nonAscii(long w) {
        return w & HIGH_BITS;
    }

    /** The index in its word of the first flagged byte ({@code flags} not zero). */
    static int firstFlagged(long flags) {
        return Long.numberOfTrailingZeros(flags) >>> 3;
    }
}
