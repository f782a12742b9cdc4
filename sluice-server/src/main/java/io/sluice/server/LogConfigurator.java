package io.sluice.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.List;

/**
 * Sluice's logging set-up, in code rather than a {@code logback.xml} (reading XML cost every
 * start a third of a second): logs go to stderr, as stdout belongs to command output (NDJSON);
 * the level is {@code SLUICE_LOG_LEVEL} (default INFO); Jetty, Javalin and HikariCP log only
 * warnings. A file named by {@code -Dlogback.configurationFile=...} replaces all of this.
 * Found by logback through {@code META-INF/services}.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{20} - %msg%n";

    private static final List<String> QUIET = List.of("org.eclipse.jetty", "com.zaxxer.hikari", "io.javalin");

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        return configure(context, System.getenv("SLUICE_LOG_LEVEL"));
    }

    /** As logback calls it, with the level's name as {@code SLUICE_LOG_LEVEL} would give it (null: INFO). */
    ExecutionStatus configure(LoggerContext context, String levelName) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY; // logback's own configurator reads the user's file
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(levelName, Level.INFO));
        root.addAppender(stderr);
        for (String name : QUIET) {
            context.getLogger(name).setLevel(Level.WARN);
        }
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
