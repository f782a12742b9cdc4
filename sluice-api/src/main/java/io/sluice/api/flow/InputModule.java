package io.sluice.api.flow;

/**
 * A module that produces events from outside the flow (a file, a broker, a timer): it has no
 * incoming queues, and {@link #run} submits what it reads. {@link ModuleContext#submit} blocks
 * while the next queue is full, so a slow flow slows the reading (backpressure).
 */
public interface InputModule extends Module {
    /**
     * Produces events until there are no more (a file read to its end: the flow ends once
     * drained) or until {@link ModuleContext#running()} turns false (a stop). Throwing is logged
     * and the flow calls {@code run} again after a backoff, while it is running.
     */
    void run(ModuleContext context) throws Exception;

    /** Input modules have no incoming queue. */
    @Override
    default void consume(FlowEvent event, String queue, ModuleContext context) {
        throw new UnsupportedOperationException("an input module has no incoming queue");
    }
}
