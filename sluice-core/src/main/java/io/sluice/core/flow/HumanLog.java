package io.sluice.core.flow;

import com.fasterxml.jackson.databind.JsonNode;

/** Log records as people read them: {@code 2026-12-04T10:00:00.123Z [warning] flow/module: message}. */
public final class HumanLog {
    private static final String[] LEVELS = {
        "emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"
    };

    private HumanLog() {}

    /** The syslog name of a level (0-7). */
    public static String levelName(int level) {
        return level >= 0 && level < LEVELS.length ? LEVELS[level] : "level" + level;
    }

    /** One line for a log record's data ({@code time}, {@code level}, {@code module}, {@code message}). */
    public static String format(JsonNode record) {
        StringBuilder b = new StringBuilder();
        b.append(record.path("time").asText())
                .append(" [")
                .append(levelName(record.path("level").asInt(6)))
                .append("] ");
        if (record.hasNonNull("flow")) {
            b.append(record.get("flow").asText()).append('/');
        }
        return b.append(record.path("module").asText())
                .append(": ")
                .append(record.path("message").asText())
                .toString();
    }
}
