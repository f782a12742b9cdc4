package io.sluice.server.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.sluice.server.ServerProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server process routing matches to a webhook is killed with SIGKILL mid-stream and
 * restarted on the same data: every match of every acknowledged event arrives, and a match
 * delivered twice carries the same idempotency key both times.
 */
class RoutingCrashTest {

    @TempDir
    Path dir;

    private HttpServer receiver;
    private ServerProcess process;
    private int starts;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @AfterEach
    void stop() throws InterruptedException {
        if (process != null) {
            process.kill();
        }
        if (receiver != null) {
            receiver.stop(0);
        }
    }

    @Test
    void noMatchIsLostWhenTheServerIsKilledMidStream() throws Exception {
        List<String> keys = new CopyOnWriteArrayList<>();
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", exchange -> {
            exchange.getRequestBody().readAllBytes();
            keys.add(exchange.getRequestHeaders().getFirst("Idempotency-Key"));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        receiver.start();
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(
                config,
                "outputs:\n  hook: {type: webhook, url: \"http://127.0.0.1:"
                        + receiver.getAddress().getPort() + "/hook\"}\ndefault_output: hook\n"
                        + "queries:\n  - {name: even, key: even, query: {n: {$mod: [2, 0]}}}\n");

        int port = start(config);
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        int batch = 0;
        while (keys.size() < 300) { // well into the stream, with deliveries under way
            send(port, batch++, acknowledged);
        }
        process.kill();

        port = start(config);
        for (int more = 0; more < 10; more++) {
            send(port, batch++, acknowledged);
        }
        Set<String> expected = new HashSet<>();
        for (String id : acknowledged) {
            if (Integer.parseInt(id.substring(id.indexOf('-') + 1)) % 2 == 0) {
                expected.add(id + ":even");
            }
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> new HashSet<>(keys).containsAll(expected));
        assertThat(new HashSet<>(keys)).isEqualTo(expected); // duplicates, if any, carry the same key
    }

    /** Sends 50 events with ids {@code bB-N}; records them once acknowledged. */
    private void send(int port, int batch, Set<String> acknowledged) throws Exception {
        StringBuilder body = new StringBuilder();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            int n = batch * 50 + i;
            String id = "b" + batch + "-" + n;
            ids.add(id);
            body.append("{\"id\":\"").append(id).append("\",\"n\":").append(n).append("}\n");
        }
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/events"))
                        .header("Content-Type", "application/x-ndjson")
                        .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        acknowledged.addAll(ids);
    }

    private int start(Path config) throws IOException {
        process = ServerProcess.start(config, dir, ++starts);
        return process.port();
    }
}
