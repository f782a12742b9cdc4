package io.sluice.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.ErrorCode;

/** An error answered as {@code {"error": message, "code": code, "detail": detail}} with the code's status. */
public class ApiException extends RuntimeException {
    private final ErrorCode code;
    private final JsonNode detail;

    public ApiException(ErrorCode code, String message) {
        this(code, message, null);
    }

    public ApiException(ErrorCode code, String message, JsonNode detail) {
        super(message);
        this.code = code;
        this.detail = detail;
    }

    public ErrorCode code() {
        return code;
    }

    public JsonNode detail() {
        return detail;
    }
}
