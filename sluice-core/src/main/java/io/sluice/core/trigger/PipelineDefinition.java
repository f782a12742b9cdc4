package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * A pipeline of {@code pipelines.yaml}: the handlers a stream's events go through when it fires
 * or expires, in order.
 *
 * @param name the pipeline's name, as triggers' {@code fire_pipeline} / {@code expire_pipeline} give it
 * @param handlers its handlers, each a name of {@code pipeline_handlers} with its {@code params}
 */
public record PipelineDefinition(String name, List<Step> handlers) {
    public PipelineDefinition {
        handlers = List.copyOf(handlers);
    }

    /** One handler of a pipeline: its name and parameters (an empty object when none). */
    public record Step(String name, JsonNode params) {}
}
