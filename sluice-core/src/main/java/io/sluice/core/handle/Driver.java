package io.sluice.core.handle;

import io.sluice.api.handler.Invocation;

/**
 * How a handler runs for one event: a shell command, a Java class, an HTTP call. A driver is
 * called from several threads at once when the handler's concurrency allows it.
 */
interface Driver extends AutoCloseable {
    /** The drivers, as {@code driver:} names them. */
    enum Kind {
        SHELL,
        JAVA,
        HTTP
    }

    /**
     * Runs once; failures are outcomes, not exceptions.
     *
     * @throws InterruptedException when the server is stopping (a process is killed first)
     */
    Outcome run(Invocation invocation) throws InterruptedException;

    @Override
    default void close() {}

    /**
     * What one run came to.
     *
     * @param status ok, failed or timeout
     * @param code the exit code (shell), the HTTP status (http), or null
     * @param output what the run printed or returned (truncated)
     * @param error what it printed on stderr, or the failure (truncated)
     */
    record Outcome(Status status, Integer code, String output, String error) {
        boolean ok() {
            return status == Status.OK;
        }

        /** One line for a dead letter's last error. */
        String summary() {
            String s = status.name().toLowerCase(java.util.Locale.ROOT) + (code == null ? "" : " (code " + code + ")");
            return error == null || error.isBlank() ? s : s + ": " + error.strip();
        }
    }

    /** A run's result. */
    enum Status {
        OK,
        FAILED,
        TIMEOUT
    }
}
