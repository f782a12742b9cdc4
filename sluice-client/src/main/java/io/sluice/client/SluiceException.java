package io.sluice.client;

import io.sluice.api.ErrorCode;

/** A request Sluice refused or could not carry out; {@link #code()} is null when the server was unreachable. */
public class SluiceException extends RuntimeException {
    private final ErrorCode code;

    public SluiceException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** The server's error code, or null when no answer came. */
    public ErrorCode code() {
        return code;
    }

    /** Whether trying again later may succeed (the server was unreachable or unavailable). */
    public boolean retryable() {
        return code == null || code == ErrorCode.UNAVAILABLE || code == ErrorCode.INTERNAL;
    }
}
