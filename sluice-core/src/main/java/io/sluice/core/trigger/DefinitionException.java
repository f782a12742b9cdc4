package io.sluice.core.trigger;

/** A trigger, pipeline or Winchester configuration that cannot be used; the message names file, trigger and field. */
public final class DefinitionException extends RuntimeException {
    public DefinitionException(String message) {
        super(message);
    }
}
