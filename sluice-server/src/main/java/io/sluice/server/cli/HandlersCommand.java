package io.sluice.server.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sluice handlers list|runs}: the handlers of a server and their recorded runs. */
@Command(
        name = "handlers",
        mixinStandardHelpOptions = true,
        description = "List handlers and their recorded runs.",
        subcommands = {HandlersCommand.List.class, HandlersCommand.Runs.class})
final class HandlersCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Print each handler as one JSON line: definition, runs, failures, dead letters, lag.")
    static final class List implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ServerUrl server;

        @Override
        public Integer call() {
            server.printEach("/v1/handlers", "handlers", spec.commandLine().getOut());
            return 0;
        }
    }

    @Command(
            name = "runs",
            mixinStandardHelpOptions = true,
            description = "Print recorded runs as NDJSON, newest first (event id, offset, status, code, output).")
    static final class Runs implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ServerUrl server;

        @Option(names = "--handler", paramLabel = "H", description = "Only this handler's runs.")
        String handler;

        @Option(names = "--status", paramLabel = "S", description = "Only runs with this status: ok, failed, timeout.")
        String status;

        @Option(
                names = "--limit",
                paramLabel = "N",
                defaultValue = "100",
                description = "At most this many (default 100).")
        long limit;

        @Override
        public Integer call() {
            server.printEach(
                    ServerUrl.query(
                            "/v1/handler-runs", "limit", Long.toString(limit), "handler", handler, "status", status),
                    "runs",
                    spec.commandLine().getOut());
            return 0;
        }
    }
}
