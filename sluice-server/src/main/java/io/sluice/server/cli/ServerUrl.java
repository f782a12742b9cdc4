package io.sluice.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/**
 * The {@code --url} option of the client commands, and the HTTP calls they make. An error
 * answer of 4xx becomes an {@link InvalidInputException} (exit 2) with the server's message;
 * anything else that fails is a failure at run time (exit 1).
 */
final class ServerUrl {
    @Option(
            names = "--url",
            paramLabel = "URL",
            description = "The Sluice server (default: $SLUICE_URL, else http://127.0.0.1:8470).")
    String url;

    /**
     * Made on first use: picocli instantiates every command to build the command line, and an
     * HttpClient made then would cost every command (the server's start too) half a second.
     */
    private HttpClient http;

    private HttpClient http() {
        if (http == null) {
            http = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(10))
                    .build();
        }
        return http;
    }

    String base() {
        String u = url != null ? url : System.getenv().getOrDefault("SLUICE_URL", "http://127.0.0.1:8470");
        return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
    }

    /** {@code path?name=value&...}, leaving out the names whose value is null. */
    static String query(String path, String... namesAndValues) {
        StringBuilder q = new StringBuilder(path);
        char sep = '?';
        for (int i = 0; i + 1 < namesAndValues.length; i += 2) {
            if (namesAndValues[i + 1] != null) {
                q.append(sep).append(param(namesAndValues[i], namesAndValues[i + 1]));
                sep = '&';
            }
        }
        return q.toString();
    }

    /** GETs {@code path} and prints each element of the answer's {@code field} as one JSON line. */
    void printEach(String path, String field, java.io.PrintWriter out) {
        for (com.fasterxml.jackson.databind.JsonNode n : call("GET", path).path(field)) {
            out.println(io.sluice.api.Json.write(n));
        }
        out.flush();
    }

    static String param(String name, String value) {
        return name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** POSTs a body and returns the JSON answer. */
    JsonNode post(String path, String contentType, String body) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base() + path))
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                .build();
        HttpResponse<String> response = send(request, HttpResponse.BodyHandlers.ofString());
        check(response.statusCode(), response.body());
        return Json.parse(response.body());
    }

    /** Sends a request without a body (GET, DELETE, a POST that needs none) and returns the JSON answer. */
    JsonNode call(String method, String path) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base() + path))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        HttpResponse<String> response = send(request, HttpResponse.BodyHandlers.ofString());
        check(response.statusCode(), response.body());
        return Json.parse(response.body());
    }

    /** GETs a streamed NDJSON answer, handing each line to {@code lines} as it arrives. */
    void streamLines(String path, Consumer<String> lines) {
        HttpRequest request =
                HttpRequest.newBuilder(URI.create(base() + path)).GET().build();
        HttpResponse<InputStream> response = send(request, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
            if (response.statusCode() >= 400) {
                check(response.statusCode(), new String(body.readAllBytes(), StandardCharsets.UTF_8));
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.isEmpty()) {
                    lines.accept(line);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("the connection to " + base() + " broke: " + e.getMessage(), e);
        }
    }

    /** Receives one Server-Sent Event; returns whether to go on. */
    @FunctionalInterface
    interface SseHandler {
        boolean event(String name, String data);
    }

    /** GETs a Server-Sent Events stream, handing each event to {@code handler} until it says stop. */
    void streamEvents(String path, SseHandler handler) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base() + path))
                .header("Accept", "text/event-stream")
                .GET()
                .build();
        HttpResponse<InputStream> response = send(request, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
            if (response.statusCode() >= 400) {
                check(response.statusCode(), new String(body.readAllBytes(), StandardCharsets.UTF_8));
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
            String name = "message";
            StringBuilder data = new StringBuilder();
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isEmpty()) {
                    if (!data.isEmpty() && !handler.event(name, data.toString())) {
                        return;
                    }
                    name = "message";
                    data.setLength(0);
                } else if (line.startsWith("event:")) {
                    name = line.substring(6).strip();
                } else if (line.startsWith("data:")) {
                    if (!data.isEmpty()) {
                        data.append('\n');
                    }
                    data.append(line.substring(5).stripLeading());
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("the connection to " + base() + " broke: " + e.getMessage(), e);
        }
    }

    /** The message of a JSON error body, else the body. */
    static String errorMessage(String body) {
        try {
            JsonNode error = Json.parse(body);
            return error.hasNonNull("error") ? error.get("error").asText() : body;
        } catch (IllegalArgumentException notJson) {
            return body;
        }
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        try {
            return http().send(request, handler);
        } catch (ConnectException e) {
            throw new IllegalStateException("cannot reach Sluice at " + base() + " (is `sluice server` running?)", e);
        } catch (IOException e) {
            throw new IllegalStateException("request to " + base() + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void check(int status, String body) {
        if (status < 400) {
            return;
        }
        String message = errorMessage(body);
        if (status < 500) {
            throw new InvalidInputException(message);
        }
        throw new IllegalStateException("the server failed (" + status + "): " + message);
    }
}
