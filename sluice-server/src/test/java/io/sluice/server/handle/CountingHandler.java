package io.sluice.server.handle;

import io.sluice.api.handler.Handler;
import io.sluice.api.handler.Invocation;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A Java handler for the tests: remembers the ids of the events it saw. */
public final class CountingHandler implements Handler {
    private static final List<String> SEEN = new CopyOnWriteArrayList<>();

    static void reset() {
        SEEN.clear();
    }

    static List<String> seen() {
        return SEEN;
    }

    @Override
    public String handle(Invocation invocation) {
        SEEN.add(invocation.eventId());
        return "seen " + invocation.eventId();
    }
}
