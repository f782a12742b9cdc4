package io.sluice.store.sqlite;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import io.sluice.core.log.StoreException;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * How the embedded store keeps the events of a chunk in its row ({@code store.compression}).
 *
 * <p>Each row says for itself how it is kept: a row whose {@code events} column starts with
 * {@code [} is the JSON array of the events' texts, one that starts with Zstandard's magic
 * number is that array compressed. So the setting can change between runs of the same
 * database: it decides how new rows are written, and every row stays readable.
 */
public enum Compression {
    /**
     * The JSON array as it is: bodies readable with {@code sqlite3} through the {@code events}
     * view; about four times the disk and the writes of {@link #ZSTD} for JSON events.
     */
    NONE,

    /**
     * Zstandard at level 1, the default: JSON events take a fifth to a tenth of the space, and
     * less is written to the WAL, read back and copied into the database file. The {@code
     * events} view shows these rows' offsets, ids and types, and a null body.
     */
    ZSTD;

    /** Level 1: fast (about 1 GB/s on one core) and most of what higher levels gain on JSON. */
    static final int ZSTD_LEVEL = 1;

    private static final byte[] ZSTD_MAGIC = {0x28, (byte) 0xB5, 0x2F, (byte) 0xFD};

    /** The setting by its configuration name, {@code zstd} or {@code none}. */
    public static Compression named(String name) {
        for (Compression c : values()) {
            if (c.configName().equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("must be zstd or none, not '" + name + "'");
    }

    /** The name in the configuration file. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Fails, naming the way out, when this compression cannot work here: Zstandard is a native
     * library, extracted for the platform when first used.
     */
    void checkAvailable() {
        if (this == ZSTD) {
            try {
                Zstd.compressBound(1);
            } catch (LinkageError e) {
                throw new StoreException(
                        "zstd compression is not available on this platform (" + e
                                + "); set store.compression: none to store chunks uncompressed",
                        e);
            }
        }
    }

    /**
     * Something that writes chunks' {@code events} columns this way, for one thread at a time
     * (the store's writer keeps one: Zstandard's context, tables and buffers are made once,
     * not per chunk).
     */
    Encoder encoder() {
        if (this == NONE) {
            return new Encoder() {
                @Override
                public byte[] encode(byte[] text, int length) {
                    return Arrays.copyOf(text, length);
                }

                @Override
                public void close() {}
            };
        }
        ZstdCompressCtx context = new ZstdCompressCtx().setLevel(ZSTD_LEVEL);
        return new Encoder() {
            // Compressed into a buffer kept for the next chunk, then copied out at its length:
            // a new buffer of the worst-case size per chunk was mostly zeroing memory.
            // (A chunk of one event larger than that gets a buffer of its own, not kept.)
            private static final int BUFFERED_LENGTH = 2 * Chunk.MAX_BYTES;
            private final byte[] buffer = new byte[(int) Zstd.compressBound(BUFFERED_LENGTH)];

            @Override
            public byte[] encode(byte[] text, int length) {
                // The bound grows with the length: what fits the buffer's length fits the buffer.
                byte[] into =
                        length <= BUFFERED_LENGTH ? buffer : new byte[Math.toIntExact(Zstd.compressBound(length))];
                int compressed = context.compressByteArray(into, 0, into.length, text, 0, length);
                return Arrays.copyOf(into, compressed);
            }

            @Override
            public void close() {
                context.close();
            }
        };
    }

    /** Writes chunks' {@code events} columns; not thread-safe. */
    interface Encoder extends AutoCloseable {
        /**
         * The {@code events} column for a chunk whose JSON array text is the first {@code
         * length} bytes of {@code text} (a buffer the caller reuses: the result never aliases it).
         */
        byte[] encode(byte[] text, int length);

        @Override
        void close();
    }

    /**
     * Decompression contexts not in use, for the next row read (by any thread): making one per
     * row showed as 4% of a full scan's profile. At most {@link #MAX_IDLE_DECOMPRESSORS} are kept;
     * more readers at once make their own and close them after.
     */
    private static final ConcurrentLinkedDeque<ZstdDecompressCtx> IDLE_DECOMPRESSORS = new ConcurrentLinkedDeque<>();

    private static final int MAX_IDLE_DECOMPRESSORS = 8;

    private static void release(ZstdDecompressCtx context) {
        if (context == null) {
            return;
        }
        context.reset();
        if (IDLE_DECOMPRESSORS.size() < MAX_IDLE_DECOMPRESSORS) {
            IDLE_DECOMPRESSORS.addFirst(context);
        } else {
            context.close();
        }
    }

    /**
     * The JSON array text of a row's {@code events} column, however it was written.
     *
     * @param length the array text's length, known from the row's sizes
     * @param firstOffset the row's first offset, for errors
     */
    static byte[] decode(byte[] stored, int length, long firstOffset) {
        if (stored.length > 0 && stored[0] == '[') {
            if (stored.length != length) {
                throw new StoreException("corrupt chunk at offset " + firstOffset + ": its events are " + stored.length
                        + " bytes, its sizes say " + length);
            }
            return stored;
        }
        if (stored.length >= ZSTD_MAGIC.length
                && Arrays.equals(stored, 0, ZSTD_MAGIC.length, ZSTD_MAGIC, 0, ZSTD_MAGIC.length)) {
            byte[] text;
            ZstdDecompressCtx context = null;
            try {
                context = IDLE_DECOMPRESSORS.pollFirst();
                if (context == null) {
                    context = new ZstdDecompressCtx();
                }
                text = context.decompress(stored, length);
            } catch (ZstdException e) {
                throw new StoreException(
                        "corrupt chunk at offset " + firstOffset + ": its zstd frame does not decode: "
                                + e.getMessage(),
                        e);
            } catch (LinkageError e) {
                throw new StoreException(
                        "the chunk at offset " + firstOffset + " is zstd-compressed and zstd is not available on"
                                + " this platform (" + e + ")",
                        e);
            } finally {
                release(context);
            }
            if (text.length != length || text[0] != '[') {
                throw new StoreException("corrupt chunk at offset " + firstOffset + ": its zstd frame holds "
                        + text.length + " bytes, its sizes say " + length);
            }
            return text;
        }
        throw new StoreException(
                "corrupt chunk at offset " + firstOffset + ": its events are neither a JSON array nor zstd-compressed");
    }
}
