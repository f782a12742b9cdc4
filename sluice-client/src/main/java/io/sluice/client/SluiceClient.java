package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.ErrorCode;
import io.sluice.api.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A connection to a Sluice server: log events, and build consumers. Thread-safe; one per
 * application is enough.
 *
 * <p>An event logged with {@code log(type, data)} is stored as {@code {"type": type, "data": data}}
 * with a generated id and the ingest time; every {@code log} call returns once the server has
 * stored the events durably.
 */
public final class SluiceClient {
    private final URI base;
    private final HttpClient http;

    private SluiceClient(URI base) {
        this.base = base;
        this.http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** A client of the server at {@code url}, such as {@code http://127.0.0.1:8470}. */
    public static SluiceClient connect(String url) {
        Objects.requireNonNull(url, "url");
        return new SluiceClient(URI.create(url.endsWith("/") ? url : url + "/"));
    }

    /** Logs an event of {@code type} with {@code data} (any value Jackson can write: a map, a record, a string). */
    public Logged log(String type, Object data) {
        return logDocuments(List.of(document(type, data))).getFirst();
    }

    /** Logs a typed event, after its {@link TypedEvent#validated()} hook. */
    public Logged log(TypedEvent event) {
        return logAll(List.of(event)).getFirst();
    }

    /** Logs typed events in one request: all of them are stored, or none. */
    public List<Logged> logAll(List<? extends TypedEvent> events) {
        List<ObjectNode> documents = new ArrayList<>(events.size());
        for (TypedEvent e : events) {
            TypedEvent valid = e.validated();
            documents.add(document(valid.eventType(), valid));
        }
        return logDocuments(documents);
    }

    /** Logs whole event documents in one request (envelope fields and all): all or none. */
    public List<Logged> logDocuments(List<? extends JsonNode> documents) {
        StringBuilder body = new StringBuilder();
        for (JsonNode d : documents) {
            body.append(Json.write(d)).append('\n');
        }
        JsonNode answer = call(HttpRequest.newBuilder(base.resolve("v1/events"))
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8)));
        List<Logged> logged = new ArrayList<>();
        for (int i = 0; i < answer.path("ids").size(); i++) {
            logged.add(new Logged(
                    answer.path("offsets").get(i).asLong(),
                    answer.path("ids").get(i).asText()));
        }
        return logged;
    }

    /** Starts building a consumer loop for the named consumer. */
    public ConsumerLoop.Builder consumer(String name) {
        return new ConsumerLoop.Builder(this, name);
    }

    private static ObjectNode document(String type, Object data) {
        if (type == null || type.isBlank()) {
            throw new IllegalArgumentException("an event type must not be empty");
        }
        ObjectNode doc = Json.object();
        doc.put("type", type);
        doc.set("data", Json.mapper().valueToTree(data));
        return doc;
    }

    // ------------------------------------------------------------------ consumer calls

    JsonNode next(
            String consumer, int max, Duration wait, Duration lease, String from, List<String> types, JsonNode filter) {
        StringBuilder query = new StringBuilder("v1/consumers/")
                .append(encode(consumer))
                .append("/next?max=")
                .append(max)
                .append("&wait=")
                .append(wait.toMillis() / 1000.0)
                .append("&lease=")
                .append(lease.toMillis() / 1000.0)
                .append("&from=")
                .append(encode(from));
        if (!types.isEmpty()) {
            query.append("&types=").append(encode(String.join(",", types)));
        }
        if (filter != null) {
            query.append("&filter=").append(encode(Json.write(filter)));
        }
        return call(HttpRequest.newBuilder(base.resolve(query.toString()))
                .timeout(wait.plusSeconds(30))
                .GET());
    }

    void ack(String consumer, List<Long> offsets) {
        ObjectNode body = Json.object();
        offsets.forEach(body.putArray("offsets")::add);
        call(HttpRequest.newBuilder(base.resolve("v1/consumers/" + encode(consumer) + "/ack"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(body))));
    }

    private JsonNode call(HttpRequest.Builder request) {
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new SluiceException(null, "cannot reach Sluice at " + base + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SluiceException(null, "interrupted", e);
        }
        JsonNode body = response.body().isEmpty() ? Json.object() : Json.parse(response.body());
        if (response.statusCode() >= 400) {
            ErrorCode code;
            try {
                code = ErrorCode.valueOf(body.path("code").asText("internal").toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException unknown) {
                code = ErrorCode.INTERNAL;
            }
            throw new SluiceException(code, body.path("error").asText(response.body()), null);
        }
        return body;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "SluiceClient(" + base + ")";
    }
}
