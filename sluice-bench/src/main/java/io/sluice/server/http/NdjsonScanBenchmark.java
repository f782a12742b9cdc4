package io.sluice.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Envelope;
import io.sluice.api.Json;
import io.sluice.testkit.Notifications;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The first thing the server does with each line of an NDJSON request: find where it ends and
 * check it with {@link EnvelopeScanner} (valid JSON, no duplicate names, the envelope fields
 * read). One operation = one request body of 1,000 OpenStack notifications, one per line, as
 * {@code sluice bench ingest} posts them; divide by 1,000 for one line. In the server's package
 * because the scanner is not public.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class NdjsonScanBenchmark {
    private byte[] body;
    private EnvelopeScanner scanner;

    @Setup(Level.Trial)
    public void setUp() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        for (ObjectNode event : Notifications.load().take(1_000, 11)) {
            event.put("id", "00000000-0000-4000-8000-" + String.format("%012d", i++));
            event.put("type", event.path("event_type").asText());
            out.writeBytes(Json.write(event).getBytes(StandardCharsets.UTF_8));
            out.write('\n');
        }
        body = out.toByteArray();
        System.out.printf("%n# %,d bytes, %,d per line%n", body.length, body.length / 1_000);
        scanner = new EnvelopeScanner(Envelope.DEFAULT);
        if (scanBody() != 1_000) {
            throw new IllegalStateException("the scanner deferred lines to Jackson");
        }
    }

    /** Splits the body into lines and scans each: how many it read without deferring to Jackson. */
    @Benchmark
    public int scanBody() {
        int read = 0;
        for (int start = 0; start < body.length; ) {
            int end = EventBodies.lineEnd(body, start);
            if (end > start && scanner.scan(body, start, end) != null) {
                read++;
            }
            start = end + 1;
        }
        return read;
    }
}
