package io.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.TextNode;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JsonQuoteTest {
    private static final char[] ALPHABET = {
        'a', 'Z', '0', ' ', '/', '-', '"', '\\', '\n', '\t', '\r', 0x00, 0x1f, 0x7f, 'é', '€', 0x2028, '\uD83D',
        '\uDE00'
    };

    @Test
    void quotesAsJacksonWrites() {
        assertThat(Json.quote(new StringBuilder(), null).toString()).isEqualTo("null");
        assertThat(Json.quote(new StringBuilder("["), "").toString()).isEqualTo("[\"\"");
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder text = new StringBuilder();
            int length = random.nextInt(12);
            boolean plain = random.nextBoolean();
            for (int j = 0; j < length; j++) {
                text.append(plain ? (char) ('a' + random.nextInt(26)) : ALPHABET[random.nextInt(ALPHABET.length)]);
            }
            String s = text.toString();
            assertThat(Json.quote(new StringBuilder(), s).toString())
                    .as("%s", s)
                    .isEqualTo(Json.write(TextNode.valueOf(s)));
        }
    }
}
