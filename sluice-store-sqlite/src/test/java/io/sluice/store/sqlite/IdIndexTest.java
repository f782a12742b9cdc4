package io.sluice.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When the filter over stored ids is built again from the table. */
class IdIndexTest {
    private static final long MB = 1024 * 1024;

    @Test
    void aFullFilterIsBuiltAgainWhenItWouldGrowOrHalfOfItIsGone() {
        assertThat(IdIndex.rebuildDue(false, 2 * MB, 4 * MB, 1_000_000, 1_000_000))
                .as("not full")
                .isFalse();
        assertThat(IdIndex.rebuildDue(true, 2 * MB, 4 * MB, 1_100_000, 1_100_000))
                .as("the log grew: a larger filter")
                .isTrue();
        assertThat(IdIndex.rebuildDue(true, 2 * MB, 2 * MB, 2_100_000, 1_000_000))
                .as("retention removed more than half of its hashes")
                .isTrue();
        assertThat(IdIndex.rebuildDue(true, 256 * MB, 256 * MB, 270_000_000, 270_000_000))
                .as("at the largest size, nothing gone: reading the table again would gain nothing")
                .isFalse();
    }

    @Test
    void filtersStopGrowingAtTheirLargestSize() {
        assertThat(IdFilter.bytesFor(1_000_000)).isEqualTo(2 * MB);
        assertThat(IdFilter.bytesFor(100_000_000)).isEqualTo(128 * MB);
        assertThat(IdFilter.bytesFor(200_000_000)).isEqualTo(256 * MB);
        assertThat(IdFilter.bytesFor(400_000_000)).isEqualTo(256 * MB);
        assertThat(IdFilter.holds(IdFilter.MAX_WORDS))
                .as("what the largest filter holds at its planned rate, and so its capacity")
                .isEqualTo((1L << 31) / IdFilter.BITS_PER_ENTRY);
        assertThat(new IdFilter(1_000_000).capacity()).isEqualTo(1_000_000);
        assertThat(new IdFilter(400_000_000).capacity()) // 256 MB of bits: counts as full past what they hold
                .isEqualTo(IdFilter.holds(IdFilter.MAX_WORDS));
    }
}
