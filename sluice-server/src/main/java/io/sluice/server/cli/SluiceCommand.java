package io.sluice.server.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The top-level {@code sluice} command: lists the commands and wires exit codes. */
@Command(
        name = "sluice",
        mixinStandardHelpOptions = true,
        versionProvider = SluiceCommand.Version.class,
        description = "Sluice: an event processing server with a durable log and standing queries.",
        subcommands = {
            ServerCommand.class,
            SendCommand.class,
            FindCommand.class,
            TailCommand.class,
            QueriesCommand.class,
            DeadLettersCommand.class,
            HandlersCommand.class,
            StreamsCommand.class,
            DistillCommand.class,
            FlowCommand.class,
            CheckCommand.class,
            TestCommand.class,
            ReplayCommand.class,
            MatchCommand.class,
            BenchCommand.class,
            VersionCommand.class,
            CommandLine.HelpCommand.class
        })
public final class SluiceCommand implements Runnable {
    /** Exit code for a failure at run time. */
    public static final int FAILURE = 1;

    /** Exit code for bad usage or invalid input. */
    public static final int USAGE = 2;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    /** Runs the command line with the process's streams; returns the exit code. */
    public static int run(String... args) {
        return commandLine(
                        new PrintWriter(System.out, false, java.nio.charset.StandardCharsets.UTF_8),
                        new PrintWriter(System.err, true, java.nio.charset.StandardCharsets.UTF_8))
                .execute(args);
    }

    /** The configured command line writing to {@code out} and {@code err}. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new SluiceCommand());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            String command = commandLine.getCommandSpec().qualifiedName();
            if (e instanceof InvalidInputException || e instanceof IllegalArgumentException) {
                err.println(command + ": " + e.getMessage());
                return USAGE;
            }
            err.println(command + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return FAILURE;
        });
        cl.setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? USAGE : FAILURE);
        return cl;
    }

    /** The version, from the build. */
    public static String version() {
        try (InputStream in = SluiceCommand.class.getResourceAsStream("/io/sluice/server/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"sluice " + version()};
        }
    }
}
