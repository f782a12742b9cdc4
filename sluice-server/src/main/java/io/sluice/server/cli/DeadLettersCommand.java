package io.sluice.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sluice deadletters list|replay|delete}: deliveries that failed their last attempt. */
@Command(
        name = "deadletters",
        mixinStandardHelpOptions = true,
        description = "List, replay or delete failed deliveries.",
        subcommands = {DeadLettersCommand.List.class, DeadLettersCommand.Replay.class, DeadLettersCommand.Delete.class})
final class DeadLettersCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Print dead letters as NDJSON (id, reader, query, offset, attempts, last_error, event).")
    static final class List implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ServerUrl server;

        @Option(names = "--reader", paramLabel = "READER", description = "Only this reader's, such as output:hook.")
        String reader;

        @Option(
                names = "--limit",
                paramLabel = "N",
                defaultValue = "100",
                description = "At most this many (default 100).")
        long limit;

        @Override
        public Integer call() {
            StringBuilder path =
                    new StringBuilder("/v1/deadletters?").append(ServerUrl.param("limit", Long.toString(limit)));
            if (reader != null) {
                path.append('&').append(ServerUrl.param("reader", reader));
            }
            JsonNode answer = server.call("GET", path.toString());
            PrintWriter out = spec.commandLine().getOut();
            for (JsonNode l : answer.path("deadletters")) {
                out.println(Json.write(l));
            }
            out.flush();
            return 0;
        }
    }

    @Command(
            name = "replay",
            mixinStandardHelpOptions = true,
            description = "Deliver a dead letter again through its output; it leaves the list when delivered.")
    static final class Replay implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ServerUrl server;

        @Parameters(paramLabel = "ID", description = "The dead letter's id.")
        long id;

        @Override
        public Integer call() {
            spec.commandLine().getOut().println(Json.write(server.call("POST", "/v1/deadletters/" + id + "/replay")));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = "Delete a dead letter without delivering it.")
    static final class Delete implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ServerUrl server;

        @Parameters(paramLabel = "ID", description = "The dead letter's id.")
        long id;

        @Override
        public Integer call() {
            spec.commandLine().getOut().println(Json.write(server.call("DELETE", "/v1/deadletters/" + id)));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
