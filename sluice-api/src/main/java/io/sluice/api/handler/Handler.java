package io.sluice.api.handler;

/**
 * A handler written in Java ({@code driver: java}): Sluice calls {@link #handle} once per event
 * the handler is defined for. The class needs a public no-argument constructor; it is loaded
 * from the classpath or from a jar in the server's {@code plugins_dir}.
 *
 * <p>Returning normally is success, and the returned text (may be null) is recorded as the
 * run's output. Throwing is failure: the exception's message is recorded, and the event is tried
 * again with backoff up to the handler's {@code max_attempts}, then parked as a dead letter.
 * Delivery is at least once, so a handler should tolerate seeing an event twice (
 * {@link Invocation#eventId()} identifies it).
 *
 * <p>Unless the handler is {@code exclusive}, up to {@code concurrency} calls run at once on
 * different threads: an implementation must then be thread-safe.
 */
public interface Handler extends AutoCloseable {
    /**
     * Handles one event.
     *
     * @return the run's output, recorded with it; may be null
     * @throws Exception to fail the run
     */
    String handle(Invocation invocation) throws Exception;

    /** Called once when the handler is removed or the server stops. */
    @Override
    default void close() {}
}
