package io.sluice.server.trigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.api.Envelope;
import io.sluice.core.distill.Distiller;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.LiveEvents;
import io.sluice.core.log.StoredEvent;
import io.sluice.core.timex.DrivenClock;
import io.sluice.core.trigger.PipelineHandlers;
import io.sluice.core.trigger.Traits;
import io.sluice.core.trigger.TriggerEngine;
import io.sluice.core.trigger.UsageHandler;
import io.sluice.core.trigger.WinchesterConfig;
import io.sluice.store.sqlite.SqliteEventStore;
import io.sluice.testkit.Notifications;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenarios 2 and 3 of the triggers: the sandbox's triggers and event definitions, unchanged,
 * on raw notification sequences expanded from the notigen templates, with a driven clock. With
 * each instance's end-of-day {@code compute.instance.exists} (notigen's {@code eod_exists.json})
 * there is one stream per (instance, day), it fires on the exists and {@code usage} appends its
 * verdict to the log; without it, the stream expires at its expiration and the expire pipeline
 * runs.
 */
class NotigenSandboxTest {
    private static final Path SANDBOX =
            Path.of("..", "sluice-core", "src", "test", "resources", "openstack", "sandbox");

    @TempDir
    Path dir;

    private final DrivenClock clock = new DrivenClock(Instant.parse("2014-08-01T00:00:00Z"));
    private final Notifications notigen = Notifications.load();
    private SqliteEventStore store;
    private EventLog log;
    private TriggerEngine engine;
    private Distiller distiller;

    @BeforeEach
    void setUp() throws Exception {
        Files.copy(SANDBOX.resolve("triggers.yaml"), dir.resolve("triggers.yaml"));
        Files.copy(SANDBOX.resolve("event_definitions.yaml"), dir.resolve("event_definitions.yaml"));
        // the sandbox's pipelines without notabene (SandboxPipelineTest runs that on a broker)
        Files.writeString(
                dir.resolve("pipelines.yaml"),
                "test_fire_pipeline: [logger, usage]\ntest_expire_pipeline: [logger, usage]\n");
        Files.writeString(dir.resolve("winchester.yaml"), """
                trigger_definitions: triggers.yaml
                pipeline_config: pipelines.yaml
                distiller_config: event_definitions.yaml
                pipeline_handlers:
                  logger: winchester.pipeline_handler:LoggingHandler
                  usage: winchester.pipeline_handler:UsageHandler
                """);
        store = SqliteEventStore.open(dir.resolve("data"), clock);
        log = new EventLog(
                store, Envelope.WINCHESTER, clock, () -> UUID.randomUUID().toString(), new SimpleMeterRegistry());
        LiveEvents live = new LiveEvents();
        log.subscribe(live);
        WinchesterConfig config = WinchesterConfig.load(dir.resolve("winchester.yaml"));
        PipelineHandlers handlers = new PipelineHandlers(
                config.handlers(),
                Map.of("logger", p -> new PipelineHandlers.LoggingHandler(), "usage", UsageHandler::new),
                getClass().getClassLoader(),
                "winchester.yaml");
        distiller = Distiller.load(config.distillerConfig(), config.catchAllNotifications(), clock);
        engine = new TriggerEngine(config, handlers, distiller, store, log, live, clock, new SimpleMeterRegistry());
        engine.start();
    }

    @AfterEach
    void tearDown() {
        engine.close();
        log.close();
        store.close();
    }

    /** One instance's operation: a notigen sequence, all on one day. */
    private record Operation(String instance, String tenant, LocalDateTime day, List<ObjectNode> notifications) {}

    private Operation operation(Random random, Instant at) {
        while (true) {
            List<ObjectNode> seq = notigen.sequence(random, at);
            String instance = seq.getFirst().path("payload").path("instance_id").asText();
            List<LocalDateTime> days = new ArrayList<>();
            for (ObjectNode n : seq) {
                if (joins(n) && !isExists(n)) {
                    days.add(time(n).truncatedTo(ChronoUnit.DAYS));
                }
            }
            if (!instance.isEmpty()
                    && !days.isEmpty()
                    && days.stream().distinct().count() == 1) {
                return new Operation(
                        instance,
                        seq.getFirst().path("payload").path("tenant_id").asText(),
                        days.getFirst(),
                        seq);
            }
        }
    }

    /**
     * Whether a notification joins the sandbox trigger's streams: the definitions cover it, and
     * its type is one the trigger's match criteria take.
     */
    private boolean joins(ObjectNode notification) {
        return distiller
                .toEvent(notification)
                .map(e -> {
                    String type = e.path("event_type").asText();
                    return type.equals("compute.instance.exists")
                            || (type.startsWith("compute.instance.") && !type.startsWith("compute.instance.exists"))
                            || type.equals("snapshot_instance")
                            || type.startsWith("keypair.import.")
                            || type.equals("rebuild_instance");
                })
                .orElse(false);
    }

    private boolean isExists(ObjectNode notification) {
        return notification.path("event_type").asText().equals("compute.instance.exists");
    }

    /**
     * The day of the stream a notification joins: its time's, or for an exists its audit
     * period's beginning (the sandbox trigger's map_distinguished_by).
     */
    private LocalDateTime streamDay(ObjectNode notification) {
        ObjectNode e = distiller.toEvent(notification).orElseThrow();
        String at = isExists(notification)
                ? e.path("audit_period_beginning").asText()
                : e.path("timestamp").asText();
        return Traits.datetime(at).truncatedTo(ChronoUnit.DAYS);
    }

    /** A notification's time as the sandbox's definitions distill it. */
    private LocalDateTime time(ObjectNode notification) {
        return Traits.datetime(
                distiller.toEvent(notification).orElseThrow().path("timestamp").asText());
    }

    /** notigen's end-of-day exists for that instance's day: audit period from the day to the next. */
    private List<ObjectNode> endOfDay(Random random, Operation op) {
        List<ObjectNode> eod =
                notigen.endOfDayExists(random, op.day().plusDays(2).toInstant(ZoneOffset.UTC));
        for (ObjectNode n : eod) {
            ((ObjectNode) n.path("payload")).put("instance_id", op.instance());
            ((ObjectNode) n.path("payload")).put("tenant_id", op.tenant());
        }
        return eod;
    }

    private void send(List<ObjectNode> notifications) throws Exception {
        log.append(notifications).get();
    }

    private void settle() throws Exception {
        long at = store.lastOffset();
        await().atMost(Duration.ofSeconds(20)).until(() -> engine.position() >= at);
    }

    /** The instance's streams for that day (an exists for the day before makes another). */
    private List<JsonNode> streamsOf(String instance, LocalDateTime day) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode s : engine.streams(new TriggerEngine.StreamQuery(
                "test_trigger", null, Map.of("instance_id", instance), null, null, Long.MAX_VALUE, 100))) {
            String begin = s.path("distinguishing_traits")
                    .path("timestamp")
                    .path("begin")
                    .asText();
            if (Traits.datetime(begin).equals(day)) {
                out.add(s);
            }
        }
        return out;
    }

    private List<StoredEvent> verdicts(String instance) {
        return store.read(
                        0,
                        1_000,
                        e -> e.json().contains("compute.instance.exists.")
                                && e.json().contains("\"" + instance + "\""))
                .events();
    }

    @Test
    void eachInstanceDayIsOneStreamThatFiresOnItsEndOfDayExistsAndUsageAppendsItsVerdict() throws Exception {
        Random random = new Random(20140801);
        List<Operation> ops = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ops.add(operation(random, Instant.parse("2014-08-01T08:00:00Z").plusSeconds(3_600L * i)));
        }
        for (Operation op : ops) {
            send(op.notifications());
        }
        clock.set(Instant.parse("2014-08-02T06:00:00Z")); // the days are over; nothing has expired
        settle();
        for (Operation op : ops) {
            List<JsonNode> s = streamsOf(op.instance(), op.day());
            assertThat(s).as("streams of %s", op.instance()).hasSize(1);
            assertThat(s.get(0).path("state").asText()).isEqualTo("active");
        }
        for (Operation op : ops) {
            send(endOfDay(random, op));
        }
        settle();
        for (Operation op : ops) {
            await().atMost(Duration.ofSeconds(20)).until(() -> streamsOf(op.instance(), op.day())
                    .get(0)
                    .path("state")
                    .asText()
                    .equals("completed"));
            List<JsonNode> s = streamsOf(op.instance(), op.day());
            assertThat(s)
                    .as("still one stream for %s and its day", op.instance())
                    .hasSize(1);
            JsonNode shown = engine.stream(s.get(0).path("id").asLong()).orElseThrow();
            long joined = op.notifications().stream()
                    .filter(n -> joins(n) && streamDay(n).equals(op.day()))
                    .count();
            assertThat(shown.path("event_list")).hasSize((int) joined + 1);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> !verdicts(op.instance()).isEmpty());
            String verdict = verdicts(op.instance())
                    .getFirst()
                    .document()
                    .path("event_type")
                    .asText();
            assertThat(verdict).isIn("compute.instance.exists.verified", "compute.instance.exists.failed");
        }
    }

    @Test
    void withoutTheEndOfDayExistsTheStreamExpiresAtItsExpirationAndTheExpirePipelineRuns() throws Exception {
        Random random = new Random(7);
        Operation op = operation(random, Instant.parse("2014-08-01T09:00:00Z"));
        send(op.notifications());
        settle();
        JsonNode s = streamsOf(op.instance(), op.day()).get(0);
        assertThat(s.path("state").asText()).isEqualTo("active");
        LocalDateTime last = op.notifications().stream()
                .filter(n -> joins(n) && !isExists(n))
                .map(this::time)
                .max(LocalDateTime::compareTo)
                .orElseThrow();
        // expiration: "$last + 2d"
        clock.set(last.plusDays(2).minusSeconds(1).toInstant(ZoneOffset.UTC));
        log.append(List.of(io.sluice.api.Json.parse(
                        "{\"message_id\":\"tick-1\",\"event_type\":\"tick\",\"timestamp\":\"2014-08-01T00:00:00Z\"}")))
                .get();
        settle();
        assertThat(streamsOf(op.instance(), op.day()).get(0).path("state").asText())
                .isEqualTo("active");
        clock.set(last.plusDays(2).plusSeconds(1).toInstant(ZoneOffset.UTC));
        log.append(List.of(io.sluice.api.Json.parse(
                        "{\"message_id\":\"tick-2\",\"event_type\":\"tick\",\"timestamp\":\"2014-08-01T00:00:00Z\"}")))
                .get();
        await().atMost(Duration.ofSeconds(20)).until(() -> streamsOf(op.instance(), op.day())
                .get(0)
                .path("state")
                .asText()
                .equals("completed"));
        JsonNode debug = engine.triggers().get(0);
        assertThat(debug.path("counters").path("Streams expired").asLong()).isEqualTo(1);
        assertThat(debug.path("counters").path("Streams fired").asLong()).isZero();
    }
}
