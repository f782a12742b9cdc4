package io.sluice.server.config;

/** A configuration Sluice cannot run with; the message names the file and the key path. */
public class ConfigException extends IllegalArgumentException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
