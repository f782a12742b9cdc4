package io.sluice.core.timex;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.LocalDateTime;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Timex's own scenarios, re-expressed: {@code tests/test_parse.py} and
 * {@code tests/test_expression.py} of openstack-archive/stacktach-timex (the same times and
 * expected results).
 */
class TimexTest {
    private static final LocalDateTime DT = at(2014, 8, 1, 2, 10, 23, 550);
    private static final LocalDateTime OTHER = at(2014, 8, 7, 3, 20, 0, 0);

    private static LocalDateTime at(int y, int mo, int d, int h, int mi, int s, int us) {
        return LocalDateTime.of(y, mo, d, h, mi, s, us * 1_000);
    }

    private static TimeMatcher eval(String expr, Map<String, LocalDateTime> env) {
        return Timex.parse(expr).apply(env, () -> {
            throw new AssertionError("now is not used");
        });
    }

    private static void range(TimeMatcher m, LocalDateTime begin, LocalDateTime end) {
        assertThat(m.isRange()).isTrue();
        assertThat(m.begin()).isEqualTo(begin);
        assertThat(m.end()).isEqualTo(end);
    }

    // test_parse.py

    @Test
    void variablesAndTimestampArithmetic() {
        TimeMatcher t = eval("$test_thingy", Map.of("test_thingy", DT));
        assertThat(t.isRange()).isFalse();
        assertThat(t.begin()).isEqualTo(DT);
        assertThat(eval("$test_thingy + 1d 2h", Map.of("test_thingy", DT)).begin())
                .isEqualTo(at(2014, 8, 2, 4, 10, 23, 550));
        assertThat(eval("$test_thingy - 1d 2h", Map.of("test_thingy", DT)).begin())
                .isEqualTo(at(2014, 7, 31, 0, 10, 23, 550));
        assertThat(eval("$test_thingy @ 7d 6h", Map.of("test_thingy", DT)).begin())
                .isEqualTo(at(2014, 8, 7, 6, 10, 23, 550));
    }

    @Test
    void rangesAndTheirArithmetic() {
        Map<String, LocalDateTime> env = Map.of("test_thingy", DT, "other", OTHER);
        range(eval("$test_thingy to $other", env), DT, OTHER);
        range(
                eval("($test_thingy to $other) + 1d 2h", env),
                at(2014, 8, 2, 4, 10, 23, 550),
                at(2014, 8, 8, 5, 20, 0, 0));
        range(
                eval("($test_thingy to $other) - 1d 2h", env),
                at(2014, 7, 31, 0, 10, 23, 550),
                at(2014, 8, 6, 1, 20, 0, 0));
        range(eval("($test_thingy to $other) @ 6h", env), at(2014, 8, 1, 6, 10, 23, 550), at(2014, 8, 7, 6, 20, 0, 0));
    }

    @Test
    void specialRangesDefaultToTheTimestampAndWrapAroundIt() {
        LocalDateTime day = at(2014, 8, 1, 0, 0, 0, 0);
        range(eval("day($test_thingy)", Map.of("test_thingy", DT)), day, day.plusDays(1));
        range(eval("day", Map.of("timestamp", DT)), day, day.plusDays(1));
        range(eval("day @ 6h", Map.of("timestamp", DT)), at(2014, 7, 31, 6, 0, 0, 0), at(2014, 8, 1, 6, 0, 0, 0));
        range(eval("day + 6h", Map.of("timestamp", DT)), at(2014, 7, 31, 6, 0, 0, 0), at(2014, 8, 1, 6, 0, 0, 0));
        range(
                eval("day - 6h", Map.of("timestamp", at(2014, 8, 1, 19, 45, 30, 225))),
                at(2014, 8, 1, 18, 0, 0, 0),
                at(2014, 8, 2, 18, 0, 0, 0));
        // Ambiguous durations take the unit below the range's length: hours for a day.
        range(eval("day @ 2", Map.of("timestamp", DT)), at(2014, 8, 1, 2, 0, 0, 0), at(2014, 8, 2, 2, 0, 0, 0));
    }

    // test_expression.py

    @Test
    void timestampOperations() {
        TimeMatcher ts = new TimeMatcher.Timestamp(DT);
        assertThat(ts.matches(DT)).isTrue();
        assertThat(ts.matches(at(2014, 8, 7, 2, 0, 0, 0))).isFalse();
        assertThat(ts.plus(d(TimexDuration.Unit.MICROSECOND, 10)).begin()).isEqualTo(at(2014, 8, 1, 2, 10, 23, 560));
        assertThat(ts.plus(d(TimexDuration.Unit.SECOND, 10)).begin()).isEqualTo(at(2014, 8, 1, 2, 10, 33, 550));
        assertThat(ts.plus(d(TimexDuration.Unit.MINUTE, 7)).begin()).isEqualTo(at(2014, 8, 1, 2, 17, 23, 550));
        assertThat(ts.plus(d(TimexDuration.Unit.HOUR, 1)).begin()).isEqualTo(at(2014, 8, 1, 3, 10, 23, 550));
        assertThat(ts.plus(d(TimexDuration.Unit.DAY, 2)).begin()).isEqualTo(at(2014, 8, 3, 2, 10, 23, 550));
        assertThat(ts.plus(d(TimexDuration.Unit.MONTH, 6)).begin()).isEqualTo(at(2015, 2, 1, 2, 10, 23, 550));
        assertThat(ts.plus(d(TimexDuration.Unit.YEAR, 3)).begin()).isEqualTo(at(2017, 8, 1, 2, 10, 23, 550));
        assertThat(ts.minus(d(TimexDuration.Unit.MICROSECOND, 10)).begin()).isEqualTo(at(2014, 8, 1, 2, 10, 23, 540));
        assertThat(ts.minus(d(TimexDuration.Unit.DAY, 2)).begin()).isEqualTo(at(2014, 7, 30, 2, 10, 23, 550));
        assertThat(ts.minus(d(TimexDuration.Unit.MONTH, 6)).begin()).isEqualTo(at(2014, 2, 1, 2, 10, 23, 550));
        assertThat(ts.minus(d(TimexDuration.Unit.YEAR, 3)).begin()).isEqualTo(at(2011, 8, 1, 2, 10, 23, 550));
        assertThat(ts.replace(d(TimexDuration.Unit.DAY, 2)).begin()).isEqualTo(at(2014, 8, 2, 2, 10, 23, 550));
        assertThat(ts.replace(d(TimexDuration.Unit.MONTH, 6)).begin()).isEqualTo(at(2014, 6, 1, 2, 10, 23, 550));
        assertThat(ts.replace(d(TimexDuration.Unit.YEAR, 2017)).begin()).isEqualTo(at(2017, 8, 1, 2, 10, 23, 550));
        TimexDuration midnight = d(TimexDuration.Unit.HOUR, 0)
                .plus(d(TimexDuration.Unit.MINUTE, 0))
                .plus(d(TimexDuration.Unit.SECOND, 0))
                .plus(d(TimexDuration.Unit.MICROSECOND, 0));
        assertThat(ts.replace(midnight).begin()).isEqualTo(at(2014, 8, 1, 0, 0, 0, 0));
        TimexDuration ambiguous = d(TimexDuration.Unit.HOUR, 10).plus(TimexDuration.unitless(2));
        assertThatThrownBy(() -> ts.plus(ambiguous)).isInstanceOf(TimexException.class);
        assertThatThrownBy(() -> ts.minus(ambiguous)).isInstanceOf(TimexException.class);
        assertThatThrownBy(() -> ts.replace(ambiguous)).isInstanceOf(TimexException.class);
    }

    @Test
    void rangeMembershipAndOperations() {
        LocalDateTime begin = DT;
        LocalDateTime end = at(2014, 8, 2, 2, 10, 23, 550);
        TimeMatcher r = new TimeMatcher.TimeRange(begin, end);
        assertThat(r.matches(begin)).isTrue(); // ranges include their beginning
        assertThat(r.matches(at(2014, 8, 1, 17, 30, 10, 25))).isTrue();
        assertThat(r.matches(end)).isFalse(); // and not their end
        assertThat(r.matches(at(2014, 8, 7, 2, 0, 0, 0))).isFalse();
        range(r.plus(d(TimexDuration.Unit.MONTH, 6)), at(2015, 2, 1, 2, 10, 23, 550), at(2015, 2, 2, 2, 10, 23, 550));
        range(r.minus(d(TimexDuration.Unit.DAY, 2)), at(2014, 7, 30, 2, 10, 23, 550), at(2014, 7, 31, 2, 10, 23, 550));
        range(r.replace(d(TimexDuration.Unit.HOUR, 6)), at(2014, 8, 1, 6, 10, 23, 550), at(2014, 8, 2, 6, 10, 23, 550));
        TimexDuration one = TimexDuration.unitless(1);
        range(r.plus(one), at(2014, 8, 1, 3, 10, 23, 550), at(2014, 8, 2, 3, 10, 23, 550));
        range(r.minus(one), at(2014, 8, 1, 1, 10, 23, 550), at(2014, 8, 2, 1, 10, 23, 550));
        range(r.replace(one), at(2014, 8, 1, 1, 10, 23, 550), at(2014, 8, 2, 1, 10, 23, 550));
    }

    @Test
    void pinnedRangesStayAroundTheirAnchor() {
        TimeMatcher r = new TimeMatcher.TimeRange(
                at(2014, 8, 1, 1, 0, 0, 0),
                at(2014, 8, 2, 1, 0, 0, 0),
                at(2014, 8, 1, 17, 30, 10, 25),
                TimexDuration.Unit.DAY);
        range(r.plus(d(TimexDuration.Unit.HOUR, 1)), at(2014, 8, 1, 2, 0, 0, 0), at(2014, 8, 2, 2, 0, 0, 0));
        range(r.plus(d(TimexDuration.Unit.HOUR, 18)), at(2014, 7, 31, 19, 0, 0, 0), at(2014, 8, 1, 19, 0, 0, 0));
        range(r.minus(d(TimexDuration.Unit.HOUR, 1)), at(2014, 8, 1, 0, 0, 0, 0), at(2014, 8, 2, 0, 0, 0, 0));
        range(r.minus(d(TimexDuration.Unit.HOUR, 8)), at(2014, 8, 1, 17, 0, 0, 0), at(2014, 8, 2, 17, 0, 0, 0));
        range(r.replace(d(TimexDuration.Unit.HOUR, 2)), at(2014, 8, 1, 2, 0, 0, 0), at(2014, 8, 2, 2, 0, 0, 0));
        range(r.replace(d(TimexDuration.Unit.HOUR, 18)), at(2014, 7, 31, 18, 0, 0, 0), at(2014, 8, 1, 18, 0, 0, 0));
    }

    @Test
    void durationsCompareFromTheLargestUnitGiven() {
        assertThat(d(TimexDuration.Unit.SECOND, 1).lessThan(d(TimexDuration.Unit.HOUR, 1)))
                .isTrue();
        assertThat(d(TimexDuration.Unit.HOUR, 1).lessThan(d(TimexDuration.Unit.SECOND, 1)))
                .isFalse();
        TimexDuration sum = d(TimexDuration.Unit.SECOND, 1)
                .plus(d(TimexDuration.Unit.HOUR, 1))
                .plus(d(TimexDuration.Unit.DAY, 1));
        assertThat(sum.second()).isEqualTo(1);
        assertThat(sum.hour()).isEqualTo(1);
        assertThat(sum.day()).isEqualTo(1);
        assertThat(sum.microsecond()).isNull();
    }

    // Sluice's additions: the sandbox's expressions, and errors that say what is wrong.

    @Test
    void theSandboxsExpressions() {
        LocalDateTime last = at(2014, 8, 1, 23, 59, 0, 0);
        assertThat(eval("$last + 2d", Map.of("last", last)).begin()).isEqualTo(at(2014, 8, 3, 23, 59, 0, 0));
        LocalDateTime apb = at(2014, 8, 1, 0, 0, 0, 0);
        TimeMatcher end = eval("$audit_period_beginning + 1d", Map.of("audit_period_beginning", apb));
        assertThat(end.matches(at(2014, 8, 2, 0, 0, 0, 0))).isTrue();
        assertThat(end.matches(at(2014, 8, 2, 0, 0, 0, 1))).isFalse();
        // day + 1d: the next day (timex fails on a move of a whole unit).
        range(eval("day + 1d", Map.of("timestamp", DT)), at(2014, 8, 2, 0, 0, 0, 0), at(2014, 8, 3, 0, 0, 0, 0));
        assertThat(eval("$a to $b + 1d", Map.of("a", DT, "b", OTHER)).end()).isEqualTo(OTHER.plusDays(1));
        assertThat(Timex.parse("$last + 1h").variables()).containsExactly("last");
        assertThat(Timex.parse("day").variables()).containsExactly("timestamp");
    }

    @Test
    void badExpressionsSayWhatIsWrong() {
        assertThatThrownBy(() -> Timex.parse("$last + 2"))
                .isInstanceOf(TimexException.class)
                .hasMessageContaining("needs a unit");
        assertThatThrownBy(() -> Timex.parse("$last + 2 weeks")).hasMessageContaining("unknown unit 'weeks'");
        assertThatThrownBy(() -> Timex.parse("week")).hasMessageContaining("unknown function 'week'");
        assertThatThrownBy(() -> Timex.parse("($last + 1d")).hasMessageContaining("not closed");
        assertThatThrownBy(() -> Timex.parse("$last # 1d")).hasMessageContaining("unexpected character '#'");
        assertThatThrownBy(() -> Timex.parse("day to $last")).hasMessageContaining("timestamp on its left");
        assertThatThrownBy(() -> Timex.parse("$last +")).hasMessageContaining("a duration");
        assertThatThrownBy(() -> Timex.parse("$d")).hasMessageContaining("a unit");
        assertThatThrownBy(() -> Timex.parse("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> eval("$missing + 1d", Map.of()))
                .isInstanceOf(TimexException.class)
                .hasMessageContaining("$missing is not defined");
        assertThatThrownBy(() -> eval("$t @ 25h", Map.of("t", DT))).hasMessageContaining("cannot replace");
    }

    private static TimexDuration d(TimexDuration.Unit u, int n) {
        return TimexDuration.of(u, n);
    }
}
