package io.sluice.core.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.api.Json;
import io.sluice.api.component.Field;
import io.sluice.api.component.Spec;
import io.sluice.api.flow.FlowEvent;
import io.sluice.api.flow.InputModule;
import io.sluice.api.flow.ModuleContext;
import io.sluice.api.flow.ModuleType;
import io.sluice.api.flow.Settlement;
import io.sluice.core.flow.modules.FlowModules;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flows on real threads and files: Compysition's queue behaviour, backpressure, the flow
 * modules, errors, clean stops, settlements and the bootstrap errors.
 */
class FlowTest {
    @TempDir
    Path dir;

    /** What the test modules saw, by module name. */
    private final Map<String, ConcurrentLinkedQueue<FlowEvent>> seen = new ConcurrentHashMap<>();

    private final StringBuilder stderr = new StringBuilder();

    /** The built-ins plus: collect (records events; {@code delay} per event), boom, settled. */
    private ModuleRegistry registry() {
        return FlowModules.builtins(null, null, null)
                .register(new ModuleType(
                        new Spec(
                                "module",
                                "collect",
                                "records events",
                                List.of(Field.optional("delay", Field.Type.DURATION, "0s", "time per event"))),
                        List.of("inbox"),
                        List.of("outbox"),
                        (args, base) -> {
                            long nanos = args.duration("delay").toNanos();
                            return (event, queue, ctx) -> {
                                if (nanos > 0) {
                                    TimeUnit.NANOSECONDS.sleep(nanos);
                                }
                                seen.computeIfAbsent(ctx.name(), k -> new ConcurrentLinkedQueue<>())
                                        .add(event);
                                ctx.submit(event);
                            };
                        }))
                .register(new ModuleType(
                        new Spec("module", "boom", "throws on data \"poison\"", List.of()),
                        List.of("inbox"),
                        List.of("outbox"),
                        (args, base) -> (event, queue, ctx) -> {
                            if (event.data().asText().equals("poison")) {
                                throw new IllegalStateException("cannot digest poison");
                            }
                            ctx.submit(event);
                        }))
                .register(new ModuleType(
                        new Spec(
                                "module",
                                "settled",
                                "submits numbered events carrying settlements, then waits for the stop",
                                List.of(Field.optional("count", Field.Type.INTEGER, 10, "events"))),
                        List.of(),
                        List.of("outbox"),
                        (args, base) -> new Settling(args.integer("count"))));
    }

    private final AtomicInteger settledCount = new AtomicInteger();

    private final class Settling implements InputModule {
        private final long count;

        Settling(long count) {
            this.count = count;
        }

        @Override
        public void run(ModuleContext ctx) throws InterruptedException {
            for (int i = 0; i < count; i++) {
                Settlement s = Settlement.of(settledCount::incrementAndGet);
                ctx.submit(FlowEvent.of(Json.nodes().numberNode(i)).settleWith(s));
                s.release();
            }
            while (!ctx.awaitStop(Duration.ofMinutes(1))) {
                // the flow runs until the test stops it
            }
        }
    }

    private Flow flow(String yaml) throws Exception {
        Path file = dir.resolve("flow.yaml");
        Files.writeString(file, yaml);
        return Flow.create(
                FlowDefinition.load(file),
                registry(),
                new Flow.Environment(
                        new SimpleMeterRegistry(),
                        line -> {
                            synchronized (stderr) {
                                stderr.append(line).append('\n');
                            }
                        },
                        6,
                        Clock.systemUTC()));
    }

    private String stderrText() {
        synchronized (stderr) {
            return stderr.toString();
        }
    }

    private List<FlowEvent> seen(String module) {
        return new ArrayList<>(seen.getOrDefault(module, new ConcurrentLinkedQueue<>()));
    }

    @Test
    void aBoundedPutBlocksAtCapacityAndStatsCountPutsAndGets() throws Exception {
        FlowQueue q = new FlowQueue("a.outbox", "b.inbox", 10);
        for (int i = 0; i < 10; i++) {
            q.put(FlowEvent.of(Json.nodes().numberNode(i)));
        }
        assertThat(q.offer(FlowEvent.of(Json.nodes().textNode("one too many")))).isFalse();
        AtomicLong putAt = new AtomicLong();
        Thread blocked = Thread.ofVirtual().start(() -> {
            try {
                q.put(FlowEvent.of(Json.nodes().textNode("waits")));
                putAt.set(System.nanoTime());
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        // the put is parked in the full queue, and stays parked: nothing was taken
        await().atMost(Duration.ofSeconds(5)).until(() -> blocked.getState() == Thread.State.WAITING);
        assertThat(putAt.get()).isZero();
        assertThat(blocked.isAlive()).isTrue();
        long takenAt = System.nanoTime();
        assertThat(q.poll(1, TimeUnit.SECONDS).data().asInt()).isZero();
        blocked.join(5_000);
        assertThat(putAt.get()).isGreaterThanOrEqualTo(takenAt);

        FlowQueue stats = new FlowQueue("a.outbox", "b.inbox", 100);
        for (int i = 0; i < 10; i++) {
            stats.put(FlowEvent.of(Json.nodes().numberNode(i)));
        }
        for (int i = 0; i < 9; i++) {
            stats.poll(1, TimeUnit.SECONDS);
        }
        FlowQueue.Stats s = stats.stats();
        assertThat(s.size()).isEqualTo(1);
        assertThat(s.inTotal()).isEqualTo(10);
        assertThat(s.outTotal()).isEqualTo(9);
    }

    @Test
    void aSlowLastModuleSlowsTheSourceAndKeepsTheQueuesBounded() throws Exception {
        Flow flow = flow("""
                modules:
                  source: {module: testevent, arguments: {interval: 0, message: {n: 1}}}
                  a: {module: header, arguments: {queue_size: 20}}
                  b: {module: header, arguments: {queue_size: 20}}
                  c: {module: header, arguments: {queue_size: 20}}
                  slow: {module: collect, arguments: {delay: 2ms, queue_size: 20}}
                routingtable:
                  - source.outbox -> a.inbox
                  - a.outbox -> b.inbox
                  - b.outbox -> c.inbox
                  - c.outbox -> slow.inbox
                """);
        flow.start();
        // the queues' sizes sampled while the slow module takes 300 events (about 0.6 s)
        AtomicInteger maxWaiting = new AtomicInteger();
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(10))
                .until(() -> {
                    for (FlowQueue q : flow.queues()) {
                        maxWaiting.accumulateAndGet(q.size(), Math::max);
                    }
                    return flow.modules().get("slow").hits() >= 300;
                });
        long produced = flow.queues().get(0).stats().inTotal();
        long consumed = flow.modules().get("slow").hits();
        flow.stop();
        // four queues of 20, plus at most a queue's worth in each consumer's hands
        assertThat(maxWaiting.get()).isLessThanOrEqualTo(20);
        assertThat(consumed).isBetween(100L, 1_500L);
        assertThat(produced - consumed)
                .as("the source made only what the queues hold beyond what the slow module took")
                .isLessThanOrEqualTo(4 * 20 * 2 + 1);
        assertThat(flow.lost()).isZero();
    }

    @Test
    void fanoutWithCloneGivesEachQueueItsOwnCopy() throws Exception {
        Flow flow = flow("""
                modules:
                  source: {module: testevent, arguments: {interval: 0, count: 5, message: {n: 1}}}
                  split: {module: wishbone.flow.fanout, arguments: {clone: true}}
                  change: {module: transform, arguments: {set: {n: 2, added: true}}}
                  one: {module: collect}
                  two: {module: collect}
                  three: {module: collect}
                routingtable:
                  - source.outbox -> split.inbox
                  - split.first -> change.inbox
                  - change.outbox -> one.inbox
                  - split.second -> two.inbox
                  - split.third -> three.inbox
                """);
        flow.start();
        assertThat(flow.awaitEnd(Duration.ofSeconds(10))).isTrue();
        assertThat(seen("one"))
                .hasSize(5)
                .allSatisfy(e -> assertThat(e.data().get("n").asInt()).isEqualTo(2));
        assertThat(seen("two")).hasSize(5).allSatisfy(e -> assertThat(Json.write(e.data()))
                .isEqualTo("{\"n\":1}"));
        assertThat(seen("three")).hasSize(5).allSatisfy(e -> assertThat(Json.write(e.data()))
                .isEqualTo("{\"n\":1}"));
        for (int i = 0; i < 5; i++) {
            assertThat(seen("two").get(i).data())
                    .isNotSameAs(seen("three").get(i).data());
        }
    }

    @Test
    void roundRobinSpreadsEvenly() throws Exception {
        Flow flow = flow("""
                modules:
                  source: {module: testevent, arguments: {interval: 0, count: 30}}
                  spread: {module: roundrobin}
                  x: {module: collect}
                  y: {module: collect}
                  z: {module: collect}
                routingtable:
                  - source.outbox -> spread.inbox
                  - spread.a -> x.inbox
                  - spread.b -> y.inbox
                  - spread.c -> z.inbox
                """);
        flow.start();
        assertThat(flow.awaitEnd(Duration.ofSeconds(10))).isTrue();
        assertThat(seen("x")).hasSize(10);
        assertThat(seen("y")).hasSize(10);
        assertThat(seen("z")).hasSize(10);
    }

    /** {@code count} settled events into a tipping bucket with these arguments, flushed into {@code out}. */
    private Flow bucketFlow(int count, String bucketArguments) throws Exception {
        return flow("""
                modules:
                  source: {module: settled, arguments: {count: %d}}
                  bucket: {module: tippingbucket, arguments: %s}
                  out: {module: collect}
                routingtable:
                  - source.outbox -> bucket.inbox
                  - bucket.outbox -> out.inbox
                """.formatted(count, bucketArguments));
    }

    @Test
    void tippingBucketFlushesOnCount() throws Exception {
        Flow flow = bucketFlow(10, "{events: 3}");
        flow.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> seen("out").size() == 3);
        assertThat(seen("out")).extracting(e -> e.data().size()).containsExactly(3, 3, 3);
        assertThat(settledCount).hasValue(9); // the tenth is still in the bucket
        flow.stop();
        assertThat(seen("out"))
                .extracting(e -> Json.write(e.data()))
                .containsExactly("[0,1,2]", "[3,4,5]", "[6,7,8]", "[9]");
        assertThat(settledCount).hasValue(10);
    }

    @Test
    void tippingBucketFlushesOnSize() throws Exception {
        Flow flow = bucketFlow(10, "{size: 4}");
        flow.start();
        // 0..9 are one byte of JSON each: every fourth byte tips the bucket
        await().atMost(Duration.ofSeconds(5)).until(() -> seen("out").size() == 2);
        assertThat(seen("out")).extracting(e -> Json.write(e.data())).containsExactly("[0,1,2,3]", "[4,5,6,7]");
        flow.stop();
    }

    @Test
    void tippingBucketFlushesOnAgeWhileRunning() throws Exception {
        Flow flow = bucketFlow(2, "{age: 300ms, events: 100}");
        long started = System.nanoTime();
        flow.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> seen("out").size() == 1);
        assertThat(System.nanoTime() - started).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(300));
        assertThat(Json.write(seen("out").get(0).data())).isEqualTo("[0,1]");
        assertThat(flow.ended()).isFalse();
        flow.stop();
        assertThat(seen("out")).hasSize(1);
    }

    @Test
    void aFailingEventGoesToErrorsAndTheRestFlowOn() throws Exception {
        Path in = dir.resolve("in.ndjson");
        Files.writeString(in, "\"a\"\n\"b\"\n\"poison\"\n\"c\"\n");
        Flow flow = flow("""
                modules:
                  source: {module: file_input, arguments: {path: in.ndjson}}
                  eat: {module: boom}
                  good: {module: collect}
                  bad: {module: collect}
                routingtable:
                  - source.outbox -> eat.inbox
                  - eat.outbox -> good.inbox
                  - eat.errors -> bad.inbox
                """);
        flow.start();
        assertThat(flow.awaitEnd(Duration.ofSeconds(10))).isTrue();
        assertThat(seen("good")).extracting(e -> e.data().asText()).containsExactly("a", "b", "c");
        assertThat(seen("bad")).hasSize(1);
        JsonNode error = seen("bad").get(0).header().get("error");
        assertThat(error.get("module").asText()).isEqualTo("eat");
        assertThat(error.get("message").asText()).isEqualTo("cannot digest poison");
        assertThat(flow.modules().get("eat").errors()).isEqualTo(1);
        assertThat(flow.lost()).isZero();
    }

    @Test
    void withoutAnErrorsQueueAPoisonEventIsRetriedThenDroppedAndCounted() throws Exception {
        Path in = dir.resolve("in.ndjson");
        Files.writeString(in, "\"a\"\n\"poison\"\n\"c\"\n");
        Flow flow = flow("""
                modules:
                  source: {module: file_input, arguments: {path: in.ndjson}}
                  eat: {module: boom, arguments: {max_rescue: 2}}
                  good: {module: collect}
                routingtable:
                  - source.outbox -> eat.inbox
                  - eat.outbox -> good.inbox
                """);
        flow.start();
        assertThat(flow.awaitEnd(Duration.ofSeconds(10))).isTrue();
        assertThat(seen("good")).extracting(e -> e.data().asText()).containsExactly("a", "c");
        assertThat(flow.modules().get("eat").dropped()).isEqualTo(1);
        assertThat(flow.lost()).isEqualTo(1);
        assertThat(stderrText())
                .contains("[error] flow/eat: dropped an event after 3 attempts")
                .contains("cannot digest poison");
    }

    @Test
    void aCleanStopUnderLoadLosesNothing() throws Exception {
        Flow flow = flow("""
                modules:
                  source: {module: testevent, arguments: {interval: 0, message: {n: 1}}}
                  a: {module: header, arguments: {key: seen, header: true}}
                  b: {module: transform, arguments: {set: {m: 2}}}
                  c: {module: tippingbucket, arguments: {events: 7}}
                  out: {module: collect}
                routingtable:
                  - source.outbox -> a.inbox
                  - a.outbox -> b.inbox
                  - b.outbox -> c.inbox
                  - c.outbox -> out.inbox
                """);
        flow.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> seen("out").size() > 1_000);
        flow.stop();
        assertThat(flow.ended()).isTrue();
        long in = flow.queues().get(0).stats().inTotal();
        long out = seen("out").stream().mapToLong(e -> e.data().size()).sum();
        assertThat(out).isEqualTo(in);
        assertThat(flow.queues()).allSatisfy(q -> assertThat(q.size()).isZero());
        assertThat(flow.lost()).isZero();
    }

    @Test
    void settlementsAreGivenWhenEveryDerivedEventIsDone() throws Exception {
        Flow flow = flow("""
                modules:
                  source: {module: settled, arguments: {count: 100}}
                  split: {module: fanout}
                  one: {module: collect}
                  two: {module: collect, arguments: {delay: 1ms}}
                routingtable:
                  - source.outbox -> split.inbox
                  - split.a -> one.inbox
                  - split.b -> two.inbox
                """);
        flow.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> settledCount.get() == 100);
        assertThat(seen("two")).hasSize(100); // the slow branch was done with each before it was settled
        flow.stop();
    }

    @Test
    void filterSendsMatchesToOutboxAndTheRestToNomatch() throws Exception {
        Path in = dir.resolve("in.ndjson");
        Files.writeString(in, """
                {"type": "order", "n": 1}
                {"header": {"from": "shop"}, "data": {"type": "refund", "n": 2}}
                not json
                {"type": "order", "n": 3}
                """);
        Flow flow = flow("""
                modules:
                  source: {module: file_input, arguments: {path: in.ndjson}}
                  orders: {module: filter, arguments: {query: {type: order}}}
                  yes: {module: collect}
                  no: {module: collect}
                routingtable:
                  - source.outbox -> orders.inbox
                  - orders.outbox -> yes.inbox
                  - orders.nomatch -> no.inbox
                """);
        flow.start();
        assertThat(flow.awaitEnd(Duration.ofSeconds(10))).isTrue();
        assertThat(seen("yes")).extracting(e -> e.data().get("n").asInt()).containsExactly(1, 3);
        assertThat(seen("no")).hasSize(1);
        assertThat(seen("no").get(0).header().get("from").asText()).isEqualTo("shop");
        assertThat(stderrText()).contains("rejected: ").contains("in.ndjson:3: not JSON");
        assertThat(flow.modules().get("source").rejected()).isEqualTo(1);
    }

    @Test
    void logsAndMetricsAreStreamsToTheirModules() throws Exception {
        Flow flow = flow("""
                modules:
                  source: {module: testevent, arguments: {interval: 10ms, count: 3}}
                  sink: {module: "null"}
                  levels: {module: loglevelfilter, arguments: {max_level: 6}}
                  format: {module: humanlogformatter}
                  logs: {module: collect}
                  numbers: {module: collect}
                routingtable:
                  - source.outbox -> sink.inbox
                  - levels.outbox -> format.inbox
                  - format.outbox -> logs.inbox
                logs: levels
                metrics: numbers
                metrics_interval: 100ms
                """);
        flow.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> seen("numbers").stream()
                .anyMatch(e -> e.data().get("name").asText().equals("queue.sink.inbox.in_total")
                        && e.data().get("value").asDouble() == 3.0));
        flow.stop();
        assertThat(seen("logs")).anySatisfy(e -> assertThat(e.data().asText())
                .matches("\\d{4}-\\d\\d-\\d\\dT.*Z \\[informational\\] flow/flow: started 6 modules, 3 routes"));
        assertThat(seen("numbers"))
                .extracting(e -> e.data().get("name").asText())
                .contains("queue.sink.inbox.size", "queue.sink.inbox.out_rate", "function.sink.consume.hits");
        assertThat(stderrText()).doesNotContain("started 6 modules");
    }

    @Test
    void badBootstrapFilesAreRefusedNamingLineAndRouteOrArgument() throws Exception {
        String base = """
                modules:
                  source: {module: testevent}
                  out: {module: stdout}
                routingtable:
                  - %s
                """;
        assertThatThrownBy(() -> flow(base.formatted("source.outbox => out.inbox")))
                .isInstanceOf(FlowException.class)
                .hasMessageContaining("flow.yaml:5")
                .hasMessageContaining("malformed route 'source.outbox => out.inbox'");
        assertThatThrownBy(() -> flow(base.formatted("source.outbox -> nowhere.inbox")))
                .hasMessageContaining("flow.yaml:5")
                .hasMessageContaining("unknown module 'nowhere'");
        assertThatThrownBy(() -> flow(base.formatted("source.output -> out.inbox")))
                .hasMessageContaining("flow.yaml:5: route 'source.output -> out.inbox'")
                .hasMessageContaining("no outgoing queue 'output' (it has: outbox, errors)");
        assertThatThrownBy(() -> flow(base.formatted("source.outbox -> out.inbox\n  - source.outbox -> out.inbox")))
                .hasMessageContaining("flow.yaml:6")
                .hasMessageContaining("source.outbox is already connected by 'source.outbox -> out.inbox' (line 5)");
        assertThatThrownBy(() -> flow("""
                        modules:
                          source:
                            module: testevent
                            arguments:
                              interval: soon
                        """))
                .hasMessageContaining("flow.yaml:5")
                .hasMessageContaining("modules.source.arguments.interval");
        assertThatThrownBy(() -> flow("""
                        modules:
                          source:
                            module: testevent
                            arguments:
                              intervall: 1
                        """))
                .hasMessageContaining("flow.yaml:5")
                .hasMessageContaining("modules.source.arguments.intervall: unknown setting")
                .hasMessageContaining("(known: interval, message, count, queue_size, max_rescue)");
        assertThatThrownBy(() -> flow("""
                        modules:
                          source: {module: testevent}
                          what: {module: wishbone.output.teleport}
                        """))
                .hasMessageContaining("flow.yaml:3")
                .hasMessageContaining("unknown module type 'wishbone.output.teleport'");
        assertThatThrownBy(() -> flow("modules: {a: {module: null}}\nroutes: []\n"))
                .hasMessageContaining("flow.yaml:2: routes: unknown key");
    }
}
