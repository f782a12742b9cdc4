package io.sluice.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.sluice.api.ErrorCode;
import io.sluice.api.Json;
import io.sluice.core.handle.Handlers;
import io.sluice.core.handle.RunLog;
import io.sluice.core.log.StoreException;
import java.util.List;
import java.util.Set;

/**
 * Handlers over HTTP:
 *
 * <ul>
 *   <li>{@code GET /v1/handlers}: each handler's definition with runs, failures, dead letters,
 *       checkpoint and lag; {@code GET /v1/handlers/{name}};
 *   <li>{@code POST /v1/handlers}: add or replace one handler (the configuration's keys, as
 *       JSON); it is kept in the store; {@code DELETE /v1/handlers/{name}};
 *   <li>{@code GET /v1/handler-runs?handler=&status=&limit=}: recorded runs, newest first.
 * </ul>
 */
public final class HandlerApi {
    private static final Set<String> STATUSES = Set.of("ok", "failed", "timeout");

    private final Handlers handlers;

    public HandlerApi(Handlers handlers) {
        this.handlers = handlers;
    }

    public void register(Javalin app) {
        app.get("/v1/handlers", ctx -> {
            ObjectNode o = Json.object();
            o.set("handlers", handlers.list());
            HttpApi.json(ctx, o);
        });
        app.get(
                "/v1/handlers/{name}",
                ctx -> HttpApi.json(ctx, handlers.get(ctx.pathParam("name")).orElseThrow(() -> notFound(ctx))));
        app.post("/v1/handlers", this::put);
        app.delete("/v1/handlers/{name}", this::delete);
        app.get("/v1/handler-runs", this::runs);
    }

    private void put(Context ctx) {
        JsonNode body;
        try {
            body = Json.parse(ctx.body());
        } catch (RuntimeException e) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "the body is not JSON: " + e.getMessage());
        }
        if (!body.isObject()) {
            throw new ApiException(
                    ErrorCode.INVALID_REQUEST, "the body must be one handler definition {name, driver, handler, ...}");
        }
        boolean replaced;
        try {
            replaced = handlers.put(body);
        } catch (StoreException e) {
            throw new ApiException(ErrorCode.UNAVAILABLE, "the handler could not be saved: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, e.getMessage());
        }
        String name = body.path("name").asText();
        ObjectNode o = Json.object();
        o.put("handler", name);
        o.put(replaced ? "replaced" : "added", true);
        ctx.status(replaced ? 200 : 201);
        HttpApi.json(ctx, o);
    }

    private void delete(Context ctx) {
        String name = ctx.pathParam("name");
        boolean removed;
        try {
            removed = handlers.remove(name);
        } catch (IllegalArgumentException e) {
            throw new ApiException(ErrorCode.CONFLICT, e.getMessage());
        }
        if (!removed) {
            throw notFound(ctx);
        }
        HttpApi.json(ctx, Json.object().put("deleted", name));
    }

    private void runs(Context ctx) {
        String handler = blankToNull(ctx.queryParam("handler"));
        String status = blankToNull(ctx.queryParam("status"));
        if (status != null && !STATUSES.contains(status)) {
            throw new ApiException(
                    ErrorCode.INVALID_REQUEST, "status must be ok, failed or timeout, not '" + status + "'");
        }
        long limit = HttpApi.longParam(ctx, "limit", 100, 1);
        List<RunLog.Run> runs = handlers.runs(handler, status, (int) Math.min(limit, 10_000));
        ObjectNode o = Json.object();
        ArrayNode list = o.putArray("runs");
        runs.forEach(r -> list.add(r.toJson()));
        HttpApi.json(ctx, o);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    private static ApiException notFound(Context ctx) {
        return new ApiException(ErrorCode.NOT_FOUND, "no handler named '" + ctx.pathParam("name") + "'");
    }
}
