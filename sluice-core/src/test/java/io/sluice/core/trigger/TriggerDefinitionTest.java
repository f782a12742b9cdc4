package io.sluice.core.trigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.api.Json;
import io.sluice.core.timex.TimeMatcher;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Winchester's definition scenarios, re-expressed from {@code tests/test_definition.py} of
 * openstack-archive/stacktach-winchester (TestCriterion, TestCriteria, TestTriggerDefinition):
 * the same configurations, events and expected answers.
 */
class TriggerDefinitionTest {
    private static final Supplier<LocalDateTime> NOW = () -> LocalDateTime.of(2014, 8, 1, 12, 0);
    private static final Debug.Group NO_DEBUG = new Debug(0).group("x");

    private static LocalDateTime at(int y, int mo, int d, int h, int mi, int s, int us) {
        return LocalDateTime.of(y, mo, d, h, mi, s, us * 1_000);
    }

    private static Map<String, Object> ev(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private static Criterion criterion(String trait, String json) {
        return Criterion.of(trait, Json.parse(json), "test");
    }

    private static Criteria criteria(String json) {
        return new Criteria(Json.parse(json), "test");
    }

    private static TriggerDefinition trigger(String json) {
        return new TriggerDefinition(Json.parse(json), "triggers.yaml", 0);
    }

    // TestCriterion

    @Test
    void basicCriterion() {
        Criterion c = criterion("foo", "3");
        assertThat(c.matches(ev("foo", 3L), NO_DEBUG, NOW)).isTrue();
        assertThat(c.matches(ev("foo", 5L), NO_DEBUG, NOW)).isFalse();
        assertThat(c.matches(ev("bar", 5L), NO_DEBUG, NOW)).isFalse();
        assertThat(c.matches(ev("foo", "booga"), NO_DEBUG, NOW)).isFalse();
    }

    @Test
    void numericCriterion() {
        Criterion c = criterion("foo", "{\"int\": \"3\"}");
        assertThat(c.matches(ev("foo", 3L), NO_DEBUG, NOW)).isTrue();
        assertThat(c.matches(ev("foo", 5L), NO_DEBUG, NOW)).isFalse();
        assertThat(c.matches(ev("bar", 5L), NO_DEBUG, NOW)).isFalse();
        assertThat(c.matches(ev("foo", "booga"), NO_DEBUG, NOW)).isFalse();
        c = criterion("foo", "{\"int\": \"> 3\"}");
        assertThat(c.matches(ev("foo", 3L), NO_DEBUG, NOW)).isFalse();
        assertThat(c.matches(ev("foo", 5L), NO_DEBUG, NOW)).isTrue();
        c = criterion("foo", "{\"int\": \"< 3\"}");
        assertThat(c.matches(ev("foo", 3L), NO_DEBUG, NOW)).isFalse();
        assertThat(c.matches(ev("foo", 5L), NO_DEBUG, NOW)).isFalse();
        assertThat(c.matches(ev("foo", 1L), NO_DEBUG, NOW)).isTrue();
        assertThatThrownBy(() -> criterion("foo", "{\"int\": \"zazz\"}")).isInstanceOf(DefinitionException.class);
        assertThatThrownBy(() -> criterion("foo", "{\"int\": \"\"}")).isInstanceOf(DefinitionException.class);
        // Improved: >=, <=, !=.
        assertThat(criterion("foo", "{\"int\": \">= 3\"}").matches(ev("foo", 3L), NO_DEBUG, NOW))
                .isTrue();
        assertThat(criterion("foo", "{\"int\": \"!= 3\"}").matches(ev("foo", 3L), NO_DEBUG, NOW))
                .isFalse();
    }

    @Test
    void floatCriterion() {
        Criterion c = criterion("foo", "{\"float\": \"3.14\"}");
        assertThat(c.matches(ev("foo", 3.14), NO_DEBUG, NOW)).isTrue();
        assertThat(c.matches(ev("foo", 5.2), NO_DEBUG, NOW)).isFalse();
        assertThat(c.matches(ev("bar", 5.2), NO_DEBUG, NOW)).isFalse();
        assertThat(c.matches(ev("foo", "booga"), NO_DEBUG, NOW)).isFalse();
        c = criterion("foo", "{\"float\": \"> 3.14\"}");
        assertThat(c.matches(ev("foo", 3.14), NO_DEBUG, NOW)).isFalse();
        assertThat(c.matches(ev("foo", 5.2), NO_DEBUG, NOW)).isTrue();
        c = criterion("foo", "{\"float\": \"< 3.14\"}");
        assertThat(c.matches(ev("foo", 3.14), NO_DEBUG, NOW)).isFalse();
        assertThat(c.matches(ev("foo", 3.5), NO_DEBUG, NOW)).isFalse();
        assertThat(c.matches(ev("foo", 3.02), NO_DEBUG, NOW)).isTrue();
        assertThatThrownBy(() -> criterion("foo", "{\"float\": \"zazz\"}")).isInstanceOf(DefinitionException.class);
        assertThatThrownBy(() -> criterion("foo", "{\"float\": \"\"}")).isInstanceOf(DefinitionException.class);
    }

    @Test
    void timeCriterion() {
        Criterion c = criterion("foo", "{\"datetime\": \"day\"}");
        LocalDateTime ts = at(2014, 8, 1, 7, 52, 31, 2);
        assertThat(c.matches(ev("timestamp", ts, "foo", at(2014, 8, 1, 1, 2, 0, 0)), NO_DEBUG, NOW))
                .isTrue();
        assertThat(c.matches(ev("timestamp", ts, "foo", at(2014, 8, 2, 1, 2, 0, 0)), NO_DEBUG, NOW))
                .isFalse();
        assertThat(c.matches(ev("timestamp", ts, "bar", at(2014, 8, 1, 1, 2, 0, 0)), NO_DEBUG, NOW))
                .isFalse();
        assertThat(c.matches(
                        ev("timestamp", ts, "message_id", "1234-5678", "quux", 4L, "foo", at(2014, 8, 1, 1, 2, 0, 0)),
                        NO_DEBUG,
                        NOW))
                .isTrue();
    }

    // TestCriteria

    @Test
    void criteriaDefaults() {
        Criteria c = criteria("{}");
        assertThat(c.includedTypes()).containsExactly("*");
        assertThat(c.excludedTypes()).isEmpty();
        assertThat(c.number()).isEqualTo(1);
        assertThat(c.timestamp()).isNull();
        assertThat(c.mapDistinguishedBy()).isEmpty();
        assertThat(c.traits()).isEmpty();
    }

    @Test
    void eventTypeConfigs() {
        Criteria c = criteria("{\"event_type\": \"test.foo.bar\"}");
        assertThat(c.includedTypes()).containsExactly("test.foo.bar");
        assertThat(c.excludedTypes()).isEmpty();
        c = criteria("{\"event_type\": \"!test.foo.bar\"}");
        assertThat(c.includedTypes()).containsExactly("*");
        assertThat(c.excludedTypes()).containsExactly("test.foo.bar");
        c = criteria("{\"event_type\": [\"test.foo.bar\", \"!test.wakka.wakka\"]}");
        assertThat(c.includedTypes()).containsExactly("test.foo.bar");
        assertThat(c.excludedTypes()).containsExactly("test.wakka.wakka");
    }

    @Test
    void matchType() {
        Criteria c = criteria("{\"event_type\": [\"test.foo.bar\", \"!test.wakka.wakka\"]}");
        assertThat(c.matchType("test.foo.bar")).isTrue();
        assertThat(c.matchType("test.wakka.wakka")).isFalse();
        assertThat(c.matchType("test.foo.baz")).isFalse();
        c = criteria("{\"event_type\": [\"test.foo.*\", \"!test.wakka.*\"]}");
        assertThat(c.matchType("test.foo.bar")).isTrue();
        assertThat(c.matchType("test.foo.baz")).isTrue();
        assertThat(c.matchType("test.wakka.wakka")).isFalse();
    }

    @Test
    void matchForType() {
        Criteria c = criteria("{\"event_type\": [\"test.foo.*\", \"!test.wakka.*\"]}");
        assertThat(c.matches(ev("event_type", "test.foo.zazz"), NO_DEBUG, NOW)).isTrue();
        assertThat(c.matches(ev("event_type", "test.wakka.zazz"), NO_DEBUG, NOW))
                .isFalse();
        assertThat(c.matches(ev("event_type", "test.boingy"), NO_DEBUG, NOW)).isFalse();
    }

    @Test
    void matchForTimestamp() {
        Criteria c = criteria("{\"timestamp\": \"day($launched_at)\"}");
        LocalDateTime launched = at(2014, 8, 1, 1, 2, 3, 4);
        assertThat(c.matches(
                        ev(
                                "event_type",
                                "test.thing",
                                "timestamp",
                                at(2014, 8, 1, 17, 16, 15, 14),
                                "launched_at",
                                launched),
                        NO_DEBUG,
                        NOW))
                .isTrue();
        assertThat(c.matches(
                        ev(
                                "event_type",
                                "test.thing",
                                "timestamp",
                                at(2014, 8, 2, 17, 16, 15, 14),
                                "launched_at",
                                launched),
                        NO_DEBUG,
                        NOW))
                .isFalse();
        assertThat(c.matches(
                        ev("event_type", "test.thing", "timestamp", at(2014, 8, 2, 17, 16, 15, 14)), NO_DEBUG, NOW))
                .isFalse();
    }

    @Test
    void matchForTraits() {
        Criteria c = criteria("{\"traits\": {\"some_trait\": \"test\", \"launched_at\": {\"datetime\": \"day\"},"
                + " \"memory_mb\": {\"int\": \"> 2048\"}, \"test_weight\": {\"float\": \"< 4.02\"},"
                + " \"other_trait\": {\"string\": \"text here\"}}}");
        LocalDateTime ts = at(2014, 8, 1, 17, 16, 15, 14);
        LocalDateTime launched = at(2014, 8, 1, 1, 2, 3, 4);
        Map<String, Object> event1 = ev(
                "event_type",
                "test.thing",
                "timestamp",
                ts,
                "launched_at",
                launched,
                "some_trait",
                "test",
                "other_trait",
                "text here",
                "memory_mb",
                4096L,
                "test_weight",
                3.1415);
        assertThat(c.matches(event1, NO_DEBUG, NOW)).isTrue();
        Map<String, Object> event2 = new HashMap<>(event1);
        event2.put("some_trait", "foo");
        assertThat(c.matches(event2, NO_DEBUG, NOW)).isFalse();
        Map<String, Object> event3 = new HashMap<>(event1);
        event3.remove("some_trait");
        assertThat(c.matches(event3, NO_DEBUG, NOW)).isFalse();
        Map<String, Object> event4 = new HashMap<>(event1);
        event4.put("launched_at", at(2014, 8, 2, 1, 2, 3, 4));
        assertThat(c.matches(event4, NO_DEBUG, NOW)).isFalse();
        Map<String, Object> event5 = new HashMap<>(event1);
        event5.put("memory_mb", 1024L);
        assertThat(c.matches(event5, NO_DEBUG, NOW)).isFalse();
        Map<String, Object> event6 = new HashMap<>(event1);
        event6.put("test_weight", 6.283);
        assertThat(c.matches(event6, NO_DEBUG, NOW)).isFalse();
    }

    // TestTriggerDefinition

    private static final String BASE = "\"name\": \"test_trigger\", \"expiration\": \"$last + 1d\","
            + " \"fire_pipeline\": \"test_pipeline\", \"fire_criteria\": [{\"event_type\": \"test.thing\"}]";

    @Test
    void configErrorCheckAndDefaults() {
        assertThatThrownBy(() -> trigger("{}")).hasMessageContaining("name: required");
        assertThatThrownBy(() -> trigger("{\"name\": \"test_trigger\"}"))
                .hasMessageContaining("trigger 'test_trigger': expiration: required");
        assertThatThrownBy(() -> trigger("{\"name\": \"test_trigger\", \"expiration\": \"$last + 1d\"}"))
                .hasMessageContaining("fire_pipeline or expire_pipeline");
        assertThatThrownBy(() -> trigger("{\"name\": \"test_trigger\", \"expiration\": \"$last + 1d\","
                        + " \"fire_pipeline\": \"test_pipeline\"}"))
                .hasMessageContaining("fire_criteria: required");
        assertThatThrownBy(() -> trigger("{" + BASE + "}")).hasMessageContaining("match_criteria: required");
        TriggerDefinition t = trigger("{" + BASE + ", \"match_criteria\": [{\"event_type\": \"test.*\"}]}");
        assertThat(t.distinguishedBy()).isEmpty();
        assertThat(t.fireCriteria()).hasSize(1);
        assertThat(t.matchCriteria()).hasSize(1);
        assertThat(t.fireDelaySeconds()).isZero();
        assertThat(t.loadCriteria()).isEmpty();
    }

    @Test
    void matchForCriteria() {
        TriggerDefinition t = trigger("{" + BASE + ", \"match_criteria\": [{\"event_type\": \"test.*\"}]}");
        assertThat(t.match(ev("event_type", "test.thing"), NOW)).isNotNull();
        assertThat(t.match(ev("event_type", "other.thing"), NOW)).isNull();
        t = trigger(
                "{" + BASE + ", \"match_criteria\": [{\"event_type\": \"test.*\"}, {\"event_type\": \"other.*\"}]}");
        assertThat(t.match(ev("event_type", "test.thing"), NOW)).isNotNull();
        assertThat(t.match(ev("event_type", "other.thing"), NOW)).isNotNull();
    }

    @Test
    void matchForDistinguishedTraits() {
        TriggerDefinition t = trigger("{" + BASE + ", \"distinguished_by\": [\"instance_id\"],"
                + " \"match_criteria\": [{\"event_type\": \"test.*\"}]}");
        assertThat(t.match(ev("event_type", "test.thing", "instance_id", "foo"), NOW))
                .isNotNull();
        assertThat(t.match(ev("event_type", "test.thing"), NOW)).isNull();
    }

    @Test
    void distinguishingTraits() {
        TriggerDefinition t = trigger("{" + BASE + ", \"distinguished_by\": [\"instance_id\"],"
                + " \"match_criteria\": [{\"event_type\": \"test.*\"}]}");
        Map<String, Object> event = ev("event_type", "test.thing", "instance_id", "foo");
        assertThat(t.distinguishingTraits(event, t.match(event, NOW), NOW)).isEqualTo(Map.of("instance_id", "foo"));
    }

    @Test
    void distinguishingTraitsWithATimeExpression() {
        TriggerDefinition t =
                trigger("{" + BASE + ", \"distinguished_by\": [\"instance_id\", {\"timestamp\": \"day\"}],"
                        + " \"match_criteria\": [{\"event_type\": \"test.*\"}]}");
        Map<String, Object> event =
                ev("event_type", "test.thing", "instance_id", "foo", "timestamp", at(2014, 8, 1, 20, 4, 23, 444));
        Map<String, Object> dt = t.distinguishingTraits(event, t.match(event, NOW), NOW);
        assertThat(dt).hasSize(2).containsEntry("instance_id", "foo");
        TimeMatcher day = (TimeMatcher) dt.get("timestamp");
        assertThat(day.isRange()).isTrue();
        assertThat(day.begin()).isEqualTo(at(2014, 8, 1, 0, 0, 0, 0));
        assertThat(day.end()).isEqualTo(at(2014, 8, 2, 0, 0, 0, 0));
    }

    @Test
    void distinguishingTraitsWithAMap() {
        TriggerDefinition t = trigger("{" + BASE + ", \"distinguished_by\": [\"instance_id\"], \"match_criteria\":"
                + " [{\"event_type\": \"test.*\", \"map_distinguished_by\": {\"instance_id\": \"other_id\"}}]}");
        Map<String, Object> event = ev("event_type", "test.thing", "instance_id", "foo", "other_id", "bar");
        assertThat(t.distinguishingTraits(event, t.match(event, NOW), NOW)).isEqualTo(Map.of("instance_id", "bar"));
    }

    @Test
    void fireTime() {
        LocalDateTime time = at(2014, 8, 1, 20, 4, 23, 444);
        TriggerDefinition t = trigger("{" + BASE + ", \"match_criteria\": [{\"event_type\": \"test.*\"}]}");
        assertThat(t.fireTime(time)).isEqualTo(time);
        t = trigger("{" + BASE + ", \"fire_delay\": 3600, \"match_criteria\": [{\"event_type\": \"test.*\"}]}");
        assertThat(t.fireTime(time)).isEqualTo(at(2014, 8, 1, 21, 4, 23, 444));
    }

    @Test
    void shouldFire() {
        TriggerDefinition t = trigger("{" + BASE + ", \"match_criteria\": [{\"event_type\": \"test.*\"}]}");
        List<Map<String, Object>> events1 = List.of(
                ev("event_type", "test.foobar"), ev("event_type", "test.thing"), ev("event_type", "test.thing"));
        List<Map<String, Object>> events2 = List.of(ev("event_type", "test.foobar"), ev("event_type", "test.thing"));
        List<Map<String, Object>> events3 = List.of(ev("event_type", "test.foobar"), ev("event_type", "test.whatsit"));
        assertThat(t.shouldFire(events1, NOW)).isTrue();
        assertThat(t.shouldFire(events2, NOW)).isTrue();
        assertThat(t.shouldFire(events3, NOW)).isFalse();
        t = trigger("{\"name\": \"test_trigger\", \"expiration\": \"$last + 1d\", \"fire_pipeline\": \"p\","
                + " \"fire_criteria\": [{\"event_type\": \"test.thing\", \"number\": 2}],"
                + " \"match_criteria\": [{\"event_type\": \"test.*\"}]}");
        assertThat(t.shouldFire(events1, NOW)).isTrue();
        assertThat(t.shouldFire(events2, NOW)).isFalse();
        assertThat(t.shouldFire(events3, NOW)).isFalse();
    }

    // Sluice's: errors name file, trigger and field; the debug counters.

    @Test
    void errorsNameTheFileTheTriggerAndTheField() {
        assertThatThrownBy(() -> trigger("{" + BASE + ", \"match_criteria\": [{\"event_type\": \"t\","
                        + " \"traits\": {\"memory_mb\": {\"int\": \"> lots\"}}}]}"))
                .hasMessageStartingWith(
                        "triggers.yaml: trigger 'test_trigger': match_criteria[0].traits.memory_mb.int:")
                .hasMessageContaining("'lots' is not an integer");
        assertThatThrownBy(() -> trigger("{\"name\": \"t\", \"expiration\": \"$last + 2\", \"fire_pipeline\": \"p\","
                        + " \"fire_criteria\": [], \"match_criteria\": []}"))
                .hasMessageStartingWith("triggers.yaml: trigger 't': expiration:")
                .hasMessageContaining("needs a unit");
        assertThatThrownBy(() -> trigger("{" + BASE + ", \"match_criteria\": [], \"colour\": \"red\"}"))
                .hasMessageContaining("trigger 'test_trigger': colour: unknown key");
        assertThatThrownBy(() -> trigger("{" + BASE + ", \"match_criteria\": [{\"evnt_type\": \"x\"}]}"))
                .hasMessageContaining("match_criteria[0].evnt_type: unknown key");
        assertThatThrownBy(() -> trigger("{" + BASE + ", \"match_criteria\": [{\"timestamp\": \"weekday\"}]}"))
                .hasMessageContaining("match_criteria[0].timestamp:")
                .hasMessageContaining("unknown function 'weekday'");
    }

    @Test
    void debugLevelTwoCountsMismatchReasons() {
        TriggerDefinition t = trigger("{" + BASE + ", \"debug_level\": 2, \"distinguished_by\": [\"instance_id\"],"
                + " \"match_criteria\": [{\"event_type\": \"test.*\"}]}");
        t.match(ev("event_type", "test.thing"), NOW);
        t.match(ev("event_type", "other", "instance_id", "i"), NOW);
        t.match(ev("event_type", "test.x", "instance_id", "i"), NOW);
        var json = t.debug().toJson();
        assertThat(json.path("groups").path("Match").path("match").asLong()).isEqualTo(2); // criteria + trigger
        assertThat(json.path("groups")
                        .path("Match")
                        .path("reasons")
                        .path("not 'instance_id'")
                        .asLong())
                .isEqualTo(1);
        assertThat(json.path("groups")
                        .path("Match")
                        .path("reasons")
                        .path("Wrong event type")
                        .asLong())
                .isEqualTo(1);
    }
}
