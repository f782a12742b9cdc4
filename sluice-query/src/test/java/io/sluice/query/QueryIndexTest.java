package io.sluice.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class QueryIndexTest {
    private static final ObjectMapper M = new ObjectMapper();

    static JsonNode json(String s) {
        try {
            return M.readTree(s);
        } catch (Exception e) {
            throw new IllegalArgumentException(s, e);
        }
    }

    @Test
    void routesThePySepsQueriesByPriority() {
        QueryIndex index = new QueryIndex();
        index.put("NonInformational", Query.parse("{\"@fields.priority\":{\"$in\":[\"1\",\"2\",\"3\",\"4\"]}}"));
        index.put("Informational", Query.parse("{\"@fields.priority\":{\"$in\":[\"5\",\"6\",\"7\"]}}"));
        for (int p = 1; p <= 7; p++) {
            List<String> hits = index.match(json("{\"@fields\":{\"priority\":\"" + p + "\"}}"));
            assertThat(hits).containsExactly(p <= 4 ? "NonInformational" : "Informational");
        }
        assertThat(index.match(json("{\"@fields\":{\"priority\":4}}"))).isEmpty();
    }

    @Test
    void explainsWhichLookupsFoundWhichCandidatesAndWhatWasLeftToEvaluate() {
        QueryIndex index = new QueryIndex();
        index.put("tenant", Query.parse("{\"payload.tenant_id\":\"t1\"}"));
        index.put("tenantAndCpus", Query.parse("{\"payload.tenant_id\":\"t1\",\"payload.vcpus\":{\"$gt\":1}}"));
        index.put("otherTenant", Query.parse("{\"payload.tenant_id\":\"t2\"}"));
        index.put("regex", Query.parse("{\"event_type\":{\"$regex\":\"^b\"}}"));

        Explanation explained = index.explain(json("{\"event_type\":\"b\",\"payload\":{\"tenant_id\":\"t1\"}}"));

        assertThat(explained.lookups()).containsExactly(new Explanation.Lookup("payload.tenant_id", 1));
        assertThat(explained.candidates())
                .containsExactlyInAnyOrder(
                        new Explanation.Candidate("tenant", "payload.tenant_id", "equality", false, true),
                        new Explanation.Candidate("tenantAndCpus", "payload.tenant_id", "equality", true, false),
                        new Explanation.Candidate("regex", null, null, true, true));
        assertThat(explained.evaluated()).isEqualTo(2);
        assertThat(explained.matches()).containsExactlyInAnyOrder("tenant", "regex");

        Explanation missing = index.explain(json("{\"event_type\":\"a\",\"payload\":{\"tenant_id\":[\"t2\",\"t3\"]}}"));
        assertThat(missing.lookups()).containsExactly(new Explanation.Lookup("payload.tenant_id", 2));
        assertThat(missing.matches()).containsExactly("otherTenant");
        assertThat(index.explain(json("{}")).lookups()).containsExactly(new Explanation.Lookup("payload.tenant_id", 0));

        JsonNode event = json("{\"payload\":{\"tenant_id\":\"t1\"}}");
        List<Explanation> fromSink = new java.util.ArrayList<>();
        index.match(event, name -> fromSink.add(index.explain(event))); // explaining while matching
        assertThat(fromSink).hasSize(1);
        assertThat(fromSink.get(0).matches()).containsExactly("tenant");
        assertThat(index.match(event)).containsExactly("tenant");
    }

    @Test
    void twoEqualitiesOfOneQueryAreLookedUpTogether() {
        QueryIndex index = new QueryIndex();
        for (int i = 0; i < 40; i++) { // forty queries on one host, each for its own event types
            index.put("h" + i, Query.parse("{\"host\":\"h1\",\"type\":{\"$in\":[\"t" + i + "\",\"u" + i + "\"]}}"));
        }
        index.put("other", Query.parse("{\"host\":\"h2\",\"type\":\"t3\"}"));

        Explanation explained = index.explain(json("{\"host\":\"h1\",\"type\":\"u7\"}"));
        assertThat(explained.candidates())
                .as("a candidate only for the query naming the event's type, proven by the lookups")
                .containsExactly(new Explanation.Candidate("h7", "type", "pair", false, true)); // the rarer key first
        assertThat(index.match(json("{\"host\":\"h1\",\"type\":\"x\"}"))).isEmpty();
        assertThat(index.match(json("{\"host\":[\"h2\",\"h1\"],\"type\":[\"t3\",\"t5\"]}")))
                .containsExactlyInAnyOrder("h3", "h5", "other");
        assertThat(index.match(json("{\"host\":\"h1\"}"))).isEmpty();

        QueryIndex nested = new QueryIndex();
        nested.put("q", Query.parse("{\"a.host\":\"h1\",\"b.type\":\"t1\"}"));
        assertThat(nested.match(json("{\"a\":{\"host\":\"h1\"},\"b\":[{\"type\":\"t0\"},{\"type\":\"t1\"}]}")))
                .as("the second path through an array")
                .containsExactly("q");
        assertThat(nested.match(json("{\"a\":{\"host\":\"h1\"},\"b\":[{\"type\":\"t0\"}]}")))
                .isEmpty();

        index.remove("h7");
        index.put("h5", Query.parse("{\"host\":\"h1\",\"type\":\"t6\"}"));
        assertThat(index.match(json("{\"host\":\"h1\",\"type\":[\"u7\",\"t3\",\"t5\",\"t6\"]}")))
                .as("the other pairs under the host stay")
                .containsExactlyInAnyOrder("h3", "h5", "h6");

        for (int i = 0; i < 40; i++) {
            index.remove("h" + i);
        }
        index.remove("other");
        index.put("after", Query.parse("{\"type\":\"t3\"}"));
        assertThat(index.stats().hashKeys()).as("pair entries all unlinked").isEqualTo(1);
        assertThat(index.stats().paths()).as("only the type is looked up").isEqualTo(1);
        assertThat(index.match(json("{\"host\":\"h1\",\"type\":\"t3\"}"))).containsExactly("after");
    }

    @Test
    void removingOnePairLeavesTheOthersUnderTheSameKeyAndPath() {
        QueryIndex index = new QueryIndex();
        for (int i = 0; i < 5; i++) { // kinds repeat, zones do not: the zone is looked up first
            index.put("k1-" + i, Query.parse("{\"kind\":\"k1\"}"));
            index.put("k3-" + i, Query.parse("{\"kind\":\"k3\"}"));
        }
        for (int i = 2; i < 30; i++) {
            index.put("z" + i, Query.parse("{\"zone\":\"z" + i + "\"}"));
        }
        index.put("a", Query.parse("{\"zone\":\"z1\",\"kind\":\"k1\"}"));
        index.put("b", Query.parse("{\"zone\":\"z1\",\"kind\":\"k2\"}"));
        index.put("c", Query.parse("{\"zone\":\"z1\",\"kind\":\"k3\"}"));
        index.remove("b");

        JsonNode event = json("{\"zone\":\"z1\",\"kind\":[\"k1\",\"k2\",\"k3\"]}");
        assertThat(index.explain(event).candidates())
                .filteredOn(c -> c.name().matches("[abc]"))
                .containsExactlyInAnyOrder(
                        new Explanation.Candidate("a", "zone", "pair", false, true),
                        new Explanation.Candidate("c", "zone", "pair", false, true));
        index.remove("a");
        assertThat(index.match(event)).contains("c").doesNotContain("a", "b");
    }

    @Test
    void indexesEqualitiesRangesExistsAndOrBranchesAndKeepsTheRestInTheResidue() {
        QueryIndex index = new QueryIndex();
        index.put("eq", Query.parse("{\"event_type\":\"compute.instance.create.end\",\"payload.vcpus\":{\"$gt\":1}}"));
        index.put("range", Query.parse("{\"payload.memory_mb\":{\"$gte\":1024,\"$lt\":4096}}"));
        index.put("exists", Query.parse("{\"payload.image_meta\":{\"$exists\":true}}"));
        index.put("or", Query.parse("{\"$or\":[{\"tenant\":\"t1\"},{\"host\":{\"$in\":[\"h1\",\"h2\"]}}]}"));
        index.put("regex", Query.parse("{\"event_type\":{\"$regex\":\"^image\\\\.\"}}"));
        index.put("all", Query.parse("{}"));

        QueryIndex.Stats stats = index.stats();
        assertThat(stats.residue()).isEqualTo(2); // the regex and the empty query
        assertThat(stats.hashKeys()).isEqualTo(4); // event_type, tenant, host x2
        assertThat(stats.rangeKeys()).isZero();
        assertThat(stats.intervals())
                .as("the two bounds on memory_mb as one interval")
                .isEqualTo(1);
        assertThat(stats.existsEntries()).isEqualTo(1);

        assertThat(index.match(json("{\"event_type\":\"compute.instance.create.end\",\"payload\":{\"vcpus\":2,"
                        + "\"memory_mb\":2048,\"image_meta\":{}},\"host\":\"h2\"}")))
                .containsExactlyInAnyOrder("eq", "range", "exists", "or", "all");
        assertThat(index.match(json("{\"event_type\":\"image.upload\",\"payload\":{\"memory_mb\":4096}}")))
                .containsExactlyInAnyOrder("regex", "all");
    }

    @Test
    void arrayFieldsAreLookedUpElementByElementAndMatchedOnce() {
        QueryIndex index = new QueryIndex();
        index.put("tag", Query.parse("{\"tags\":\"red\"}"));
        index.put("any", Query.parse("{\"tags\":{\"$in\":[\"red\",\"blue\"]}}"));
        index.put("n", Query.parse("{\"n\":{\"$lt\":5}}"));
        assertThat(index.match(json("{\"tags\":[\"red\",\"blue\",\"red\"],\"n\":[9,1,2]}")))
                .containsExactlyInAnyOrder("tag", "any", "n");
    }

    @Test
    void aQueryIsIndexedUnderItsRarestKeyEvenWhenTheCommonOneCameFirst() {
        QueryIndex index = new QueryIndex();
        for (int i = 0; i < 200; i++) { // one at a time, as a running server receives them
            index.put("q" + i, Query.parse("{\"type\":\"t" + (i % 4) + "\",\"tenant\":\"x" + i + "\"}"));
        }
        QueryIndex.Stats stats = index.stats();
        assertThat(stats.paths())
                .as("indexed paths: only tenant, which selects best")
                .isEqualTo(1);
        assertThat(stats.hashKeys()).isEqualTo(200);
        assertThat(stats.pendingUnlink()).isZero();
        assertThat(index.match(json("{\"type\":\"t1\",\"tenant\":\"x5\"}"))).containsExactly("q5");
        assertThat(index.match(json("{\"type\":\"t1\",\"tenant\":\"x6\"}"))).isEmpty();
        for (int i = 0; i < 200; i++) {
            index.remove("q" + i);
        }
        index.put("last", Query.parse("{\"type\":\"t1\"}"));
        assertThat(index.stats().hashKeys()).isEqualTo(1);
        assertThat(index.match(json("{\"type\":\"t1\",\"tenant\":\"x5\"}"))).containsExactly("last");
    }

    @Test
    void aHitOnANumericKeyStillComparesTheNumbers() throws Exception {
        ObjectMapper exact = new ObjectMapper()
                .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
        QueryIndex index = new QueryIndex();
        index.put("eq", Query.parse("{\"a\":1}"));
        index.put("in", Query.parse("{\"a\":{\"$in\":[1,2]},\"b\":\"x\"}"));
        // 1.00000000000000000001 hashes like 1 (as a double it is 1) but is not equal to it
        assertThat(index.match(exact.readTree("{\"a\":1.00000000000000000001,\"b\":\"x\"}")))
                .isEmpty();
        assertThat(index.match(exact.readTree("{\"a\":1.0,\"b\":\"x\"}"))).containsExactlyInAnyOrder("eq", "in");
    }

    @Test
    void putReplacesRemoveRemovesAndTheIndexShrinksBack() {
        QueryIndex index = new QueryIndex();
        index.put("q", Query.parse("{\"a\":1}"));
        index.put("q", Query.parse("{\"a\":2}"));
        assertThat(index.size()).isEqualTo(1);
        assertThat(index.match(json("{\"a\":1}"))).isEmpty();
        assertThat(index.match(json("{\"a\":2}"))).containsExactly("q");
        assertThat(index.remove("q")).isTrue();
        assertThat(index.remove("q")).isFalse();
        assertThat(index.match(json("{\"a\":2}"))).isEmpty();
        index.put("other", Query.parse("{\"b\":1}")); // a later write unlinks what no reader can see
        QueryIndex.Stats stats = index.stats();
        assertThat(stats.queries()).isEqualTo(1);
        assertThat(stats.hashKeys()).isEqualTo(1);
        assertThat(stats.paths()).isEqualTo(1);
        assertThat(stats.pendingUnlink()).isZero();
    }

    @Test
    void replaceAllKeepsUnchangedQueriesAndDropsTheRest() {
        QueryIndex index = new QueryIndex();
        index.putAll(Map.of("a", Query.parse("{\"x\":1}"), "b", Query.parse("{\"x\":2}")));
        index.replaceAll(Map.of("b", Query.parse("{\"x\":2}"), "c", Query.parse("{\"x\":3}")));
        assertThat(index.names()).containsExactlyInAnyOrder("b", "c");
        assertThat(index.match(json("{\"x\":[1,2,3]}"))).containsExactlyInAnyOrder("b", "c");
        index.replaceAll(Map.of());
        assertThat(index.size()).isZero();
        assertThat(index.match(json("{\"x\":[1,2,3]}"))).isEmpty();
    }

    @Test
    void aSinkMayMatchAgainOnTheSameThread() {
        QueryIndex index = new QueryIndex();
        index.put("a", Query.parse("{\"x\":1}"));
        index.put("b", Query.parse("{\"y\":1}"));
        Set<String> inner = new HashSet<>();
        List<String> outer = new java.util.ArrayList<>();
        index.match(json("{\"x\":1,\"y\":1}"), name -> {
            outer.add(name);
            inner.addAll(index.match(json("{\"y\":1}")));
        });
        assertThat(outer).containsExactlyInAnyOrder("a", "b");
        assertThat(inner).containsExactly("b");
    }

    /**
     * Two batches of 50 queries, all matching the same event, are swapped back and forth while
     * readers match: every answer must be all of batch A or all of batch B, never a mix.
     */
    @Test
    void readersSeeAWholeBatchNeverAMix() throws Exception {
        Map<String, Query> batchA = batch("A");
        Map<String, Query> batchB = batch("B");
        QueryIndex index = new QueryIndex();
        index.replaceAll(batchA);
        JsonNode event = json("{\"type\":\"t\",\"n\":7,\"tags\":[\"x\"]}");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> failure = new AtomicReference<>();
        AtomicLong matched = new AtomicLong();
        Runnable reader = () -> {
            while (!stop.get() && failure.get() == null) {
                Set<String> hits = new HashSet<>(index.match(event));
                if (!hits.equals(batchA.keySet()) && !hits.equals(batchB.keySet())) {
                    failure.set("mixed answer: " + hits);
                }
                matched.incrementAndGet();
            }
        };
        Thread r1 = Thread.ofPlatform().start(reader);
        Thread r2 = Thread.ofPlatform().start(reader);
        Instant deadline = Instant.now().plus(Duration.ofSeconds(2));
        int swaps = 0;
        while (Instant.now().isBefore(deadline) && failure.get() == null) {
            index.replaceAll(swaps++ % 2 == 0 ? batchB : batchA);
        }
        stop.set(true);
        r1.join();
        r2.join();
        assertThat(failure.get()).isNull();
        assertThat(swaps).isGreaterThan(10);
        assertThat(matched.get()).isGreaterThan(10);
        index.put("last", Query.parse("{\"type\":\"t\"}"));
        assertThat(index.stats().pendingUnlink()).isZero();
    }

    @Test
    void intervalsComeAndGoWhileOtherThreadsMatch() throws Exception {
        QueryIndex index = new QueryIndex();
        for (int i = 0; i < 200; i++) { // windows of three around every value 0..599
            index.put("w" + i, Query.parse("{\"n\":{\"$gte\":" + 3 * i + ",\"$lt\":" + (3 * i + 3) + "}}"));
        }
        index.put("stable", Query.parse("{\"n\":{\"$gt\":99,\"$lte\":101}}"));
        JsonNode event = json("{\"n\":100}");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> failure = new AtomicReference<>();
        Runnable reader = () -> {
            while (!stop.get() && failure.get() == null) {
                Set<String> hits = new HashSet<>(index.match(event));
                if (!hits.contains("stable") || !hits.contains("w33") || hits.size() > 3) {
                    failure.set("wrong answer: " + hits); // w33 = [99, 102); "flip" also holds 100
                }
            }
        };
        Thread r1 = Thread.ofPlatform().start(reader);
        Thread r2 = Thread.ofPlatform().start(reader);
        Instant deadline = Instant.now().plus(Duration.ofSeconds(2));
        int changes = 0;
        while (Instant.now().isBefore(deadline) && failure.get() == null) {
            int i = changes++ % 200;
            if (i != 33) {
                index.put("w" + i, Query.parse("{\"n\":{\"$gte\":" + 3 * i + ",\"$lt\":" + (3 * i + 3) + "}}"));
            }
            if (changes % 2 == 0) {
                index.put("flip", Query.parse("{\"n\":{\"$gte\":100,\"$lte\":100}}"));
            } else {
                index.remove("flip");
            }
        }
        stop.set(true);
        r1.join();
        r2.join();
        assertThat(failure.get()).isNull();
        assertThat(changes).isGreaterThan(100);
        index.remove("flip");
        index.put("last", Query.parse("{\"n\":{\"$gte\":1000,\"$lt\":1001}}"));
        assertThat(index.stats().pendingUnlink()).isZero();
        assertThat(index.stats().intervals())
                .as("one interval per window, none left behind")
                .isEqualTo(202);
        assertThat(index.match(json("{\"n\":1000}"))).containsExactly("last");
        assertThat(index.match(json("{\"n\":[1000, 590]}")))
                .as("on an array the bounds may be met by different elements: 1000 >= 597, 590 < 600")
                .containsExactlyInAnyOrder("last", "w196", "w197", "w198", "w199");
    }

    /**
     * A pair's second path compares an array's elements, one level deep, as MongoDB does: in
     * {@code [[true]]} the element is {@code [true]}, which is not {@code true}. (Found by
     * {@code QueryIndexPropertyTest}: the pair lookup went into nested arrays.)
     */
    @Test
    void aPairsSecondValueInANestedArrayDoesNotMatch() {
        QueryIndex index = new QueryIndex();
        Query pair = Query.parse("{\"a\": true, \"0\": true}");
        index.put("q", pair);
        for (String doc : List.of(
                "{\"a\": [true], \"0\": [[true]]}",
                "{\"a\": true, \"0\": [[true]]}",
                "{\"a\": true, \"0\": [true]}",
                "{\"a\": [true], \"0\": true}",
                "{\"a\": [[true]], \"0\": true}")) {
            JsonNode event = json(doc);
            assertThat(index.match(event)).as(doc).isEqualTo(pair.matches(event) ? List.of("q") : List.of());
        }
        assertThat(index.match(json("{\"a\": true, \"0\": [[true]]}"))).isEmpty();
        assertThat(index.match(json("{\"a\": true, \"0\": [false, true]}"))).containsExactly("q");
    }

    /** The matching state of each thread that matched is forgotten once the thread is gone. */
    @Test
    void forgetsTheStatesOfThreadsThatAreGone() throws Exception {
        QueryIndex index = new QueryIndex();
        index.put("q", Query.parse("{\"type\":\"t\"}"));
        JsonNode event = json("{\"type\":\"t\"}");
        List<Thread> threads = new java.util.ArrayList<>();
        for (int i = 0; i < 300; i++) {
            threads.add(Thread.ofPlatform().start(() -> index.match(event)));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(index.match(event)).containsExactly("q");
        // The states of the finished threads are garbage once collected; a collection is asked
        // for at each poll, and the deadline is only for states that are never dropped.
        await("only this thread's state left")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    System.gc();
                    return index.stats().readerStates() == 1;
                });
        assertThat(index.stats().readerStates()).as("only this thread's state").isEqualTo(1);
        index.put("q", Query.parse("{\"type\":\"u\"}"));
        assertThat(index.stats().pendingUnlink()).isZero();
    }

    private static Map<String, Query> batch(String prefix) {
        Map<String, Query> batch = new LinkedHashMap<>();
        for (int i = 0; i < 50; i++) {
            String q =
                    switch (i % 5) {
                        case 0 -> "{\"type\":\"t\"}";
                        case 1 -> "{\"n\":{\"$gt\":" + i / 10 + "}}";
                        case 2 -> "{\"tags\":{\"$in\":[\"x\",\"y" + i + "\"]}}";
                        case 3 -> "{\"n\":{\"$exists\":true},\"type\":{\"$regex\":\"^t\"}}";
                        default -> "{\"$or\":[{\"type\":\"t\"},{\"n\":" + i + "}]}";
                    };
            batch.put(prefix + i, Query.parse(q));
        }
        return batch;
    }
}
