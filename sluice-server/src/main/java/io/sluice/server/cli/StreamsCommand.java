package io.sluice.server.cli;

import io.sluice.api.Json;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sluice streams list|show|retry}: Winchester trigger streams. */
@Command(
        name = "streams",
        mixinStandardHelpOptions = true,
        description = "List, show or retry trigger streams.",
        subcommands = {StreamsCommand.List.class, StreamsCommand.Show.class, StreamsCommand.Retry.class})
final class StreamsCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Print streams as NDJSON, newest first.")
    static final class List implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ServerUrl server;

        @Option(names = "--trigger", paramLabel = "T", description = "Only this trigger's streams.")
        String trigger;

        @Option(
                names = "--state",
                paramLabel = "S",
                description = "Only streams in this state: active, firing, expiring, error, expire_error, completed,"
                        + " retry_fire, retry_expire.")
        String state;

        @Option(
                names = "--trait",
                paramLabel = "NAME=VALUE",
                description = "Only streams with this distinguishing trait value (repeatable).")
        java.util.Map<String, String> traits = new java.util.LinkedHashMap<>();

        @Option(
                names = "--older-than",
                paramLabel = "TIME",
                description = "Only streams whose first event is before this time (ISO-8601).")
        String olderThan;

        @Option(
                names = "--younger-than",
                paramLabel = "TIME",
                description = "Only streams whose last event is after this time (ISO-8601).")
        String youngerThan;

        @Option(
                names = "--limit",
                paramLabel = "N",
                defaultValue = "100",
                description = "At most this many (default 100).")
        long limit;

        @Override
        public Integer call() {
            java.util.List<String> params = new java.util.ArrayList<>(java.util.Arrays.asList(
                    "limit",
                    Long.toString(limit),
                    "trigger",
                    trigger,
                    "state",
                    state,
                    "older_than",
                    olderThan,
                    "younger_than",
                    youngerThan));
            traits.forEach((name, value) -> {
                params.add("trait." + name);
                params.add(value);
            });
            server.printEach(
                    ServerUrl.query("/v1/streams", params.toArray(String[]::new)),
                    "streams",
                    spec.commandLine().getOut());
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Print one stream with its events.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ServerUrl server;

        @Parameters(paramLabel = "ID", description = "The stream's id.")
        long id;

        @Override
        public Integer call() {
            spec.commandLine().getOut().println(Json.write(server.call("GET", "/v1/streams/" + id)));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(
            name = "retry",
            mixinStandardHelpOptions = true,
            description = "Run a failed stream's pipeline again (error: fire; expire_error: expire).")
    static final class Retry implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ServerUrl server;

        @Parameters(paramLabel = "ID", description = "The stream's id.")
        long id;

        @Override
        public Integer call() {
            spec.commandLine().getOut().println(Json.write(server.call("POST", "/v1/streams/" + id + "/retry")));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
