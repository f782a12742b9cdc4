package io.sluice.core.handle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.api.Names;
import io.sluice.api.TypePattern;
import io.sluice.api.component.Field;
import io.sluice.api.component.Settings;
import io.sluice.api.component.Spec;
import io.sluice.core.deliver.Deliverer;
import io.sluice.query.Query;
import io.sluice.query.QueryException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One handler as defined in the configuration ({@code handlers:}), through {@code POST
 * /v1/handlers}, or by an entry of an EventReactor {@code event-handlers.json}: which events it
 * reacts to and how it runs.
 *
 * @param name unique, the key of its checkpoint ({@code handler:NAME}) and of its runs
 * @param on a type pattern over the event's type ({@code compute.instance.*}), or null
 * @param filter a query the event must match, or null
 * @param driver how it runs
 * @param handler the command (shell), class name (java) or URL (http)
 * @param exclusive one run at a time, in log order
 * @param concurrency runs at once at most (1 when exclusive)
 * @param timeout how long one run may take
 * @param policy attempts and backoff of failed runs
 * @param start where a new handler starts: {@code latest} (events from now on) or {@code earliest}
 * @param maxOutput how much of a run's stdout and stderr is kept
 * @param history how many runs of this handler are kept
 * @param base the directory shell commands run in and relative paths resolve against
 * @param source the definition as given, for the API
 */
public record HandlerDefinition(
        String name,
        String on,
        JsonNode filter,
        Driver.Kind driver,
        String handler,
        boolean exclusive,
        int concurrency,
        Duration timeout,
        Deliverer.Policy policy,
        String start,
        long maxOutput,
        int history,
        Path base,
        JsonNode source) {

    public static final Field NAME = Field.required("name", Field.Type.STRING, "unique name of the handler");
    public static final Field ON = Field.optional(
            "on", Field.Type.STRING, null, "a type pattern: `*` within a dotted segment, `**` across segments");
    public static final Field FILTER =
            Field.optional("filter", Field.Type.ANY, null, "a query (MongoDB syntax) the event must match");
    public static final Field DRIVER =
            Field.required("driver", Field.Type.STRING, "shell, java or http (pyfunc is refused with advice)");
    public static final Field HANDLER = Field.required(
            "handler", Field.Type.STRING, "shell: the command; java: the class name; http: the URL to POST to");
    public static final Field EXCLUSIVE =
            Field.optional("exclusive", Field.Type.BOOLEAN, false, "one run at a time, in log order");
    public static final Field CONCURRENCY =
            Field.optional("concurrency", Field.Type.INTEGER, 1, "runs at once at most (ignored when exclusive)");
    public static final Field TIMEOUT = Field.optional(
            "timeout",
            Field.Type.DURATION,
            "30s",
            "how long one run may take; a shell command's process tree is killed");
    public static final Field START = Field.optional(
            "start", Field.Type.STRING, "latest", "where a new handler begins: latest (from now on) or earliest");
    public static final Field MAX_OUTPUT =
            Field.optional("max_output", Field.Type.SIZE, "64KB", "how much of a run's stdout and stderr is recorded");
    public static final Field HISTORY =
            Field.optional("history", Field.Type.INTEGER, 1_000, "how many recorded runs of the handler are kept");

    /** The settings of a handler, with the retry settings every output has. */
    public static final Spec SPEC = new Spec(
            "handler",
            "Sluice",
            "Runs a shell command, Java class or HTTP call for each event it is defined for.",
            List.of(NAME, ON, FILTER, DRIVER, HANDLER, EXCLUSIVE, CONCURRENCY, TIMEOUT, START, MAX_OUTPUT, HISTORY));

    public HandlerDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(driver, "driver");
        Objects.requireNonNull(handler, "handler");
        concurrency = exclusive ? 1 : concurrency;
    }

    /**
     * Reads one definition.
     *
     * @param node the definition's mapping
     * @param where where it is, such as {@code handlers[2]}, for errors
     * @param base the directory shell commands run in
     * @throws IllegalArgumentException naming {@code where} and the key at fault
     */
    public static HandlerDefinition read(JsonNode node, String where, Path base) {
        Settings s = SPEC.read(node, where);
        String name = s.string(NAME.name());
        try {
            Names.check("handler", name);
        } catch (IllegalArgumentException e) {
            throw s.invalid(NAME.name(), e.getMessage());
        }
        String on = s.has(ON.name()) ? s.string(ON.name()) : null;
        if (on != null) {
            try {
                TypePattern.compile(on);
            } catch (IllegalArgumentException e) {
                throw s.invalid(ON.name(), e.getMessage());
            }
        }
        JsonNode filter = s.has(FILTER.name()) ? s.any(FILTER.name()) : null;
        if (filter != null) {
            if (!filter.isObject()) {
                throw s.invalid(FILTER.name(), "must be a query document such as {\"payload.state\": \"error\"}");
            }
            try {
                Query.parse(filter);
            } catch (QueryException e) {
                throw s.invalid(FILTER.name(), e.getMessage());
            }
        }
        Driver.Kind driver = driver(s);
        String handler = s.string(HANDLER.name());
        if (handler.isBlank()) {
            throw s.invalid(HANDLER.name(), "must not be empty");
        }
        long concurrency = s.integer(CONCURRENCY.name());
        if (concurrency < 1 || concurrency > 1_000) {
            throw s.invalid(CONCURRENCY.name(), "must be from 1 to 1000, not " + concurrency);
        }
        Duration timeout = s.duration(TIMEOUT.name());
        if (timeout.isZero() || timeout.isNegative()) {
            throw s.invalid(TIMEOUT.name(), "must be positive");
        }
        String start = s.string(START.name()).toLowerCase(Locale.ROOT);
        if (!start.equals("latest") && !start.equals("earliest")) {
            throw s.invalid(START.name(), "must be latest or earliest, not '" + start + "'");
        }
        long history = s.integer(HISTORY.name());
        if (history < 0) {
            throw s.invalid(HISTORY.name(), "must not be negative");
        }
        long attempts = s.integer(Spec.MAX_ATTEMPTS.name());
        if (attempts < 1) {
            throw s.invalid(Spec.MAX_ATTEMPTS.name(), "must be at least 1");
        }
        Deliverer.Policy policy = new Deliverer.Policy(
                (int) attempts, s.duration(Spec.BACKOFF.name()), s.duration(Spec.MAX_BACKOFF.name()));
        HandlerDefinition d = new HandlerDefinition(
                name,
                on,
                filter,
                driver,
                handler,
                s.bool(EXCLUSIVE.name()),
                (int) concurrency,
                timeout,
                policy,
                start,
                s.size(MAX_OUTPUT.name()),
                (int) history,
                base,
                node.deepCopy());
        if (driver == Driver.Kind.SHELL) {
            try {
                ShellWords.split(handler);
            } catch (IllegalArgumentException e) {
                throw s.invalid(HANDLER.name(), e.getMessage());
            }
        }
        return d;
    }

    private static Driver.Kind driver(Settings s) {
        String d = s.string(DRIVER.name()).toLowerCase(Locale.ROOT);
        return switch (d) {
            case "shell" -> Driver.Kind.SHELL;
            case "java" -> Driver.Kind.JAVA;
            case "http", "webhook" -> Driver.Kind.HTTP;
            case "pyfunc" ->
                throw s.invalid(
                        DRIVER.name(),
                        "pyfunc handlers (Python functions run inside EventReactor) are not run by Sluice: run the"
                                + " function as a script instead, with driver: shell and handler: \"python3"
                                + " handler.py\" — the script gets the event as JSON in its last argument and on"
                                + " stdin");
            default -> throw s.invalid(DRIVER.name(), "unknown driver '" + d + "' (drivers: shell, java, http)");
        };
    }

    /** Whether this handler reacts to an event of {@code type} with {@code document}. */
    Selector selector() {
        Pattern type = on == null ? null : TypePattern.compile(on);
        Query query = filter == null ? null : Query.parse(filter);
        return new Selector(type, query);
    }

    /** Which events a handler reacts to: by type pattern, then by filter. */
    record Selector(Pattern type, Query query) {
        boolean selects(String eventType, JsonNode document) {
            if (type != null && (eventType == null || !type.matcher(eventType).matches())) {
                return false;
            }
            return query == null || query.matches(document);
        }

        /** Whether the document is needed at all (a filter); types come without parsing. */
        boolean needsDocument() {
            return query != null;
        }
    }

    /** The API's JSON form: the definition as given. */
    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("name", name);
        if (on != null) {
            o.put("on", on);
        }
        if (filter != null) {
            o.set("filter", filter);
        }
        o.put("driver", driver.name().toLowerCase(Locale.ROOT));
        o.put("handler", handler);
        o.put("exclusive", exclusive);
        o.put("concurrency", concurrency);
        long ms = timeout.toMillis();
        o.put("timeout", ms % 1_000 == 0 ? ms / 1_000 + "s" : ms + "ms");
        o.put("max_attempts", policy.maxAttempts());
        o.put("start", start);
        return o;
    }
}
