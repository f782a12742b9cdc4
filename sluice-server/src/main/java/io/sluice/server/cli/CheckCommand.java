package io.sluice.server.cli;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.core.flow.FlowDefinition;
import io.sluice.server.config.ServerConfig;
import io.sluice.server.flow.ServerFlows;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sluice check [--config FILE] [FLOW ...]}: validates a configuration as the server
 * would read it (with the Winchester, handler and flow files it names) and flow files as
 * {@code sluice flow run} would, without starting anything. Exit 0 when all is well, 2 with
 * the first error (file, line or key path, and what is wrong).
 */
@Command(
        name = "check",
        mixinStandardHelpOptions = true,
        description = "Validate a configuration and flow files exactly as the server would; exit 0 or 2.")
final class CheckCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "A sluice.yaml configuration file.")
    Path config;

    @Parameters(paramLabel = "FLOW", arity = "0..*", description = "Flow files.")
    List<Path> flowFiles = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (config == null && flowFiles.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give --config FILE and/or flow files");
        }
        PrintWriter out = spec.commandLine().getOut();
        List<FlowDefinition> flows = new ArrayList<>();
        if (config != null) {
            ServerConfig c = ServerConfig.load(config);
            flows.addAll(c.handling().flows());
            out.printf(
                    "%s: ok (%d inputs, %d outputs, %d query edits, %d handlers, %s, %d flows)%n",
                    config,
                    c.routing().inputs().size(),
                    c.routing().outputs().size(),
                    c.routing().queries().size(),
                    c.handling().handlers().size(),
                    c.handling().winchester() == null
                            ? "no triggers"
                            : c.handling().winchester().triggers().size() + " triggers",
                    c.handling().flows().size());
        }
        for (Path f : flowFiles) {
            try {
                flows.add(FlowDefinition.load(f));
            } catch (NoSuchFileException e) {
                throw new InvalidInputException(f + ": no such file");
            }
        }
        // makes every module from its arguments and connects the routes, starting nothing
        new ServerFlows(flows, FlowCommand.registry(), new SimpleMeterRegistry(), line -> {}, Clock.systemUTC());
        for (Path f : flowFiles) {
            out.println(f + ": ok");
        }
        out.flush();
        return 0;
    }
}
