package io.sluice.core.flow;

/** A flow file that cannot run: the message names the file, line, and the module, route or argument. */
public final class FlowException extends IllegalArgumentException {
    public FlowException(String message) {
        super(message);
    }
}
