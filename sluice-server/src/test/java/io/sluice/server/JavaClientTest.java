package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.api.ErrorCode;
import io.sluice.api.Json;
import io.sluice.client.ConsumerLoop;
import io.sluice.client.Logged;
import io.sluice.client.ReceivedEvent;
import io.sluice.client.SluiceClient;
import io.sluice.client.SluiceException;
import io.sluice.client.TypedEvent;
import io.sluice.server.config.ServerConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java client library against a real server: logging (typed events and their validation
 * hook), and the consumer loop's failure paths — a handler that throws, a poison event parked
 * after its deliveries, a graceful stop and a resume, a server restart ridden out.
 */
class JavaClientTest {
    private static final String UUID_V7 = "[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

    @TempDir
    Path data;

    private SluiceServer server;
    private SluiceClient client;

    @BeforeEach
    void start() {
        server = SluiceServer.start(ServerConfig.defaults(data).withPort(0));
        client = SluiceClient.connect(server.url());
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** A typed event whose validation hook refuses an empty name and trims the others. */
    record Signup(String name) implements TypedEvent {
        @Override
        public TypedEvent validated() {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("a signup needs a name");
            }
            return new Signup(name.strip());
        }
    }

    private ConsumerLoop.Builder fastConsumer(String name) {
        return client.consumer(name).wait(Duration.ofMillis(200)).lease(Duration.ofMillis(300));
    }

    @Test
    void logsUntypedAndTypedEventsAndValidatesBeforeSending() {
        Logged first = client.log("orders.created", Map.of("order", 1));
        List<Logged> typed = client.logAll(List.of(new Signup("  ada "), new Signup("grace")));

        assertThat(first.offset()).isEqualTo(1);
        assertThat(typed).extracting(Logged::offset).containsExactly(2L, 3L);
        var stored = server.log().store().read(1, 2, e -> true).events().getFirst();
        assertThat(stored.type()).isEqualTo("signup"); // the class name, dotted lower case
        assertThat(Json.parse(stored.json()).path("data").path("name").asText()).isEqualTo("ada");

        assertThatThrownBy(() -> client.logAll(List.of(new Signup("linus"), new Signup(" "))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a signup needs a name");
        assertThat(server.log().store().lastOffset()).isEqualTo(3); // nothing of that batch was sent

        assertThatThrownBy(() -> client.logDocuments(List.of(Json.parse("{\"type\": 5}"))))
                .isInstanceOfSatisfying(
                        SluiceException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_EVENT))
                .hasMessageContaining("type");
    }

    @Test
    void logSendsAgainUntilTheServerIsBackAndTheEventIsStoredOnce() throws Exception {
        client.log("beat", Map.of("n", 1));
        int port = URI.create(server.url()).getPort();
        server.close();
        CompletableFuture<SluiceServer> restarted = CompletableFuture.supplyAsync(
                () -> startOn(port), CompletableFuture.delayedExecutor(500, TimeUnit.MILLISECONDS));
        try {
            Logged second = client.log("beat", Map.of("n", 2)); // refused at first, sent again until answered

            assertThat(second.offset()).isEqualTo(2);
            assertThat(second.id()).matches(UUID_V7);
        } finally {
            server = restarted.get(30, TimeUnit.SECONDS);
        }
        assertThat(server.log().store().lastOffset()).isEqualTo(2);
    }

    @Test
    void whatIsNotSafeToSendAgainFailsAtOnce() {
        server.close();
        server = null;
        long started = System.nanoTime();

        assertThatThrownBy(() -> client.retryingFor(Duration.ZERO).log("beat", Map.of("n", 1)))
                .isInstanceOf(SluiceException.class)
                .hasMessageContaining("cannot reach Sluice");
        // Documents without ids would be stored twice if an answer were lost: sent once.
        assertThatThrownBy(() -> client.logDocuments(List.of(Json.parse("{\"type\":\"beat\"}"))))
                .isInstanceOf(SluiceException.class)
                .hasMessageContaining("cannot reach Sluice");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(SluiceClient.DEFAULT_RETRY);
    }

    @Test
    void aFailingHandlersEventIsDeliveredAgainThenParkedWhileTheOthersAreHandled() {
        client.log("job", Map.of("n", 1));
        client.log("job", Map.of("n", 2, "poison", true));
        client.log("job", Map.of("n", 3));
        List<Integer> handled = new CopyOnWriteArrayList<>();
        List<Integer> failedDeliveries = new CopyOnWriteArrayList<>();
        List<Long> parked = new CopyOnWriteArrayList<>();

        try (ConsumerLoop loop = fastConsumer("workers")
                .maxDeliveries(3)
                .on("job", event -> {
                    if (event.data().path("poison").asBoolean()) {
                        throw new IllegalStateException(
                                "cannot do job " + event.data().path("n"));
                    }
                    handled.add(event.data().path("n").asInt());
                })
                .onError((event, error) -> failedDeliveries.add(event == null ? -1 : event.deliveries()))
                .onParked((event, error) -> parked.add(event.offset()))
                .start()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> !parked.isEmpty());
            assertThat(handled).containsExactlyInAnyOrder(1, 3);
            assertThat(failedDeliveries).containsExactly(1, 2, 3); // each delivery reported, the last parked
            assertThat(parked).containsExactly(2L);
            assertThat(loop.handled()).isEqualTo(2);
        }
        // Parked is acknowledged: the consumer has nothing left and nothing is delivered again.
        assertThat(server.log()
                        .store()
                        .checkpoint("consumer:workers")
                        .orElseThrow()
                        .offset())
                .isEqualTo(3);
    }

    /**
     * A server on the port a stopped one had, so that the client's URL stays the same: the port
     * was free while it was closed, and another process may hold it for a moment; tried again.
     */
    private SluiceServer startOn(int port) {
        return await("port " + port + " free again")
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(100))
                .ignoreExceptionsMatching(e -> e instanceof IllegalStateException
                        && String.valueOf(e.getMessage()).startsWith("cannot listen"))
                .until(() -> SluiceServer.start(ServerConfig.defaults(data).withPort(port)), Objects::nonNull);
    }

    /** Runs a loop of consumer {@code name} until it has handled {@code count} ticks, stops it; the ticks' numbers. */
    private List<Integer> runUntilHandled(String name, int count) {
        List<Integer> handled = new CopyOnWriteArrayList<>();
        try (ConsumerLoop loop = fastConsumer(name)
                .on("tick", event -> handled.add(event.data().path("n").asInt()))
                .start()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> loop.handled() == count);
        }
        return handled;
    }

    @Test
    void aStoppedLoopLeavesItsPositionAndTheNextOneGoesOnFromThere() {
        for (int i = 1; i <= 5; i++) {
            client.log("tick", Map.of("n", i));
        }
        List<Integer> firstRun = runUntilHandled("ticker", 5);
        for (int i = 6; i <= 7; i++) {
            client.log("tick", Map.of("n", i));
        }
        List<Integer> secondRun = runUntilHandled("ticker", 2);
        assertThat(firstRun).containsExactly(1, 2, 3, 4, 5);
        assertThat(secondRun).containsExactly(6, 7);
    }

    @Test
    void theLoopRidesOutAServerRestartAndLosesNothing() {
        int port = URI.create(server.url()).getPort();
        List<ReceivedEvent> received = new CopyOnWriteArrayList<>();
        List<String> errors = new CopyOnWriteArrayList<>(); // reported by the loop: named if this fails
        client.log("beat", Map.of("n", 1));
        try (ConsumerLoop loop = fastConsumer("beats")
                .on("beat", received::add)
                .onError((event, error) -> errors.add(error.toString()))
                .start()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1);

            server.close(); // the loop's requests now fail; it keeps trying
            server = startOn(port);
            client.log("beat", Map.of("n", 2));

            // A request sent as the server stopped can go unanswered until the client's request
            // timeout (the wait plus 30 s), after which the loop asks again: within a minute.
            await().atMost(Duration.ofSeconds(75)).untilAsserted(() -> assertThat(received)
                    .as("events received; errors the loop reported: %s", errors)
                    .hasSizeGreaterThanOrEqualTo(2));
        }
        assertThat(received).extracting(e -> e.data().path("n").asInt()).containsExactly(1, 2);
    }
}
