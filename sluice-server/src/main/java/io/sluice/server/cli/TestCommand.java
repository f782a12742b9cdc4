package io.sluice.server.cli;

import io.sluice.server.check.DefinitionTests;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sluice test FILE ...}: runs definition tests (fixture events, a simulated clock,
 * expected streams, events and matches; see {@link DefinitionTests}). Prints each case passed or
 * failed with what differed; exits 0 when all passed, 1 when one failed, 2 for a malformed file.
 */
@Command(
        name = "test",
        mixinStandardHelpOptions = true,
        description =
                "Run definition tests: fixture events on a simulated clock, expected streams, events and matches.")
final class TestCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Test files.")
    List<Path> files;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int failed = 0;
        int passed = 0;
        for (Path f : files) {
            DefinitionTests tests;
            try {
                tests = new DefinitionTests(f);
            } catch (NoSuchFileException e) {
                throw new InvalidInputException(f + ": no such file");
            }
            for (DefinitionTests.Result r : tests.run()) {
                if (r.passed()) {
                    passed++;
                    out.println("PASS " + f.getFileName() + ": " + r.name());
                } else {
                    failed++;
                    out.println("FAIL " + f.getFileName() + ": " + r.name());
                    r.differences().forEach(d -> out.println("  " + d));
                }
            }
        }
        out.println(passed + " passed, " + failed + " failed");
        out.flush();
        return failed == 0 ? 0 : SluiceCommand.FAILURE;
    }
}
