package io.sluice.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.api.ErrorCode;
import io.sluice.api.Json;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.EventTooLargeException;
import io.sluice.core.log.InvalidBatchException;
import io.sluice.core.log.LiveEvents;
import io.sluice.core.log.LogCursor;
import io.sluice.core.log.OffsetOutOfRangeException;
import io.sluice.core.log.StoredEvent;
import io.sluice.query.Query;
import io.sluice.query.QueryException;
import io.sluice.server.config.ServerConfig;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API's routes: events in and out, health and metrics. Errors are JSON
 * ({@code {"error", "code", "detail"}}) with the status of their {@link ErrorCode}.
 */
public final class HttpApi {
    /** Answers with a JSON body. */
    static void json(io.javalin.http.Context ctx, com.fasterxml.jackson.databind.JsonNode body) {
        ctx.contentType("application/json").result(Json.write(body));
    }

    private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
    private static final String NDJSON = "application/x-ndjson";
    private static final int PAGE = 1_000;

    /** Live buffer per SSE client; a client further behind is caught up from the store. */
    private static final int LIVE_BUFFER = 10_000;

    private static final Duration KEEP_ALIVE = Duration.ofSeconds(15);

    /** Said when an append was queued but not confirmed: the log may still store it. */
    private static final String MAY_BE_STORED = "; they may still be stored: send them again with the same ids"
            + " (an id already stored is acknowledged, not stored twice)";

    private final EventLog log;
    private final EventStore store;
    private final LiveEvents live;
    private final ServerConfig.Limits limits;
    private final PrometheusMeterRegistry meters;
    private final Timer appendStored;
    private final Timer appendRefused;
    private final Timer appendFailed;
    private final Admission admission;

    private final Function<String, Optional<Query>> standingQueries;

    /**
     * @param standingQueries the active standing query of a name, for {@code GET /v1/stream?query=NAME}
     */
    public HttpApi(
            EventLog log,
            LiveEvents live,
            ServerConfig.Limits limits,
            PrometheusMeterRegistry meters,
            Function<String, Optional<Query>> standingQueries) {
        this.standingQueries = standingQueries;
        this.log = log;
        this.store = log.store();
        this.live = live;
        this.limits = limits;
        this.meters = meters;
        this.admission = new Admission(limits.inflightBudget(), Admission.WAIT);
        admission.bindTo(meters);
        this.appendStored = appendTimer(meters, "2xx");
        this.appendRefused = appendTimer(meters, "4xx");
        this.appendFailed = appendTimer(meters, "5xx");
    }

    /** Registers the routes and error handlers on {@code app}. */
    public void register(Javalin app) {
        app.post("/v1/events", this::append);
        app.get("/v1/events", this::find);
        app.get("/v1/events/{id}", this::byId);
        app.get("/v1/stream", this::stream);
        app.get("/healthz", this::health);
        app.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                .result(meters.scrape()));

        app.exception(ApiException.class, (e, ctx) -> error(ctx, e.code(), e.getMessage(), e.detail()));
        app.exception(Exception.class, (e, ctx) -> {
            LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
            error(ctx, ErrorCode.INTERNAL, "internal error: " + e, null);
        });
        app.error(404, ctx -> {
            String answered = ctx.res().getContentType(); // ours are JSON; Javalin's own "endpoint not found" is not
            if (answered == null || !answered.startsWith("application/json")) {
                error(ctx, ErrorCode.NOT_FOUND, "no such endpoint: " + ctx.method() + " " + ctx.path(), null);
            }
        });
        app.error(405, ctx -> error(ctx, ErrorCode.INVALID_REQUEST, "method not allowed: " + ctx.method(), null));
    }

    /** {@code POST /v1/events}: answers after the events are durable. */
    private void append(Context ctx) throws IOException {
        long started = System.nanoTime();
        Timer outcome = appendFailed;
        try {
            long declared = ctx.contentLength();
            EventBodies.Format format = EventBodies.checkHeaders(ctx.contentType(), declared, limits);
            try (Admission.Ticket ticket = admission.admit(declared)) {
                append(ctx, EventBodies.read(format, ctx.bodyInputStream(), declared, limits, log.envelope(), ticket));
            }
            outcome = appendStored;
        } catch (ApiException e) {
            outcome = e.code().status() < 500 ? appendRefused : appendFailed;
            throw e;
        } finally {
            outcome.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * {@code sluice_http_append_seconds{status}}: a {@code POST /v1/events} from its headers
     * read to its answer ready, so reading and checking the body, waiting for room and the
     * log's append (its durable commit) included; the network and the client are not.
     */
    private static Timer appendTimer(PrometheusMeterRegistry meters, String status) {
        return Timer.builder("sluice.http.append")
                .description("POST /v1/events: from the request's headers read to its answer, in the server")
                .tag("status", status)
                .publishPercentileHistogram()
                .register(meters);
    }

    private void append(Context ctx, EventBodies.Body request) {
        List<JsonNode> documents = request.events();
        EventLog.AppendResult result;
        try {
            result = log.append(documents, request.texts()).get(60, TimeUnit.SECONDS);
        } catch (EventTooLargeException e) {
            throw new ApiException(
                    ErrorCode.TOO_LARGE, e.getMessage(), Json.object().put("index", e.index()));
        } catch (InvalidBatchException e) {
            throw new ApiException(
                    ErrorCode.INVALID_EVENT, e.getMessage(), Json.object().put("index", e.index()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(
                    ErrorCode.UNAVAILABLE, "interrupted before the events were confirmed durable" + MAY_BE_STORED);
        } catch (TimeoutException e) {
            throw new ApiException(
                    ErrorCode.UNAVAILABLE, "the events were not confirmed durable within 60 s" + MAY_BE_STORED);
        } catch (ExecutionException e) {
            throw new ApiException(
                    ErrorCode.UNAVAILABLE,
                    "the events could not be stored: " + (e.getCause() == null ? e : e.getCause()).getMessage());
        }
        ObjectNode body = Json.object();
        body.put("accepted", result.ids().size());
        body.put("duplicates", result.duplicates());
        body.put("first_offset", result.firstOffset());
        body.put("last_offset", result.lastOffset());
        ArrayNode ids = body.putArray("ids");
        result.ids().forEach(ids::add);
        ArrayNode offsets = body.putArray("offsets");
        result.offsets().forEach(offsets::add);
        ctx.contentType("application/json").result(Json.write(body));
    }

    /** {@code GET /v1/events?filter=&after=&limit=}: history as NDJSON, streamed in pages. */
    private void find(Context ctx) throws IOException {
        Predicate<StoredEvent> filter = filter(ctx.queryParam("filter"));
        long first = store.firstOffset();
        // Without "after", history starts at the earliest retained event; an explicit "after"
        // before it is an error that names it, so a reader knows it missed events.
        long after = longParam(ctx, "after", first - 1, 0);
        long limit = longParam(ctx, "limit", Long.MAX_VALUE, 0);
        if (after < first - 1) {
            throw outOfRange(new OffsetOutOfRangeException(after, first));
        }
        long head = store.lastOffset();
        ctx.status(200).contentType(NDJSON);
        Writer out = new BufferedWriter(new OutputStreamWriter(ctx.res().getOutputStream(), StandardCharsets.UTF_8));
        long cursor = after;
        long remaining = limit;
        while (remaining > 0 && cursor < head) {
            EventStore.Page page;
            try {
                page = store.read(cursor, (int) Math.min(PAGE, remaining), filter);
            } catch (OffsetOutOfRangeException e) {
                break; // retention overtook a slow reader mid-stream: end the stream at what was sent
            }
            for (StoredEvent e : page.events()) {
                out.write(e.toLine());
                out.write('\n');
            }
            remaining -= page.events().size();
            if (page.scannedTo() <= cursor) {
                break;
            }
            cursor = page.scannedTo();
            out.flush();
        }
        out.flush();
    }

    /**
     * {@code GET /v1/stream?filter=&query=&from=}: live events (those a filter, a standing query
     * of that name, or both match) as Server-Sent Events, on any client (no
     * {@code Accept} header needed). The SSE id is the offset; {@code Last-Event-ID} (or
     * {@code from=earliest|latest|N}) says where to resume. Each client has a bounded live
     * buffer; one that falls further behind is caught up from the store, never slowing others.
     */
    private void stream(Context ctx) throws IOException {
        Predicate<StoredEvent> filter = filter(ctx.queryParam("filter"));
        String name = ctx.queryParam("query");
        if (name != null && !name.isBlank()) {
            Query standing = standingQueries
                    .apply(name)
                    .orElseThrow(() -> new ApiException(ErrorCode.NOT_FOUND, "no standing query named '" + name + "'"));
            Predicate<StoredEvent> also = filter;
            filter = e -> also.test(e) && standing.matches(e.document());
        }
        long after = startPosition(ctx.header("Last-Event-ID"), ctx.queryParam("from"));
        if (after < store.firstOffset() - 1) {
            throw outOfRange(new OffsetOutOfRangeException(after, store.firstOffset()));
        }
        ctx.status(200).contentType("text/event-stream; charset=utf-8");
        ctx.header("Cache-Control", "no-cache");
        ctx.header("X-Accel-Buffering", "no");
        Writer out = new BufferedWriter(new OutputStreamWriter(ctx.res().getOutputStream(), StandardCharsets.UTF_8));
        out.write(": sluice stream after offset " + after + "\n\n");
        out.flush();
        try (LogCursor cursor = new LogCursor(store, live, after, filter, LIVE_BUFFER)) {
            while (true) {
                StoredEvent e = cursor.next(KEEP_ALIVE);
                if (e == null) {
                    out.write(": keep-alive\n\n");
                } else {
                    out.write("id: " + e.offset() + "\nevent: message\ndata: " + e.toLine() + "\n\n");
                }
                out.flush(); // an IOException here means the client went away
            }
        } catch (OffsetOutOfRangeException e) {
            ApiException error = outOfRange(e);
            out.write("event: error\ndata: " + errorJson(error.code(), error.getMessage(), error.detail()) + "\n\n");
            out.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException clientGone) {
            LOG.debug("stream client went away: {}", clientGone.toString());
        }
    }

    private long startPosition(String lastEventId, String from) {
        if (lastEventId != null && !lastEventId.isBlank()) {
            try {
                return Long.parseLong(lastEventId.strip());
            } catch (NumberFormatException e) {
                throw new ApiException(
                        ErrorCode.INVALID_REQUEST, "Last-Event-ID must be an offset, not '" + lastEventId + "'");
            }
        }
        if (from == null || from.isBlank() || from.equals("latest")) {
            return store.lastOffset();
        }
        if (from.equals("earliest")) {
            return store.firstOffset() - 1;
        }
        try {
            long n = Long.parseLong(from.strip());
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ApiException(
                    ErrorCode.INVALID_REQUEST,
                    "query parameter 'from' must be earliest, latest or an offset, not '" + from + "'");
        }
    }

    /** {@code GET /v1/events/{id}}. */
    private void byId(Context ctx) {
        String id = ctx.pathParam("id");
        StoredEvent e = store.byId(id)
                .orElseThrow(() -> new ApiException(ErrorCode.NOT_FOUND, "no event with id '" + id + "'"));
        ctx.contentType("application/json").result(e.toLine());
    }

    private void health(Context ctx) {
        ObjectNode body = Json.object();
        body.put("status", "ok");
        body.put("first_offset", store.firstOffset());
        body.put("last_offset", store.lastOffset());
        ctx.contentType("application/json").result(Json.write(body));
    }

    // ------------------------------------------------------------------ helpers

    static Predicate<StoredEvent> filter(String json) {
        if (json == null || json.isBlank()) {
            return e -> true;
        }
        Query query;
        try {
            query = Query.parse(json);
        } catch (QueryException e) {
            throw new ApiException(ErrorCode.INVALID_QUERY, "filter: " + e.getMessage());
        }
        return e -> query.matches(e.document());
    }

    static long longParam(Context ctx, String name, long otherwise, long min) {
        String value = ctx.queryParam(name);
        if (value == null || value.isBlank()) {
            return otherwise;
        }
        try {
            long v = Long.parseLong(value.strip());
            if (v < min) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new ApiException(
                    ErrorCode.INVALID_REQUEST,
                    "query parameter '" + name + "' must be a whole number >= " + min + ", not '" + value + "'");
        }
    }

    static ApiException outOfRange(OffsetOutOfRangeException e) {
        return new ApiException(
                ErrorCode.OFFSET_OUT_OF_RANGE, e.getMessage(), Json.object().put("earliest", e.earliest()));
    }

    private static void error(Context ctx, ErrorCode code, String message, JsonNode detail) {
        if (code == ErrorCode.UNAVAILABLE) {
            ctx.header("Retry-After", "1");
        }
        ctx.status(code.status()).contentType("application/json").result(errorJson(code, message, detail));
    }

    private static String errorJson(ErrorCode code, String message, JsonNode detail) {
        ObjectNode body = Json.object();
        body.put("error", message);
        body.put("code", code.wireName());
        if (detail != null) {
            body.set("detail", detail);
        }
        return Json.write(body);
    }
}
