package io.sluice.api.component;

import java.util.Objects;

/**
 * One setting of a component, declared once: its name, type, default, whether it is required
 * or secret, and what it means. {@link Spec} reads configurations, checks them and documents
 * the component from these declarations alone.
 *
 * @param name the key in the configuration
 * @param type what values it takes
 * @param defaultValue the value when the key is absent, as written in a configuration (null: none)
 * @param required whether the key must be given
 * @param secret whether the value must never be logged or shown (passwords, tokens)
 * @param description what it means, for the documentation
 */
public record Field(String name, Type type, Object defaultValue, boolean required, boolean secret, String description) {
    /** The types of settings. */
    public enum Type {
        STRING,
        BOOLEAN,
        INTEGER,
        /** A duration such as {@code 250ms}, {@code 30s}, {@code 5m} or ISO-8601 {@code PT1H}. */
        DURATION,
        /** A size in bytes such as {@code 1048576}, {@code 512KB} or {@code 2GiB}. */
        SIZE,
        /** A mapping of strings to strings. */
        STRING_MAP,
        /** Any JSON/YAML value, checked by the component itself. */
        ANY
    }

    public Field {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(description, "description");
    }

    /** An optional setting with a default (null: none). */
    public static Field optional(String name, Type type, Object defaultValue, String description) {
        return new Field(name, type, defaultValue, false, false, description);
    }

    /** A setting that must be given. */
    public static Field required(String name, Type type, String description) {
        return new Field(name, type, null, true, false, description);
    }

    /** The same setting, marked secret. */
    public Field asSecret() {
        return new Field(name, type, defaultValue, required, true, description);
    }
}
