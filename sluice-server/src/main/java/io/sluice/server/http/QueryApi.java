package io.sluice.server.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.sluice.api.ErrorCode;
import io.sluice.api.Json;
import io.sluice.core.deliver.DeadLetters;
import io.sluice.core.handle.Handlers;
import io.sluice.core.log.StoreException;
import io.sluice.core.query.StandingQueries;
import io.sluice.core.route.QueryBook;
import io.sluice.core.route.QueryEdits;
import io.sluice.core.route.Router;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * Standing queries and dead letters over HTTP:
 *
 * <ul>
 *   <li>{@code POST /v1/queries}: query documents (one, a JSON array, or NDJSON; batch
 *       documents {@code {"id": B, "queries": [...]}} too), applied as one atomic change;
 *       answers {@code {"batch", "switched_at", "put", "removed"}} once it is durable;
 *   <li>{@code GET /v1/queries}: the active batch, its switch offset, the outputs' progress and
 *       each query with its counters; {@code GET /v1/queries/{name}};
 *       {@code DELETE /v1/queries/{name}};
 *   <li>{@code GET /v1/deadletters?reader=&after=&limit=};
 *       {@code POST /v1/deadletters/{id}/replay}; {@code DELETE /v1/deadletters/{id}}.
 * </ul>
 */
public final class QueryApi {
    private static final Duration REPLAY_TIMEOUT = Duration.ofSeconds(30);

    private final Router router;
    private final Handlers handlers;

    /** @param handlers who replays the dead letters of handlers */
    public QueryApi(Router router, Handlers handlers) {
        this.router = router;
        this.handlers = handlers;
    }

    public void register(Javalin app) {
        app.post("/v1/queries", this::apply);
        app.get("/v1/queries", this::list);
        app.get(
                "/v1/queries/{name}",
                ctx -> json(
                        ctx, router.status(ctx.pathParam("name")).orElseThrow(() -> notFound(ctx.pathParam("name")))));
        app.delete("/v1/queries/{name}", this::delete);
        app.get("/v1/deadletters", this::deadLetters);
        app.get(
                "/v1/deadletters/{id}",
                ctx -> json(
                        ctx,
                        router.deadLetters()
                                .get(id(ctx))
                                .orElseThrow(() -> noLetter(ctx))
                                .toJson()));
        app.post("/v1/deadletters/{id}/replay", this::replay);
        app.delete("/v1/deadletters/{id}", this::deleteLetter);
    }

    private void apply(Context ctx) throws IOException {
        List<QueryBook.Edit> edits;
        try (var in = new InputStreamReader(ctx.bodyInputStream(), StandardCharsets.UTF_8)) {
            edits = QueryEdits.read(in, "request body");
        } catch (StandingQueries.InvalidQueryFileException e) {
            throw new ApiException(
                    e.getMessage().contains("invalid JSON") ? ErrorCode.INVALID_REQUEST : ErrorCode.INVALID_QUERY,
                    e.getMessage());
        }
        if (edits.isEmpty()) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "the body holds no query documents");
        }
        json(ctx, applied(apply(edits)));
    }

    private void delete(Context ctx) {
        String name = ctx.pathParam("name");
        try {
            json(ctx, applied(router.apply(List.of(new QueryBook.Edit.Delete(name)))));
        } catch (QueryBook.NoSuchQueryException e) {
            throw notFound(name);
        }
    }

    private QueryBook.Applied apply(List<QueryBook.Edit> edits) {
        try {
            return router.apply(edits);
        } catch (QueryBook.NoSuchQueryException e) {
            throw new ApiException(ErrorCode.NOT_FOUND, e.getMessage());
        } catch (StoreException e) {
            throw new ApiException(ErrorCode.UNAVAILABLE, "the change could not be saved: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new ApiException(ErrorCode.INVALID_QUERY, e.getMessage());
        }
    }

    private static ObjectNode applied(QueryBook.Applied a) {
        ObjectNode o = Json.object();
        o.put("batch", a.batch());
        o.put("switched_at", a.at());
        ArrayNode put = o.putArray("put");
        a.put().forEach(put::add);
        ArrayNode removed = o.putArray("removed");
        a.removed().forEach(removed::add);
        return o;
    }

    private void list(Context ctx) {
        ObjectNode o = router.summary();
        ArrayNode qs = o.putArray("queries");
        router.list().forEach(qs::add);
        json(ctx, o);
    }

    private void deadLetters(Context ctx) {
        long after = HttpApi.longParam(ctx, "after", 0, 0);
        long limit = HttpApi.longParam(ctx, "limit", 100, 1);
        String reader = ctx.queryParam("reader");
        List<DeadLetters.DeadLetter> letters = router.deadLetters()
                .list(reader == null || reader.isBlank() ? null : reader, after, (int) Math.min(limit, 10_000));
        ObjectNode o = Json.object();
        ArrayNode list = o.putArray("deadletters");
        letters.forEach(l -> list.add(l.toJson()));
        json(ctx, o);
    }

    private void replay(Context ctx) throws InterruptedException {
        long id = id(ctx);
        DeadLetters.DeadLetter letter = router.deadLetters().get(id).orElseThrow(() -> noLetter(ctx));
        String error;
        if (Handlers.isHandlerReader(letter.reader())) {
            error = handlers.replay(letter);
        } else {
            try {
                error = router.replay(id, REPLAY_TIMEOUT);
            } catch (IllegalArgumentException e) {
                throw noLetter(ctx);
            }
        }
        if (error != null) {
            throw new ApiException(ErrorCode.UNAVAILABLE, "dead letter " + id + " was not delivered: " + error);
        }
        json(ctx, Json.object().put("replayed", id));
    }

    private void deleteLetter(Context ctx) {
        long id = id(ctx);
        if (!router.deleteDeadLetter(id)) {
            throw noLetter(ctx);
        }
        json(ctx, Json.object().put("deleted", id));
    }

    private static long id(Context ctx) {
        try {
            return Long.parseLong(ctx.pathParam("id"));
        } catch (NumberFormatException e) {
            throw new ApiException(
                    ErrorCode.INVALID_REQUEST, "a dead letter's id is a number, not '" + ctx.pathParam("id") + "'");
        }
    }

    private static ApiException noLetter(Context ctx) {
        return new ApiException(ErrorCode.NOT_FOUND, "no dead letter " + ctx.pathParam("id"));
    }

    private static ApiException notFound(String name) {
        return new ApiException(ErrorCode.NOT_FOUND, "no standing query named '" + name + "'");
    }

    private static void json(Context ctx, ObjectNode body) {
        ctx.contentType("application/json").result(Json.write(body));
    }
}
