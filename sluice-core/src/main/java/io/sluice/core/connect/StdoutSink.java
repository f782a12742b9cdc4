package io.sluice.core.connect;

import io.sluice.api.Json;
import io.sluice.api.component.Field;
import io.sluice.api.component.Message;
import io.sluice.api.component.Sink;
import io.sluice.api.component.Spec;
import java.io.PrintStream;
import java.util.List;

/** Writes each match to standard output as one NDJSON line {@code {"query","key","offset","event"}}. */
public final class StdoutSink implements Sink {
    public static final Spec SPEC = new Spec(
            "output",
            "stdout",
            "Prints each match as an NDJSON line {\"query\",\"key\",\"offset\",\"event\"} on standard output.",
            List.<Field>of());

    private final PrintStream out;

    public StdoutSink(PrintStream out) {
        this.out = out;
    }

    /** The line a match is written as, by this sink and the file sink. */
    static String line(Message m) {
        StringBuilder b = new StringBuilder(m.eventJson().length() + 96).append("{\"query\":");
        Json.quote(b, m.source()).append(",\"key\":");
        if (m.key() == null) {
            b.append("null");
        } else {
            Json.quote(b, m.key());
        }
        return b.append(",\"offset\":")
                .append(m.offset())
                .append(",\"event\":")
                .append(m.eventJson())
                .append('}')
                .toString();
    }

    @Override
    public void open() {}

    @Override
    public List<Refusal> send(List<Message> messages) {
        synchronized (out) {
            for (Message m : messages) {
                out.println(line(m));
            }
            out.flush();
        }
        return List.of();
    }

    @Override
    public void close() {}
}
