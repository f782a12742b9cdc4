package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.server.config.ServerConfig;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The consumer endpoints of a real server. */
class ConsumerApiTest {
    @TempDir
    Path data;

    private SluiceServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        server = SluiceServer.start(ServerConfig.defaults(data).withPort(0));
        send(
                "POST",
                "/v1/events",
                "[{\"type\":\"user.signup\",\"n\":1},{\"type\":\"order.placed\",\"n\":2},"
                        + "{\"type\":\"user.bought_shirt\",\"n\":3}]");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    record Response(int status, JsonNode json) {}

    private Response send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(URI.create(server.url() + path)).header("Content-Type", "application/json");
        b = body == null
                ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.method(method, HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body().isEmpty() ? null : Json.parse(r.body()));
    }

    @Test
    void leasesAcknowledgesAndReportsProgress() throws Exception {
        Response next = send("GET", "/v1/consumers/shop/next?max=2", null);
        assertThat(next.status()).isEqualTo(200);
        assertThat(next.json().get("events")).hasSize(2);
        assertThat(next.json().at("/events/0/offset").asLong()).isEqualTo(1);
        assertThat(next.json().at("/events/0/deliveries").asInt()).isEqualTo(1);
        assertThat(next.json().at("/events/1/event/type").asText()).isEqualTo("order.placed");

        Response ack = send("POST", "/v1/consumers/shop/ack", "{\"offsets\":[1,2]}");
        assertThat(ack.json().get("acked").asInt()).isEqualTo(2);
        assertThat(ack.json().get("position").asLong()).isEqualTo(2);

        Response list = send("GET", "/v1/consumers", null);
        assertThat(list.json().at("/consumers/0/name").asText()).isEqualTo("shop");
        assertThat(list.json().at("/consumers/0/lag").asLong()).isEqualTo(1);

        Response seek = send("POST", "/v1/consumers/shop/seek", "{\"to\":\"latest\"}");
        assertThat(seek.json().get("position").asLong()).isEqualTo(3);
        assertThat(send("GET", "/v1/consumers/shop/next", null).json().get("events"))
                .isEmpty();
        assertThat(send("DELETE", "/v1/consumers/shop", null).status()).isEqualTo(204);
        assertThat(send("GET", "/v1/consumers/shop", null).status()).isEqualTo(404);
    }

    @Test
    void typesAndFiltersAreFixedAtCreation() throws Exception {
        Response users = send("GET", "/v1/consumers/users/next?types=user.*", null);
        assertThat(users.json().get("events"))
                .extracting(e -> e.get("offset").asLong())
                .containsExactly(1L, 3L);
        String filter = URLEncoder.encode("{\"n\":{\"$gt\":2}}", StandardCharsets.UTF_8);
        Response conflict = send("GET", "/v1/consumers/users/next?filter=" + filter, null);
        assertThat(conflict.status()).isEqualTo(409);
        assertThat(conflict.json().get("code").asText()).isEqualTo("conflict");
    }

    @Test
    void badRequestsAreNamed() throws Exception {
        assertThat(send("GET", "/v1/consumers/x/next?max=0", null)
                        .json()
                        .get("error")
                        .asText())
                .contains("'max'");
        assertThat(send("GET", "/v1/consumers/x/next?wait=forever", null)
                        .json()
                        .get("error")
                        .asText())
                .contains("'wait' must be seconds");
        assertThat(send("GET", "/v1/consumers/x/next?from=someday", null)
                        .json()
                        .get("error")
                        .asText())
                .contains("earliest, latest, an offset or an ISO-8601 time");
        Response badFilter = send(
                "GET", "/v1/consumers/x/next?filter=" + URLEncoder.encode("{\"$x\":1}", StandardCharsets.UTF_8), null);
        assertThat(badFilter.status()).isEqualTo(400);
        assertThat(badFilter.json().get("code").asText()).isEqualTo("invalid_query");
        assertThat(send("POST", "/v1/consumers/nobody/ack", "{\"offsets\":[1]}").status())
                .isEqualTo(404);
        assertThat(send("POST", "/v1/consumers/nobody/ack", "{\"offsets\":\"1\"}")
                        .status())
                .isEqualTo(400);
    }

    @Test
    void consumerNamesFollowTheNameRuleAtEveryEndpoint() throws Exception {
        String long201 = "c".repeat(201);
        for (String[] call : List.of(
                new String[] {"GET", "/v1/consumers/..%2F..%2Fetc/next"},
                new String[] {"POST", "/v1/consumers/..%2F..%2Fetc/ack"},
                new String[] {"POST", "/v1/consumers/a%20b/seek"},
                new String[] {"GET", "/v1/consumers/" + long201},
                new String[] {"DELETE", "/v1/consumers/.hidden"})) {
            Response r = send(call[0], call[1], call[0].equals("POST") ? "{\"offsets\":[1]}" : null);
            assertThat(r.status()).as("%s %s", call[0], call[1]).isEqualTo(400);
            assertThat(r.json().get("code").asText()).isEqualTo("invalid_request");
            assertThat(r.json().get("error").asText()).contains("consumer name");
        }
        assertThat(send("GET", "/v1/consumers/" + long201, null)
                        .json()
                        .get("error")
                        .asText())
                .contains("at most 200 characters");
        assertThat(send("GET", "/v1/consumers", null).json().toString()).doesNotContain("etc");
        assertThat(send("GET", "/v1/consumers/" + "c".repeat(200) + "/next?max=1", null)
                        .status())
                .isEqualTo(200);
    }
}
