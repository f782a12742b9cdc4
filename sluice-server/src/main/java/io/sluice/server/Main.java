package io.sluice.server;

import io.sluice.server.cli.SluiceCommand;

/** Entry point of the {@code sluice} command; see {@link SluiceCommand} for the commands. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(SluiceCommand.run(args));
    }
}
