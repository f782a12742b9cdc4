package io.sluice.server.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sluice find}: historical events, oldest first, as NDJSON {@code {"offset":N,"event":{...}}}. */
@Command(
        name = "find",
        mixinStandardHelpOptions = true,
        description = "Print historical events, oldest first, as NDJSON {\"offset\":N,\"event\":{...}}.")
final class FindCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ServerUrl server;

    @Option(names = "--filter", paramLabel = "JSON", description = "Only events matching this query.")
    String filter;

    @Option(names = "--after", paramLabel = "N", description = "Only events after this offset (default: 0).")
    Long after;

    @Option(names = "--limit", paramLabel = "N", description = "At most this many events.")
    Long limit;

    @Override
    public Integer call() {
        StringBuilder path = new StringBuilder("/v1/events?");
        if (filter != null) {
            path.append(ServerUrl.param("filter", filter)).append('&');
        }
        if (after != null) {
            path.append("after=").append(after).append('&');
        }
        if (limit != null) {
            path.append("limit=").append(limit).append('&');
        }
        PrintWriter out = spec.commandLine().getOut();
        server.streamLines(path.substring(0, path.length() - 1), line -> {
            out.println(line);
            out.flush();
        });
        return 0;
    }
}
