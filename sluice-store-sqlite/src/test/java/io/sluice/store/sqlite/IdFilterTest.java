package io.sluice.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdFilterTest {
    @TempDir
    Path dir;

    @Test
    void everyAddedHashMayBeThereAndFewOthersDo() {
        IdFilter filter = new IdFilter(100_000);
        long[] added = new SplittableRandom(1).longs(100_000).toArray();
        for (long hash : added) {
            filter.add(hash);
        }
        assertThat(LongStream.of(added).allMatch(filter::mayContain)).isTrue();
        long falsePositives = new SplittableRandom(2)
                .longs(100_000)
                .filter(filter::mayContain)
                .count();
        assertThat(falsePositives)
                .as("ids never added that still need the table")
                .isLessThan(4_000);
        assertThat(filter.full()).isFalse();
    }

    @Test
    void idHashesOfRealIdsSpreadOverTheFilter() {
        IdFilter filter = new IdFilter(50_000);
        for (int i = 0; i < 50_000; i++) {
            filter.add(IdIndex.fnv("order-" + i));
        }
        long falsePositives = LongStream.range(0, 50_000)
                .filter(i -> filter.mayContain(IdIndex.fnv("invoice-" + i)))
                .count();
        assertThat(falsePositives).isLessThan(2_000);
    }

    @Test
    void twoThreadsAddingToOneFilterLoseNothing() {
        IdFilter filter = new IdFilter(200_000);
        long[] one = new SplittableRandom(3).longs(100_000).toArray();
        long[] two = new SplittableRandom(4).longs(100_000).toArray();
        CompletableFuture.allOf(
                        CompletableFuture.runAsync(() -> LongStream.of(one).forEach(filter::add)),
                        CompletableFuture.runAsync(() -> LongStream.of(two).forEach(filter::add)))
                .join();
        assertThat(LongStream.of(one).allMatch(filter::mayContain)).isTrue();
        assertThat(LongStream.of(two).allMatch(filter::mayContain)).isTrue();
        assertThat(filter.added()).isEqualTo(200_000);
    }

    @Test
    void aFilterIsFullPastWhatItWasPlannedFor() {
        IdFilter filter = new IdFilter(1_000);
        new SplittableRandom(5).longs(1_001).forEach(filter::add);
        assertThat(filter.full()).isTrue();
        assertThat(new IdFilter(10_000_000).bytes()).isEqualTo(16L * 1024 * 1024);
    }

    @Test
    void aSavedFilterLoadsWithTheSameBitsForItsStampOnly() throws IOException {
        IdFilter filter = new IdFilter(300_000); // several blocks of the file
        long[] added = new SplittableRandom(6).longs(300_000).toArray();
        LongStream.of(added).forEach(filter::add);
        Path file = dir.resolve("ids");
        IdFilter.Stamp stamp = new IdFilter.Stamp(300_000, 123_456_789, 299_000);
        filter.save(file, stamp);

        IdFilter loaded = IdFilter.load(file, stamp).orElseThrow();
        assertThat(LongStream.of(added).allMatch(loaded::mayContain)).isTrue();
        assertThat(new SplittableRandom(7)
                        .longs(100_000)
                        .filter(loaded::mayContain)
                        .count())
                .isEqualTo(new SplittableRandom(7)
                        .longs(100_000)
                        .filter(filter::mayContain)
                        .count());
        assertThat(loaded.capacity()).isEqualTo(filter.capacity());
        assertThat(loaded.added()).isEqualTo(300_000);
        assertThat(loaded.bytes()).isEqualTo(filter.bytes());

        assertThat(IdFilter.load(file, new IdFilter.Stamp(300_001, 123_456_789, 299_000)))
                .as("saved for another state of the store")
                .isEmpty();
        assertThat(IdFilter.load(file, new IdFilter.Stamp(300_000, 123_456_789, 300_000)))
                .isEmpty();
        assertThat(IdFilter.load(dir.resolve("missing"), stamp)).isEmpty();
        assertThat(Files.list(dir)).containsExactly(file); // no temporary file left
    }

    @Test
    void aDamagedSavedFilterIsRefused() throws IOException {
        IdFilter filter = new IdFilter(100_000);
        new SplittableRandom(8).longs(100_000).forEach(filter::add);
        IdFilter.Stamp stamp = new IdFilter.Stamp(1, 2, 3);
        Path flipped = dir.resolve("flipped");
        filter.save(flipped, stamp);
        try (RandomAccessFile f = new RandomAccessFile(flipped.toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 0x10);
        }
        assertThatThrownBy(() -> IdFilter.load(flipped, stamp)).hasMessageContaining("checksum");

        Path cut = dir.resolve("cut");
        filter.save(cut, stamp);
        try (RandomAccessFile f = new RandomAccessFile(cut.toFile(), "rw")) {
            f.setLength(f.length() - 100);
        }
        assertThatThrownBy(() -> IdFilter.load(cut, stamp)).hasMessageContaining("ends early");
    }
}
