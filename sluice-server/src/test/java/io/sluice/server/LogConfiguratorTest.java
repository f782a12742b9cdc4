package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.ConsoleAppender;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class LogConfiguratorTest {
    @Test
    void logsGoToStderrWithTheLibrariesQuiet() {
        LoggerContext context = new LoggerContext();
        assertThat(new LogConfigurator().configure(context))
                .isEqualTo(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.toLevel(System.getenv("SLUICE_LOG_LEVEL"), Level.INFO));
        assertThat(root.getAppender("STDERR")).isInstanceOfSatisfying(ConsoleAppender.class, stderr -> {
            assertThat(stderr.getTarget()).isEqualTo("System.err");
            assertThat(stderr.isStarted()).isTrue();
        });
        assertThat(context.getLogger("org.eclipse.jetty.server.Server").getEffectiveLevel())
                .isEqualTo(Level.WARN);
        assertThat(context.getLogger("io.sluice.server.SluiceServer").getEffectiveLevel())
                .isEqualTo(root.getLevel());
    }

    @Test
    void logbackFindsIt() {
        assertThat(ServiceLoader.load(Configurator.class).stream().map(ServiceLoader.Provider::type))
                .contains(LogConfigurator.class);
    }
}
