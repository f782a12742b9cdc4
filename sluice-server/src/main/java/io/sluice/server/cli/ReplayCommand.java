package io.sluice.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.api.Envelope;
import io.sluice.api.Json;
import io.sluice.api.pipeline.PipelineHandler;
import io.sluice.core.distill.Distiller;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.LiveEvents;
import io.sluice.core.trigger.DefinitionException;
import io.sluice.core.trigger.PipelineHandlers;
import io.sluice.core.trigger.Traits;
import io.sluice.core.trigger.TriggerEngine;
import io.sluice.core.trigger.WinchesterConfig;
import io.sluice.store.sqlite.SqliteEventStore;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice replay --definitions winchester.yaml [--from OFFSET|TIME]}: runs a server's
 * history through trigger definitions (new or changed ones) into a separate, temporary state,
 * on event time, and reports what would have fired and expired. The server's own streams are
 * not touched, and pipelines are not run (their handlers could act on the world): a stream
 * counts as fired or expired when its pipeline would have run. Prints one JSON line per stream
 * that fired or expired, then a summary on stderr; a progress line on a terminal.
 */
@Command(
        name = "replay",
        mixinStandardHelpOptions = true,
        description = "Run a server's history through trigger definitions, on event time, into a separate state;"
                + " print the streams that would fire or expire.")
final class ReplayCommand implements java.util.concurrent.Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ServerUrl server;

    @Option(names = "--definitions", required = true, paramLabel = "FILE", description = "A winchester.yaml.")
    Path definitions;

    @Option(
            names = "--from",
            paramLabel = "OFFSET|TIME",
            description = "Start after this offset, or at this event time (ISO-8601); default: the whole log.")
    String from;

    /** A pipeline step that does nothing: a replay only finds out what would have run. */
    private static final class Nothing implements PipelineHandler {
        @Override
        public List<ObjectNode> handleEvents(List<ObjectNode> events, Map<String, Object> env) {
            return events;
        }
    }

    @Override
    public Integer call() throws Exception {
        WinchesterConfig w;
        try {
            w = WinchesterConfig.load(definitions).withEventTime();
        } catch (DefinitionException e) {
            throw new InvalidInputException(e.getMessage());
        }
        long after = 0;
        LocalDateTime fromTime = null;
        if (from != null) {
            if (from.matches("\\d+")) {
                after = Long.parseLong(from);
            } else {
                fromTime = Traits.datetime(from);
                if (fromTime == null) {
                    throw new InvalidInputException("--from: an offset or an ISO-8601 time, not '" + from + "'");
                }
            }
        }
        Map<String, String> noHandlers = new LinkedHashMap<>();
        w.handlers().keySet().forEach(name -> noHandlers.put(name, "nothing"));
        PipelineHandlers handlers = new PipelineHandlers(
                noHandlers,
                Map.of("nothing", params -> new Nothing()),
                getClass().getClassLoader(),
                w.file().toString());
        Path dir = Files.createTempDirectory("sluice-replay");
        Clock clock = Clock.systemUTC();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SqliteEventStore store = SqliteEventStore.scratch(dir, clock);
        EventLog log = new EventLog(
                store, Envelope.WINCHESTER, clock, () -> UUID.randomUUID().toString(), new SimpleMeterRegistry());
        LiveEvents live = new LiveEvents();
        log.subscribe(live);
        Distiller distiller = w.distillerConfig() == null
                ? null
                : Distiller.load(w.distillerConfig(), w.catchAllNotifications(), clock);
        TriggerEngine engine =
                new TriggerEngine(w, handlers, distiller, store, log, live, clock, new SimpleMeterRegistry());
        AtomicLong fired = new AtomicLong();
        AtomicLong expired = new AtomicLong();
        engine.listen((id, trigger, dist, didFire, error) -> {
            (didFire ? fired : expired).incrementAndGet();
            ObjectNode line = Json.object();
            line.put("trigger", trigger);
            line.put("outcome", didFire ? "fired" : "expired");
            line.set("distinguished_by", dist);
            synchronized (out) {
                out.println(Json.write(line));
            }
        });
        engine.start();
        boolean terminal = System.console() != null;
        long read = 0;
        long first = -1;
        long last = after;
        long headAtStart = server.call("GET", "/healthz").path("last_offset").asLong();
        try {
            while (true) {
                List<JsonNode> batch = new ArrayList<>();
                long[] lastSeen = {last};
                LocalDateTime since = fromTime;
                server.streamLines("/v1/events?after=" + last + "&limit=1000", line -> {
                    JsonNode rec = Json.parse(line);
                    lastSeen[0] = rec.path("offset").asLong();
                    JsonNode e = rec.path("event");
                    if (since != null) {
                        LocalDateTime t = Traits.datetime(e.path("timestamp").asText());
                        if (t != null && t.isBefore(since)) {
                            return;
                        }
                    }
                    batch.add(e);
                });
                if (lastSeen[0] == last) {
                    break;
                }
                if (first < 0) {
                    first = last + 1;
                }
                last = lastSeen[0];
                if (!batch.isEmpty()) {
                    log.append(batch).get();
                    read += batch.size();
                }
                if (terminal) {
                    err.printf("\rreplayed %,d events, offset %,d of %,d", read, last, headAtStart);
                    err.flush();
                }
            }
            // once the engine has read this, it has read everything and run what came due
            long tick = log.append(
                            List.of(
                                    Json.parse(
                                            "{\"message_id\":\"replay-end\",\"event_type\":\"sluice.replay.end\",\"timestamp\":\"2000-01-01T00:00:00Z\"}")))
                    .get()
                    .lastOffset();
            while (!engine.awaitPosition(tick, Duration.ofSeconds(1))) {
                if (terminal) {
                    err.printf("\rtriggers at offset %,d of %,d", engine.position(), tick);
                    err.flush();
                }
            }
            while (!engine.awaitPipelines(Duration.ofSeconds(1))) {
                if (terminal) {
                    err.printf("\rwaiting for the pipelines of due streams");
                    err.flush();
                }
            }
            if (terminal) {
                err.println();
            }
            out.flush();
            err.printf(
                    "replayed %,d events%s through %d triggers: %,d streams would fire, %,d expire, %,d stay open%n",
                    read,
                    first < 0 ? "" : " (offsets " + first + " to " + last + ")",
                    w.triggers().size(),
                    fired.get(),
                    expired.get(),
                    engine.openStreams());
            err.flush();
        } finally {
            engine.close();
            log.close();
            store.close();
            try (var walk = Files.walk(dir)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        return 0;
    }
}
