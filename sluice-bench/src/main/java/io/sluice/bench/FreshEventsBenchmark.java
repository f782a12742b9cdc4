package io.sluice.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.query.QueryIndex;
import io.sluice.testkit.Notifications;
import io.sluice.testkit.QueryWorkload;
import java.io.IOException;
import java.util.List;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Matching as the server does it: each event parsed from its bytes (so its tree is fresh, in
 * cache, with strings never hashed before) and matched at once, over 1,000 distinct events (so
 * the index entries they reach vary). {@link #parse} alone is the baseline: the difference is
 * what the standing queries add to an event's cost. One operation = one event.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 1,
        jvmArgs = {"-Xms4g", "-Xmx4g"})
public class FreshEventsBenchmark {
    private static final int EVENTS = 1_000;

    @Param({"1", "100", "10000", "100000"})
    int queries;

    private final ObjectMapper mapper = Json.mapper();
    private byte[][] events;
    private QueryIndex index;
    private long matches;
    private final Consumer<String> sink = name -> matches++;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Notifications notifications = Notifications.load();
        List<ObjectNode> trees = notifications.take(EVENTS, 1);
        events = new byte[EVENTS][];
        for (int i = 0; i < EVENTS; i++) {
            events[i] = mapper.writeValueAsBytes(trees.get(i));
        }
        index = QueryWorkload.index(QueryWorkload.generate(queries, 1, notifications.eventTypes()));
    }

    private byte[] nextEvent() {
        int i = next;
        next = i + 1 == EVENTS ? 0 : i + 1;
        return events[i];
    }

    /** Parsing alone: the baseline. */
    @Benchmark
    public JsonNode parse() throws IOException {
        return mapper.readTree(nextEvent());
    }

    /** Parsing, then matching against the standing queries. */
    @Benchmark
    public long parseAndMatch() throws IOException {
        index.match(mapper.readTree(nextEvent()), sink);
        return matches;
    }
}
