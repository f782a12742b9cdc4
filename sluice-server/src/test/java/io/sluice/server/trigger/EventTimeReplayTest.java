package io.sluice.server.trigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.api.Envelope;
import io.sluice.api.Json;
import io.sluice.core.distill.Distiller;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.LiveEvents;
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
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 4 of triggers in time: the sandbox's triggers fed a recorded day of notifications
 * (notigen sequences and end-of-day exists, in time order) at full speed with {@code sluice:
 * {time: event}} fire and expire exactly the streams that a wall-clock run over a driven clock,
 * moved to each notification's time as it arrives, fires and expires.
 */
class EventTimeReplayTest {
    private static final Path SANDBOX =
            Path.of("..", "sluice-core", "src", "test", "resources", "openstack", "sandbox");

    @TempDir
    Path dir;

    /** What a run came to: each stream (trigger traits, state, events) and the pipelines' events. */
    private record Outcome(TreeSet<String> streams, TreeSet<String> emitted, long fired, long expired) {}

    private List<ObjectNode> recordedDay() {
        Notifications notigen = Notifications.load();
        Random random = new Random(20140801);
        Instant day = Instant.parse("2014-08-01T00:00:00Z");
        List<ObjectNode> feed = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            List<ObjectNode> seq = notigen.sequence(random, day.plusSeconds(4_000L * i));
            feed.addAll(seq);
            String instance = seq.getFirst().path("payload").path("instance_id").asText();
            if (i % 2 == 0 && !instance.isEmpty()) { // half the instances get their end-of-day exists
                for (ObjectNode n : notigen.endOfDayExists(random, day.plusSeconds(2 * 86_400))) {
                    ((ObjectNode) n.path("payload")).put("instance_id", instance);
                    ((ObjectNode) n.path("payload"))
                            .put(
                                    "tenant_id",
                                    seq.getFirst()
                                            .path("payload")
                                            .path("tenant_id")
                                            .asText());
                    feed.add(n);
                }
            }
        }
        Distiller d = Distiller.load(SANDBOX.resolve("event_definitions.yaml"), false, Clock.systemUTC());
        feed.removeIf(n -> d.toEvent(n).isEmpty());
        feed.sort(Comparator.comparing(n -> time(d, n)));
        return feed;
    }

    private static LocalDateTime time(Distiller d, JsonNode notification) {
        return Traits.datetime(
                d.toEvent(notification).orElseThrow().path("timestamp").asText());
    }

    private Outcome run(String name, boolean eventTime, List<ObjectNode> feed) throws Exception {
        Path here = Files.createDirectories(dir.resolve(name));
        Files.copy(SANDBOX.resolve("triggers.yaml"), here.resolve("triggers.yaml"));
        Files.copy(SANDBOX.resolve("event_definitions.yaml"), here.resolve("event_definitions.yaml"));
        Files.writeString(
                here.resolve("pipelines.yaml"),
                "test_fire_pipeline: [logger, usage]\ntest_expire_pipeline: [logger, usage]\n");
        Files.writeString(
                here.resolve("winchester.yaml"),
                "trigger_definitions: triggers.yaml\npipeline_config: pipelines.yaml\ndistiller_config: event_definitions.yaml\n"
                        + "pipeline_handlers: {logger: winchester.pipeline_handler:LoggingHandler,"
                        + " usage: winchester.pipeline_handler:UsageHandler}\n"
                        + (eventTime ? "sluice: {time: event}\n" : ""));
        Distiller distiller = Distiller.load(here.resolve("event_definitions.yaml"), false, Clock.systemUTC());
        DrivenClock clock = new DrivenClock(time(distiller, feed.getFirst()).toInstant(ZoneOffset.UTC));
        SqliteEventStore store = SqliteEventStore.open(here.resolve("data"), clock);
        EventLog log = new EventLog(
                store, Envelope.WINCHESTER, clock, () -> UUID.randomUUID().toString(), new SimpleMeterRegistry());
        LiveEvents live = new LiveEvents();
        log.subscribe(live);
        WinchesterConfig config = WinchesterConfig.load(here.resolve("winchester.yaml"));
        PipelineHandlers handlers = new PipelineHandlers(
                config.handlers(),
                Map.of("logger", p -> new PipelineHandlers.LoggingHandler(), "usage", UsageHandler::new),
                getClass().getClassLoader(),
                "winchester.yaml");
        TriggerEngine engine =
                new TriggerEngine(config, handlers, distiller, store, log, live, clock, new SimpleMeterRegistry());
        engine.start();
        try {
            LocalDateTime end = time(distiller, feed.getLast()).plusDays(3);
            ObjectNode tick = Json.object();
            tick.put("message_id", "tick");
            tick.put("event_type", "tick");
            tick.put("timestamp", end.toInstant(ZoneOffset.UTC).toString());
            if (eventTime) {
                List<JsonNode> all = new ArrayList<>();
                feed.forEach(n -> all.add(n.deepCopy()));
                all.add(tick);
                log.append(all).get(); // the whole day at once: its times drive the clock
                settle(engine, store);
            } else {
                for (ObjectNode n : feed) { // the wall clock moved to each notification as it comes
                    clock.set(time(distiller, n).toInstant(ZoneOffset.UTC));
                    log.append(List.of(n.deepCopy())).get();
                    settle(engine, store);
                }
                clock.set(end.toInstant(ZoneOffset.UTC));
                log.append(List.of(tick)).get();
                settle(engine, store);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> engine.openStreams() == 0);
            TreeSet<String> streams = new TreeSet<>();
            for (JsonNode s : engine.streams(
                    new TriggerEngine.StreamQuery(null, null, null, null, null, Long.MAX_VALUE, 10_000))) {
                streams.add(Json.write(s.path("distinguishing_traits")) + " "
                        + s.path("state").asText() + " " + s.path("events").asInt());
            }
            TreeSet<String> emitted = new TreeSet<>();
            store.read(0, 100_000, e -> e.json().contains("compute.instance.exists."))
                    .events()
                    .forEach(e -> emitted.add(
                            e.id() + " " + e.document().path("event_type").asText()));
            JsonNode counters = engine.triggers().get(0).path("counters");
            return new Outcome(
                    streams,
                    emitted,
                    counters.path("Streams fired").asLong(),
                    counters.path("Streams expired").asLong());
        } finally {
            engine.close();
            log.close();
            store.close();
        }
    }

    private static void settle(TriggerEngine engine, SqliteEventStore store) {
        long at = store.lastOffset();
        await().atMost(Duration.ofSeconds(30))
                .pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(2))
                .until(() -> engine.position() >= at);
    }

    @Test
    void aRecordedDayReplayedByEventTimeFiresAndExpiresAsTheWallClockDid() throws Exception {
        List<ObjectNode> feed = recordedDay();
        Outcome wall = run("wall", false, feed);
        Outcome replay = run("replay", true, feed);
        assertThat(wall.fired()).as("some streams fired").isPositive();
        assertThat(wall.expired()).as("some streams expired").isPositive();
        assertThat(replay.fired()).isEqualTo(wall.fired());
        assertThat(replay.expired()).isEqualTo(wall.expired());
        assertThat(replay.streams()).isEqualTo(wall.streams());
        assertThat(replay.emitted()).isEqualTo(wall.emitted());
    }
}
