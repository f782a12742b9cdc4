package io.sluice.core.connect;

import io.sluice.api.component.Field;
import io.sluice.api.component.Settings;
import io.sluice.api.component.Spec;
import io.sluice.core.deliver.Deliverer;
import java.time.Duration;

/** The framework's settings of every output ({@link Spec#framework}): how hard it tries, how it batches. */
public final class OutputFields {
    private OutputFields() {}

    public static final Field MAX_ATTEMPTS = Spec.MAX_ATTEMPTS;
    public static final Field BACKOFF = Spec.BACKOFF;
    public static final Field MAX_BACKOFF = Spec.MAX_BACKOFF;
    public static final Field LINGER = Spec.LINGER;

    /** How long a round of routing waits for more events when few have come. */
    public static Duration linger(Settings s) {
        Duration d = s.duration(LINGER.name());
        if (d.isNegative() || d.compareTo(Duration.ofSeconds(1)) > 0) {
            throw s.invalid(LINGER.name(), "must be from 0 to 1s, not " + d.toMillis() + "ms");
        }
        return d;
    }

    /** The delivery policy the settings give. */
    public static Deliverer.Policy policy(Settings s) {
        long attempts = s.integer(MAX_ATTEMPTS.name());
        if (attempts < 1 || attempts > 1_000) {
            throw s.invalid(MAX_ATTEMPTS.name(), "must be from 1 to 1000, not " + attempts);
        }
        Duration backoff = s.duration(BACKOFF.name());
        Duration max = s.duration(MAX_BACKOFF.name());
        if (max.compareTo(backoff) < 0) {
            throw s.invalid(MAX_BACKOFF.name(), "must not be shorter than backoff (" + backoff + ")");
        }
        return new Deliverer.Policy((int) attempts, backoff, max);
    }
}
