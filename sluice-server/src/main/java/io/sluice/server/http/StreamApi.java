package io.sluice.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.sluice.api.ErrorCode;
import io.sluice.api.Json;
import io.sluice.core.trigger.Stream;
import io.sluice.core.trigger.TriggerEngine;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Trigger streams over HTTP:
 *
 * <ul>
 *   <li>{@code GET /v1/streams?trigger=&state=&trait.NAME=&older_than=&younger_than=&before=&limit=}:
 *       streams, newest first (page with {@code before} = the last id seen), filtered as
 *       Winchester's {@code find_streams}: distinguishing traits by value, the first event older
 *       than, the last event younger than;
 *   <li>{@code GET /v1/streams/{id}}: one stream with its events;
 *   <li>{@code POST /v1/streams/{id}/retry}: run a failed stream's pipeline again;
 *   <li>{@code GET /v1/triggers}: the triggers with their debug counters.
 * </ul>
 *
 * Without {@code winchester:} in the configuration every endpoint answers 404 saying so.
 */
public final class StreamApi {
    private final TriggerEngine engine; // null: no triggers configured

    public StreamApi(TriggerEngine engine) {
        this.engine = engine;
    }

    public void register(Javalin app) {
        app.get("/v1/streams", this::list);
        app.get(
                "/v1/streams/{id}",
                ctx -> HttpApi.json(
                        ctx,
                        engine().stream(id(ctx))
                                .orElseThrow(() -> new ApiException(ErrorCode.NOT_FOUND, "no stream " + id(ctx)))));
        app.post("/v1/streams/{id}/retry", this::retry);
        app.get("/v1/triggers", ctx -> {
            ObjectNode o = Json.object();
            o.set("triggers", engine().triggers());
            HttpApi.json(ctx, o);
        });
    }

    private TriggerEngine engine() {
        if (engine == null) {
            throw new ApiException(
                    ErrorCode.NOT_FOUND, "no triggers: the server's configuration has no winchester: section");
        }
        return engine;
    }

    private void list(Context ctx) {
        String state = blankToNull(ctx.queryParam("state"));
        if (state != null) {
            try {
                Stream.State.of(state);
            } catch (IllegalArgumentException e) {
                throw new ApiException(
                        ErrorCode.INVALID_REQUEST,
                        "unknown state '" + state + "' (states: active,"
                                + " firing, expiring, error, expire_error, completed, retry_fire, retry_expire)");
            }
        }
        long before = HttpApi.longParam(ctx, "before", Long.MAX_VALUE, 1);
        long limit = HttpApi.longParam(ctx, "limit", 100, 1);
        Map<String, String> traits = new LinkedHashMap<>();
        ctx.queryParamMap().forEach((key, values) -> {
            if (key.startsWith("trait.") && key.length() > 6 && !values.isEmpty()) {
                traits.put(key.substring(6), values.getLast());
            }
        });
        ObjectNode o = Json.object();
        o.set(
                "streams",
                engine().streams(new TriggerEngine.StreamQuery(
                        blankToNull(ctx.queryParam("trigger")),
                        state,
                        traits.isEmpty() ? null : traits,
                        time(ctx, "older_than"),
                        time(ctx, "younger_than"),
                        before,
                        (int) Math.min(limit, 10_000))));
        HttpApi.json(ctx, o);
    }

    /** A time parameter (ISO-8601, with or without a zone; UTC when without), or null. */
    private static LocalDateTime time(Context ctx, String name) {
        String v = blankToNull(ctx.queryParam(name));
        if (v == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(v).withOffsetSameInstant(ZoneOffset.UTC).toLocalDateTime();
        } catch (DateTimeParseException withoutZone) {
            try {
                return LocalDateTime.parse(v);
            } catch (DateTimeParseException e) {
                throw new ApiException(
                        ErrorCode.INVALID_REQUEST,
                        name + " must be an ISO-8601 time such as 2014-08-01T12:00:00Z, not '" + v + "'");
            }
        }
    }

    private void retry(Context ctx) throws InterruptedException {
        long id = id(ctx);
        String error;
        try {
            error = engine().retry(id).get(60, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new ApiException(ErrorCode.UNAVAILABLE, "the retry of stream " + id + " did not finish: " + e);
        }
        if (error != null) {
            throw new ApiException(
                    error.startsWith("no open stream") ? ErrorCode.NOT_FOUND : ErrorCode.CONFLICT,
                    "stream " + id + ": " + error);
        }
        HttpApi.json(ctx, Json.object().put("retried", id));
    }

    private static long id(Context ctx) {
        try {
            return Long.parseLong(ctx.pathParam("id"));
        } catch (NumberFormatException e) {
            throw new ApiException(
                    ErrorCode.INVALID_REQUEST, "a stream id is a number, not '" + ctx.pathParam("id") + "'");
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
