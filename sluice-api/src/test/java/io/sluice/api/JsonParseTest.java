package io.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JsonParseTest {

    @Test
    void refusesANameRepeatedInOneObjectAtAnyDepthNamingItAndWhere() {
        assertThatThrownBy(() -> Json.parse("{\"a\":1,\"b\":2,\"a\":3}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("invalid JSON: Duplicate field 'a' (line 1, column 19)");
        assertThatThrownBy(() -> Json.parse("{\"x\":{\"k\":1,\n\"k\":{\"deep\":true}}}"))
                .hasMessageStartingWith("invalid JSON: Duplicate field 'k' (line 2");
        assertThatThrownBy(() -> Json.parse("[{\"k\":1},{\"j\":[],\"k\":2,\"j\":null}]"))
                .hasMessageContaining("Duplicate field 'j'");
    }

    @Test
    void refusesRepeatedNamesInBytesAndInTypedReadsToo() {
        byte[] repeated = "{\"id\":\"a\",\"id\":\"b\"}".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Json.mapper().readTree(repeated))
                .isInstanceOf(JsonProcessingException.class)
                .hasMessageStartingWith("Duplicate field 'id'");
        assertThatThrownBy(() -> Json.mapper().readValue(repeated, ObjectNode.class))
                .isInstanceOf(JsonProcessingException.class)
                .hasMessageContaining("Duplicate field 'id'");
    }

    @Test
    void acceptsTheSameNameInDifferentObjects() {
        assertThat(Json.parse("{\"k\":1,\"x\":{\"k\":2},\"y\":[{\"k\":3},{\"k\":4}]}")
                        .at("/y/1/k")
                        .asInt())
                .isEqualTo(4);
    }

    @Test
    void refusesTrailingTokens() {
        assertThatThrownBy(() -> Json.parse("{\"a\":1} {\"b\":2}")).hasMessageContaining("Trailing token");
    }
}
