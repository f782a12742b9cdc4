package io.sluice.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import io.sluice.core.distill.Distiller;
import io.sluice.core.distill.DistillerException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sluice distill --definitions FILE [FILE ...]}: prints, as NDJSON, the events that
 * StackDistiller-style definitions extract from notification files (each a JSON object, a JSON
 * array of them, or NDJSON). Notifications no definition covers are counted on stderr.
 */
@Command(
        name = "distill",
        mixinStandardHelpOptions = true,
        description = "Print the events StackDistiller-style definitions extract from notification files (NDJSON).")
final class DistillCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--definitions", required = true, paramLabel = "FILE", description = "An event_definitions.yaml.")
    Path definitions;

    @Option(
            names = "--catch-all",
            description = "Notifications no definition covers still become events (envelope and default traits).")
    boolean catchAll;

    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Notification files.")
    List<Path> files = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        Distiller distiller;
        try {
            distiller = Distiller.load(definitions, catchAll, Clock.systemUTC());
        } catch (DistillerException e) {
            throw new InvalidInputException(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        long dropped = 0;
        for (Path f : files) {
            for (JsonNode n : notifications(f)) {
                var event = distiller.toEvent(n);
                if (event.isPresent()) {
                    out.println(Json.write(event.get()));
                } else {
                    dropped++;
                }
            }
        }
        out.flush();
        if (dropped > 0) {
            spec.commandLine().getErr().println("sluice distill: " + dropped + " notifications no definition covers");
            spec.commandLine().getErr().flush();
        }
        return 0;
    }

    private static List<JsonNode> notifications(Path f) throws IOException {
        String text;
        try {
            text = Files.readString(f);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new InvalidInputException(f + ": no such file");
        }
        List<JsonNode> out = new ArrayList<>();
        String trimmed = text.strip();
        if (trimmed.startsWith("[")) {
            JsonNode all = parse(trimmed, f + "");
            all.forEach(out::add);
            return out;
        }
        int line = 0;
        for (String l : text.split("\n")) {
            line++;
            if (!l.isBlank()) {
                out.add(parse(l, f + ":" + line));
            }
        }
        if (out.isEmpty() && !trimmed.isEmpty()) {
            out.add(parse(trimmed, f.toString()));
        }
        return out;
    }

    private static JsonNode parse(String json, String where) {
        try {
            return Json.parse(json);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(where + ": " + e.getMessage());
        }
    }
}
