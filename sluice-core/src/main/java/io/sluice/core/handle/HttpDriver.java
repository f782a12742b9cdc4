package io.sluice.core.handle;

import io.sluice.api.handler.Invocation;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

/**
 * {@code driver: http}: POSTs the event (JSON, as stored) to a URL with the headers
 * {@code Sluice-Handler}, {@code Sluice-Event-Id}, {@code Sluice-Offset}, {@code Sluice-Attempt}
 * and {@code Idempotency-Key} ({@code EVENTID:HANDLER}). A 2xx answer is success, with its
 * body as the output; any other status, a timeout or a failed connection is a failed run.
 */
final class HttpDriver implements Driver {
    private final URI url;
    private final Duration timeout;
    private final int maxOutput;
    private final HttpClient client;

    HttpDriver(String url, Duration timeout, long maxOutput) {
        URI u;
        try {
            u = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a URL: " + url, e);
        }
        if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
            throw new IllegalArgumentException("must be an http:// or https:// URL, not '" + url + "'");
        }
        this.url = u;
        this.timeout = timeout;
        this.maxOutput = (int) Math.min(maxOutput, Integer.MAX_VALUE);
        this.client = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    @Override
    public Outcome run(Invocation inv) throws InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(url)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("Sluice-Handler", inv.handler())
                .header("Sluice-Event-Id", inv.eventId())
                .header("Sluice-Offset", Long.toString(inv.offset()))
                .header("Sluice-Attempt", Integer.toString(inv.attempt()))
                .header("Idempotency-Key", inv.eventId() + ":" + inv.handler())
                .POST(HttpRequest.BodyPublishers.ofString(inv.eventJson()))
                .build();
        try {
            HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
            String body = truncate(r.body());
            return r.statusCode() / 100 == 2
                    ? new Outcome(Status.OK, r.statusCode(), body, null)
                    : new Outcome(Status.FAILED, r.statusCode(), null, "HTTP " + r.statusCode() + ": " + body);
        } catch (HttpTimeoutException e) {
            return new Outcome(
                    Status.TIMEOUT, null, null, "no answer from " + url + " within " + timeout.toMillis() + " ms");
        } catch (IOException e) {
            return new Outcome(Status.FAILED, null, null, "cannot reach " + url + ": " + e);
        }
    }

    private String truncate(String s) {
        return s == null || s.length() <= maxOutput ? s : s.substring(0, maxOutput) + "… [truncated]";
    }

    @Override
    public void close() {
        client.close();
    }
}
