package io.sluice.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.sluice.api.ErrorCode;
import io.sluice.api.Json;
import io.sluice.api.Names;
import io.sluice.core.consume.ConsumerSpec;
import io.sluice.core.consume.Consumers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Checkpointed consumers over HTTP:
 *
 * <ul>
 *   <li>{@code GET /v1/consumers/{name}/next?max=N&wait=S&lease=S} (on first use also
 *       {@code from=earliest|latest|N|TIME}, {@code filter=JSON}, {@code types=a.*,b}): leases events;
 *   <li>{@code POST /v1/consumers/{name}/ack} with {@code {"offsets":[...]}};
 *   <li>{@code POST /v1/consumers/{name}/seek} with {@code {"to":"latest"}} (skip the backlog) or an offset or time;
 *   <li>{@code GET /v1/consumers}, {@code GET /v1/consumers/{name}}, {@code DELETE /v1/consumers/{name}}.
 * </ul>
 */
public final class ConsumerApi {
    private final Consumers consumers;

    public ConsumerApi(Consumers consumers) {
        this.consumers = consumers;
    }

    public void register(Javalin app) {
        app.get("/v1/consumers", this::list);
        app.get(
                "/v1/consumers/{name}",
                ctx -> json(ctx, call(() -> consumers.status(name(ctx))).toJson()));
        app.delete("/v1/consumers/{name}", this::delete);
        app.get("/v1/consumers/{name}/next", this::next);
        app.post("/v1/consumers/{name}/ack", this::ack);
        app.post("/v1/consumers/{name}/seek", this::seek);
    }

    private void next(Context ctx) throws InterruptedException {
        String name = name(ctx);
        int max = (int) HttpApi.longParam(ctx, "max", 100, 1);
        if (max > 10_000) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "query parameter 'max' must be at most 10000");
        }
        Duration wait = seconds(ctx, "wait", 0, 300);
        Duration lease = seconds(ctx, "lease", 30, 3_600);
        if (lease.isZero()) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "query parameter 'lease' must be positive");
        }
        Consumers.Start start;
        ConsumerSpec spec;
        try {
            start = Consumers.start(ctx.queryParamAsClass("from", String.class).getOrDefault("earliest"));
            String filter = ctx.queryParam("filter");
            String types = ctx.queryParam("types");
            spec = new ConsumerSpec(
                    filter == null || filter.isBlank() ? null : parseJson(filter, "filter"),
                    types == null || types.isBlank()
                            ? List.of()
                            : Arrays.stream(types.split(",")).map(String::strip).toList());
        } catch (IllegalArgumentException e) {
            throw new ApiException(
                    e.getMessage().startsWith("filter") ? ErrorCode.INVALID_QUERY : ErrorCode.INVALID_REQUEST,
                    e.getMessage());
        }
        List<Consumers.Delivery> deliveries;
        try {
            deliveries = consumers.next(name, start, spec, max, wait, lease);
        } catch (Consumers.ConflictException e) {
            throw new ApiException(ErrorCode.CONFLICT, e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, e.getMessage());
        }
        StringBuilder body = new StringBuilder("{\"consumer\":")
                .append(Json.write(Json.nodes().textNode(name)))
                .append(",\"lease_seconds\":")
                .append(lease.toMillis() / 1000.0)
                .append(",\"events\":[");
        for (int i = 0; i < deliveries.size(); i++) {
            Consumers.Delivery d = deliveries.get(i);
            body.append(i == 0 ? "" : ",")
                    .append("{\"offset\":")
                    .append(d.event().offset())
                    .append(",\"deliveries\":")
                    .append(d.deliveries())
                    .append(",\"event\":")
                    .append(d.event().json())
                    .append('}');
        }
        ctx.contentType("application/json").result(body.append("]}").toString());
    }

    private void ack(Context ctx) {
        String name = name(ctx);
        JsonNode body = parseJson(ctx.body(), "the body");
        JsonNode offsets = body.path("offsets");
        if (!offsets.isArray()) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "the body must be {\"offsets\": [N, ...]}");
        }
        List<Long> list = new ArrayList<>();
        for (JsonNode o : offsets) {
            if (!o.canConvertToLong() || !o.isIntegralNumber()) {
                throw new ApiException(ErrorCode.INVALID_REQUEST, "offsets must be whole numbers, not " + o);
            }
            list.add(o.asLong());
        }
        int acked = call(() -> consumers.ack(name, list));
        ObjectNode answer = Json.object();
        answer.put("acked", acked);
        answer.put("position", consumers.status(name).position());
        json(ctx, answer);
    }

    private void seek(Context ctx) {
        String name = name(ctx);
        JsonNode to = parseJson(ctx.body(), "the body").path("to");
        if (to.isMissingNode() || to.isNull()) {
            throw new ApiException(
                    ErrorCode.INVALID_REQUEST, "the body must be {\"to\": \"earliest\"|\"latest\"|N|TIME}");
        }
        Consumers.Start start;
        try {
            start = Consumers.start(to.asText());
        } catch (IllegalArgumentException e) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, e.getMessage());
        }
        json(ctx, call(() -> consumers.seek(name, start)).toJson());
    }

    private void list(Context ctx) {
        ObjectNode body = Json.object();
        ArrayNode array = body.putArray("consumers");
        consumers.list().forEach(s -> array.add(s.toJson()));
        json(ctx, body);
    }

    private void delete(Context ctx) {
        if (!consumers.delete(name(ctx))) {
            throw new ApiException(ErrorCode.NOT_FOUND, "no consumer named '" + name(ctx) + "'");
        }
        ctx.status(204);
    }

    private static <T> T call(java.util.function.Supplier<T> action) {
        try {
            return action.get();
        } catch (Consumers.NoSuchConsumerException e) {
            throw new ApiException(ErrorCode.NOT_FOUND, e.getMessage());
        }
    }

    /** The consumer's name from the path, refused with a 400 unless it is a valid name ({@link Names}). */
    private static String name(Context ctx) {
        try {
            return Names.check("consumer", ctx.pathParam("name"));
        } catch (IllegalArgumentException e) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, e.getMessage());
        }
    }

    private static Duration seconds(Context ctx, String name, double otherwise, double max) {
        String v = ctx.queryParam(name);
        if (v == null || v.isBlank()) {
            return Duration.ofMillis((long) (otherwise * 1000));
        }
        try {
            double s = Double.parseDouble(v.strip().replaceFirst("s$", ""));
            if (s < 0 || s > max || Double.isNaN(s)) {
                throw new NumberFormatException();
            }
            return Duration.ofMillis((long) (s * 1000));
        } catch (NumberFormatException e) {
            throw new ApiException(
                    ErrorCode.INVALID_REQUEST,
                    "query parameter '" + name + "' must be seconds from 0 to " + (long) max + ", not '" + v + "'");
        }
    }

    private static JsonNode parseJson(String text, String what) {
        try {
            return Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, what + ": " + e.getMessage());
        }
    }

    private static void json(Context ctx, JsonNode body) {
        ctx.contentType("application/json").result(Json.write(body));
    }
}
