package io.sluice.core.connect;

import io.sluice.api.component.Field;
import io.sluice.api.component.Message;
import io.sluice.api.component.Settings;
import io.sluice.api.component.Sink;
import io.sluice.api.component.Spec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * POSTs each match's event (JSON, as stored) to a URL with the headers {@code Sluice-Query},
 * {@code Sluice-Event-Id}, {@code Sluice-Offset} and {@code Idempotency-Key}. A 2xx answer is a
 * delivery; a 4xx answer is a refusal of that event (retried up to the attempt limit, then
 * parked as a dead letter); a 5xx answer, a timeout or a connection that fails means the
 * receiver is failing as a whole (retried with backoff until it recovers, counted against no
 * event).
 */
public final class WebhookSink implements Sink {
    public static final Field URL = Field.required("url", Field.Type.STRING, "where to POST each event");
    public static final Field HEADERS = Field.optional("headers", Field.Type.STRING_MAP, null, "extra request headers");
    public static final Field TIMEOUT =
            Field.optional("timeout", Field.Type.DURATION, "5s", "how long to wait for an answer");
    public static final Field CONCURRENCY = Field.optional(
            "concurrency",
            Field.Type.INTEGER,
            1,
            "requests in flight at once; 1 keeps the receiver's view in log order, more trades that order for speed");

    public static final Spec SPEC = new Spec(
            "output",
            "webhook",
            "POSTs each matching event to a URL; 2xx is delivered, anything else is retried and then dead-lettered.",
            List.of(URL, HEADERS, TIMEOUT, CONCURRENCY));

    private final URI url;
    private final Map<String, String> headers;
    private final Duration timeout;
    private final HttpClient client;
    private final int concurrency;

    public WebhookSink(URI url, Map<String, String> headers, Duration timeout, int concurrency) {
        this.concurrency = concurrency;
        this.url = url;
        this.headers = Map.copyOf(headers);
        this.timeout = timeout;
        this.client = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    /** A webhook sink from its settings. */
    public static WebhookSink of(Settings s) {
        URI url;
        try {
            url = URI.create(s.string(URL.name()));
        } catch (IllegalArgumentException e) {
            throw s.invalid(URL.name(), "not a URL: " + e.getMessage());
        }
        if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
            throw s.invalid(URL.name(), "must be an http:// or https:// URL, not '" + url + "'");
        }
        long concurrency = s.integer(CONCURRENCY.name());
        if (concurrency < 1 || concurrency > 1_000) {
            throw s.invalid(CONCURRENCY.name(), "must be from 1 to 1000, not " + concurrency);
        }
        return new WebhookSink(url, s.stringMap(HEADERS.name()), s.duration(TIMEOUT.name()), (int) concurrency);
    }

    @Override
    public void open() {}

    @Override
    public List<Refusal> send(List<Message> messages) throws IOException, InterruptedException {
        List<Refusal> refused = new ArrayList<>();
        for (int from = 0; from < messages.size(); from += concurrency) {
            int to = Math.min(messages.size(), from + concurrency);
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = from; i < to; i++) {
                answers.add(client.sendAsync(request(messages.get(i)), HttpResponse.BodyHandlers.ofString()));
            }
            for (int i = from; i < to; i++) {
                HttpResponse<String> response;
                String failure;
                try {
                    response = answers.get(i - from).get();
                    failure = response.statusCode() >= 500
                            ? url + " answered " + response.statusCode() + ": " + abbreviate(response.body())
                            : null;
                } catch (ExecutionException e) {
                    response = null;
                    failure = e.getCause() instanceof HttpTimeoutException
                            ? "no answer from " + url + " within " + timeout.toMillis() + " ms"
                            : "cannot POST to " + url + ": " + e.getCause();
                }
                if (failure != null) {
                    // The receiver is failing as a whole: like an outage, the rest is tried again.
                    answers.forEach(a -> a.cancel(true));
                    if (i == 0) {
                        throw new IOException(failure);
                    }
                    for (int j = i; j < messages.size(); j++) {
                        refused.add(new Refusal(j, failure, false));
                    }
                    return refused;
                }
                int status = response.statusCode();
                if (status < 200 || status > 299) {
                    refused.add(new Refusal(i, url + " answered " + status + ": " + abbreviate(response.body())));
                }
            }
        }
        return refused;
    }

    private HttpRequest request(Message m) {
        HttpRequest.Builder request = HttpRequest.newBuilder(url)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("Sluice-Query", m.source())
                .header("Sluice-Event-Id", m.eventId())
                .header("Sluice-Offset", Long.toString(m.offset()))
                .header("Idempotency-Key", m.idempotencyKey())
                .POST(HttpRequest.BodyPublishers.ofString(m.eventJson()));
        headers.forEach(request::header);
        return request.build();
    }

    private static String abbreviate(String body) {
        String b = body == null ? "" : body.strip();
        return b.length() > 200 ? b.substring(0, 200) + "..." : b;
    }

    @Override
    public void close() {}
}
