package io.sluice.api.flow;

/**
 * A flow module: consumes events from its incoming queues and submits events to its outgoing
 * queues through its {@link ModuleContext}; it never calls another module.
 *
 * <p>The flow calls one method of a module at a time (consumption from several incoming
 * queues, timers and {@link #close} are serialised), so a module needs no locking of its own.
 * Throwing from {@link #consume} sends the event, with the error in its header, to the
 * module's {@code errors} queue when one is connected; otherwise the event is tried again
 * ({@code max_rescue} times, with backoff) and then dropped, logged and counted.
 */
public interface Module {
    /** Called once before any event arrives; may start timers ({@link ModuleContext#every}). */
    default void start(ModuleContext context) throws Exception {}

    /**
     * Handles one event.
     *
     * @param event the event
     * @param queue the name of the incoming queue it came from ({@code inbox} for most)
     * @param context to submit events, log, ask what is connected
     * @throws Exception to fail this event
     */
    void consume(FlowEvent event, String queue, ModuleContext context) throws Exception;

    /**
     * Called once on a stop, after every incoming queue has drained; may still submit (a buffer
     * flushes). Releases resources.
     */
    default void close(ModuleContext context) throws Exception {}
}
