package io.sluice.api.pipeline;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/**
 * One step of a trigger pipeline (Winchester's pipeline handler): when a stream fires or
 * expires, each handler of its pipeline gets the stream's events, sorted by timestamp, and
 * returns the list the next handler gets. If every handler returns, each one's {@link #commit}
 * is called and the events of the final list that were not in the stream (new
 * {@code message_id}s) are appended to the log; if one throws, each one's {@link #rollback} is
 * called instead and the stream goes to an error state (it can be retried).
 *
 * <p>A fresh instance is made for every run, from a public constructor taking the handler's
 * {@code params} ({@code PipelineHandler(JsonNode params)}) or, without params, a public
 * no-argument constructor. Side effects belong in {@code commit}: it runs only once the whole
 * pipeline succeeded.
 */
public interface PipelineHandler {
    /**
     * Handles a stream's events.
     *
     * @param events the events (flat JSON documents as stored), oldest first; may be changed
     * @param env shared by the pipeline's handlers for this run: {@code stream_id},
     *     {@code stream_name} (the trigger), and whatever handlers put there
     * @return the events for the next handler
     */
    List<ObjectNode> handleEvents(List<ObjectNode> events, Map<String, Object> env) throws Exception;

    /** The whole pipeline succeeded: make the side effects. */
    default void commit() throws Exception {}

    /** A handler failed: undo what was prepared. */
    default void rollback() throws Exception {}
}
