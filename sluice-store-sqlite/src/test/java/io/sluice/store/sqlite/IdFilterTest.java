package io.sluice.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class IdFilterTest {
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
}
