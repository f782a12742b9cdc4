package io.sluice.bench;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.query.Query;
import io.sluice.query.QueryIndex;
import io.sluice.testkit.Notifications;
import io.sluice.testkit.QueryWorkload;
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
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 1,
        jvmArgs = {"-Xms2g", "-Xmx2g"})
public class MatchBenchmark {
    @Param({"1", "100", "10000", "100000"})
    int queries;

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

    private static final int STREAM = 1_000;

    private List<ObjectNode> jsonEvents;
    private List<Map<String, Object>> mapEvents;
    private QueryIndex index;
    private EsperFilters esper;
    private long matches;
    private final Consumer<String> sink = name -> matches++;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        Notifications notifications = Notifications.load();
        List<ObjectNode> stream = notifications.take(Math.max(events, STREAM), 1);
        int step = stream.size() / events;
        jsonEvents = java.util.stream.IntStream.range(0, events)
                .mapToObj(i -> stream.get(i * step))
                .toList();
        List<QueryWorkload.GeneratedQuery> generated = QueryWorkload.generate(queries, 1, notifications.eventTypes());
        if (engine.equals("sluice")) {
            index = new QueryIndex();
            for (QueryWorkload.GeneratedQuery q : generated) {
                index.put(q.name(), Query.parse(q.query()));
            }
        } else {
            ObjectMapper mapper = new ObjectMapper();
            mapEvents = jsonEvents.stream()
                    .map(e -> mapper.convertValue(e, new TypeReference<Map<String, Object>>() {}))
                    .toList();
            esper = new EsperFilters(generated);
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
        return esper.send(mapEvents.get(i));
    }
}
