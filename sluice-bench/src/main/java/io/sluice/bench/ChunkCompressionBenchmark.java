package io.sluice.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.luben.zstd.Zstd;
import io.sluice.testkit.Notifications;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * How fast, and how far, codecs compress rows like the embedded store's chunks: JSON arrays
 * of OpenStack notifications, cut as the store cuts them. It chose the store's codec
 * ({@code store.compression: zstd}, level 1); zstd's faster negative levels, LZ4 and Deflate are
 * here for comparison. One operation = one row; the compression ratio over all rows is printed
 * at setup.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ChunkCompressionBenchmark {
    @Param({"zstd1", "zstd-1", "zstd-3", "zstd-5", "lz4", "deflate1"})
    String codec;

    private static final int ROWS = 40;
    private static final int MAX_EVENTS = 256; // the store's Chunk.MAX_EVENTS
    private static final int MAX_BYTES = 256 * 1024; // and Chunk.MAX_BYTES

    private List<byte[]> rows;
    private LZ4Compressor lz4;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        // Rows as the store cuts them: at most 256 events, closed once they reach 256 KB.
        List<ObjectNode> events = Notifications.load().take(ROWS * MAX_EVENTS, 3);
        rows = new ArrayList<>(ROWS);
        int taken = 0;
        for (int r = 0; r < ROWS; r++) {
            StringBuilder row = new StringBuilder("[");
            for (int i = 0; i < MAX_EVENTS && row.length() < MAX_BYTES; i++) {
                row.append(i == 0 ? "" : ",").append(events.get(taken++));
            }
            rows.add(row.append(']').toString().getBytes(StandardCharsets.UTF_8));
        }
        lz4 = LZ4Factory.fastestInstance().fastCompressor();
        long raw = 0;
        long packed = 0;
        for (byte[] row : rows) {
            raw += row.length;
            packed += compress(row);
        }
        System.out.printf(
                Locale.ROOT,
                "%n# %s: %d rows, %,d bytes -> %,d bytes, %.1f times smaller, %,d bytes per row%n",
                codec,
                ROWS,
                raw,
                packed,
                raw / (double) packed,
                raw / ROWS);
    }

    /** Compresses one row; returns the compressed length. */
    @Benchmark
    public int compressRow() {
        byte[] row = rows.get(next);
        next = next + 1 == ROWS ? 0 : next + 1;
        return compress(row);
    }

    private int compress(byte[] row) {
        return switch (codec) {
            case "zstd1" -> Zstd.compress(row, 1).length;
            case "zstd-1" -> Zstd.compress(row, -1).length; // zstd's faster negative levels
            case "zstd-3" -> Zstd.compress(row, -3).length;
            case "zstd-5" -> Zstd.compress(row, -5).length;
            case "lz4" -> lz4.compress(row).length;
            case "deflate1" -> {
                Deflater deflater = new Deflater(1);
                try {
                    deflater.setInput(row);
                    deflater.finish();
                    byte[] out = new byte[row.length + 1024];
                    yield deflater.deflate(out);
                } finally {
                    deflater.end();
                }
            }
            default -> throw new IllegalArgumentException("unknown codec " + codec);
        };
    }
}
