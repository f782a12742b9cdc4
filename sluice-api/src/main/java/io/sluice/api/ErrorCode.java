package io.sluice.api;

/**
 * The catalogue of error codes the HTTP API answers with (in {@code {"error": "...", "code": "..."}})
 * and the client library reports. Each code has one HTTP status.
 */
public enum ErrorCode {
    /** The request's body or parameters are not valid: the message names what and where. */
    INVALID_REQUEST(400),
    /** An event in the request is invalid; nothing of the request was stored. */
    INVALID_EVENT(400),
    /** A query (filter) is invalid: the message names the operator and path. */
    INVALID_QUERY(400),
    /** No such resource (event id, consumer, query). */
    NOT_FOUND(404),
    /** The request contradicts the resource's definition (a consumer created with another filter). */
    CONFLICT(409),
    /** The requested offsets are no longer retained; {@code detail.earliest} is the first retained offset. */
    OFFSET_OUT_OF_RANGE(410),
    /** The body, an event, or the number of events exceeds a configured limit. */
    TOO_LARGE(413),
    /** The content type is not one the endpoint accepts. */
    UNSUPPORTED_MEDIA_TYPE(415),
    /** The server is shutting down or overloaded; retry later. */
    UNAVAILABLE(503),
    /** An unexpected failure inside the server; see its log. */
    INTERNAL(500);

    private final int status;

    ErrorCode(int status) {
        this.status = status;
    }

    /** The HTTP status that goes with the code. */
    public int status() {
        return status;
    }

    /** The code as it appears in JSON: lower case. */
    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
