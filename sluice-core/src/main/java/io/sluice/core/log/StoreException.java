package io.sluice.core.log;

/** The store failed (I/O, database); the operation did not take effect. */
public class StoreException extends RuntimeException {
    public StoreException(String message) {
        super(message);
    }

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
