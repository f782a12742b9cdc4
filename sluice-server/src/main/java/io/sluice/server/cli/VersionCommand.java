package io.sluice.server.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code sluice version}: prints the version. */
@Command(name = "version", mixinStandardHelpOptions = true, description = "Print the version of Sluice.")
final class VersionCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().getOut().println("sluice " + SluiceCommand.version());
        spec.commandLine().getOut().flush();
    }
}
