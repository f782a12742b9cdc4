package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.component.Settings;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How the pipeline workers of one server run the streams that are due: Winchester's {@code
 * pipeline_worker_batch_size} and {@code pipeline_worker_delay}, and Sluice's {@code sluice:
 * {pipeline_workers, retry}}.
 *
 * @param threads pipeline threads in each server ({@code sluice.pipeline_workers}, default 1)
 * @param batch streams one worker claims at a time ({@code pipeline_worker_batch_size}, default 100)
 * @param delay how often a worker with nothing to do looks for due streams other servers made
 *     due ({@code pipeline_worker_delay}, default 1 s; its own server wakes it at once)
 * @param retry automatic retry of streams whose pipeline failed, or null (Winchester's manual
 *     retry only)
 */
public record WorkerSettings(int threads, int batch, Duration delay, Retry retry) {
    /** One thread, 100 streams per claim, a look every second, no automatic retry. */
    public static final WorkerSettings DEFAULT = new WorkerSettings(1, 100, Duration.ofSeconds(1), null);

    /**
     * {@code sluice: {retry: {attempts, backoff, max_backoff}}}: a stream in {@code error} or
     * {@code expire_error} runs its pipeline again after {@code backoff}, doubled after every
     * further failure up to {@code max_backoff}, until it has run {@code attempts} times in all.
     */
    public record Retry(int attempts, Duration backoff, Duration maxBackoff) {
        /** When the stream that has just failed its {@code attempts}th run runs again; null: never. */
        java.time.Instant next(int attempts, java.time.Instant now) {
            if (attempts >= this.attempts) {
                return null;
            }
            Duration wait = backoff;
            for (int i = 1; i < attempts && wait.compareTo(maxBackoff) < 0; i++) {
                wait = wait.multipliedBy(2);
            }
            return now.plus(wait.compareTo(maxBackoff) > 0 ? maxBackoff : wait);
        }
    }

    static WorkerSettings of(JsonNode root, JsonNode sluice, Path file) {
        int threads = DEFAULT.threads;
        Retry retry = null;
        if (sluice != null && sluice.isObject()) {
            JsonNode t = sluice.get("pipeline_workers");
            if (t != null) {
                if (!t.canConvertToInt() || t.asInt() < 1) {
                    throw new DefinitionException(
                            file + ": sluice.pipeline_workers: must be a whole number of at least 1");
                }
                threads = t.asInt();
            }
            JsonNode r = sluice.get("retry");
            if (r != null && !r.isNull()) {
                retry = retry(r, file);
            }
        }
        int batch = DEFAULT.batch;
        JsonNode b = root.get("pipeline_worker_batch_size");
        if (b != null) {
            if (!b.canConvertToInt() || b.asInt() < 1) {
                throw new DefinitionException(
                        file + ": pipeline_worker_batch_size: must be a whole number of at least 1");
            }
            batch = b.asInt();
        }
        Duration delay = DEFAULT.delay;
        JsonNode d = root.get("pipeline_worker_delay");
        if (d != null) {
            delay = duration(d, file, "pipeline_worker_delay");
            if (delay.isZero() || delay.isNegative()) {
                throw new DefinitionException(file + ": pipeline_worker_delay: must be more than 0");
            }
        }
        return new WorkerSettings(threads, batch, delay, retry);
    }

    private static Retry retry(JsonNode r, Path file) {
        if (!r.isObject()) {
            throw new DefinitionException(file + ": sluice.retry: must be a mapping (attempts, backoff, max_backoff)");
        }
        for (var it = r.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!key.equals("attempts") && !key.equals("backoff") && !key.equals("max_backoff")) {
                throw new DefinitionException(
                        file + ": sluice.retry." + key + ": unknown setting (known: attempts, backoff, max_backoff)");
            }
        }
        JsonNode a = r.get("attempts");
        if (a == null || !a.canConvertToInt() || a.asInt() < 2) {
            throw new DefinitionException(file + ": sluice.retry.attempts: the runs in all, first one included:"
                    + " a whole number of at least 2");
        }
        Duration backoff =
                r.has("backoff") ? duration(r.get("backoff"), file, "sluice.retry.backoff") : Duration.ofSeconds(30);
        Duration max = r.has("max_backoff")
                ? duration(r.get("max_backoff"), file, "sluice.retry.max_backoff")
                : Duration.ofHours(1);
        if (backoff.isNegative() || backoff.isZero() || max.compareTo(backoff) < 0) {
            throw new DefinitionException(file + ": sluice.retry: backoff must be more than 0 and at most max_backoff");
        }
        return new Retry(a.asInt(), backoff, max);
    }

    private static Duration duration(JsonNode v, Path file, String key) {
        try {
            return v.isNumber()
                    ? Duration.ofMillis(Math.round(v.asDouble() * 1000))
                    : Settings.parseDuration(v.asText());
        } catch (IllegalArgumentException e) {
            throw new DefinitionException(file + ": " + key + ": " + e.getMessage());
        }
    }
}
