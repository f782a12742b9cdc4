package io.sluice.server.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sluice tail}: live events as NDJSON {@code {"offset":N,"event":{...}}} until interrupted. */
@Command(
        name = "tail",
        mixinStandardHelpOptions = true,
        description = "Print live events as NDJSON {\"offset\":N,\"event\":{...}} until interrupted.")
final class TailCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ServerUrl server;

    @Option(names = "--filter", paramLabel = "JSON", description = "Only events matching this query.")
    String filter;

    @Option(
            names = "--from",
            paramLabel = "earliest|latest|N",
            defaultValue = "latest",
            description = "Where to start: the earliest retained event, the next new one (default), or after offset N.")
    String from;

    @Option(
            names = "--query",
            paramLabel = "NAME",
            description = "Only the matches of this standing query (see `sluice queries list`).")
    String query;

    @Option(names = "--limit", paramLabel = "N", description = "Stop after this many events.")
    Long limit;

    @Override
    public Integer call() {
        if (!from.equals("earliest") && !from.equals("latest") && !from.matches("\\d+")) {
            throw new InvalidInputException("--from must be earliest, latest or an offset, not '" + from + "'");
        }
        if (limit != null && limit < 1) {
            return 0;
        }
        StringBuilder path = new StringBuilder("/v1/stream?").append(ServerUrl.param("from", from));
        if (filter != null) {
            path.append('&').append(ServerUrl.param("filter", filter));
        }
        if (query != null) {
            path.append('&').append(ServerUrl.param("query", query));
        }
        PrintWriter out = spec.commandLine().getOut();
        long[] printed = {0};
        server.streamEvents(path.toString(), (event, data) -> {
            if (event.equals("error")) {
                throw new InvalidInputException(ServerUrl.errorMessage(data));
            }
            out.println(data);
            out.flush();
            return limit == null || ++printed[0] < limit;
        });
        return 0;
    }
}
