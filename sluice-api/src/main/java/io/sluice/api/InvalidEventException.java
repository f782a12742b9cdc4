package io.sluice.api;

/** An event that Sluice refuses to accept; the message names the offending field. */
public class InvalidEventException extends IllegalArgumentException {
    private final String field;

    public InvalidEventException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The envelope field or JSON path at fault, or {@code null} when the document as a whole is. */
    public String field() {
        return field;
    }
}
