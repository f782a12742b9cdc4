package io.sluice.core.log;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Durable storage of the log (SQLite, PostgreSQL). One contract test suite holds every
 * implementation to the same behaviour.
 *
 * <p>Only the {@link EventLog}'s writer calls {@link #append}; reads may come from any thread.
 */
public interface EventStore extends AutoCloseable, MeterBinder {
    /**
     * An event to append: its id, type, and the whole document as JSON text in UTF-8 (what the
     * stores write: made once, where the received bytes are at hand, rather than encoded again
     * by the log's single writer; decoded into a string only for whoever asks).
     */
    record NewEvent(String id, String type, byte[] utf8) {
        /** An event whose document is the JSON text {@code json}. */
        public NewEvent(String id, String type, String json) {
            this(id, type, json.getBytes(StandardCharsets.UTF_8));
        }

        /** The document's JSON text, decoded anew on each call. */
        public String json() {
            return new String(utf8, StandardCharsets.UTF_8);
        }
    }

    /**
     * Appends events in one transaction that is durable when this returns, giving them the
     * next offsets in order. An event whose id is already stored (or earlier in the same batch)
     * is not stored again: its result is the existing offset, marked as a duplicate.
     *
     * @return one result per event, in order
     * @throws StoreException when nothing was stored
     */
    List<Appended> append(List<NewEvent> events);

    /** The result of appending one event. */
    record Appended(long offset, boolean duplicate) {}

    /** The offset of the last committed event, or 0 when the log is empty. */
    long lastOffset();

    /**
     * The offset of the last event committed by any process, read from the database now: on a
     * {@linkplain #shared() shared} store {@link #lastOffset} may lag behind another server's
     * commits by a notification. Every event committed before this call has an offset at most
     * the answer, and every one committed after it a higher one.
     */
    default long committedOffset() {
        return lastOffset();
    }

    /**
     * Whether other processes may append to this store (several servers on one database). The
     * server then learns of committed events by following the store ({@link StoreFollower}),
     * not from its own appends, so that every reader sees every process's events in offset order.
     */
    default boolean shared() {
        return false;
    }

    /**
     * Waits until events after {@code after} are committed, by any process, or the timeout
     * passes; returns the last committed offset then. A store that is not {@linkplain #shared()
     * shared} need not wait: its appends are announced by the log.
     */
    default long awaitAppended(long after, java.time.Duration timeout) throws InterruptedException {
        return lastOffset();
    }

    /** The offset of the first retained event, or {@code lastOffset() + 1} when none is retained. */
    long firstOffset();

    /**
     * Reads committed events with offsets greater than {@code after}, oldest first, up to
     * {@code limit} of those that pass {@code filter}. Scans in chunks, so memory stays
     * constant however many events it passes over.
     *
     * @return the events read and the offset the scan reached (to continue from)
     * @throws OffsetOutOfRangeException when events after {@code after} are no longer retained
     */
    Page read(long after, int limit, Predicate<StoredEvent> filter);

    /**
     * A page of events.
     *
     * @param events what matched
     * @param scannedTo the highest offset examined; continue after it
     */
    record Page(List<StoredEvent> events, long scannedTo) {}

    /** The event with that id, if it is retained. */
    Optional<StoredEvent> byId(String id);

    /** A reader's durable checkpoint, if it has one. */
    Optional<Checkpoint> checkpoint(String reader);

    /** Saves a reader's checkpoint (its offset and optional state as JSON) durably. */
    void saveCheckpoint(String reader, Checkpoint checkpoint);

    /** All readers' checkpoints. */
    List<NamedCheckpoint> checkpoints();

    /** Deletes a reader's checkpoint; returns whether there was one. */
    boolean deleteCheckpoint(String reader);

    /**
     * A reader's progress.
     *
     * @param offset the last offset the reader has processed
     * @param state the reader's own state as JSON, or null
     */
    record Checkpoint(long offset, String state) {}

    /** A checkpoint with its reader's name. */
    record NamedCheckpoint(String reader, Checkpoint checkpoint) {}

    /** Deletes events with offsets up to {@code offset}; returns how many. */
    long deleteThrough(long offset);

    /**
     * Registers the store's own meters, if it has any, in the server's registry (the SQLite
     * store: its checkpoints and WAL). The log's meters are registered by {@link EventLog}.
     */
    @Override
    default void bindTo(MeterRegistry meters) {}

    /** The SQL dialect of the store's database, for readers that keep tables of their own. */
    Dialect dialect();

    /** The SQL dialects Sluice's stores speak. */
    enum Dialect {
        SQLITE,
        POSTGRES
    }

    /**
     * Runs {@code work} in one transaction of the store's database, committed when it returns
     * and rolled back when it throws. For readers that keep tables of their own beside the log
     * (standing queries, dead letters), so that their state and their checkpoint change together.
     *
     * @param what names the work in the error, such as "saving the routes' progress"
     * @throws StoreException when the database fails; nothing of the work is kept then
     */
    <T> T transaction(String what, SqlStoreQueries.SqlWork<T> work);

    /** Statistics for retention and metrics. */
    Stats stats();

    /**
     * @param events retained events
     * @param bytes bytes of their JSON text
     * @param oldestIngestMillis ingest time of the oldest retained event, or 0
     */
    record Stats(long events, long bytes, long oldestIngestMillis) {}

    /** The offset up to which deleting keeps at most {@code keep} events, or 0. */
    long offsetKeeping(long keep);

    /** The offset up to which deleting keeps at most {@code bytes} bytes, or 0. */
    long offsetKeepingBytes(long bytes);

    /** The last offset ingested before {@code millis}, or 0. */
    long lastOffsetIngestedBefore(long millis);

    @Override
    void close();
}
