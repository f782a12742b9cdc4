package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.f4b6a3.uuid.UuidCreator;
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
import java.util.concurrent.TimeUnit;

/**
 * A connection to a Sluice server: log events, and build consumers. Thread-safe; one per
 * application is enough.
 *
 * <p>An event logged with {@code log(type, data)} is stored as {@code {"id": id, "type": type,
 * "data": data}} with an id the client makes (a time-ordered UUID) and the ingest time; every
 * {@code log} call returns once the server has stored the events durably.
 *
 * <p><b>Retries.</b> When the server cannot be reached or answers 503 (stopping, busy, or not
 * sure the events were stored), a request whose events all carry ids is sent again, with
 * backoff from 100 ms to 5 s, for up to {@link #DEFAULT_RETRY} ({@link #retryingFor}). Sending
 * it again is safe: an id already stored is acknowledged with its offset, not stored twice.
 * The events {@code log} and {@code logAll} make always carry ids; documents given to
 * {@link #logDocuments} are retried only if each has its own {@code id}.
 */
public final class SluiceClient {
    /** How long appends are retried by default. */
    public static final Duration DEFAULT_RETRY = Duration.ofSeconds(30);

    /** The longest pause between two tries of an append. */
    private static final long MAX_BACKOFF_MILLIS = 5_000;

    private final URI base;
    private final HttpClient http;
    private final Duration retryFor;

    private SluiceClient(URI base, HttpClient http, Duration retryFor) {
        this.base = base;
        this.http = http;
        this.retryFor = retryFor;
    }

    /** A client of the server at {@code url}, such as {@code http://127.0.0.1:8470}. */
    public static SluiceClient connect(String url) {
        Objects.requireNonNull(url, "url");
        return new SluiceClient(
                URI.create(url.endsWith("/") ? url : url + "/"),
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build(),
                DEFAULT_RETRY);
    }

    /** The same client, retrying appends for up to {@code window} ({@link Duration#ZERO}: never). */
    public SluiceClient retryingFor(Duration window) {
        if (window.isNegative()) {
            throw new IllegalArgumentException("a retry window cannot be negative: " + window);
        }
        return new SluiceClient(base, http, window);
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
        boolean allHaveIds = true;
        for (JsonNode d : documents) {
            body.append(Json.write(d)).append('\n');
            JsonNode id = d.path("id");
            allHaveIds &= id.isTextual() || id.isIntegralNumber();
        }
        HttpRequest request = HttpRequest.newBuilder(base.resolve("v1/events"))
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8))
                .build();
        JsonNode answer = allHaveIds ? callRetrying(request) : call(request);
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
        doc.put("id", UuidCreator.getTimeOrderedEpoch().toString());
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

    /**
     * Sends a request that is safe to send again (its events carry ids) until it is answered
     * without a passing failure or the retry window is over.
     */
    private JsonNode callRetrying(HttpRequest request) {
        long deadline = System.nanoTime() + retryFor.toNanos();
        Backoff backoff = new Backoff(MAX_BACKOFF_MILLIS);
        while (true) {
            try {
                return call(request);
            } catch (SluiceException e) {
                boolean passing = e.code() == null || e.code() == ErrorCode.UNAVAILABLE;
                if (!passing || System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff.nextMillis()) > deadline) {
                    throw e;
                }
            }
            try {
                backoff.pause();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new SluiceException(null, "interrupted while waiting to send the events again", ie);
            }
        }
    }

    private JsonNode call(HttpRequest.Builder request) {
        return call(request.build());
    }

    private JsonNode call(HttpRequest request) {
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
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
