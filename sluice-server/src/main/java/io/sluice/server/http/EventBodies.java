package io.sluice.server.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import io.cloudevents.CloudEvent;
import io.cloudevents.jackson.JsonFormat;
import io.sluice.api.Envelope;
import io.sluice.api.ErrorCode;
import io.sluice.api.Json;
import io.sluice.server.config.ServerConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a {@code POST /v1/events} body into event documents, by content type: a JSON object
 * or array ({@code application/json}), NDJSON ({@code application/x-ndjson}), or CloudEvents
 * in structured mode ({@code application/cloudevents+json}, {@code application/cloudevents-batch+json}).
 * Every problem is an {@link ApiException} naming the event (and line) at fault.
 */
final class EventBodies {
    private EventBodies() {}

    /**
     * The events of a request body.
     *
     * @param events the documents; for NDJSON, mostly only their envelope fields (see {@link #ndjson})
     * @param texts the UTF-8 text of each event as received, a view of the body's bytes (stored
     *     as is, without the whitespace around it, with a missing id or time added)
     */
    record Body(List<JsonNode> events, List<ByteBuffer> texts) {}

    /** The body formats, by the content type that names them. */
    enum Format {
        JSON,
        NDJSON,
        CLOUD_EVENT,
        CLOUD_EVENT_BATCH;

        private static final Map<String, Format> BY_MEDIA_TYPE = Map.of(
                "", JSON,
                "application/json", JSON,
                "application/x-ndjson", NDJSON,
                "application/jsonl", NDJSON,
                "application/ndjson", NDJSON,
                "application/cloudevents+json", CLOUD_EVENT,
                "application/cloudevents-batch+json", CLOUD_EVENT_BATCH);
    }

    /**
     * Refuses a request from its headers alone, before its body is admitted or read: a content
     * type no reader takes (415), a declared length past the body limit (413).
     *
     * @return the format the body is read in
     */
    static Format checkHeaders(String contentType, long declared, ServerConfig.Limits limits) {
        Format format = Format.BY_MEDIA_TYPE.get(mediaType(contentType));
        if (format == null) {
            throw new ApiException(
                    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "unsupported content type '" + contentType + "'; use application/json, application/x-ndjson,"
                            + " application/cloudevents+json or application/cloudevents-batch+json");
        }
        if (declared > limits.maxBodyBytes()) {
            throw bodyTooLarge(limits.maxBodyBytes());
        }
        return format;
    }

    /**
     * Reads a body whose headers {@link #checkHeaders} passed; plain NDJSON lines are read only
     * as far as {@code envelope}'s fields.
     *
     * @param contentLength the body's declared length, or -1 when not declared (chunked)
     */
    static Body read(
            Format format,
            InputStream body,
            long contentLength,
            ServerConfig.Limits limits,
            Envelope envelope,
            Admission.Ticket ticket)
            throws IOException {
        byte[] bytes = readLimited(body, contentLength, limits.maxBodyBytes(), ticket);
        List<ByteBuffer> texts = new ArrayList<>();
        List<JsonNode> events =
                switch (format) {
                    case JSON -> values(bytes, texts, true);
                    case NDJSON -> ndjson(bytes, texts, envelope);
                    case CLOUD_EVENT -> cloudEvents(values(bytes, texts, true), false);
                    case CLOUD_EVENT_BATCH -> cloudEvents(values(bytes, texts, false), true);
                };
        if (events.size() > limits.maxEventsPerRequest()) {
            throw new ApiException(
                    ErrorCode.TOO_LARGE,
                    "the request has " + events.size() + " events; at most " + limits.maxEventsPerRequest()
                            + " are accepted per request");
        }
        return new Body(events, texts);
    }

    private static String mediaType(String contentType) {
        if (contentType == null) {
            return "";
        }
        int semicolon = contentType.indexOf(';');
        return (semicolon < 0 ? contentType : contentType.substring(0, semicolon))
                .strip()
                .toLowerCase(Locale.ROOT);
    }

    /**
     * The whole body, refused past {@code max} bytes: read straight into an array of its
     * declared length when there is one (no copies), else collected as it comes.
     */
    private static byte[] readLimited(InputStream in, long declared, long max, Admission.Ticket ticket)
            throws IOException {
        if (declared >= 0) { // not past max: checkHeaders refused that
            byte[] body = new byte[(int) declared];
            int n = in.readNBytes(body, 0, body.length);
            if (n < body.length) {
                throw new ApiException(
                        ErrorCode.INVALID_REQUEST,
                        "the request body ended after " + n + " of its " + declared + " declared bytes");
            }
            return body;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = in.read(buffer)) > 0) {
            total += n;
            if (total > max) {
                throw bodyTooLarge(max);
            }
            ticket.cover(2 * total); // what is read, and the array it is copied into at the end
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }

    private static ApiException bodyTooLarge(long max) {
        return new ApiException(
                ErrorCode.TOO_LARGE,
                "the request body exceeds the limit of " + max + " bytes (server.limits.max_body_bytes)");
    }

    private static JsonNode parse(byte[] bytes, int offset, int length, String what) {
        try {
            JsonNode node = Json.mapper().readTree(bytes, offset, length);
            if (node == null || node.isMissingNode()) {
                throw new ApiException(ErrorCode.INVALID_REQUEST, what + " is empty");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw notJson(what, e);
        } catch (IOException e) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, what + " cannot be read: " + e.getMessage());
        }
    }

    private static ApiException notJson(String what, JsonProcessingException e) {
        var loc = e.getLocation();
        return new ApiException(
                ErrorCode.INVALID_REQUEST,
                what + " is not valid JSON"
                        + (loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")")
                        + ": " + e.getOriginalMessage());
    }

    /** Reads one value of a body at a time: what follows it is checked by {@link #values}. */
    private static final ObjectReader TREES =
            Json.mapper().readerFor(JsonNode.class).without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * The events of a JSON body, each with the text it was read from: an object is one event
     * (unless {@code objectAllowed} is false), an array holds one per element. The text is what
     * is stored, so numbers, escapes and key order stay exactly as sent; the tree is for the
     * envelope, validation and matching.
     */
    private static List<JsonNode> values(byte[] bytes, List<ByteBuffer> texts, boolean objectAllowed) {
        List<JsonNode> events = new ArrayList<>();
        try (JsonParser parser = Json.mapper().createParser(bytes)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                throw new ApiException(ErrorCode.INVALID_REQUEST, "the body is empty");
            }
            if (first == JsonToken.START_ARRAY) {
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    events.add(located(parser, bytes, texts));
                }
            } else if (first == JsonToken.START_OBJECT && objectAllowed) {
                events.add(located(parser, bytes, texts));
            } else {
                JsonNode value = TREES.readValue(parser);
                throw new ApiException(
                        objectAllowed ? ErrorCode.INVALID_EVENT : ErrorCode.INVALID_REQUEST,
                        objectAllowed
                                ? "the body must be a JSON object or an array of them, not "
                                        + value.getNodeType().name().toLowerCase(Locale.ROOT)
                                : "the body must be a JSON array of events");
            }
            if (parser.nextToken() != null) {
                throw new ApiException(
                        ErrorCode.INVALID_REQUEST,
                        "the body is not valid JSON (line "
                                + parser.currentTokenLocation().getLineNr() + ", column "
                                + parser.currentTokenLocation().getColumnNr()
                                + "): Trailing token found after the JSON value");
            }
        } catch (JsonProcessingException e) {
            throw notJson("the body", e);
        } catch (IOException e) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "the body cannot be read: " + e.getMessage());
        }
        return events;
    }

    /** Reads the value at the parser's current token, and notes where its text lies in {@code bytes}. */
    private static JsonNode located(JsonParser parser, byte[] bytes, List<ByteBuffer> texts) throws IOException {
        int from = (int) parser.currentTokenLocation().getByteOffset();
        JsonNode value = TREES.readValue(parser);
        int to = (int) parser.currentLocation().getByteOffset();
        texts.add(ByteBuffer.wrap(bytes, from, to - from));
        return value;
    }

    /**
     * One event per line, read where it lies in the body (no copies), its text kept to be
     * stored as received; blank lines are skipped. {@link EnvelopeScanner} checks each line and
     * reads only its envelope fields (the log needs no more); a line it is not sure of is
     * parsed whole by Jackson, whose document or error stands.
     */
    /** The index of the first {@code \n} at or after {@code from}, or the length when there is none. */
    static int lineEnd(byte[] bytes, int from) {
        int p = from;
        for (; p + 8 <= bytes.length; p += 8) {
            long newlines = ByteWords.equalTo(ByteWords.word(bytes, p), '\n');
            if (newlines != 0) {
                return p + ByteWords.firstFlagged(newlines);
            }
        }
        while (p < bytes.length && bytes[p] != '\n') {
            p++;
        }
        return p;
    }

    private static List<JsonNode> ndjson(byte[] bytes, List<ByteBuffer> texts, Envelope envelope) {
        List<JsonNode> events = new ArrayList<>();
        EnvelopeScanner scanner = new EnvelopeScanner(envelope);
        int line = 0;
        int start = 0;
        while (start <= bytes.length) {
            int end = lineEnd(bytes, start);
            line++;
            if (!blank(bytes, start, end)) {
                JsonNode event = scanner.scan(bytes, start, end);
                if (event == null) { // invalid or unusual: Jackson parses it whole, or names the error
                    event = parse(bytes, start, end - start, "event " + events.size() + " (line " + line + ")");
                }
                events.add(event);
                texts.add(ByteBuffer.wrap(bytes, start, end - start)); // the log strips and copies it
            }
            start = end + 1;
        }
        return events;
    }

    private static boolean blank(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            byte b = bytes[i];
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    /** Reads CloudEvents in the JSON format with the CloudEvents SDK, which checks them against the spec. */
    private static final ObjectMapper CLOUD_EVENTS =
            new ObjectMapper().registerModule(JsonFormat.getCloudEventJacksonModule());

    /**
     * Checks CloudEvents (spec 1.0): the required attributes here, with messages naming them;
     * the rest (attribute types, {@code time} as RFC 3339, {@code data} beside
     * {@code data_base64}) by the CloudEvents SDK. The events are stored as sent.
     */
    private static List<JsonNode> cloudEvents(List<JsonNode> events, boolean batch) {
        for (int i = 0; i < events.size(); i++) {
            JsonNode e = events.get(i);
            String which = batch ? "cloud event " + i : "the cloud event";
            if (!e.isObject()) {
                throw invalid(i, which + " must be a JSON object");
            }
            if (!"1.0".equals(e.path("specversion").asText(null))) {
                throw invalid(i, which + ": specversion must be \"1.0\"");
            }
            for (String attribute : List.of("id", "source", "type")) {
                if (!e.path(attribute).isTextual()
                        || e.path(attribute).textValue().isEmpty()) {
                    throw invalid(i, which + ": the required attribute '" + attribute + "' is missing or empty");
                }
            }
            try {
                CLOUD_EVENTS.treeToValue(e, CloudEvent.class);
            } catch (JsonProcessingException | RuntimeException notACloudEvent) {
                throw invalid(i, which + " is not valid: " + rootMessage(notACloudEvent));
            }
        }
        return events;
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        int location = message.indexOf("\n at [Source"); // Jackson's location lines name no input of ours
        return location < 0 ? message : message.substring(0, location);
    }

    private static ApiException invalid(int index, String message) {
        return new ApiException(
                ErrorCode.INVALID_EVENT,
                "event " + index + ": " + message,
                Json.object().put("index", index));
    }
}
