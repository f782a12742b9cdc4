package io.sluice.core.flow.modules;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.api.component.Field;
import io.sluice.api.component.Spec;
import io.sluice.api.flow.FlowEvent;
import io.sluice.api.flow.InputModule;
import io.sluice.api.flow.Module;
import io.sluice.api.flow.ModuleContext;
import io.sluice.api.flow.ModuleType;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/** Modules at a flow's edges: test events, files, stdout. */
final class Io {
    private Io() {}

    static final ModuleType TESTEVENT = new ModuleType(
            new Spec(
                    "module",
                    "testevent",
                    "Generates an event with the same data at an interval (for trying flows out).",
                    List.of(
                            Field.optional(
                                    "interval",
                                    Field.Type.DURATION,
                                    1,
                                    "time between events; 0: as fast as the flow takes them"),
                            Field.optional("message", Field.Type.ANY, "test", "the data of every event"),
                            Field.optional(
                                    "count", Field.Type.INTEGER, 0, "events to generate, then stop; 0: no end"))),
            List.of(),
            List.of("outbox"),
            (args, base) -> new TestEvent(args.duration("interval"), args.any("message"), args.integer("count")));

    private record TestEvent(Duration interval, JsonNode message, long count) implements InputModule {
        @Override
        public void run(ModuleContext ctx) throws InterruptedException {
            long next = System.nanoTime();
            for (long i = 0; ctx.running() && (count == 0 || i < count); i++) {
                ctx.submit(FlowEvent.of(message.deepCopy()));
                if (!interval.isZero()) {
                    next += interval.toNanos();
                    long wait = next - System.nanoTime();
                    if (wait > 0 && ctx.awaitStop(Duration.ofNanos(wait))) {
                        return;
                    }
                }
            }
        }
    }

    static final ModuleType FILE_INPUT = new ModuleType(
            new Spec(
                    "module",
                    "file_input",
                    "Reads a file of JSON lines (NDJSON): each line an event ({\"header\", \"data\"} documents kept as they are, "
                            + "anything else becomes the data); with follow, keeps reading as the file grows.",
                    List.of(
                            Field.required("path", Field.Type.STRING, "the file, relative to the flow file"),
                            Field.optional(
                                    "follow",
                                    Field.Type.BOOLEAN,
                                    false,
                                    "wait for more lines at the end instead of ending"))),
            List.of(),
            List.of("outbox"),
            (args, base) -> new FileInput(base.resolve(args.string("path")), args.bool("follow")));

    private record FileInput(Path path, boolean follow) implements InputModule {
        @Override
        public void run(ModuleContext ctx) throws IOException, InterruptedException {
            try (BufferedReader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
                long lineNo = 0;
                while (ctx.running()) {
                    String line = in.readLine();
                    if (line == null) {
                        if (!follow || ctx.awaitStop(Duration.ofMillis(100))) {
                            return; // the end, or a stop while waiting for the file to grow
                        }
                        continue;
                    }
                    lineNo++;
                    if (line.isBlank()) {
                        continue;
                    }
                    JsonNode doc;
                    try {
                        doc = Json.parse(line);
                    } catch (IllegalArgumentException e) {
                        ctx.reject(path + ":" + lineNo + ": not JSON: " + e.getMessage());
                        continue;
                    }
                    ctx.submit(FlowEvent.wrap(doc));
                }
            }
        }
    }

    static final ModuleType FILE_OUTPUT = new ModuleType(
            new Spec(
                    "module",
                    "file_output",
                    "Appends each event's data to a file as one JSON line (NDJSON); written out whenever the inbox is empty.",
                    List.of(
                            Field.required(
                                    "path",
                                    Field.Type.STRING,
                                    "the file, relative to the flow file; created if missing"),
                            Field.optional(
                                    "complete",
                                    Field.Type.BOOLEAN,
                                    false,
                                    "write {\"header\", \"data\"} instead of the data"))),
            List.of("inbox"),
            List.of(),
            (args, base) -> new FileOutput(base.resolve(args.string("path")), args.bool("complete")));

    private static final class FileOutput implements Module {
        private final Path path;
        private final boolean complete;
        private BufferedWriter out;

        FileOutput(Path path, boolean complete) {
            this.path = path;
            this.complete = complete;
        }

        @Override
        public void start(ModuleContext ctx) throws IOException {
            if (path.getParent() != null) {
                Files.createDirectories(path.getParent());
            }
            out = Files.newBufferedWriter(
                    path, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }

        @Override
        public void consume(FlowEvent event, String queue, ModuleContext ctx) throws IOException {
            out.write(Json.write(complete ? event.toJson() : event.data()));
            out.write('\n');
            if (ctx.backlog() == 0) {
                out.flush();
            }
        }

        @Override
        public void close(ModuleContext ctx) throws IOException {
            if (out != null) {
                out.close();
            }
        }
    }

    static final ModuleType STDOUT = new ModuleType(
            new Spec(
                    "module",
                    "stdout",
                    "Prints each event's data to standard output (text as it is, anything else as JSON).",
                    List.of(
                            Field.optional("prefix", Field.Type.STRING, "", "text before each line"),
                            Field.optional("timestamp", Field.Type.BOOLEAN, false, "start each line with the time"),
                            Field.optional(
                                    "complete",
                                    Field.Type.BOOLEAN,
                                    false,
                                    "print {\"header\", \"data\"} instead of the data"))),
            List.of("inbox"),
            List.of(),
            (args, base) -> new Stdout(
                    System.out,
                    args.string("prefix"),
                    args.bool("timestamp"),
                    args.bool("complete"),
                    Clock.systemUTC()));

    private record Stdout(PrintStream out, String prefix, boolean timestamp, boolean complete, Clock clock)
            implements Module {
        @Override
        public void consume(FlowEvent event, String queue, ModuleContext ctx) {
            JsonNode shown = complete ? event.toJson() : event.data();
            StringBuilder line = new StringBuilder();
            if (timestamp) {
                line.append('[').append(clock.instant().toString()).append("] ");
            }
            line.append(prefix).append(shown.isTextual() ? shown.textValue() : Json.write(shown));
            out.println(line);
        }
    }

    static final ModuleType LOGLEVELFILTER = new ModuleType(
            new Spec(
                    "module",
                    "loglevelfilter",
                    "Passes on the log records at or above a severity (syslog levels: 0 emergency ... 7 debug).",
                    List.of(Field.optional("max_level", Field.Type.INTEGER, 6, "the least severe level passed on"))),
            List.of("inbox"),
            List.of("outbox"),
            (args, base) -> {
                long max = args.integer("max_level");
                return (event, queue, ctx) -> {
                    if (event.data().path("level").asInt(7) <= max) {
                        ctx.submit(event);
                    }
                };
            });

    static final ModuleType HUMANLOGFORMATTER = new ModuleType(
            new Spec(
                    "module",
                    "humanlogformatter",
                    "Turns log records into lines people read: time [level] flow/module: message.",
                    List.of()),
            List.of("inbox"),
            List.of("outbox"),
            (args, base) -> (event, queue, ctx) -> ctx.submit(
                    event.withData(Json.nodes().textNode(io.sluice.core.flow.HumanLog.format(event.data())))));
}
