package io.sluice.core.distill;

/** Event definitions that cannot be used; the message names the file, the definition and the trait. */
public final class DistillerException extends RuntimeException {
    public DistillerException(String message) {
        super(message);
    }
}
