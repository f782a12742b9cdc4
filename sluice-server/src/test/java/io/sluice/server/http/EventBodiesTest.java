package io.sluice.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class EventBodiesTest {
    /** The first newline of the body from a position, found eight bytes at a time. */
    @Test
    void findsTheFirstNewlineWhereverItIs() {
        for (int length = 0; length < 40; length++) {
            for (int from = 0; from <= length; from++) {
                byte[] bytes = new byte[length];
                Arrays.fill(bytes, (byte) 'x');
                assertThat(EventBodies.lineEnd(bytes, from)).isEqualTo(length); // none
                for (int at = from; at < length; at++) {
                    byte[] one = bytes.clone();
                    one[at] = '\n';
                    if (at + 1 < length) {
                        one[at + 1] = '\n'; // and the next: the first is found
                    }
                    if (at > from) {
                        one[at - 1] = 0x0b; // a neighbour that differs from '\n' in one bit
                    }
                    assertThat(EventBodies.lineEnd(one, from))
                            .as("length %d from %d at %d", length, from, at)
                            .isEqualTo(at);
                }
            }
        }
        byte[] before = "x\nabcdefghijklmnop".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        assertThat(EventBodies.lineEnd(before, 2)).isEqualTo(before.length); // a newline before from is not one
    }
}
