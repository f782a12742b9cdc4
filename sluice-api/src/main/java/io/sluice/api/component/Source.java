package io.sluice.api.component;

import java.time.Duration;
import java.util.List;

/**
 * Where messages come from: an AMQP queue, a socket, a file. A source only connects, reads
 * and settles; the framework around it decodes the bodies, appends the events to the log,
 * acknowledges only once they are durable, rejects what is malformed, reconnects with backoff
 * and keeps the metrics, so every source behaves the same way.
 *
 * <p>One thread uses a source at a time.
 */
public interface Source extends AutoCloseable {
    /** Connects, or connects again after a failure. */
    void open() throws Exception;

    /**
     * The next messages, at most {@code max}, waiting up to {@code timeout} for the first.
     *
     * @return what arrived, possibly nothing
     * @throws Exception when the connection failed; the framework closes, backs off and opens again
     */
    List<Received> poll(int max, Duration timeout) throws Exception;

    /** Acknowledges messages: their content is durable, the source may forget them. */
    void ack(List<Received> messages) throws Exception;

    /** Refuses a message for good (malformed): it must not come again (a broker dead-letters it). */
    void reject(Received message, String reason) throws Exception;

    /**
     * What is wrong with a message before its body is even read (several frames where one is
     * expected, too large), or null: the framework rejects it with that reason.
     */
    default String problem(Received message) {
        return null;
    }

    /** Whether the source has nothing more to give, ever (a file read to its end). */
    default boolean finished() {
        return false;
    }

    /** Releases the connection; the source may be opened again. */
    @Override
    void close();

    /**
     * A message read from a source.
     *
     * @param body its bytes
     * @param handle what the source needs to settle it (a delivery tag)
     * @param redelivered whether the source says it may have been delivered before
     */
    record Received(byte[] body, long handle, boolean redelivered) {}
}
