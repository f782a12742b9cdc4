package io.sluice.api.flow;

import java.time.Duration;
import java.util.List;

/** What a module may do: submit events, log, schedule, and ask about its queues. */
public interface ModuleContext {
    /** Syslog levels of {@link #log}: 0 emergency ... 3 error, 4 warning, 6 informational, 7 debug. */
    int ERROR = 3;

    /** Warning. */
    int WARNING = 4;

    /** Informational. */
    int INFO = 6;

    /** Debug. */
    int DEBUG = 7;

    /** The module's name in its flow. */
    String name();

    /** The flow's name. */
    String flow();

    /**
     * Submits an event to one of the module's outgoing queues, waiting while that queue is full.
     * An event submitted to a queue that is connected to nothing is discarded (and counted).
     *
     * @throws InterruptedException when the flow is stopped for good while waiting
     */
    void submit(FlowEvent event, String queue) throws InterruptedException;

    /** Submits to {@code outbox}. */
    default void submit(FlowEvent event) throws InterruptedException {
        submit(event, "outbox");
    }

    /** The names of the outgoing queues connected to another module, in routing-table order ({@code errors} aside). */
    List<String> outgoing();

    /** Whether that outgoing queue is connected. */
    boolean connected(String queue);

    /** How many events wait in the module's incoming queues (0: a good moment to flush). */
    int backlog();

    /** Whether the flow is running; false once a stop began (input modules then return). */
    boolean running();

    /**
     * Waits up to {@code timeout} for a stop to begin (an input module between reads, or pacing
     * itself); returns whether one has.
     */
    boolean awaitStop(Duration timeout) throws InterruptedException;

    /**
     * Says that something read at the flow's edge (a line, a message) cannot become an event: it
     * is logged as a warning with the reason and counted as rejected.
     */
    void reject(String reason);

    /** Logs a record at a syslog level; records travel to the flow's log module. */
    void log(int level, String message);

    /** Runs {@code task} every {@code period} while the flow runs, never at the same time as the module's other methods. */
    void every(Duration period, Task task);

    /** A timer's work. */
    @FunctionalInterface
    interface Task {
        void run() throws Exception;
    }
}
