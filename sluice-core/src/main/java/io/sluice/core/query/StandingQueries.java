package io.sluice.core.query;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads files of standing queries: NDJSON, one query document a line (blank lines and lines
 * starting with {@code #} are skipped), or a JSON array of query documents.
 */
public final class StandingQueries {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private StandingQueries() {}

    /** A query file that cannot be read; the message names the file and line. */
    public static final class InvalidQueryFileException extends IllegalArgumentException {
        public InvalidQueryFileException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Reads a query file. */
    public static List<StandingQuery> read(Path file) throws IOException {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(in, file.toString());
        }
    }

    /**
     * Reads query documents from {@code in}; {@code source} names it in error messages.
     *
     * @throws InvalidQueryFileException naming the source, line and problem; also for
     *     duplicate names
     */
    public static List<StandingQuery> read(Reader in, String source) throws IOException {
        List<StandingQuery> queries = new ArrayList<>();
        for (Document d : documents(in, source)) {
            queries.add(query(d.json(), d.where()));
        }
        Set<String> names = new HashSet<>();
        for (StandingQuery q : queries) {
            if (!names.add(q.name())) {
                throw new InvalidQueryFileException(source + ": the query name '" + q.name() + "' is used twice", null);
            }
        }
        return List.copyOf(queries);
    }

    /**
     * One JSON document of a query file or body, with where it is ({@code FILE:LINE} or
     * {@code FILE: element N}) for error messages.
     */
    public record Document(JsonNode json, String where) {}

    /**
     * Reads the JSON documents of a file or body: NDJSON (blank and {@code #} lines skipped),
     * a JSON array of documents, or one JSON document spread over several lines.
     *
     * @throws InvalidQueryFileException naming the source and line of invalid JSON
     */
    public static List<Document> documents(Reader in, String source) throws IOException {
        BufferedReader reader = in instanceof BufferedReader b ? b : new BufferedReader(in);
        List<String> lines = reader.lines().toList();
        String first = lines.stream()
                .map(String::strip)
                .filter(l -> !l.isEmpty())
                .findFirst()
                .orElse("");
        List<Document> docs = new ArrayList<>();
        if (first.startsWith("[")) {
            JsonNode array = parse(String.join("\n", lines), source, 0);
            int i = 0;
            for (JsonNode doc : array) {
                docs.add(new Document(doc, source + ": element " + i++));
            }
            return docs;
        }
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (docs.isEmpty() && line.equals("{") || (docs.isEmpty() && !complete(line))) {
                // One document over several lines (pretty-printed JSON), not NDJSON.
                return List.of(new Document(parse(String.join("\n", lines), source, 0), source));
            }
            docs.add(new Document(parse(line, source, n + 1), source + ":" + (n + 1)));
        }
        return docs;
    }

    private static boolean complete(String line) {
        try {
            MAPPER.readTree(line);
            return true;
        } catch (JsonProcessingException e) {
            return false;
        }
    }

    private static JsonNode parse(String text, String source, int line) {
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            String where = line > 0
                    ? source + ":" + line
                    : source + ":" + e.getLocation().getLineNr();
            throw new InvalidQueryFileException(where + ": invalid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static StandingQuery query(JsonNode doc, String where) {
        try {
            return StandingQuery.fromJson(doc);
        } catch (IllegalArgumentException e) {
            throw new InvalidQueryFileException(where + ": " + e.getMessage(), e);
        }
    }
}
