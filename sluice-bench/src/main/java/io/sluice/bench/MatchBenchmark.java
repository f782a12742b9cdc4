package io.sluice.bench;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.query.Explanation;
import io.sluice.query.QueryIndex;
import io.sluice.testkit.Notifications;
import io.sluice.testkit.QueryWorkload;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Matching throughput of standing queries, one thread, events pre-parsed: Sluice's shared
 * {@link QueryIndex} and Esper's filter index side by side, over the same OpenStack
 * notifications and the same query sets ({@link QueryWorkload}). One operation = one event.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 10, time = 2) // Esper at 1 and 100 queries settles only after about 8
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 1,
        jvmArgs = {"-Xms2g", "-Xmx2g"})
public class MatchBenchmark {
    @Param({"1", "100", "10000", "100000"})
    int queries;

    /**
     * {@code sluice}, {@code esper}, or {@code floor}: not an engine but the least any index
     * must do per event on the set ({@link LookupFloor}), run only when asked for.
     */
    @Param({"sluice", "esper"})
    String engine;

    /**
     * Distinct events cycled through. 1,000 event trees are more than a 512 KB second-level
     * cache holds; fewer (-p events=10) show matching with the event in cache, as a freshly
     * parsed one is, but also keep warm the few index entries those events hit. Fewer than
     * {@link #STREAM} are taken evenly spaced from the first {@link #STREAM} notifications, so
     * that they come from different instances (tenants, hosts) rather than from one sequence.
     */
    @Param({"1000"})
    int events;

    /** The queries' shape ({@link QueryWorkload.Shape}): the mix, or all of one kind. */
    @Param({"MIXED"})
    String shape;

    private static final int STREAM = 1_000;

    private List<ObjectNode> jsonEvents;
    private List<Map<String, Object>> mapEvents;
    private QueryIndex index;
    private EsperFilters esper;
    private LookupFloor floor;
    private long matches;
    private final Consumer<String> sink = name -> matches++;
    private int next;

    /**
     * The queries are built first and the events parsed from their bytes last, after a
     * collection, so that every configuration finds the event trees laid out as a parser
     * leaves them (each tree's nodes in the order read, nothing between them). Built before the
     * index, the trees would be moved by the collections that building a large index causes
     * and stay where the template expansion left them for a small one: with one tenant query
     * and 1,000 events that difference alone made one query slower than 100,000 (7.6 M against
     * 12.0 M events/s).
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Notifications notifications = Notifications.load();
        List<ObjectNode> stream = notifications.take(Math.max(events, STREAM), 1);
        int step = stream.size() / events;
        ObjectMapper mapper = Json.mapper();
        List<byte[]> serialized = new ArrayList<>(events);
        for (int i = 0; i < events; i++) {
            serialized.add(mapper.writeValueAsBytes(stream.get(i * step)));
        }
        List<QueryWorkload.GeneratedQuery> generated =
                QueryWorkload.generate(queries, 1, notifications.eventTypes(), QueryWorkload.Shape.valueOf(shape));
        switch (engine) {
            case "sluice" -> index = QueryWorkload.index(generated);
            case "esper" -> esper = new EsperFilters(generated);
            case "floor" -> { // on the paths the index looks up, the same for every event
                List<String> paths = QueryWorkload.index(generated).explain(Json.object()).lookups().stream()
                        .map(Explanation.Lookup::path)
                        .toList();
                floor = new LookupFloor(generated, paths);
            }
            default -> throw new IllegalArgumentException("engine must be sluice, esper or floor: " + engine);
        }
        generated = null;
        stream = null;
        System.gc();
        if (esper == null) {
            jsonEvents = new ArrayList<>(events);
            for (byte[] event : serialized) {
                jsonEvents.add((ObjectNode) mapper.readTree(event));
            }
        } else {
            mapEvents = new ArrayList<>(events);
            for (byte[] event : serialized) {
                mapEvents.add(mapper.readValue(event, new TypeReference<Map<String, Object>>() {}));
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (esper != null) {
            esper.close();
        }
    }

    @Benchmark
    public long match() {
        int i = next;
        next = i + 1 == events ? 0 : i + 1;
        if (index != null) {
            index.match(jsonEvents.get(i), sink);
            return matches;
        }
        if (floor != null) {
            return floor.probe(jsonEvents.get(i));
        }
        return esper.send(mapEvents.get(i));
    }
}
