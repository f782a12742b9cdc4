package io.sluice.server.check;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.api.Envelope;
import io.sluice.api.Json;
import io.sluice.api.component.Settings;
import io.sluice.core.distill.Distiller;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.LiveEvents;
import io.sluice.core.log.StoredEvent;
import io.sluice.core.timex.DrivenClock;
import io.sluice.core.trigger.DefinitionException;
import io.sluice.core.trigger.PipelineHandlers;
import io.sluice.core.trigger.Traits;
import io.sluice.core.trigger.TriggerEngine;
import io.sluice.core.trigger.WinchesterConfig;
import io.sluice.core.yaml.YamlLines;
import io.sluice.query.Query;
import io.sluice.server.SluiceServer;
import io.sluice.store.sqlite.SqliteEventStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Definition tests ({@code sluice test FILE}): the triggers of a winchester.yaml, and standing
 * queries, run over fixture events on a simulated clock, and the outcome compared with what
 * the file expects.
 *
 * <pre>
 * winchester: ../winchester.yaml        # the triggers under test (relative to this file)
 * queries: queries.ndjson               # optional: PySeps query documents, for matches
 * cases:
 *   - name: an instance's day fires on its end-of-day exists
 *     start: "2014-08-01T00:00:00Z"     # the clock at the start (default: the first event's time)
 *     events:                           # documents, or {file: events.ndjson}
 *       - {message_id: a1, event_type: compute.instance.create.end, instance_id: i-1,
 *          timestamp: "2014-08-01T10:00:00Z"}
 *     steps:                            # then, in order
 *       - advance: 2d                   # the clock moves: what is due fires or expires
 *       - events: [...]
 *     expect:                           # each key optional
 *       fired: [{trigger: test_trigger, distinguished_by: {instance_id: i-1}}]   # exactly these
 *       expired: []
 *       emitted: [{event_type: compute.instance.exists.verified}]    # each found among new events
 *       matches: {NonInformational: 2}
 * </pre>
 *
 * Each case runs on its own store in a temporary directory. As each event is appended, the clock
 * moves to its time if that is later (a live feed); {@code advance} moves it further.
 * Expectations are partial: an expected stream's {@code distinguished_by} and an expected
 * event's fields must be present and equal; {@code fired} and {@code expired} list every stream
 * that fired or expired, none more.
 */
public final class DefinitionTests {
    private static final java.util.Set<String> FILE_KEYS = Set.of("winchester", "queries", "cases");
    private static final java.util.Set<String> CASE_KEYS = Set.of("name", "start", "events", "steps", "expect");
    private static final java.util.Set<String> EXPECT_KEYS = Set.of("fired", "expired", "emitted", "matches");

    /** One case's result: passed, or the differences. */
    public record Result(String name, List<String> differences) {
        public boolean passed() {
            return differences.isEmpty();
        }
    }

    private final Path file;
    private final YamlLines tree;
    private final WinchesterConfig winchester;
    private final Map<String, Query> queries = new LinkedHashMap<>();

    /**
     * Reads a test file and what it names.
     *
     * @throws IllegalArgumentException naming the file, line and key of what is malformed
     */
    public DefinitionTests(Path file) throws IOException {
        this.file = file;
        this.tree = YamlLines.parse(Files.readString(file), file.toString());
        JsonNode root = tree.root();
        keys(root, "", FILE_KEYS);
        Path base = file.toAbsolutePath().getParent();
        JsonNode w = root.get("winchester");
        if (w == null || !w.isTextual()) {
            throw error("winchester", "required: the path of the winchester.yaml under test");
        }
        try {
            this.winchester = WinchesterConfig.load(base.resolve(w.textValue()));
        } catch (DefinitionException e) {
            throw error("winchester", e.getMessage());
        }
        JsonNode q = root.get("queries");
        if (q != null) {
            Path qf = base.resolve(q.asText());
            int n = 0;
            for (String line : Files.readAllLines(qf)) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    JsonNode doc = Json.parse(line);
                    queries.put(doc.path("name").asText("query " + n), Query.parse(doc.path("query")));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(qf + ":" + n + ": " + e.getMessage());
                }
            }
        }
        JsonNode cases = root.get("cases");
        if (cases == null || !cases.isArray() || cases.isEmpty()) {
            throw error("cases", "required: a list of cases (name, events, steps, expect)");
        }
        for (int i = 0; i < cases.size(); i++) {
            String at = "cases[" + i + "]";
            keys(cases.get(i), at, CASE_KEYS);
            if (!cases.get(i).path("name").isTextual()) {
                throw error(at + ".name", "required: the case's name");
            }
            JsonNode expect = cases.get(i).get("expect");
            if (expect != null) {
                keys(expect, at + ".expect", EXPECT_KEYS);
            }
            events(cases.get(i).get("events"), at + ".events"); // checks them now
            JsonNode steps = cases.get(i).get("steps");
            if (steps != null) {
                for (int s = 0; s < steps.size(); s++) {
                    step(steps.get(s), at + ".steps[" + s + "]");
                }
            }
        }
    }

    private void keys(JsonNode node, String at, Set<String> known) {
        if (!node.isObject()) {
            throw error(at, "must be a mapping");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) {
                throw error(
                        at.isEmpty() ? k : at + "." + k,
                        "unknown key (known: "
                                + String.join(", ", known.stream().sorted().toList()) + ")");
            }
        }
    }

    private IllegalArgumentException error(String path, String problem) {
        int line = tree.line(path);
        return new IllegalArgumentException(file + (line > 0 ? ":" + line : "") + ": " + path + ": " + problem);
    }

    /** A case's or a step's events: documents, or {file: NDJSON}. */
    private List<ObjectNode> events(JsonNode list, String at) throws IOException {
        List<ObjectNode> out = new ArrayList<>();
        if (list == null || list.isNull()) {
            return out;
        }
        if (!list.isArray()) {
            throw error(at, "must be a list of events, or of {file: PATH}");
        }
        for (int i = 0; i < list.size(); i++) {
            JsonNode e = list.get(i);
            if (e.isObject() && e.size() == 1 && e.has("file")) {
                Path f = file.toAbsolutePath().getParent().resolve(e.get("file").asText());
                if (!Files.exists(f)) {
                    throw error(at + "[" + i + "].file", "no such file: " + f);
                }
                for (String line : Files.readAllLines(f)) {
                    if (!line.isBlank()) {
                        out.add((ObjectNode) Json.parse(line));
                    }
                }
            } else if (e.isObject()) {
                out.add((ObjectNode) e.deepCopy());
            } else {
                throw error(at + "[" + i + "]", "an event is a mapping, or {file: PATH}");
            }
        }
        return out;
    }

    private record Step(Duration advance, List<ObjectNode> events) {}

    private Step step(JsonNode s, String at) throws IOException {
        if (s.has("advance")) {
            try {
                return new Step(Settings.parseDuration(s.get("advance").asText()), List.of());
            } catch (IllegalArgumentException e) {
                throw error(at + ".advance", e.getMessage());
            }
        }
        if (s.has("events")) {
            return new Step(Duration.ZERO, events(s.get("events"), at + ".events"));
        }
        throw error(at, "a step is {advance: DURATION} or {events: [...]}");
    }

    /** Runs every case. */
    public List<Result> run() throws Exception {
        List<Result> results = new ArrayList<>();
        JsonNode cases = tree.root().get("cases");
        for (int i = 0; i < cases.size(); i++) {
            results.add(runCase(cases.get(i), "cases[" + i + "]"));
        }
        return results;
    }

    private record Finished(String trigger, ObjectNode distinguishedBy, boolean fired, String error) {}

    private Result runCase(JsonNode c, String at) throws Exception {
        String name = c.get("name").asText();
        List<ObjectNode> first = events(c.get("events"), at + ".events");
        Instant start = c.has("start") ? Instant.parse(c.get("start").asText()) : null;
        if (start == null) {
            start = first.isEmpty() ? Instant.parse("2000-01-01T00:00:00Z") : timeOf(first.getFirst());
        }
        DrivenClock clock = new DrivenClock(start);
        Path dir = Files.createTempDirectory("sluice-test");
        SqliteEventStore store = SqliteEventStore.scratch(dir, clock);
        EventLog log = new EventLog(
                store, Envelope.WINCHESTER, clock, () -> UUID.randomUUID().toString(), new SimpleMeterRegistry());
        LiveEvents live = new LiveEvents();
        log.subscribe(live);
        PipelineHandlers handlers = new PipelineHandlers(
                winchester.handlers(),
                SluiceServer.pipelineBuiltIns(winchester),
                getClass().getClassLoader(),
                winchester.file().toString());
        Distiller distiller = winchester.distillerConfig() == null
                ? null
                : Distiller.load(winchester.distillerConfig(), winchester.catchAllNotifications(), clock);
        TriggerEngine engine =
                new TriggerEngine(winchester, handlers, distiller, store, log, live, clock, new SimpleMeterRegistry());
        List<Finished> finished = new CopyOnWriteArrayList<>();
        engine.listen((id, trigger, dist, fired, error) -> finished.add(new Finished(trigger, dist, fired, error)));
        engine.start();
        Set<String> given = new HashSet<>();
        try {
            feed(first, clock, log, engine, given);
            JsonNode steps = c.get("steps");
            if (steps != null) {
                for (int s = 0; s < steps.size(); s++) {
                    Step step = step(steps.get(s), at + ".steps[" + s + "]");
                    clock.advance(step.advance());
                    feed(step.events(), clock, log, engine, given);
                }
            }
            tick(log, engine, given); // what became due after the last step runs
            tick(log, engine, given);
            List<JsonNode> all = new ArrayList<>();
            List<JsonNode> emitted = new ArrayList<>();
            for (StoredEvent e : store.read(0, 1_000_000, e -> true).events()) {
                if (!given.contains(e.id())) {
                    emitted.add(e.document());
                }
                if (!e.id().startsWith("sluice-test-tick-")) {
                    all.add(e.document());
                }
            }
            return new Result(name, compare(c.get("expect"), finished, emitted, all));
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
    }

    private static Instant timeOf(ObjectNode event) {
        LocalDateTime t = Traits.datetime(event.path("timestamp").asText());
        return t == null ? Instant.parse("2000-01-01T00:00:00Z") : t.toInstant(ZoneOffset.UTC);
    }

    /** Appends events one at a time, the clock moved to each one's time if later, and waits for the engine. */
    private static void feed(
            List<ObjectNode> events, DrivenClock clock, EventLog log, TriggerEngine engine, Set<String> given)
            throws Exception {
        for (ObjectNode e : events) {
            Instant t = timeOf(e);
            if (t.isAfter(clock.instant())) {
                clock.set(t);
            }
            var r = log.append(List.of(e)).get();
            given.addAll(r.ids());
            settle(engine, r.lastOffset());
            tick(log, engine, given);
        }
    }

    /** An event no trigger takes: once the engine has read it, it has handled what was due before. */
    private static void tick(EventLog log, TriggerEngine engine, Set<String> given) throws Exception {
        ObjectNode tick = Json.object();
        tick.put("message_id", "sluice-test-tick-" + UUID.randomUUID());
        tick.put("event_type", "sluice.test.tick");
        tick.put("timestamp", "2000-01-01T00:00:00Z");
        var r = log.append(List.of(tick)).get();
        given.addAll(r.ids());
        settle(engine, r.lastOffset());
    }

    private static void settle(TriggerEngine engine, long offset) throws InterruptedException {
        if (!engine.awaitPosition(offset, Duration.ofSeconds(60))) {
            throw new IllegalStateException("the trigger engine did not read offset " + offset + " within 60 s");
        }
        if (!engine.awaitPipelines(Duration.ofSeconds(60))) {
            throw new IllegalStateException("the pipelines of due streams did not finish within 60 s");
        }
    }

    private List<String> compare(JsonNode expect, List<Finished> finished, List<JsonNode> emitted, List<JsonNode> all) {
        List<String> diffs = new ArrayList<>();
        if (expect == null) {
            return diffs;
        }
        for (boolean fired : new boolean[] {true, false}) {
            String key = fired ? "fired" : "expired";
            JsonNode want = expect.get(key);
            if (want == null) {
                continue;
            }
            List<Finished> actual = new ArrayList<>();
            for (Finished f : finished) {
                if (f.fired() == fired) {
                    actual.add(f);
                }
            }
            List<Finished> left = new ArrayList<>(actual);
            for (JsonNode w : want) {
                Finished hit = null;
                for (Finished f : left) {
                    if ((!w.has("trigger") || w.get("trigger").asText().equals(f.trigger()))
                            && contains(f.distinguishedBy(), w.path("distinguished_by"))) {
                        hit = f;
                        break;
                    }
                }
                if (hit == null) {
                    diffs.add(key + ": expected " + Json.write(w) + ", not among " + describe(actual));
                } else {
                    left.remove(hit);
                    if (hit.error() != null) {
                        diffs.add(key + ": " + Json.write(w) + " ran its pipeline, which failed: " + hit.error());
                    }
                }
            }
            for (Finished f : left) {
                diffs.add(key + ": not expected: " + describe(List.of(f)));
            }
        }
        JsonNode wantEmitted = expect.get("emitted");
        if (wantEmitted != null) {
            for (JsonNode w : wantEmitted) {
                if (emitted.stream().noneMatch(e -> contains(e, w))) {
                    diffs.add("emitted: expected an event like " + Json.write(w) + ", not among the " + emitted.size()
                            + " new events" + (emitted.isEmpty() ? "" : " (types: " + types(emitted) + ")"));
                }
            }
        }
        JsonNode wantMatches = expect.get("matches");
        if (wantMatches != null) {
            wantMatches.fields().forEachRemaining(m -> {
                Query q = queries.get(m.getKey());
                if (q == null) {
                    diffs.add("matches: no query named '" + m.getKey() + "' (queries: "
                            + String.join(", ", queries.keySet()) + ")");
                    return;
                }
                long n = all.stream().filter(q::matches).count();
                if (n != m.getValue().asLong()) {
                    diffs.add("matches: " + m.getKey() + " matched " + n + " events, expected "
                            + m.getValue().asLong());
                }
            });
        }
        return diffs;
    }

    private static String describe(List<Finished> fs) {
        List<String> out = new ArrayList<>();
        for (Finished f : fs) {
            out.add("{trigger: " + f.trigger() + ", distinguished_by: " + Json.write(f.distinguishedBy()) + "}");
        }
        return out.isEmpty() ? "none" : "[" + String.join(", ", out) + "]";
    }

    private static String types(List<JsonNode> events) {
        return String.join(
                ", ",
                events.stream()
                        .map(e -> e.path("event_type").asText())
                        .distinct()
                        .sorted()
                        .toList());
    }

    /** Whether {@code actual} has every field of {@code expected}, equal (objects compared the same way). */
    static boolean contains(JsonNode actual, JsonNode expected) {
        if (expected == null || expected.isMissingNode()) {
            return true;
        }
        if (expected.isObject()) {
            if (!actual.isObject()) {
                return false;
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode a = actual.get(e.getKey());
                if (a == null || !contains(a, e.getValue())) {
                    return false;
                }
            }
            return true;
        }
        if (expected.isValueNode() && actual.isValueNode()) {
            return expected.asText().equals(actual.asText());
        }
        return expected.equals(actual);
    }
}
