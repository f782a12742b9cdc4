package io.sluice.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sluice queries apply|list|delete}: the standing queries of a running server. */
@Command(
        name = "queries",
        mixinStandardHelpOptions = true,
        description = "Manage the standing queries of a running server.",
        subcommands = {QueriesCommand.Apply.class, QueriesCommand.List.class, QueriesCommand.Delete.class})
final class QueriesCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(
            name = "apply",
            mixinStandardHelpOptions = true,
            description = "Apply query documents (NDJSON or a JSON array; PySeps documents, batch documents"
                    + " {\"id\":B,\"queries\":[...]}) as one atomic change; prints what changed and the switch offset.")
    static final class Apply implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ServerUrl server;

        @Parameters(paramLabel = "FILE", description = "The query file (- for standard input).")
        String file;

        @Override
        public Integer call() throws IOException {
            String body;
            try {
                body = file.equals("-")
                        ? new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                        : Files.readString(Path.of(file));
            } catch (NoSuchFileException e) {
                throw new InvalidInputException(file + ": no such file");
            }
            JsonNode answer = server.post("/v1/queries", "application/x-ndjson", body);
            PrintWriter out = spec.commandLine().getOut();
            out.println(Json.write(answer));
            out.flush();
            return 0;
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Print the active queries as NDJSON, each with its batch, key, output and counters.")
    static final class List implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ServerUrl server;

        @Override
        public Integer call() {
            JsonNode answer = server.call("GET", "/v1/queries");
            PrintWriter out = spec.commandLine().getOut();
            for (JsonNode q : answer.path("queries")) {
                out.println(Json.write(q));
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete one active query by name.")
    static final class Delete implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ServerUrl server;

        @Parameters(paramLabel = "NAME", description = "The query's name.")
        String name;

        @Override
        public Integer call() {
            JsonNode answer = server.call(
                    "DELETE",
                    "/v1/queries/" + java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8));
            spec.commandLine().getOut().println(Json.write(answer));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
