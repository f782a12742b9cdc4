package io.sluice.server.cli;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.api.component.Spec;
import io.sluice.api.flow.ModuleType;
import io.sluice.core.flow.Flow;
import io.sluice.core.flow.FlowDefinition;
import io.sluice.core.flow.ModuleRegistry;
import io.sluice.server.flow.ServerFlows;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;

/**
 * {@code sluice flow run FILE | list | show TYPE}: runs a Compysition-style flow in the
 * foreground (log records as lines on stderr; a clean stop on Ctrl-C or SIGTERM; the command
 * ends when a flow of finite inputs has drained), lists the module types, and documents one.
 */
@Command(
        name = "flow",
        mixinStandardHelpOptions = true,
        description = "Run a Compysition-style flow in the foreground; list and document module types.",
        subcommands = {FlowCommand.Run.class, FlowCommand.ListTypes.class, FlowCommand.Show.class})
final class FlowCommand implements Runnable {
    @CommandLine.Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "say run FILE, list or show TYPE");
    }

    /** The module types a flow run outside a server may use (sluice.log and sluice.tap refuse to start). */
    static ModuleRegistry registry() {
        return ServerFlows.registry(null, null, null, FlowCommand.class.getClassLoader());
    }

    @Command(
            name = "run",
            mixinStandardHelpOptions = true,
            description = "Run a flow file until it ends or is stopped.")
    static final class Run implements Callable<Integer> {
        @CommandLine.Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE", description = "The flow file (modules:, routingtable:).")
        Path file;

        @Override
        public Integer call() throws Exception {
            FlowDefinition def;
            try {
                def = FlowDefinition.load(file);
            } catch (NoSuchFileException e) {
                throw new InvalidInputException(file + ": no such file");
            }
            PrintWriter err = spec.commandLine().getErr();
            ServerFlows flows = new ServerFlows(
                    List.of(def),
                    registry(),
                    new SimpleMeterRegistry(),
                    line -> {
                        synchronized (err) {
                            err.println(line);
                            err.flush();
                        }
                    },
                    Clock.systemUTC());
            Flow flow = flows.flows().get(0);
            // SIGTERM and Ctrl-C stop the flow cleanly (it drains), and the command then returns
            // as if the flow had ended by itself; a shutdown hook covers any other way out.
            Thread stopper = new Thread(flows::close, "sluice-flow-stop");
            Runtime.getRuntime().addShutdownHook(stopper);
            for (String name : List.of("TERM", "INT")) {
                try {
                    sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> Thread.ofPlatform()
                            .name("sluice-flow-" + name)
                            .start(flows::close));
                } catch (IllegalArgumentException notOnThisPlatform) {
                    // the shutdown hook stops the flow instead
                }
            }
            try {
                flows.start();
                while (!flow.awaitEnd(Duration.ofSeconds(1))) {
                    // runs until its inputs end, or a signal stops it
                }
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(stopper);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running: it stops the flow
                }
            }
            err.println("flow " + flow.name() + " ended: "
                    + (flow.lost() > 0 ? flow.lost() + " events lost" : "nothing lost"));
            flow.modules().forEach((name, m) -> err.println(summary(name, m)));
            err.flush();
            return flow.lost() > 0 ? SluiceCommand.FAILURE : 0;
        }
    }

    /** One module's line in the summary: {@code   name (type): consumed N, submitted M[, errors E, ...]}. */
    private static String summary(String name, Flow.ModuleStats m) {
        StringBuilder line = new StringBuilder("  ")
                .append(name)
                .append(" (")
                .append(m.type())
                .append("): consumed ")
                .append(m.hits())
                .append(", submitted ")
                .append(m.submitted());
        Map<String, Long> problems = new LinkedHashMap<>();
        problems.put("errors", m.errors());
        problems.put("dropped", m.dropped());
        problems.put("discarded", m.discarded());
        problems.put("rejected", m.rejected());
        problems.forEach((what, n) -> {
            if (n > 0) {
                line.append(", ").append(what).append(' ').append(n);
            }
        });
        return line.toString();
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the module types.")
    static final class ListTypes implements Callable<Integer> {
        @CommandLine.Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            for (ModuleType t : registry().types()) {
                out.printf("%-20s %s%n", t.name(), t.spec().summary());
            }
            out.flush();
            return 0;
        }
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "Document a module type: queues and arguments.")
    static final class Show implements Callable<Integer> {
        @CommandLine.Spec
        CommandSpec spec;

        @Parameters(paramLabel = "TYPE", description = "A module type, such as fanout or wishbone.flow.fanout.")
        String type;

        @Override
        public Integer call() throws IOException {
            ModuleType t = registry().lookup(type);
            if (t == null) {
                throw new InvalidInputException("no module type '" + type + "' (see sluice flow list)");
            }
            PrintWriter out = spec.commandLine().getOut();
            out.print(markdown(t));
            out.flush();
            return 0;
        }
    }

    /** A module type's documentation, as docs/flows.md lists it. */
    static String markdown(ModuleType t) {
        Spec s = t.spec();
        StringBuilder b = new StringBuilder("### `")
                .append(t.name())
                .append("`\n\n")
                .append(s.summary())
                .append("\n\n");
        b.append("Incoming: ").append(queues(t.inboxes())).append(". Outgoing: ");
        b.append(t.outboxes().isEmpty() ? "`errors`" : queues(t.outboxes()) + ", `errors`")
                .append(".\n\n");
        b.append(s.markdown()).append('\n');
        return b.toString();
    }

    private static String queues(List<String> names) {
        if (names.equals(ModuleType.ANY)) {
            return "any name";
        }
        if (names.isEmpty()) {
            return "none";
        }
        return String.join(", ", names.stream().map(n -> "`" + n + "`").toList());
    }
}
