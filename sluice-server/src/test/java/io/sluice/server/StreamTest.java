package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.api.Json;
import io.sluice.server.cli.SluiceCommand;
import io.sluice.server.config.ServerConfig;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /v1/stream} (Server-Sent Events) and {@code sluice tail} against a real server. */
class StreamTest {
    @TempDir
    Path data;

    private SluiceServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() {
        server = SluiceServer.start(ServerConfig.defaults(data).withPort(0));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private void post(String ndjson) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/events"))
                        .header("Content-Type", "application/x-ndjson")
                        .POST(HttpRequest.BodyPublishers.ofString(ndjson))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
    }

    /** An SSE event as received: its id and data. */
    record Sse(String name, String id, String data) {}

    /** Opens a stream and reads {@code n} events from it. */
    private CompletableFuture<List<Sse>> read(String query, String lastEventId, int n) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + "/v1/stream" + query));
        if (lastEventId != null) {
            b.header("Last-Event-ID", lastEventId);
        }
        HttpResponse<InputStream> response = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        return CompletableFuture.supplyAsync(() -> {
            List<Sse> events = new ArrayList<>();
            try (InputStream body = response.body()) {
                BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
                String name = null;
                String id = null;
                String line;
                while (events.size() < n && (line = reader.readLine()) != null) {
                    if (line.startsWith("event:")) {
                        name = line.substring(6).strip();
                    } else if (line.startsWith("id:")) {
                        id = line.substring(3).strip();
                    } else if (line.startsWith("data:")) {
                        events.add(new Sse(name, id, line.substring(5).strip()));
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return events;
        });
    }

    @Test
    void streamsHistoryThenLiveEventsWithTheOffsetAsId() throws Exception {
        post("{\"n\":1}\n{\"n\":2}\n{\"n\":3}");
        CompletableFuture<List<Sse>> events = read("?from=earliest", null, 5);
        post("{\"n\":4}\n{\"n\":5}");
        List<Sse> got = events.get(30, TimeUnit.SECONDS);
        assertThat(got).extracting(Sse::id).containsExactly("1", "2", "3", "4", "5");
        assertThat(got).extracting(Sse::name).containsOnly("message");
        assertThat(Json.parse(got.get(3).data()).at("/event/n").asInt()).isEqualTo(4);
    }

    @Test
    void lastEventIdResumesWithoutLossOrDuplicatesAndFiltersApply() throws Exception {
        post("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}");
        assertThat(read("", "2", 2).get(30, TimeUnit.SECONDS))
                .extracting(Sse::id)
                .containsExactly("3", "4");
        String filter = URLEncoder.encode("{\"n\":{\"$gte\":3}}", StandardCharsets.UTF_8);
        CompletableFuture<List<Sse>> filtered = read("?from=0&filter=" + filter, null, 3);
        post("{\"n\":0}\n{\"n\":9}");
        assertThat(filtered.get(30, TimeUnit.SECONDS)).extracting(Sse::id).containsExactly("3", "4", "6");
    }

    @Test
    void theDefaultStartIsTheNextNewEvent() throws Exception {
        post("{\"old\":true}");
        CompletableFuture<List<Sse>> events = read("", null, 1);
        // the stream is open once the response headers arrived; a new event follows
        post("{\"new\":true}");
        assertThat(events.get(30, TimeUnit.SECONDS)).extracting(Sse::id).containsExactly("2");
    }

    @Test
    void badParametersAnswer400() throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/stream?from=yesterday"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(Json.parse(r.body()).get("error").asText()).contains("'from' must be earliest");
    }

    @Test
    void tailPrintsEventsAsNdjson() throws Exception {
        post("{\"n\":1}\n{\"n\":2}\n{\"n\":3}");
        StringWriter out = new StringWriter();
        int exit = SluiceCommand.commandLine(new PrintWriter(out), new PrintWriter(new StringWriter()))
                .execute(
                        "tail",
                        "--url",
                        server.url(),
                        "--from",
                        "earliest",
                        "--limit",
                        "2",
                        "--filter",
                        "{\"n\":{\"$gte\":2}}");
        assertThat(exit).isZero();
        assertThat(out.toString().lines())
                .hasSize(2)
                .allSatisfy(l -> assertThat(Json.parse(l).has("offset")).isTrue());
        assertThat(Json.parse(out.toString().lines().toList().get(1))
                        .get("offset")
                        .asLong())
                .isEqualTo(3);
    }
}
