package io.sluice.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Envelope;
import io.sluice.api.Json;
import io.sluice.testkit.Notifications;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Test;

/**
 * {@link EnvelopeScanner} against Jackson: on documents Jackson writes it reads the same
 * envelope (and defers exactly where it should), and on any bytes it accepts only what the
 * shared mapper accepts.
 */
class EnvelopeScannerTest {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final List<String> ENVELOPE = List.of("id", "type", "time");

    private final EnvelopeScanner scanner = new EnvelopeScanner(Envelope.DEFAULT);

    private ObjectNode scan(String line) {
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        return scanner.scan(bytes, 0, bytes.length);
    }

    // ------------------------------------------------------------------ documents Jackson writes

    @Test
    void readsTheEnvelopeOfEveryNotificationWithoutDeferring() {
        EnvelopeScanner winchester = new EnvelopeScanner(Envelope.WINCHESTER);
        for (ObjectNode event : Notifications.load().take(2_000, 3)) {
            byte[] bytes = Json.write(event).getBytes(StandardCharsets.UTF_8);
            ObjectNode fields = winchester.scan(bytes, 0, bytes.length);
            assertThat(fields).as(Json.write(event)).isNotNull();
            assertThat(fields).isEqualTo(envelopeOf(event, Envelope.WINCHESTER));
            assertThat(fields.get("message_id")).isNotNull();
        }
    }

    @Property(tries = 1_000)
    void readsWhatJacksonReadsAndDefersOnlyOnEscapesOrNonStringEnvelopes(@ForAll("documents") ObjectNode document) {
        ObjectNode fields = scan(Json.write(document));
        if (needsJackson(document)) {
            assertThat(fields).isNull();
        } else {
            assertThat(fields).isEqualTo(envelopeOf(document, Envelope.DEFAULT));
        }
    }

    /** Escaped field names, or envelope fields that are not strings or have escapes, are Jackson's. */
    private static boolean needsJackson(JsonNode node) {
        return hasEscapedName(node)
                || ENVELOPE.stream()
                        .anyMatch(name -> node.has(name)
                                && (!node.get(name).isTextual()
                                        || escaped(node.get(name).textValue())));
    }

    private static boolean hasEscapedName(JsonNode node) {
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                if (escaped(field.getKey()) || hasEscapedName(field.getValue())) {
                    return true;
                }
            }
        }
        if (node.isArray()) {
            for (JsonNode element : node) {
                if (hasEscapedName(element)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean escaped(String text) {
        return text.chars().anyMatch(c -> c < 0x20 || c == '"' || c == '\\');
    }

    private static ObjectNode envelopeOf(JsonNode document, Envelope envelope) {
        ObjectNode fields = Json.object();
        for (String name : List.of(envelope.idField(), envelope.typeField(), envelope.timeField())) {
            if (document.has(name)) {
                fields.set(name, document.get(name));
            }
        }
        return fields;
    }

    // ------------------------------------------------------------------ any bytes

    /** Checks one edited line: the scanner reads it only if Jackson accepts it, and reads it alike. */
    private void checkEdited(ObjectNode document, List<Tuple.Tuple3<Double, Integer, Byte>> edits) {
        Statistics.label("outcome")
                .collect(checkLine(edit(Json.write(document).getBytes(StandardCharsets.UTF_8), edits)));
    }

    /**
     * The scanner reads a line only if Jackson accepts it, and reads its envelope alike. Returns
     * what happened: "Jackson rejects", "Jackson accepts, deferred" or "both accept".
     */
    private String checkLine(byte[] line) {
        ObjectNode fields = scanner.scan(line, 0, line.length);
        JsonNode parsed;
        try {
            parsed = Json.mapper().readTree(line);
        } catch (Exception rejected) {
            assertThat(fields)
                    .as("accepted what Jackson rejects: %s", rejected.getMessage())
                    .isNull();
            return "Jackson rejects";
        }
        if (fields != null) {
            assertThat(parsed.isObject()).isTrue();
            for (String name : ENVELOPE) {
                assertThat(fields.get(name)).as(name).isEqualTo(parsed.get(name));
            }
        }
        return fields == null ? "Jackson accepts, deferred" : "both accept";
    }

    /**
     * Strings are scanned eight bytes at a time up to the first byte that is not plain: every
     * kind of such byte, alone or after another, at every position of the first three words.
     */
    @Test
    void findsTheFirstSpecialByteOfAStringWhereverItIs() {
        byte[][] specials = {
            {'"'},
            {'\\', 'n'},
            {'\\', 'u', '0', '0', '4', '1'},
            {'\\', 'x'},
            {0x00},
            {0x1f},
            {0x7f},
            {(byte) 0xc3, (byte) 0xa9},
            {(byte) 0xe2, (byte) 0x82, (byte) 0xac},
            {(byte) 0xf0, (byte) 0x9f, (byte) 0x98, (byte) 0x80},
            {(byte) 0x80},
            {(byte) 0xc3},
            {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
            {(byte) 0xff}
        };
        for (int at = 0; at < 24; at++) {
            for (byte[] first : specials) {
                for (byte[] second : specials) {
                    for (int gap = 0; gap < 3; gap++) {
                        ByteArrayOutputStream value = new ByteArrayOutputStream();
                        value.writeBytes("a".repeat(at).getBytes(StandardCharsets.US_ASCII));
                        value.writeBytes(first);
                        value.writeBytes("b".repeat(gap).getBytes(StandardCharsets.US_ASCII));
                        value.writeBytes(second);
                        value.writeBytes("c".repeat(at % 9).getBytes(StandardCharsets.US_ASCII));
                        ByteArrayOutputStream line = new ByteArrayOutputStream();
                        line.writeBytes("{\"id\":\"x\",\"v\":\"".getBytes(StandardCharsets.US_ASCII));
                        line.writeBytes(value.toByteArray());
                        line.writeBytes("\",\"type\":\"t\"}".getBytes(StandardCharsets.US_ASCII));
                        String outcome = checkLine(line.toByteArray());
                        if (wellFormedUtf8(line.toByteArray())) { // Jackson lets some malformed UTF-8 through
                            assertThat(outcome) // a valid line is read: only a value has escapes
                                    .as("%s", line)
                                    .isNotEqualTo("Jackson accepts, deferred");
                        }
                    }
                }
            }
        }
    }

    private static boolean wellFormedUtf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /**
     * Any bytes: lines edited at random are read only when the mapper accepts them. Edits that
     * leave a line valid (a digit for a digit, a space added...) must be read, not deferred.
     */
    @Property(tries = 1_500)
    void acceptsOnlyWhatTheMapperAccepts(
            @ForAll("plainDocuments") ObjectNode document,
            @ForAll("edits") List<Tuple.Tuple3<Double, Integer, Byte>> edits) {
        checkEdited(document, edits);
        Statistics.label("outcome").coverage(c -> {
            c.check("both accept").percentage(p -> p > 20);
            c.check("Jackson rejects").percentage(p -> p > 30);
        });
    }

    /** Deletes (0), inserts (1) or replaces (2) a byte at a relative position, one edit after another. */
    private static byte[] edit(byte[] line, List<Tuple.Tuple3<Double, Integer, Byte>> edits) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] current = line;
        for (Tuple.Tuple3<Double, Integer, Byte> e : edits) {
            int at = (int) (e.get1() * current.length);
            out.reset();
            out.write(current, 0, at);
            if (e.get2() != 0) {
                out.write(e.get3());
            }
            int skip = e.get2() == 1 ? 0 : 1;
            if (at + skip <= current.length) {
                out.write(current, at + skip, current.length - at - skip);
            }
            current = out.toByteArray();
        }
        return current;
    }

    @Provide
    Arbitrary<List<Tuple.Tuple3<Double, Integer, Byte>>> edits() {
        Arbitrary<Byte> bytes = Arbitraries.oneOf(
                Arbitraries.of("{}[]\",:\\ \t0123456789eE.-+truefalsnx/u"
                                .chars()
                                .boxed()
                                .toList())
                        .map(Integer::byteValue),
                Arbitraries.of(
                        (byte) 0x00,
                        (byte) 0x1f,
                        (byte) 0x80,
                        (byte) 0xbf,
                        (byte) 0xc0,
                        (byte) 0xc3,
                        (byte) 0xe0,
                        (byte) 0xed,
                        (byte) 0xf0,
                        (byte) 0xf4,
                        (byte) 0xf5,
                        (byte) 0xff));
        return Combinators.combine(
                        Arbitraries.doubles().between(0, 1).ofScale(3),
                        Arbitraries.integers().between(0, 2),
                        bytes)
                .as(Tuple::of)
                .list()
                .ofMaxSize(3); // none, sometimes: the line as written
    }

    // ------------------------------------------------------------------ examples

    @Test
    void defersOnDuplicateNamesAtAnyDepthAsTheMapperRejectsThem() {
        for (String line : List.of(
                "{\"id\":\"a\",\"id\":\"b\"}",
                "{\"a\":1,\"b\":2,\"a\":3}",
                "{\"x\":{\"k\":1,\"k\":2}}",
                "{\"x\":[{\"k\":1},{\"j\":1,\"k\":2,\"j\":3}]}",
                wideObject(40, true))) {
            assertThat(scan(line)).as(line).isNull();
            assertThatThrownBy(() -> Json.parse(line)).as(line).hasMessageContaining("Duplicate field");
        }
        assertThat(scan(wideObject(40, false))).isNotNull();
        assertThat(scan("{\"x\":{\"k\":1},\"y\":{\"k\":2},\"k\":3}")).isNotNull(); // the same name in other objects
    }

    @Test
    void tellsApartNamesThatHashAlike() {
        // The same length, first and last eight bytes: the same hash, told apart on the bytes.
        StringBuilder s = new StringBuilder("{");
        for (int i = 0; i < 20; i++) {
            s.append(i == 0 ? "" : ",")
                    .append("\"prefix__")
                    .append((char) ('A' + i))
                    .append("__suffix\":")
                    .append(i);
        }
        String distinct = s + "}";
        String repeated = s + ",\"prefix__Q__suffix\":0}";
        assertThat(scan(distinct)).isNotNull();
        assertThat(scan(repeated)).isNull();
        assertThatThrownBy(() -> Json.parse(repeated)).hasMessageContaining("Duplicate field");
        String small = "{\"prefix__A__suffix\":1,\"prefix__B__suffix\":2,\"prefix__A__suffix\":3}";
        assertThat(scan(small)).isNull();
    }

    private static String wideObject(int names, boolean duplicate) {
        StringBuilder s = new StringBuilder("{\"nested\":{");
        for (int i = 0; i < names; i++) {
            s.append(i == 0 ? "" : ",").append("\"name").append(i).append("\":").append(i);
        }
        if (duplicate) {
            s.append(",\"name17\":0");
        }
        return s.append("}}").toString();
    }

    @Test
    void leavesNestingNearTheLimitToTheMapper() {
        String within = nested(Json.MAX_DEPTH - 1);
        assertThat(scan(within)).isNotNull();
        assertThat(Json.parse(within).isObject()).isTrue();
        String atLimit = nested(Json.MAX_DEPTH);
        assertThat(scan(atLimit)).isNull();
        assertThat(Json.parse(atLimit).isObject()).isTrue(); // Jackson's to accept
        assertThatThrownBy(() -> Json.parse(nested(Json.MAX_DEPTH + 1))).hasMessageContaining("depth");
        assertThat(scan(nested(Json.MAX_DEPTH + 1))).isNull();
    }

    /** An object holding arrays, {@code depth} containers in all. */
    private static String nested(int depth) {
        return "{\"a\":" + "[".repeat(depth - 1) + "]".repeat(depth - 1) + "}";
    }

    @Test
    void defersOnWhatIsNotAPlainObjectLine() {
        for (String line : List.of(
                "",
                "   ",
                "[]",
                "\"text\"",
                "42",
                "{",
                "{\"a\"}",
                "{\"a\":}",
                "{\"a\":1,}",
                "{,}",
                "{\"a\":[1,]}",
                "{\"a\":01}",
                "{\"a\":1.}",
                "{\"a\":.5}",
                "{\"a\":+1}",
                "{\"a\":1e}",
                "{\"a\":-}",
                "{\"a\":tru}",
                "{\"a\":truex}",
                "{\"a\":nul}",
                "{\"a\":NaN}",
                "{\"a\":'x'}",
                "{} {}",
                "{}x",
                "{\"a\":\"\u0001\"}",
                "{\"a\":\"\\x\"}",
                "{\"a\":\"\\u12G4\"}",
                "{\"a\":\"open}",
                "\uFEFF{}",
                "{\"id\":1}",
                "{\"id\":null}",
                "{\"type\":[\"a\"]}",
                "{\"time\":\"a\\u0041\"}",
                "{\"i\\u0064\":\"x\"}",
                "{/* c */}")) {
            assertThat(scan(line)).as(line).isNull();
        }
    }

    @Test
    void readsPlainObjectsWithWhitespaceUnicodeAndEscapesInOtherValues() {
        ObjectNode fields = scan(" \t{ \"type\" : \"é.😀\" ,\"n\":[-0.5e+3, 0, true, false, null, {}, []],"
                + " \"s\":\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9\", \"id\": \"x\" }\r");
        assertThat(fields).isEqualTo(Json.object().put("id", "x").put("type", "é.😀"));
        assertThat(scan("{}")).isEqualTo(Json.object());
    }

    @Test
    void defersOnMalformedUtf8() {
        for (byte[] bad : List.of(
                new byte[] {(byte) 0xc0, (byte) 0x80}, // overlong
                new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, // a surrogate
                new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // past U+10FFFF
                new byte[] {(byte) 0xe2, (byte) 0x82}, // cut short
                new byte[] {(byte) 0xff})) {
            byte[] line =
                    concat("{\"a\":\"".getBytes(StandardCharsets.UTF_8), bad, "\"}".getBytes(StandardCharsets.UTF_8));
            assertThat(scanner.scan(line, 0, line.length)).isNull();
        }
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    @Test
    void scansOnlyTheGivenRange() {
        byte[] body = "{\"id\":\"1\"}\n{\"id\":\"2\"}".getBytes(StandardCharsets.UTF_8);
        assertThat(scanner.scan(body, 11, body.length)).isEqualTo(Json.object().put("id", "2"));
        assertThat(scanner.scan(body, 0, 10)).isEqualTo(Json.object().put("id", "1"));
        assertThat(scanner.scan(body, 0, 9)).isNull();
    }

    // ------------------------------------------------------------------ generators

    @Provide
    Arbitrary<ObjectNode> documents() {
        return object(2, true, false);
    }

    /** Documents the scanner reads as written (the starting point of edits): no escapes in names or envelope fields. */
    @Provide
    Arbitrary<ObjectNode> plainDocuments() {
        return object(2, true, true);
    }

    private static Arbitrary<String> names(boolean plain) {
        Arbitrary<String> fixed = plain
                ? Arbitraries.of("id", "type", "time", "a", "b", "é", "日本", "")
                : Arbitraries.of("id", "type", "time", "a", "b", "é", "日本", "q\"uote", "back\\slash", "tab\t", "");
        return Arbitraries.oneOf(
                fixed, Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(6));
    }

    private static Arbitrary<String> texts(boolean plain) {
        Arbitrary<String> fixed = plain
                ? Arbitraries.of("", "x", "compute.instance.create.end", "2026-11-23T10:00:00Z", "é", "😀", "/slash/")
                : Arbitraries.of(
                        "",
                        "x",
                        "compute.instance.create.end",
                        "2026-11-23T10:00:00Z",
                        "é",
                        "😀",
                        "a\"b",
                        "c\\d",
                        "line\nbreak",
                        "\u0001",
                        "/slash/");
        return plain ? fixed : Arbitraries.oneOf(fixed, Arbitraries.strings().ofMaxLength(12));
    }

    private static Arbitrary<JsonNode> scalar(boolean plain) {
        return Arbitraries.oneOf(
                texts(false).map(F::textNode),
                Arbitraries.integers().map(F::numberNode),
                Arbitraries.longs().map(F::numberNode),
                Arbitraries.doubles().map(F::numberNode),
                Arbitraries.bigDecimals()
                        .between(new BigDecimal("-1e30"), new BigDecimal("1e30"))
                        .map(F::numberNode),
                Arbitraries.of(true, false).map(F::booleanNode),
                Arbitraries.just(F.nullNode()));
    }

    private static Arbitrary<JsonNode> value(int depth, boolean plain) {
        if (depth <= 0) {
            return scalar(plain);
        }
        return Arbitraries.frequencyOf(
                Tuple.of(6, scalar(plain)),
                Tuple.of(2, array(depth - 1, plain)),
                Tuple.of(2, object(depth - 1, false, plain)));
    }

    private static Arbitrary<JsonNode> array(int depth, boolean plain) {
        return value(depth, plain).list().ofMaxSize(4).map(list -> {
            ArrayNode a = F.arrayNode();
            list.forEach(a::add);
            return a;
        });
    }

    /**
     * An object; at the top, envelope names come up often, with string values mostly (plain:
     * always, and without escapes). Values elsewhere may hold any string.
     */
    private static Arbitrary<ObjectNode> object(int depth, boolean top, boolean plain) {
        Arbitrary<String> names = top ? Arbitraries.oneOf(names(plain), Arbitraries.of(ENVELOPE)) : names(plain);
        Arbitrary<JsonNode> values = value(depth, plain);
        Arbitrary<Map<String, JsonNode>> maps = Arbitraries.maps(names, values).ofMaxSize(top ? 12 : 4);
        if (!top) {
            return maps.map(EnvelopeScannerTest::objectOf);
        }
        // Envelope fields: in plain documents always plain strings, else strings four times in five.
        Arbitrary<JsonNode> envelopeValue = plain
                ? texts(true).map(F::textNode)
                : Arbitraries.frequencyOf(Tuple.of(4, texts(false).map(F::textNode)), Tuple.of(1, scalar(false)));
        return Combinators.combine(maps, envelopeValue.list().ofSize(ENVELOPE.size()))
                .as((fields, envelopeValues) -> {
                    ObjectNode o = objectOf(fields);
                    for (int i = 0; i < ENVELOPE.size(); i++) {
                        if (o.has(ENVELOPE.get(i))) {
                            o.set(ENVELOPE.get(i), envelopeValues.get(i));
                        }
                    }
                    return o;
                });
    }

    private static ObjectNode objectOf(Map<String, JsonNode> fields) {
        ObjectNode o = F.objectNode();
        fields.forEach(o::set);
        return o;
    }
}
