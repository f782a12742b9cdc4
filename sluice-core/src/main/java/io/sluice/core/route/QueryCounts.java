package io.sluice.core.route;

import java.util.concurrent.atomic.AtomicLong;

/** One standing query's counters: kept in memory, saved with the routes' checkpoints. */
final class QueryCounts {
    final AtomicLong matches = new AtomicLong();
    final AtomicLong lastMatch = new AtomicLong(); // epoch millis, 0: never
    final AtomicLong delivered = new AtomicLong();
    final AtomicLong deadLettered = new AtomicLong();
    final AtomicLong pending = new AtomicLong(); // matched and not yet delivered or parked; not saved
    volatile boolean dirty;

    QueryTables.StatsRow row(String name) {
        return new QueryTables.StatsRow(name, matches.get(), lastMatch.get(), delivered.get(), deadLettered.get());
    }
}
