package io.sluice.server.cli;

/** Input that the user must fix (exit code 2); the message names what is wrong and where. */
public class InvalidInputException extends RuntimeException {
    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
