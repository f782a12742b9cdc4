package io.sluice.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.api.Envelope;
import io.sluice.api.Json;
import io.sluice.core.log.EventLog;
import io.sluice.core.log.InvalidBatchException;
import io.sluice.core.log.StoredEvent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log's group commit, over the real SQLite store. */
class EventLogTest {
    @TempDir
    Path dir;

    private SqliteEventStore store;
    private EventLog log;
    private final AtomicInteger ids = new AtomicInteger();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    @BeforeEach
    void open() {
        store = SqliteEventStore.open(dir);
        log = new EventLog(
                store,
                Envelope.DEFAULT,
                Clock.fixed(Instant.parse("2026-03-04T05:06:07Z"), ZoneOffset.UTC),
                () -> "gen-" + ids.incrementAndGet(),
                meters);
    }

    @AfterEach
    void close() {
        log.close();
        store.close();
    }

    private static ObjectNode doc(String json) {
        return (ObjectNode) Json.parse(json);
    }

    @Test
    void appendsFillInIdAndTimeAndAnswerWithOffsetsAfterTheCommit() throws Exception {
        EventLog.AppendResult r = log.append(List.of(doc("{\"type\":\"a\"}"), doc("{\"id\":\"mine\",\"type\":\"b\"}")))
                .get(10, TimeUnit.SECONDS);
        assertThat(r.offsets()).containsExactly(1L, 2L);
        assertThat(r.ids()).containsExactly("gen-1", "mine");
        assertThat(store.byId("gen-1").orElseThrow().json())
                .as("added in front, as for a received text")
                .isEqualTo("{\"id\":\"gen-1\",\"time\":\"2026-03-04T05:06:07Z\",\"type\":\"a\"}");
        assertThat(meters.get("sluice.log.appended").counter().count()).isEqualTo(2);
    }

    @Test
    void receivedTextIsStoredAsIsWithAddedEnvelopeFieldsSplicedInFront() throws Exception {
        List<String> texts = List.of(
                "{ \"type\": \"a\", \"n\": 1.50 }",
                "{\"id\":\"mine\",\"time\":\"2020-01-01T00:00:00Z\",\"type\":\"b\"}\r",
                "{}",
                "{\"id\":null,\"type\":\"c\"}",
                "{\"id\":\"own\", \"type\":\"d\"}");
        List<ObjectNode> docs = texts.stream().map(EventLogTest::doc).toList();
        // Views of one body, as the HTTP API hands them over: each line a slice of the same bytes.
        byte[] body = String.join("\n", texts).getBytes(StandardCharsets.UTF_8);
        List<java.nio.ByteBuffer> lines = new ArrayList<>();
        int start = 0;
        for (String t : texts) {
            int length = t.getBytes(StandardCharsets.UTF_8).length;
            java.nio.ByteBuffer line = java.nio.ByteBuffer.wrap(body, start, length);
            // every other line read-only: a view without an accessible array is copied first
            lines.add(lines.size() % 2 == 0 ? line : line.asReadOnlyBuffer());
            start += length + 1;
        }
        log.append(docs, lines).get(10, TimeUnit.SECONDS);
        List<String> stored = store.read(0, 10, e -> true).events().stream()
                .map(StoredEvent::json)
                .toList();
        assertThat(stored)
                .containsExactly(
                        "{\"id\":\"gen-1\",\"time\":\"2026-03-04T05:06:07Z\", \"type\": \"a\", \"n\": 1.50 }",
                        "{\"id\":\"mine\",\"time\":\"2020-01-01T00:00:00Z\",\"type\":\"b\"}",
                        "{\"id\":\"gen-2\",\"time\":\"2026-03-04T05:06:07Z\"}",
                        // a null id is filled in where it was, the missing time in front
                        "{\"time\":\"2026-03-04T05:06:07Z\",\"id\":\"gen-3\",\"type\":\"c\"}",
                        "{\"time\":\"2026-03-04T05:06:07Z\",\"id\":\"own\", \"type\":\"d\"}");
        for (int i = 0; i < stored.size(); i++) {
            assertThat(Json.parse(stored.get(i))).isEqualTo(docs.get(i)); // the same document as was normalised
        }
    }

    @Test
    void anInvalidEventRejectsTheWholeRequestNamingItsIndex() {
        assertThatThrownBy(() -> log.append(List.of(doc("{\"a\":1}"), doc("{\"time\":5}"))))
                .isInstanceOf(InvalidBatchException.class)
                .hasMessageStartingWith("event 1: field 'time'")
                .extracting(e -> ((InvalidBatchException) e).index())
                .isEqualTo(1);
        assertThatThrownBy(() -> log.append(List.of(Json.parse("[1]"))))
                .hasMessage("event 0: an event must be a JSON object, not array");
        assertThat(store.lastOffset()).isZero();
    }

    @Test
    void resentIdsAreAcknowledgedAndNotStoredTwice() throws Exception {
        log.append(List.of(doc("{\"id\":\"x\"}"))).get(10, TimeUnit.SECONDS);
        EventLog.AppendResult again = log.append(List.of(doc("{\"id\":\"x\"}"), doc("{\"id\":\"y\"}")))
                .get(10, TimeUnit.SECONDS);
        assertThat(again.offsets()).containsExactly(1L, 2L);
        assertThat(again.duplicates()).isEqualTo(1);
        assertThat(store.lastOffset()).isEqualTo(2);
    }

    /**
     * 8 producers append 250 requests of 4 events each, concurrently: every request gets
     * consecutive offsets, all 8,000 offsets are distinct and gap-free, and subscribers see
     * every committed event once, in offset order.
     */
    @Test
    void concurrentProducersAreGroupCommittedWithoutGapsOrReordering() throws Exception {
        List<StoredEvent> seen = new CopyOnWriteArrayList<>();
        log.subscribe(seen::addAll);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<List<EventLog.AppendResult>>> producers = new ArrayList<>();
        for (int p = 0; p < 8; p++) {
            int producer = p;
            producers.add(pool.submit(() -> {
                List<CompletableFuture<EventLog.AppendResult>> pending = new ArrayList<>();
                for (int r = 0; r < 250; r++) {
                    List<ObjectNode> request = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        request.add(doc("{\"id\":\"p" + producer + "-r" + r + "-" + i + "\"}"));
                    }
                    pending.add(log.append(request));
                }
                List<EventLog.AppendResult> results = new ArrayList<>();
                for (CompletableFuture<EventLog.AppendResult> f : pending) {
                    results.add(f.get(30, TimeUnit.SECONDS));
                }
                return results;
            }));
        }
        List<Long> all = new ArrayList<>();
        for (Future<List<EventLog.AppendResult>> f : producers) {
            for (EventLog.AppendResult r : f.get(60, TimeUnit.SECONDS)) {
                assertThat(r.lastOffset() - r.firstOffset()).isEqualTo(3);
                all.addAll(r.offsets());
            }
        }
        pool.shutdown();
        assertThat(all).hasSize(8_000).doesNotHaveDuplicates();
        assertThat(all.stream().mapToLong(Long::longValue).max().orElseThrow()).isEqualTo(8_000);
        // Subscribers hear of a batch after its producers were answered: wait for the last.
        await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() >= 8_000);
        assertThat(seen)
                .extracting(StoredEvent::offset)
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, 8_000)
                        .boxed()
                        .toList());
        assertThat(meters.get("sluice.log.commit.events").summary().count())
                .as("group commit: fewer transactions than requests")
                .isLessThan(2_000);
        assertThat(meters.get("sluice.log.commit").timer().count())
                .as("one store commit timed per group commit")
                .isEqualTo(meters.get("sluice.log.commit.events").summary().count());
    }
}
