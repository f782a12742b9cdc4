package io.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's tour is true: every {@code $ ./sluice ...} line between the tour markers is run,
 * and what it prints (stdout and stderr) must be the lines shown under it. It must exit 0,
 * unless the prose just before its block says "exit code N".
 */
class ReadmeTourTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern EXIT_CODE = Pattern.compile("exit code (\\d+)");

    @Test
    void everyOfflineTourCommandPrintsWhatTheReadmeShows() throws IOException {
        runSection("<!-- tour:", "<!-- /tour -->", null);
    }

    @Test
    void everyServerTourCommandPrintsWhatTheReadmeShows(@org.junit.jupiter.api.io.TempDir Path data)
            throws IOException {
        try (io.sluice.server.SluiceServer server = io.sluice.server.SluiceServer.start(
                io.sluice.server.config.ServerConfig.defaults(data).withPort(0))) {
            runSection("<!-- tour-server:", "<!-- /tour-server -->", server.url());
        }
    }

    /** Runs the commands of one README section; with a URL, client commands are pointed at it. */
    private static void runSection(String startMarker, String endMarker, String url) throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        int start = readme.indexOf(startMarker);
        int end = readme.indexOf(endMarker);
        assertThat(start).isPositive();
        assertThat(end).isGreaterThan(start);
        List<String[]> commands = new ArrayList<>();
        List<List<String>> outputs = new ArrayList<>();
        List<Integer> exits = new ArrayList<>();
        boolean inBlock = false;
        StringBuilder prose = new StringBuilder();
        int blockExit = 0;
        for (String line : readme.substring(start, end).lines().toList()) {
            if (line.startsWith("```")) {
                inBlock = !inBlock;
                if (inBlock) {
                    Matcher said = EXIT_CODE.matcher(prose);
                    blockExit = said.find() ? Integer.parseInt(said.group(1)) : 0;
                    prose.setLength(0);
                }
                continue;
            }
            if (!inBlock) {
                prose.append(line).append(' ');
                continue;
            }
            if (line.startsWith("$ ./sluice ")) {
                commands.add(words(line.substring("$ ./sluice ".length())));
                outputs.add(new ArrayList<>());
                exits.add(blockExit);
            } else {
                outputs.get(outputs.size() - 1).add(line);
            }
        }
        assertThat(commands).hasSizeGreaterThanOrEqualTo(3);
        for (int i = 0; i < commands.size(); i++) {
            String[] args = commands.get(i);
            if (url != null) {
                List<String> withUrl = new ArrayList<>(List.of(args));
                withUrl.addAll(1, List.of("--url", url));
                args = withUrl.toArray(String[]::new);
            }
            for (int a = 0; a < args.length; a++) {
                if (args[a].startsWith("examples/")) {
                    args[a] = ROOT.resolve(args[a]).toString();
                }
            }
            StringWriter out = new StringWriter();
            PrintWriter both = new PrintWriter(out, true);
            int exit = SluiceCommand.commandLine(both, both).execute(args);
            assertThat(out.toString().lines().toList())
                    .as("output of ./sluice %s", String.join(" ", commands.get(i)))
                    .isEqualTo(outputs.get(i));
            assertThat(exit)
                    .as("exit code of ./sluice %s", String.join(" ", commands.get(i)))
                    .isEqualTo(exits.get(i));
        }
    }

    /** Splits a shell command line into words, honouring single quotes. */
    private static String[] words(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean quoted = false;
        boolean any = false;
        for (char c : line.toCharArray()) {
            if (c == '\'') {
                quoted = !quoted;
                any = true;
            } else if (c == ' ' && !quoted) {
                if (any) {
                    words.add(word.toString());
                    word.setLength(0);
                    any = false;
                }
            } else {
                word.append(c);
                any = true;
            }
        }
        if (any) {
            words.add(word.toString());
        }
        return words.toArray(String[]::new);
    }
}
