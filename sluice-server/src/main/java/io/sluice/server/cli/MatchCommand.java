package io.sluice.server.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.query.StandingQueries;
import io.sluice.core.query.StandingQuery;
import io.sluice.query.Query;
import io.sluice.query.QueryException;
import io.sluice.query.QueryIndex;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sluice match}: matches NDJSON events offline, against one filter (printing the
 * matching lines unchanged) or against a file of standing queries (printing one
 * {@code {"query":NAME,"event":{...}}} line per match, or the counts with {@code --count}).
 */
@Command(
        name = "match",
        mixinStandardHelpOptions = true,
        description = {
            "Offline: match NDJSON events (FILE, else stdin) against a filter or a file of standing queries.",
            "With --filter, prints the matching lines unchanged. With --queries (NDJSON {\"name\":..,\"query\":{..}},"
                    + " PySeps documents too), prints {\"query\":NAME,\"event\":{...}} per match, or with --count"
                    + " one JSON object {NAME: count, ...} at the end, or with --explain how each event was matched."
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:failure at run time", "2:bad usage or invalid input (names the line)"})
final class MatchCommand implements Callable<Integer> {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--filter", paramLabel = "JSON", description = "A query in MongoDB's query language.")
        String filter;

        @Option(names = "--queries", paramLabel = "FILE", description = "A file of standing queries (NDJSON).")
        Path queries;
    }

    @Option(names = "--count", description = "With --queries: print only the match count of every query, at the end.")
    boolean count;

    @Option(
            names = "--explain",
            description = "With --queries: print, for each event, the index's lookups, its candidate queries and"
                    + " the matches, as {\"line\":N,\"lookups\":[..],\"candidates\":[..],\"matches\":[..]}.")
    boolean explain;

    @Option(names = "--skip-bad", description = "Skip (and report on stderr) event lines that are not JSON objects.")
    boolean skipBad;

    @Parameters(arity = "0..1", paramLabel = "FILE", description = "NDJSON events; default: standard input.")
    Path input;

    @Override
    public Integer call() throws IOException {
        if (count && source.queries == null) {
            throw new InvalidInputException("--count goes with --queries");
        }
        if (explain && (source.queries == null || count)) {
            throw new InvalidInputException("--explain goes with --queries, without --count");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        LineSink sink = source.filter != null ? filterSink(out) : queriesSink(out);
        int skipped = 0;
        try (BufferedReader in = open()) {
            String line;
            long number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                String text = line.strip();
                if (text.isEmpty()) {
                    continue;
                }
                JsonNode event;
                try {
                    event = parseEvent(text);
                } catch (InvalidInputException e) {
                    String message = where() + ":" + number + ": " + e.getMessage();
                    if (!skipBad) {
                        out.flush();
                        throw new InvalidInputException(message + " (use --skip-bad to skip such lines)");
                    }
                    err.println("sluice match: skipped " + message);
                    skipped++;
                    continue;
                }
                sink.accept(number, text, event);
            }
        }
        sink.finish();
        out.flush();
        if (skipped > 0) {
            err.println("sluice match: skipped " + skipped + " bad line(s)");
        }
        return 0;
    }

    private interface LineSink {
        void accept(long number, String line, JsonNode event);

        default void finish() {}
    }

    private LineSink filterSink(PrintWriter out) {
        Query query;
        try {
            query = Query.parse(source.filter);
        } catch (QueryException e) {
            throw new InvalidInputException("--filter: " + e.getMessage(), e);
        }
        return (number, line, event) -> {
            if (query.matches(event)) {
                out.println(line);
            }
        };
    }

    private LineSink queriesSink(PrintWriter out) throws IOException {
        List<StandingQuery> queries;
        try {
            queries = StandingQueries.read(source.queries);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException("--queries: no such file: " + source.queries);
        } catch (StandingQueries.InvalidQueryFileException e) {
            throw new InvalidInputException("--queries: " + e.getMessage(), e);
        }
        QueryIndex index = new QueryIndex();
        Map<String, Integer> order = new HashMap<>();
        Map<String, Long> counts = new LinkedHashMap<>();
        Map<String, Query> byName = new LinkedHashMap<>();
        for (StandingQuery q : queries) {
            order.put(q.name(), order.size());
            counts.put(q.name(), 0L);
            byName.put(q.name(), q.query());
        }
        index.putAll(byName);
        List<String> hits = new ArrayList<>();
        return new LineSink() {
            @Override
            public void accept(long number, String line, JsonNode event) {
                if (explain) {
                    ObjectNode explained = MAPPER.createObjectNode().put("line", number);
                    explained.setAll((ObjectNode) MAPPER.valueToTree(index.explain(event)));
                    out.println(explained);
                    return;
                }
                hits.clear();
                index.match(event, hits::add);
                if (count) {
                    hits.forEach(name -> counts.merge(name, 1L, Long::sum));
                    return;
                }
                hits.sort(Comparator.comparing(order::get));
                for (String name : hits) {
                    out.print("{\"query\":");
                    out.print(json(name));
                    out.print(",\"event\":");
                    out.print(line);
                    out.println('}');
                }
            }

            @Override
            public void finish() {
                if (count) {
                    ObjectNode result = MAPPER.createObjectNode();
                    counts.forEach(result::put);
                    out.println(result);
                }
            }
        };
    }

    private BufferedReader open() throws IOException {
        if (input == null || input.toString().equals("-")) {
            return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        }
        if (!Files.isReadable(input)) {
            throw new InvalidInputException("cannot read the events file " + input);
        }
        return Files.newBufferedReader(input, StandardCharsets.UTF_8);
    }

    private String where() {
        return input == null ? "<stdin>" : input.toString();
    }

    private static JsonNode parseEvent(String text) {
        JsonNode node;
        try {
            node = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new InvalidInputException("invalid JSON: " + e.getOriginalMessage());
        }
        if (!node.isObject()) {
            throw new InvalidInputException("an event must be a JSON object, not "
                    + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        }
        return node;
    }

    private static String json(String text) {
        try {
            return MAPPER.writeValueAsString(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
