package io.sluice.core.connect;

import io.sluice.api.component.Field;
import io.sluice.api.component.Message;
import io.sluice.api.component.Settings;
import io.sluice.api.component.Sink;
import io.sluice.api.component.Spec;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Appends each match to a file as one NDJSON line {@code {"query","key","offset","event"}},
 * forced to disk before the batch counts as delivered. When the file would pass
 * {@code max_bytes} it is renamed to {@code PATH.1} (the previous {@code .1} becoming
 * {@code .2}, up to {@code keep} files) and a new one is started.
 */
public final class FileSink implements Sink {
    public static final Field PATH =
            Field.required("path", Field.Type.STRING, "the file to append to (relative to the config file)");
    public static final Field MAX_BYTES =
            Field.optional("max_bytes", Field.Type.SIZE, "100MB", "rotate when the file would grow past this");
    public static final Field KEEP = Field.optional("keep", Field.Type.INTEGER, 5, "rotated files kept");

    public static final Spec SPEC = new Spec(
            "output",
            "file",
            "Appends each match as an NDJSON line {\"query\",\"key\",\"offset\",\"event\"} to a file, rotated by size.",
            List.of(PATH, MAX_BYTES, KEEP));

    private final Path path;
    private final long maxBytes;
    private final int keep;
    private FileChannel channel;
    private long size; // of the file, as written through the channel

    public FileSink(Path path, long maxBytes, int keep) {
        this.path = path;
        this.maxBytes = maxBytes;
        this.keep = Math.max(1, keep);
    }

    /** A file sink from its settings; {@code base} resolves a relative path. */
    public static FileSink of(Settings s, Path base) {
        return new FileSink(
                base.resolve(s.string(PATH.name())), s.size(MAX_BYTES.name()), (int) s.integer(KEEP.name()));
    }

    @Override
    public void open() throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        channel =
                FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    @Override
    public List<Refusal> send(List<Message> messages) throws IOException {
        java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream(messages.size() * 1_100);
        for (Message m : messages) {
            byte[] line = (StdoutSink.line(m) + "\n").getBytes(StandardCharsets.UTF_8);
            if (maxBytes > 0 && size + pending.size() > 0 && size + pending.size() + line.length > maxBytes) {
                write(pending);
                rotate();
            }
            pending.writeBytes(line);
        }
        write(pending);
        channel.force(false);
        return List.of();
    }

    /** Writes what is pending in one go (a system call or a few), and empties it. */
    private void write(java.io.ByteArrayOutputStream pending) throws IOException {
        var buffer = java.nio.ByteBuffer.wrap(pending.toByteArray());
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        size += pending.size();
        pending.reset();
    }

    private void rotate() throws IOException {
        channel.force(false);
        channel.close();
        for (int i = keep - 1; i >= 1; i--) {
            Path from = Path.of(path + "." + i);
            if (Files.exists(from)) {
                Files.move(from, Path.of(path + "." + (i + 1)), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.move(path, Path.of(path + ".1"), StandardCopyOption.REPLACE_EXISTING);
        open();
    }

    @Override
    public void close() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing after a failure; the next open reports what is wrong
            }
            channel = null;
        }
    }
}
