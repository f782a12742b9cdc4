package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.server.config.ServerConfig;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The programs under examples/ compile against the client library and do what they say. */
class ExamplesTest {
    private static final Path EXAMPLES =
            Path.of("..", "examples", "java").toAbsolutePath().normalize();

    @TempDir
    Path work;

    @Test
    void thePyMonsterTourLogsAndConsumesEveryEvent() throws Exception {
        Path classes = work.resolve("classes");
        int compiled = ToolProvider.getSystemJavaCompiler()
                .run(
                        null,
                        null,
                        null,
                        "-d",
                        classes.toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        EXAMPLES.resolve("PyMonsterTour.java").toString());
        assertThat(compiled).isZero();

        try (SluiceServer server =
                SluiceServer.start(ServerConfig.defaults(work.resolve("data")).withPort(0))) {
            Process tour = new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-cp",
                            classes + File.pathSeparator + System.getProperty("java.class.path"),
                            "PyMonsterTour",
                            server.url())
                    .redirectErrorStream(true)
                    .start();
            String output = new String(tour.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(tour.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(tour.exitValue()).as(output).isZero();
            List<String> lines = output.lines().toList();
            assertThat(lines)
                    .contains(
                            "[Event][events.event_1] a really cool message",
                            "[CustomEventLogger][events.custom_1] logging a really great message",
                            "[Consumer][events.event_1 #1]: a really cool message",
                            "[Consumer][events.user.bought_shirt #2]: gordon bought 2 shirts",
                            "[CustomConsumer][events.custom_1 #3]: logging a really great message",
                            "[Consumer][events.event_1 #42]: Logging event_1 19",
                            "[CustomConsumer][events.custom_1 #43]: Logging custom event 19",
                            "consumed 43 events");
            assertThat(server.log()
                            .store()
                            .checkpoint("consumer:pymonster-tour")
                            .orElseThrow()
                            .offset())
                    .isEqualTo(43);
        }
    }
}
