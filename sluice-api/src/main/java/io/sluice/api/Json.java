package io.sluice.api;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.JsonNodeDeserializer;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The one JSON configuration Sluice uses everywhere, so that events read alike on every path. */
public final class Json {
    /** Maximum nesting depth of a document; deeper input is rejected rather than risking the stack. */
    public static final int MAX_DEPTH = 256;

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            // StrictTrees refuses repeated names in trees read as JsonNode; reads typed as
            // ObjectNode or ArrayNode bypass it and are refused by Jackson's own check.
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .addModule(new SimpleModule("sluice-json").addDeserializer(JsonNode.class, new StrictTrees()))
            .build();

    static {
        MAPPER.getFactory()
                .setStreamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_DEPTH)
                        .build());
    }

    private Json() {}

    /** The shared mapper: thread-safe; do not reconfigure it. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** Node factory for building documents. */
    public static JsonNodeFactory nodes() {
        return JsonNodeFactory.instance;
    }

    /** A new empty JSON object. */
    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /**
     * Parses one JSON value.
     *
     * @throws IllegalArgumentException naming the line and column of the syntax error
     */
    public static JsonNode parse(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("invalid JSON: " + e.getOriginalMessage() + locationOf(e), e);
        }
    }

    /** Serialises a value as compact JSON. */
    public static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise JSON", e);
        }
    }

    /**
     * Appends {@code text} as a JSON string literal, quoted and escaped as Jackson writes it
     * (null as {@code null}): written as it is when it needs no escaping, as ids and types
     * usually do.
     */
    public static StringBuilder quote(StringBuilder out, String text) {
        if (text == null) {
            return out.append("null");
        }
        out.append('"');
        if (plain(text)) {
            out.append(text);
        } else {
            JsonStringEncoder.getInstance().quoteAsString(text, out);
        }
        return out.append('"');
    }

    /** Whether a string goes into JSON as it is: no quote, backslash or control character. */
    private static boolean plain(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == '"' || c == '\\') {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads trees refusing a name repeated in one object, as Jackson's tree reader does with
     * {@code FAIL_ON_READING_DUP_TREE_KEY}, but with an error that names only the field. Refused
     * here rather than by the parser's {@code STRICT_DUPLICATE_DETECTION}: the tree already knows
     * whether a name was present when it puts the value, where the parser keeps a second set of
     * names per object (a fifth of the cost of parsing a notification).
     */
    private static final class StrictTrees extends JsonNodeDeserializer {
        @Override
        protected void _handleDuplicateField(
                JsonParser p,
                DeserializationContext ctxt,
                JsonNodeFactory nodeFactory,
                String fieldName,
                ObjectNode objectNode,
                JsonNode oldValue,
                JsonNode newValue)
                throws JsonParseException {
            throw new JsonParseException(p, "Duplicate field '" + fieldName + "'");
        }
    }

    private static String locationOf(com.fasterxml.jackson.core.JsonProcessingException e) {
        var loc = e.getLocation();
        return loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    }
}
