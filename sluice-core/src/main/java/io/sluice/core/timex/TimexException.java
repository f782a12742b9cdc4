package io.sluice.core.timex;

/** A time expression that cannot be parsed, or cannot be evaluated (an unknown variable). */
public final class TimexException extends RuntimeException {
    public TimexException(String message) {
        super(message);
    }
}
