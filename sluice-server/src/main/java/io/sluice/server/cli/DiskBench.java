package io.sluice.server.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice bench disk}: how long the disk under a data directory takes to make a write
 * durable, in the pattern of the embedded store's group commits: a block of {@code --bytes}
 * (a commit of 100 events of 1 KB by default) written into a file that is already allocated,
 * as the store's write-ahead log is once it starts over, then flushed with {@code fsync}, at
 * a fixed rate. Every acknowledgement of {@code POST /v1/events} waits for at least one such
 * flush, so its latency here is the floor under the server's acknowledgement latency on this
 * disk.
 *
 * <p>Latency is counted from each write's scheduled time, so a flush that holds up the next
 * one is not hidden. The scratch file is deleted afterwards.
 */
@Command(
        name = "disk",
        mixinStandardHelpOptions = true,
        description = {
            "Latency of a durable write (write then fsync) on the disk under a data directory, in the pattern of the"
                    + " embedded store's group commits: the floor under acknowledgement latency on that disk."
        })
final class DiskBench implements Callable<Integer> {
    private static final int MIB = 1 << 20;

    @Spec
    CommandSpec spec;

    @Option(
            names = "--data",
            defaultValue = "sluice-data",
            paramLabel = "DIR",
            description = "Directory on the disk to measure, created if missing (default: ${DEFAULT-VALUE}).")
    Path data;

    @Option(
            names = "--bytes",
            defaultValue = "102400",
            description = "Bytes per commit (default: ${DEFAULT-VALUE}, 100 events of 1 KB).")
    int bytes;

    @Option(
            names = "--rate",
            defaultValue = "200",
            description = "Commits per second on a fixed schedule; 0: back to back (default: ${DEFAULT-VALUE},"
                    + " the commits of 20,000 events/s in requests of 100).")
    int rate;

    @Option(
            names = "--sync",
            defaultValue = "fsync",
            description =
                    "fsync (file data and metadata, as SQLite does on Linux) or fdatasync (default: ${DEFAULT-VALUE}).")
    Sync sync;

    /** How a write is made durable. */
    enum Sync {
        fsync,
        fdatasync
    }

    @Option(names = "--seconds", defaultValue = "15", description = "Measured seconds (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(
            names = "--warmup",
            defaultValue = "2",
            description = "Seconds of commits before measuring (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(
            names = "--file-mb",
            defaultValue = "64",
            description = "Size of the scratch file the commits cycle through (default: ${DEFAULT-VALUE}).")
    int fileMegabytes;

    @Override
    public Integer call() throws IOException {
        if (bytes < 1 || seconds < 1 || warmup < 0 || rate < 0 || fileMegabytes < 1) {
            throw new InvalidInputException(
                    "--bytes, --seconds and --file-mb must be positive; --warmup and --rate not negative");
        }
        if (fileBytes() < bytes) {
            throw new InvalidInputException("--file-mb must hold at least one commit of --bytes");
        }
        if (Files.exists(data) && !Files.isDirectory(data)) {
            throw new InvalidInputException("--data: not a directory: " + data);
        }
        Files.createDirectories(data);
        Path scratch = Files.createTempFile(data, "sluice-bench-disk-", ".tmp");
        try (FileChannel file = FileChannel.open(scratch, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            PrintWriter out = spec.commandLine().getOut();
            out.printf(
                    Locale.ROOT,
                    "sluice bench disk: %s (%s), %,d bytes per commit, %s, %s, %d s after %d s warm-up%n",
                    data.toAbsolutePath().normalize(),
                    Files.getFileStore(data).type(),
                    bytes,
                    sync,
                    rate > 0 ? String.format(Locale.ROOT, "%,d commits/s", rate) : "back to back",
                    seconds,
                    warmup);
            out.flush();
            allocate(file);
            Histogram latency = measure(file);
            long commits = latency.getTotalCount();
            ThroughputTable.print(
                    out, "commits/s", commits / (double) seconds, commits * (double) bytes / seconds, latency);
            return 0;
        } finally {
            Files.deleteIfExists(scratch);
        }
    }

    private long fileBytes() {
        return (long) fileMegabytes * MIB;
    }

    /** Writes the whole scratch file once and flushes it, so commits overwrite allocated blocks. */
    private void allocate(FileChannel file) throws IOException {
        ByteBuffer block = ByteBuffer.allocateDirect(MIB);
        for (long at = 0; at < fileBytes(); at += MIB) {
            writeFully(file, block, at);
        }
        file.force(true);
    }

    private static void writeFully(FileChannel file, ByteBuffer block, long position) throws IOException {
        block.clear();
        while (block.hasRemaining()) {
            file.write(block, position + block.position());
        }
    }

    /** Commits on schedule (or back to back) for the warm-up and the measured seconds. */
    private Histogram measure(FileChannel file) {
        Histogram latency = new Histogram(Duration.ofSeconds(60).toNanos(), 3);
        ByteBuffer block = ByteBuffer.allocateDirect(bytes);
        for (int i = 0; i < bytes; i++) {
            block.put((byte) ('a' + i % 26));
        }
        long interval = rate > 0 ? 1_000_000_000L / rate : 0;
        long start = System.nanoTime();
        long measureFrom = start + Duration.ofSeconds(warmup).toNanos();
        long end = measureFrom + Duration.ofSeconds(seconds).toNanos();
        long position = 0;
        long scheduled = start;
        while (scheduled < end) {
            if (rate > 0) {
                LockSupport.parkNanos(scheduled - System.nanoTime());
            }
            long began = rate > 0 ? scheduled : System.nanoTime();
            if (position + bytes > fileBytes()) {
                position = 0;
            }
            commit(file, block, position);
            position += bytes;
            long done = System.nanoTime();
            if (began >= measureFrom && (rate > 0 || done <= end)) {
                latency.recordValue(Math.min(done - began, latency.getHighestTrackableValue()));
            }
            scheduled = rate > 0 ? scheduled + interval : done;
        }
        return latency;
    }

    private void commit(FileChannel file, ByteBuffer block, long position) {
        try {
            writeFully(file, block, position);
            file.force(sync == Sync.fsync);
        } catch (IOException e) {
            throw new UncheckedIOException("writing the scratch file in " + data, e);
        }
    }
}
