package io.sluice.store.sqlite;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

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
 *
 * <p>A filter can be saved to a file and loaded again ({@link #save}, {@link #load}) so that a
 * store closed cleanly does not read its whole id table again when it reopens. The file is
 * stamped with the state of the store it describes ({@link Stamp}) and checksummed; a stamp
 * that does not match (the store was appended to without saving again, say after a crash) or
 * a damaged file is not used, since a filter missing a stored id would let a duplicate in.
 */
final class IdFilter {
    /** Bits per planned entry. */
    static final int BITS_PER_ENTRY = 10;

    /**
     * The largest filter: 2^31 bits (256 MB), about 214 million entries at the planned rate. At
     * 128 MB a log of 140 million ids let 3.7% of new ids through to the table, and ingest fell
     * by a third; at 256 MB, 0.6%.
     */
    static final int MAX_WORDS = 1 << 25;

    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] words;
    private final int shift;
    private final long capacity;
    private final AtomicLong added = new AtomicLong();

    /** The smallest filter: 64 words. */
    private static final int MIN_WORDS = 64;

    /** A filter planned for {@code capacity} entries. */
    IdFilter(long capacity) {
        this(new long[words(capacity)], capacity, 0);
    }

    private IdFilter(long[] words, long capacity, long added) {
        this.words = words;
        this.shift = 64 - Integer.numberOfTrailingZeros(words.length);
        this.capacity = Math.min(capacity, holds(words.length));
        this.added.set(added);
    }

    /** The memory of a filter planned for {@code capacity} entries. */
    static long bytesFor(long capacity) {
        return words(capacity) * 8L;
    }

    private static int words(long capacity) {
        long wanted = Math.max(MIN_WORDS, Math.max(1, capacity) * BITS_PER_ENTRY / 64);
        return (int) Math.min(MAX_WORDS, Long.highestOneBit(wanted - 1) << 1);
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

    /** How many entries {@code words} words hold at {@link #BITS_PER_ENTRY}. */
    static long holds(int words) {
        return words * 64L / BITS_PER_ENTRY;
    }

    /**
     * How many entries the filter was planned for: those asked for, or fewer when the largest
     * size ({@link #MAX_WORDS}) cannot hold them at {@link #BITS_PER_ENTRY}, so that a filter at
     * that size counts as full once it holds what its bits can.
     */
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

    /**
     * What a saved filter describes: the store's last offset, its stored bytes and how far its
     * id table reaches, as they were when the filter was saved.
     */
    record Stamp(long lastOffset, long bytes, long indexedThrough) {}

    private static final long MAGIC =
            0x534C_5549_4345_4632L; // "SLUICEF2": filter values as IdIndex#filterValue makes them
    private static final int HEADER_BYTES = 6 * Long.BYTES + Integer.BYTES;
    private static final int BLOCK_WORDS = 1 << 16;

    /**
     * Writes the filter to {@code file}, stamped: to a temporary file first, forced to the disk,
     * then renamed over the old one, so a crash leaves the old file or the new one, never half.
     * Hashes must not be added meanwhile.
     */
    void save(Path file, Stamp stamp) throws IOException {
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        CRC32C crc = new CRC32C();
        try (FileChannel out = FileChannel.open(
                temporary, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            header.putLong(MAGIC)
                    .putLong(stamp.lastOffset())
                    .putLong(stamp.bytes())
                    .putLong(stamp.indexedThrough())
                    .putLong(capacity)
                    .putLong(added.get())
                    .putInt(words.length)
                    .flip();
            crc.update(header.duplicate());
            writeFully(out, header);
            ByteBuffer block = ByteBuffer.allocate(BLOCK_WORDS * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (int from = 0; from < words.length; from += BLOCK_WORDS) {
                int n = Math.min(BLOCK_WORDS, words.length - from);
                block.clear();
                block.asLongBuffer().put(words, from, n);
                block.limit(n * Long.BYTES);
                crc.update(block.duplicate());
                writeFully(out, block);
            }
            ByteBuffer sum = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            sum.putLong(crc.getValue()).flip();
            writeFully(out, sum);
            out.force(true);
        }
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * The filter saved in {@code file} if it was saved with {@code stamp}; empty when there is no
     * such file or it describes another state of the store.
     *
     * @throws IOException when the file cannot be read or is damaged (its checksum is wrong)
     */
    static Optional<IdFilter> load(Path file, Stamp stamp) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            CRC32C crc = new CRC32C();
            ByteBuffer header = readFully(in, HEADER_BYTES, file);
            crc.update(header.duplicate());
            if (header.getLong() != MAGIC) {
                throw new IOException(file + " is not a saved id filter");
            }
            Stamp saved = new Stamp(header.getLong(), header.getLong(), header.getLong());
            long capacity = header.getLong();
            long added = header.getLong();
            int n = header.getInt();
            if (!saved.equals(stamp)) {
                return Optional.empty();
            }
            if (n < MIN_WORDS || n > MAX_WORDS || Integer.bitCount(n) != 1) {
                throw new IOException(file + " is damaged: " + n + " words");
            }
            long[] words = new long[n];
            for (int from = 0; from < n; from += BLOCK_WORDS) {
                int count = Math.min(BLOCK_WORDS, n - from);
                ByteBuffer block = readFully(in, count * Long.BYTES, file);
                crc.update(block.duplicate());
                block.asLongBuffer().get(words, from, count);
            }
            if (readFully(in, Long.BYTES, file).getLong() != crc.getValue() || in.position() != in.size()) {
                throw new IOException(file + " is damaged: its checksum does not match");
            }
            return Optional.of(new IdFilter(words, capacity, added));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }

    private static ByteBuffer readFully(FileChannel in, int length, Path file) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (buffer.hasRemaining()) {
            if (in.read(buffer) < 0) {
                throw new IOException(file + " is damaged: it ends early");
            }
        }
        return buffer.flip();
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
