package io.sluice.server.handle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.server.ServerProcess;
import java.io.IOException;
import java.io.InputStream;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server process running two shell handlers (one exclusive, one with concurrency 4) is killed
 * with SIGKILL mid-run and restarted on the same data: every handler has run for every
 * acknowledged event (at least once; nothing skipped).
 */
class HandlerCrashTest {

    @TempDir
    Path dir;

    private ServerProcess process;
    private int starts;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @AfterEach
    void stop() throws InterruptedException {
        if (process != null) {
            process.kill();
        }
    }

    @Test
    void noHandlerSkipsAnEventWhenTheServerIsKilledMidRun() throws Exception {
        try (InputStream in = HandlerCrashTest.class.getResourceAsStream("/handlers/append.sh")) {
            Files.copy(in, dir.resolve("append.sh"));
        }
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(
                config,
                "handlers:\n"
                        + "  - {name: inorder, driver: shell, handler: \"sh append.sh inorder.log\", exclusive: true}\n"
                        + "  - {name: wide, driver: shell, handler: \"sh append.sh wide.log\", concurrency: 4}\n");
        Path inorder = dir.resolve("inorder.log");
        Path wide = dir.resolve("wide.log");

        int port = start(config);
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        int batch = 0;
        for (; batch < 6; batch++) {
            send(port, batch, acknowledged);
        }
        await().atMost(Duration.ofSeconds(60))
                .until(() -> lines(inorder).size() >= 40 && lines(wide).size() >= 40);
        process.kill();
        assertThat(new HashSet<>(lines(inorder))).as("killed mid-run").isNotEqualTo(acknowledged);

        port = start(config);
        for (int more = 0; more < 2; more++) {
            send(port, batch++, acknowledged);
        }
        await().atMost(Duration.ofSeconds(120))
                .until(() -> new HashSet<>(lines(inorder)).containsAll(acknowledged)
                        && new HashSet<>(lines(wide)).containsAll(acknowledged));
        assertThat(new HashSet<>(lines(inorder))).isEqualTo(acknowledged);
        assertThat(new HashSet<>(lines(wide))).isEqualTo(acknowledged);
    }

    private static List<String> lines(Path file) throws IOException {
        return Files.exists(file) ? Files.readAllLines(file) : List.of();
    }

    /** Sends 50 events with ids {@code bB-N}; records them once acknowledged. */
    private void send(int port, int batch, Set<String> acknowledged) throws Exception {
        StringBuilder body = new StringBuilder();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String id = "b" + batch + "-" + i;
            ids.add(id);
            body.append("{\"id\":\"").append(id).append("\",\"type\":\"t\"}\n");
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
