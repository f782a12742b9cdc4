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
    void logsGoToStderrAtInfoWithTheLibrariesQuiet() {
        LoggerContext context = new LoggerContext();
        assertThat(new LogConfigurator().configure(context, null))
                .isEqualTo(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.INFO);
        assertThat(root.getAppender("STDERR")).isInstanceOfSatisfying(ConsoleAppender.class, stderr -> {
            assertThat(stderr.getTarget()).isEqualTo("System.err");
            assertThat(stderr.isStarted()).isTrue();
        });
        assertThat(context.getLogger("org.eclipse.jetty.server.Server").getEffectiveLevel())
                .isEqualTo(Level.WARN);
        assertThat(context.getLogger("io.sluice.server.SluiceServer").getEffectiveLevel())
                .isEqualTo(Level.INFO);
    }

    @Test
    void sluiceLogLevelSetsTheLevelAndAnUnknownNameKeepsInfo() {
        LoggerContext debug = new LoggerContext();
        new LogConfigurator().configure(debug, "debug");
        assertThat(debug.getLogger("io.sluice.server.SluiceServer").getEffectiveLevel())
                .isEqualTo(Level.DEBUG);
        assertThat(debug.getLogger("org.eclipse.jetty.server.Server").getEffectiveLevel())
                .as("the libraries stay quiet")
                .isEqualTo(Level.WARN);

        LoggerContext unknown = new LoggerContext();
        new LogConfigurator().configure(unknown, "chatty");
        assertThat(unknown.getLogger(Logger.ROOT_LOGGER_NAME).getLevel()).isEqualTo(Level.INFO);
    }

    @Test
    void logbackFindsIt() {
        assertThat(ServiceLoader.load(Configurator.class).stream().map(ServiceLoader.Provider::type))
                .contains(LogConfigurator.class);
    }
}
