package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * A trigger's stream: the events collected for one set of distinguishing values, and where it
 * is in its life. Mutable, owned by the engine's thread; {@link #toJson} is the API's view.
 */
public final class Stream {
    /** Winchester's stream states. */
    public enum State {
        ACTIVE,
        FIRING,
        EXPIRING,
        ERROR,
        EXPIRE_ERROR,
        COMPLETED,
        RETRY_FIRE,
        RETRY_EXPIRE;

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        public static State of(String name) {
            return valueOf(name.toUpperCase(java.util.Locale.ROOT));
        }
    }

    final long id;
    final String trigger;
    final ObjectNode distinguishedBy;
    final String key;
    State state = State.ACTIVE;
    LocalDateTime first;
    LocalDateTime last;
    LocalDateTime expireAt;
    LocalDateTime fireAt;
    int[] fireCounts;
    final List<Long> offsets = new ArrayList<>();
    String lastError;
    int attempts;
    boolean dirty = true;
    /** The server whose pipeline worker runs the stream now (a claim), or null. */
    String claimedBy;
    /** The server that last ran the stream's pipeline, or null. */
    String ranBy;
    /** With automatic retry, when a stream in error runs again; null: not scheduled. */
    java.time.Instant retryAt;

    Stream(long id, String trigger, ObjectNode distinguishedBy, String key, int fireCriteria) {
        this.id = id;
        this.trigger = trigger;
        this.distinguishedBy = distinguishedBy;
        this.key = key;
        this.fireCounts = new int[fireCriteria];
    }

    public long id() {
        return id;
    }

    public String trigger() {
        return trigger;
    }

    public State state() {
        return state;
    }

    public List<Long> offsets() {
        return offsets;
    }

    public ObjectNode distinguishedBy() {
        return distinguishedBy;
    }

    /** The API's JSON form (without the events). */
    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("id", id);
        o.put("trigger", trigger);
        o.put("state", state.wireName());
        o.set("distinguishing_traits", distinguishedBy);
        o.put("first_event", text(first));
        o.put("last_event", text(last));
        o.put("expire_timestamp", text(expireAt));
        o.put("fire_timestamp", text(fireAt));
        o.put("events", offsets.size());
        ArrayNode counts = o.putArray("fire_counts");
        for (int c : fireCounts) {
            counts.add(c);
        }
        if (lastError != null) {
            o.put("last_error", lastError);
        }
        o.put("attempts", attempts);
        if (claimedBy != null) {
            o.put("claimed_by", claimedBy);
        }
        if (ranBy != null) {
            o.put(fireAt == null ? "expired_by" : "fired_by", ranBy); // a stream fires once ready, else expires
        }
        if (retryAt != null) {
            o.put("retry_at", retryAt.toString());
        }
        return o;
    }

    static String text(LocalDateTime t) {
        return t == null ? null : t + "Z";
    }
}
