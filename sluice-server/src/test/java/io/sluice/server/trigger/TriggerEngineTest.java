package io.sluice.server.trigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.api.Envelope;
import io.sluice.api.Json;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.LiveEvents;
import io.sluice.core.timex.DrivenClock;
import io.sluice.core.trigger.PipelineHandlers;
import io.sluice.core.trigger.TriggerEngine;
import io.sluice.core.trigger.WinchesterConfig;
import io.sluice.store.sqlite.SqliteEventStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trigger engine on a real store, with Winchester's sandbox trigger and a driven clock:
 * streams per (instance, day), firing on the end-of-day exists, expiring, rollback and retry,
 * and resuming after a restart.
 */
class TriggerEngineTest {
    @TempDir
    Path dir;

    private final DrivenClock clock = new DrivenClock(Instant.parse("2014-08-01T12:00:00Z"));
    private SqliteEventStore store;
    private EventLog log;
    private LiveEvents live;
    private TriggerEngine engine;

    @BeforeEach
    void setUp() throws Exception {
        Recording.reset();
        Files.writeString(dir.resolve("triggers.yaml"), """
                ---
                - name: test_trigger
                  debug_level: 2
                  distinguished_by:
                  - instance_id
                  - timestamp: "day"
                  expiration: "$last + 2d"
                  fire_pipeline: "fire"
                  expire_pipeline: "expire"
                  match_criteria:
                  - event_type:
                    - compute.instance.*
                    - "!compute.instance.exists"
                    - "!*.verified"
                    - "!*.expired"
                  - event_type: compute.instance.exists
                    map_distinguished_by:
                      timestamp: audit_period_beginning
                  fire_criteria:
                  - event_type: compute.instance.exists
                    traits:
                      audit_period_ending:
                        datetime: $audit_period_beginning + 1d
                - name: every_event
                  distinguished_by: [instance_id]
                  expiration: "$first + 30d"
                  expire_pipeline: "quiet"
                  match_criteria: [{event_type: "compute.*"}]
                  fire_criteria: [{event_type: never, number: 2}]
                """);
        Files.writeString(
                dir.resolve("pipelines.yaml"),
                "fire:\n  - logger\n  - verify\n  - flaky\nquiet:\n  - logger\nexpire:\n  - logger\n  - name: verify\n"
                        + "    params: {suffix: .expired}\n");
        Files.writeString(
                dir.resolve("winchester.yaml"),
                "trigger_definitions: triggers.yaml\npipeline_config: pipelines.yaml\npipeline_handlers:\n"
                        + "  logger: winchester.pipeline_handler:LoggingHandler\n"
                        + "  verify: " + Recording.Verify.class.getName() + "\n"
                        + "  flaky: " + Recording.Flaky.class.getName() + "\n");
        open();
    }

    private void open() {
        store = SqliteEventStore.open(dir.resolve("data"), clock);
        log = new EventLog(
                store, Envelope.WINCHESTER, clock, () -> UUID.randomUUID().toString(), new SimpleMeterRegistry());
        live = new LiveEvents();
        log.subscribe(live);
        WinchesterConfig config = WinchesterConfig.load(dir.resolve("winchester.yaml"));
        PipelineHandlers handlers = new PipelineHandlers(
                config.handlers(),
                Map.of("logger", p -> new PipelineHandlers.LoggingHandler()),
                getClass().getClassLoader(),
                "winchester.yaml");
        engine = new TriggerEngine(config, handlers, store, log, live, clock, meters);
        engine.start();
    }

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private void close() {
        engine.close();
        log.close();
        store.close();
    }

    @AfterEach
    void tearDown() {
        close();
    }

    private void send(String... json) throws Exception {
        List<JsonNode> docs = new ArrayList<>();
        for (String j : json) {
            docs.add(Json.parse(j));
        }
        log.append(docs).get();
    }

    /**
     * Waits until the engine has read, and handled what came due after, everything sent so far:
     * it reads two marker events (no trigger takes them) one after the other, and its due
     * streams are handled after each batch it reads.
     */
    private void settle() throws Exception {
        for (int i = 0; i < 2; i++) {
            long at = log.append(List.of(Json.parse(
                            event("marker-" + UUID.randomUUID(), "marker", "-", "2014-08-01T00:00:00Z", ""))))
                    .get()
                    .lastOffset();
            await().atMost(Duration.ofSeconds(10)).until(() -> engine.position() >= at);
        }
        assertThat(engine.awaitPipelines(Duration.ofSeconds(10))).isTrue();
    }

    private static String event(String id, String type, String instance, String timestamp, String more) {
        return "{\"message_id\":\"" + id + "\",\"event_type\":\"" + type + "\",\"instance_id\":\"" + instance
                + "\",\"timestamp\":\"" + timestamp + "\"" + (more.isEmpty() ? "" : "," + more) + "}";
    }

    private static String exists(String id, String instance, String day) {
        return event(
                id,
                "compute.instance.exists",
                instance,
                day + "T23:59:59Z",
                "\"audit_period_beginning\":\"" + day + "T00:00:00Z\",\"audit_period_ending\":\""
                        + java.time.LocalDate.parse(day).plusDays(1) + "T00:00:00Z\"");
    }

    private JsonNode streams(String state) {
        return engine.streams(
                new TriggerEngine.StreamQuery("test_trigger", state, null, null, null, Long.MAX_VALUE, 100));
    }

    @Test
    void aStreamPerInstanceAndDayFiresOnTheEndOfDayExistsAndItsNewEventIsAppended() throws Exception {
        send(
                event("a1", "compute.instance.create.start", "i-1", "2014-08-01T10:00:00Z", ""),
                event("a2", "compute.instance.create.end", "i-1", "2014-08-01T10:05:00Z", ""),
                event("b1", "compute.instance.create.start", "i-2", "2014-08-01T11:00:00Z", ""),
                event("a3", "compute.instance.reboot.start", "i-1", "2014-08-02T01:00:00Z", "")); // the next day
        await().atMost(Duration.ofSeconds(10)).until(() -> streams("active").size() == 3);
        assertThat(Recording.RUNS).isEmpty();

        send(exists("x1", "i-1", "2014-08-01"));
        await().atMost(Duration.ofSeconds(10)).until(() -> streams("completed").size() == 1);
        assertThat(Recording.RUNS)
                .containsExactly(List.of(
                        "compute.instance.create.start", "compute.instance.create.end", "compute.instance.exists"));
        assertThat(Recording.CALLS)
                .containsExactly("verify.handle test_trigger", "flaky.handle", "verify.commit", "flaky.commit");
        // The new event is in the log, where the triggers see it too (it matches none of test_trigger's criteria).
        await().atMost(Duration.ofSeconds(10))
                .until(() -> store.byId("x1.verified").isPresent());
        JsonNode completed = streams("completed").get(0);
        assertThat(completed.path("distinguishing_traits").path("instance_id").asText())
                .isEqualTo("i-1");
        assertThat(completed
                        .path("distinguishing_traits")
                        .path("timestamp")
                        .path("begin")
                        .asText())
                .isEqualTo("2014-08-01T00:00Z");
        assertThat(completed.path("events").asInt()).isEqualTo(3);
        assertThat(engine.stream(completed.path("id").asLong()).orElseThrow().path("event_list"))
                .hasSize(3);
        assertThat(streams("active")).hasSize(2);
        // An exists whose audit period does not end a day later does not fire.
        send(
                event(
                        "x2",
                        "compute.instance.exists",
                        "i-2",
                        "2014-08-01T23:59:59Z",
                        "\"audit_period_beginning\":\"2014-08-01T00:00:00Z\",\"audit_period_ending\":\"2014-08-01T12:00:00Z\""));
        settle();
        assertThat(streams("completed")).hasSize(1);
        JsonNode debug = engine.triggers().get(0);
        assertThat(debug.path("counters").path("Streams fired").asLong()).isEqualTo(1);
        assertThat(debug.path("counters").path("New stream").asLong()).isEqualTo(3);
        // the same counters as meters, for /metrics
        assertThat(meters.get("sluice.triggers.debug")
                        .tags("trigger", "test_trigger", "counter", "Streams fired")
                        .functionCounter()
                        .count())
                .isEqualTo(1.0);
        assertThat(meters.get("sluice.triggers.checks")
                        .tags("trigger", "test_trigger", "outcome", "match")
                        .functionCounters())
                .isNotEmpty();
    }

    @Test
    void withoutTheExistsTheStreamExpiresAtItsExpirationAndTheExpirePipelineRuns() throws Exception {
        send(
                event("a1", "compute.instance.create.start", "i-1", "2014-08-01T10:00:00Z", ""),
                event("a2", "compute.instance.create.end", "i-1", "2014-08-01T10:05:00Z", ""));
        await().atMost(Duration.ofSeconds(10)).until(() -> streams("active").size() == 1);
        JsonNode s = streams("active").get(0);
        // $last + 2d, from the last event's time
        assertThat(s.path("expire_timestamp").asText()).isEqualTo("2014-08-03T10:05Z");
        clock.set(Instant.parse("2014-08-03T10:04:59Z"));
        settle();
        assertThat(streams("active")).hasSize(1);
        clock.set(Instant.parse("2014-08-03T10:05:00Z"));
        await().atMost(Duration.ofSeconds(10)).until(() -> streams("completed").size() == 1);
        assertThat(Recording.CALLS).contains("verify.handle test_trigger", "verify.commit");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> store.byId("a2.expired").isPresent());
        assertThat(engine.triggers()
                        .get(0)
                        .path("counters")
                        .path("Streams expired")
                        .asLong())
                .isEqualTo(1);
    }

    @Test
    void aThrowingHandlerRollsBackEveryHandlerAndRetryFiresAgain() throws Exception {
        Recording.failing = true;
        send(
                event("a1", "compute.instance.create.start", "i-1", "2014-08-01T10:00:00Z", ""),
                exists("x1", "i-1", "2014-08-01"));
        await().atMost(Duration.ofSeconds(10)).until(() -> streams("error").size() == 1);
        assertThat(Recording.CALLS)
                .containsExactly("verify.handle test_trigger", "flaky.handle", "verify.rollback", "flaky.rollback");
        assertThat(store.byId("x1.verified")).isEmpty();
        JsonNode failed = streams("error").get(0);
        assertThat(failed.path("last_error").asText()).contains("flaky on purpose");

        Recording.failing = false;
        Recording.CALLS.clear();
        assertThat(engine.retry(failed.path("id").asLong()).get()).isNull();
        assertThat(Recording.CALLS)
                .containsExactly("verify.handle test_trigger", "flaky.handle", "verify.commit", "flaky.commit");
        assertThat(streams("completed")).hasSize(1);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> store.byId("x1.verified").isPresent());
        assertThat(engine.retry(failed.path("id").asLong()).get()).contains("is completed");
        assertThat(engine.retry(12_345).get()).contains("no open stream");
    }

    @Test
    void withRetryConfiguredAFailedStreamRunsAgainAfterABackoffThatDoublesUntilItsAttemptsAreSpent() throws Exception {
        close();
        Files.writeString(
                dir.resolve("winchester.yaml"),
                Files.readString(dir.resolve("winchester.yaml"))
                        + "pipeline_worker_delay: 0.05\n" // workers look for due retries every 50 ms
                        + "sluice: {retry: {attempts: 3, backoff: 1m, max_backoff: 1h}}\n");
        open();
        Recording.failing = true;
        send(
                event("a1", "compute.instance.create.start", "i-1", "2014-08-01T10:00:00Z", ""),
                exists("x1", "i-1", "2014-08-01"));
        await().atMost(Duration.ofSeconds(10)).until(() -> streams("error").size() == 1);
        JsonNode failed = streams("error").get(0);
        assertThat(failed.path("attempts").asInt()).isEqualTo(1);
        assertThat(failed.path("retry_at").asText()).isEqualTo("2014-08-01T12:01:00Z");

        clock.advance(Duration.ofSeconds(59));
        settle();
        assertThat(streams("error").get(0).path("attempts").asInt())
                .as("not before its time")
                .isEqualTo(1);
        clock.advance(Duration.ofSeconds(1));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> streams("error").get(0).path("attempts").asInt() == 2);
        assertThat(streams("error").get(0).path("retry_at").asText())
                .as("the backoff doubled")
                .isEqualTo("2014-08-01T12:03:00Z");
        clock.advance(Duration.ofMinutes(2));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> streams("error").get(0).path("attempts").asInt() == 3);
        assertThat(streams("error").get(0).has("retry_at"))
                .as("three attempts spent: no more automatic retries")
                .isFalse();
        clock.advance(Duration.ofHours(2));
        settle();
        // through many of the workers' looks for due retries, it stays at three attempts
        await().during(Duration.ofMillis(600))
                .atMost(Duration.ofSeconds(5))
                .until(() -> streams("error").get(0).path("attempts").asInt() == 3);
        assertThat(streams("error").get(0).path("attempts").asInt()).isEqualTo(3);

        Recording.failing = false;
        assertThat(engine.retry(failed.path("id").asLong()).get())
                .as("a manual retry still works")
                .isNull();
        assertThat(streams("completed").get(0).path("attempts").asInt()).isEqualTo(4);
    }

    @Test
    void aTriggerWithItsOwnTimeEventRunsOnTheEventsTimesWhileTheOthersKeepTheWallClock() throws Exception {
        close();
        String triggers = Files.readString(dir.resolve("triggers.yaml"));
        assertThat(triggers).contains("- name: every_event\n");
        Files.writeString(
                dir.resolve("triggers.yaml"),
                triggers.replace("- name: every_event\n", "- name: every_event\n  time: event\n"));
        open();
        send(event("a1", "compute.instance.create.start", "i-1", "2014-08-01T10:00:00Z", ""));
        settle();
        // 45 days later by the events' times; the wall clock has not moved
        send(event("b1", "compute.instance.create.start", "i-2", "2014-09-15T00:00:00Z", ""));
        settle();
        JsonNode everyEvent = engine.streams(
                new TriggerEngine.StreamQuery("every_event", null, null, null, null, Long.MAX_VALUE, 10));
        assertThat(everyEvent).hasSize(2);
        assertThat(everyEvent
                        .get(1)
                        .path("distinguishing_traits")
                        .path("instance_id")
                        .asText())
                .isEqualTo("i-1");
        assertThat(everyEvent.get(1).path("state").asText())
                .as("$first + 30d passed on event time")
                .isEqualTo("completed");
        assertThat(everyEvent.get(0).path("state").asText()).isEqualTo("active");
        assertThat(streams("active"))
                .as("test_trigger's streams wait for the wall clock")
                .hasSize(2);
    }

    @Test
    void aRestartResumesEveryStreamAsItWas() throws Exception {
        send(
                event("a1", "compute.instance.create.start", "i-1", "2014-08-01T10:00:00Z", ""),
                event("b1", "compute.instance.create.start", "i-2", "2014-08-01T11:00:00Z", ""));
        await().atMost(Duration.ofSeconds(10)).until(() -> streams("active").size() == 2);
        close();
        open();
        assertThat(streams("active")).hasSize(2);
        send(exists("x1", "i-1", "2014-08-01"));
        await().atMost(Duration.ofSeconds(10)).until(() -> streams("completed").size() == 1);
        assertThat(Recording.RUNS).containsExactly(List.of("compute.instance.create.start", "compute.instance.exists"));
        // Both triggers took the events: every_event has one stream per instance.
        assertThat(engine.streams(
                        new TriggerEngine.StreamQuery("every_event", "active", null, null, null, Long.MAX_VALUE, 10)))
                .hasSize(2);
    }
}
