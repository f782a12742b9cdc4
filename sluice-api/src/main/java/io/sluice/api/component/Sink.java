package io.sluice.api.component;

import java.util.List;

/**
 * Where messages go: an AMQP broker, a webhook, a file. A sink only connects and writes; the
 * framework around it owns ordering, retries with backoff, reconnects, dead letters, the
 * checkpoint and the metrics, so every sink behaves the same way.
 *
 * <p>One thread uses a sink at a time.
 */
public interface Sink extends AutoCloseable {
    /** Connects, or connects again after a failure. */
    void open() throws Exception;

    /**
     * Delivers messages, in order, and returns once the destination has them (for a broker:
     * confirmed).
     *
     * @return the messages the destination refused, each with the reason (an HTTP 400, a
     *     rejected publish); empty when all were delivered
     * @throws Exception when the destination cannot be reached or failed as a whole; nothing
     *     counts as delivered then and the framework reconnects with {@link #open} after a backoff
     */
    List<Refusal> send(List<Message> messages) throws Exception;

    /** Releases the connection; the sink may be opened again. */
    @Override
    void close();

    /**
     * A message the destination did not take.
     *
     * @param index its position in the list given to {@link #send}
     * @param reason what the destination said
     * @param counts whether this counts as an attempt (a refusal of this message, such as an
     *     HTTP 400); false when it was not tried because the destination failed as a whole (an
     *     HTTP 503 for an earlier message): retried after a backoff, however long it takes
     */
    record Refusal(int index, String reason, boolean counts) {
        /** A refusal of this message: counts as an attempt. */
        public Refusal(int index, String reason) {
            this(index, reason, true);
        }
    }
}
