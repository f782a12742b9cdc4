package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.Locale;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The names of the three envelope fields of an event: its id, its type and its time.
 *
 * <p>Sluice stores an event as sent. {@link #normalize} reads the envelope out of a document,
 * adds a fresh UUID where the id is missing and the ingest time (ISO-8601, UTC) where the time
 * is missing, and rejects documents whose envelope fields have the wrong shape.
 *
 * @param idField name of the unique id field ({@code id} by default)
 * @param typeField name of the event type field ({@code type} by default)
 * @param timeField name of the event time field ({@code time} by default)
 */
public record Envelope(String idField, String typeField, String timeField) {
    /** Sluice's own names: {@code id}, {@code type}, {@code time}. */
    public static final Envelope DEFAULT = new Envelope("id", "type", "time");

    /** Winchester / StackTach notifications: {@code message_id}, {@code event_type}, {@code timestamp}. */
    public static final Envelope WINCHESTER = new Envelope("message_id", "event_type", "timestamp");

    /** EventReactor events: {@code id}, {@code event_type}, {@code timestamp}. */
    public static final Envelope EVENTREACTOR = new Envelope("id", "event_type", "timestamp");

    /** The longest id accepted, in characters (ids are keys of the store's id index). */
    public static final int MAX_ID_LENGTH = 512;

    public Envelope {
        requireFieldName(idField, "id");
        requireFieldName(typeField, "type");
        requireFieldName(timeField, "time");
    }

    /**
     * The envelope of a preset name: {@code default}, {@code winchester} or {@code eventreactor}.
     *
     * @throws IllegalArgumentException naming the known presets
     */
    public static Envelope preset(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "default", "sluice" -> DEFAULT;
            case "winchester", "stacktach" -> WINCHESTER;
            case "eventreactor" -> EVENTREACTOR;
            default ->
                throw new IllegalArgumentException(
                        "unknown envelope preset '" + name + "' (known: default, winchester, eventreactor)");
        };
    }

    /** Normalizes with random UUIDs and the system clock. */
    public Event normalize(ObjectNode document) {
        return normalize(document, () -> UUID.randomUUID().toString(), Clock.systemUTC());
    }

    /**
     * Reads the envelope of {@code document}, filling in a missing id and time in place.
     *
     * @param ids source of ids for documents without one
     * @param clock the ingest clock, for documents without a time
     * @throws InvalidEventException naming the field when an envelope field has the wrong type
     */
    public Event normalize(ObjectNode document, Supplier<String> ids, Clock clock) {
        Objects.requireNonNull(document, "document");
        String id = readId(document);
        if (id == null) {
            id = ids.get();
            document.put(idField, id);
        }
        String type = readType(document);
        Instant time = readTime(document);
        if (time == null) {
            time = clock.instant();
            document.put(timeField, InstantText.format(time));
        }
        return new Event(id, type, time, document);
    }

    private String readId(ObjectNode document) {
        JsonNode value = document.get(idField);
        if (value == null || value.isNull()) {
            return null;
        }
        if (value.isTextual()) {
            if (value.textValue().isEmpty()) {
                throw new InvalidEventException(idField, "field '" + idField + "' must not be empty");
            }
            if (value.textValue().length() > MAX_ID_LENGTH) {
                throw new InvalidEventException(
                        idField,
                        "field '" + idField + "' must be at most " + MAX_ID_LENGTH + " characters; this one has "
                                + value.textValue().length());
            }
            return value.textValue();
        }
        if (value.isIntegralNumber()) {
            return value.asText();
        }
        throw new InvalidEventException(
                idField, "field '" + idField + "' must be a string or an integer, not " + kind(value));
    }

    private String readType(ObjectNode document) {
        JsonNode value = document.get(typeField);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new InvalidEventException(
                    typeField, "field '" + typeField + "' must be a string, not " + kind(value));
        }
        return value.textValue();
    }

    private Instant readTime(ObjectNode document) {
        JsonNode value = document.get(timeField);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new InvalidEventException(
                    timeField, "field '" + timeField + "' must be an ISO-8601 timestamp string, not " + kind(value));
        }
        try {
            return parseTime(value.textValue());
        } catch (DateTimeParseException e) {
            throw new InvalidEventException(
                    timeField, "field '" + timeField + "' is not an ISO-8601 timestamp: '" + value.textValue() + "'");
        }
    }

    private static final DateTimeFormatter LOCAL = new DateTimeFormatterBuilder()
            .parseCaseInsensitive()
            .append(DateTimeFormatter.ISO_LOCAL_DATE)
            .optionalStart()
            .appendLiteral('T')
            .optionalEnd()
            .optionalStart()
            .appendLiteral(' ')
            .optionalEnd()
            .append(DateTimeFormatter.ISO_LOCAL_TIME)
            .parseDefaulting(ChronoField.NANO_OF_SECOND, 0)
            .toFormatter(Locale.ROOT);

    /**
     * Parses an event time: an ISO-8601 instant or offset date-time, or a local date-time
     * (with {@code T} or a space, as OpenStack writes them), which is taken as UTC.
     */
    public static Instant parseTime(String text) {
        String s = text.trim();
        try {
            return OffsetDateTime.parse(s.replace(' ', 'T')).toInstant();
        } catch (DateTimeParseException offsetMissing) {
            return LocalDateTime.parse(s, LOCAL).toInstant(ZoneOffset.UTC);
        }
    }

    private static String kind(JsonNode value) {
        return value.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    private static void requireFieldName(String name, String role) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("the envelope's " + role + " field name must not be empty");
        }
    }
}
