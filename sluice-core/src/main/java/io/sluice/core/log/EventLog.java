package io.sluice.core.log;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sluice.api.Envelope;
import io.sluice.api.Event;
import io.sluice.api.InvalidEventException;
import io.sluice.api.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The append side of the log, with group commit.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>Producers call {@link #append} from any thread. The documents are validated and their
 * envelope normalised on the caller's thread (so a bad request fails before it is queued,
 * naming the bad event, and stores nothing), then the request joins a bounded queue; a full
 * queue blocks the producer, which is the backpressure. One writer thread takes every request
 * waiting (up to {@code maxBatchEvents} events), appends them all in one store transaction,
 * and only after the store returns — durable — completes each request's future, in order. A
 * failed transaction fails every request in it and nothing of them is stored; the writer goes
 * on with the next.
 *
 * <p>Offsets come from the store inside the transaction, in queue order, so they are
 * strictly increasing and gap-free. After each commit the batch is handed, on the writer
 * thread, to the {@linkplain #subscribe subscribers}: they must only hand it on (to a bounded
 * buffer), never block.
 */
public final class EventLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventLog.class);

    /** Receives every committed batch, in offset order, on the writer thread. */
    @FunctionalInterface
    public interface Subscriber {
        void committed(List<StoredEvent> batch);
    }

    /**
     * What an append stored.
     *
     * @param offsets the offset of each event (for a duplicate, the offset of the stored one)
     * @param ids the id of each event
     * @param duplicates how many events were already stored and not stored again
     */
    public record AppendResult(List<Long> offsets, List<String> ids, int duplicates) {
        public long firstOffset() {
            return offsets.isEmpty() ? 0 : offsets.getFirst();
        }

        public long lastOffset() {
            return offsets.isEmpty() ? 0 : offsets.getLast();
        }
    }

    private record Request(List<EventStore.NewEvent> events, CompletableFuture<AppendResult> result, long enqueued) {}

    private final EventStore store;
    private final Envelope envelope;
    private final Clock clock;
    private final Supplier<String> ids;
    private final int maxBatchEvents;
    private final long maxEventBytes;
    private final BlockingQueue<Request> queue;
    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
    private final Thread writer;
    private final Counter appended;
    private final Counter duplicates;
    private final Timer appendLatency;
    private final DistributionSummary batchSize;
    private final Timer commitTime;
    private volatile boolean closed;

    /**
     * @param store where events are kept
     * @param envelope the names of the id, type and time fields
     * @param clock the ingest clock, for events without a time
     * @param ids the id generator, for events without an id
     * @param meters where the log reports {@code sluice.log.*} metrics
     */
    public EventLog(EventStore store, Envelope envelope, Clock clock, Supplier<String> ids, MeterRegistry meters) {
        this(store, envelope, clock, ids, meters, 1L << 20);
    }

    /** As above, refusing events whose JSON is larger than {@code maxEventBytes}. */
    public EventLog(
            EventStore store,
            Envelope envelope,
            Clock clock,
            Supplier<String> ids,
            MeterRegistry meters,
            long maxEventBytes) {
        this(store, envelope, clock, ids, meters, maxEventBytes, 10_000, 4_096);
    }

    EventLog(
            EventStore store,
            Envelope envelope,
            Clock clock,
            Supplier<String> ids,
            MeterRegistry meters,
            long maxEventBytes,
            int maxBatchEvents,
            int queueCapacity) {
        this.maxEventBytes = maxEventBytes;
        this.store = Objects.requireNonNull(store, "store");
        this.envelope = Objects.requireNonNull(envelope, "envelope");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.ids = Objects.requireNonNull(ids, "ids");
        this.maxBatchEvents = maxBatchEvents;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.appended = Counter.builder("sluice.log.appended")
                .description("events stored")
                .register(meters);
        this.duplicates = Counter.builder("sluice.log.duplicates")
                .description("events acknowledged but not stored again: their id was already stored")
                .register(meters);
        this.appendLatency = Timer.builder("sluice.log.append.latency")
                .description("from a request's arrival at the log to its durable commit")
                .publishPercentileHistogram()
                .register(meters);
        this.batchSize = DistributionSummary.builder("sluice.log.commit.events")
                .description("events per group commit")
                .register(meters);
        this.commitTime = Timer.builder("sluice.log.commit")
                .description("the store's part of a group commit: from handing it the events to their being durable")
                .publishPercentileHistogram()
                .register(meters);
        meters.gauge("sluice.log.last.offset", store, EventStore::lastOffset);
        this.writer = Thread.ofPlatform().name("sluice-log-writer").daemon().start(this::writeLoop);
    }

    /** The store behind the log, for readers. */
    public EventStore store() {
        return store;
    }

    /** The envelope the log reads events with. */
    public Envelope envelope() {
        return envelope;
    }

    /** Adds a subscriber to committed batches. */
    public void subscribe(Subscriber subscriber) {
        subscribers.add(subscriber);
    }

    /** Removes a subscriber. */
    public void unsubscribe(Subscriber subscriber) {
        subscribers.remove(subscriber);
    }

    /**
     * Appends a request of events atomically: the future completes once all of them are durable,
     * or fails with nothing of them stored. Blocks while the log's queue is full.
     *
     * @param documents JSON objects; each is normalised in place (id and time filled in)
     * @throws InvalidBatchException naming the first event that is not a valid event; nothing is queued
     */
    public CompletableFuture<AppendResult> append(List<? extends JsonNode> documents) {
        return append(documents, null);
    }

    /**
     * As {@link #append(List)}, with the JSON text each document was parsed from (or null): an
     * event is then stored exactly as it was received (numbers, escapes and key order as sent),
     * with a missing id or time spliced in at the front. Without a text, a document is stored as
     * Jackson writes it, with the same splice, so both ways put added fields in the same place.
     *
     * @param texts for each document, the JSON text of that one object in UTF-8, from each
     *     buffer's position to its limit (or null for none); whitespace around it is left out.
     *     The bytes are copied before this returns.
     */
    public CompletableFuture<AppendResult> append(List<? extends JsonNode> documents, List<ByteBuffer> texts) {
        List<EventStore.NewEvent> events = new ArrayList<>(documents.size());
        for (int i = 0; i < documents.size(); i++) {
            JsonNode doc = documents.get(i);
            if (doc == null || !doc.isObject()) {
                throw new InvalidBatchException(
                        i,
                        "an event must be a JSON object, not "
                                + (doc == null
                                        ? "null"
                                        : doc.getNodeType().name().toLowerCase(java.util.Locale.ROOT)),
                        null);
            }
            JsonNode idBefore = doc.get(envelope.idField());
            JsonNode timeBefore = doc.get(envelope.timeField());
            ByteBuffer text = texts == null ? null : texts.get(i);
            if (text == null) { // a document built in memory: its own text, written before normalising
                text = ByteBuffer.wrap(Json.write(doc).getBytes(StandardCharsets.UTF_8));
            }
            Event e;
            try {
                e = envelope.normalize((ObjectNode) doc, ids, clock);
            } catch (InvalidEventException ex) {
                throw new InvalidBatchException(i, ex.getMessage(), ex);
            }
            byte[] utf8 = spliced(text, idBefore, timeBefore, e.document());
            if (utf8.length > maxEventBytes) {
                throw new EventTooLargeException(i, utf8.length, maxEventBytes);
            }
            events.add(new EventStore.NewEvent(e.id(), e.type(), utf8));
        }
        CompletableFuture<AppendResult> result = new CompletableFuture<>();
        if (events.isEmpty()) {
            result.complete(new AppendResult(List.of(), List.of(), 0));
            return result;
        }
        if (closed) {
            throw new IllegalStateException("the event log is closed");
        }
        try {
            queue.put(new Request(events, result, System.nanoTime()));
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for room in the log's queue", ie);
        }
        return result;
    }

    /**
     * The received text of an object, without the whitespace around it, with the envelope
     * fields that normalising filled in: one that was absent is written in front of the others
     * (so no key is repeated), one that was {@code null} gets its value in place of the null.
     * Everything else stays byte for byte as received. A new array either way: the received
     * bytes are not kept.
     *
     * @param idBefore the id field's value as received (null when absent)
     * @param timeBefore the time field's value as received (null when absent)
     */
    private byte[] spliced(ByteBuffer text, JsonNode idBefore, JsonNode timeBefore, ObjectNode document) {
        if (!text.hasArray()) { // direct or read-only: copied first
            byte[] copy = new byte[text.remaining()];
            text.duplicate().get(copy);
            text = ByteBuffer.wrap(copy);
        }
        byte[] bytes = text.array();
        int from = text.arrayOffset() + text.position();
        int to = text.arrayOffset() + text.limit();
        while (from < to && isWhitespace(bytes[from])) { // the whitespace around it is left out
            from++;
        }
        while (to > from && isWhitespace(bytes[to - 1])) {
            to--;
        }
        if (idBefore == NullNode.instance || timeBefore == NullNode.instance) {
            bytes = nullsFilledIn(
                    bytes, from, to, idBefore == NullNode.instance, timeBefore == NullNode.instance, document);
            from = 0;
            to = bytes.length;
        }
        boolean idAdded = idBefore == null;
        boolean timeAdded = timeBefore == null;
        if (!idAdded && !timeAdded) {
            return Arrays.copyOfRange(bytes, from, to);
        }
        StringBuilder added = new StringBuilder(96).append('{');
        if (idAdded) {
            member(added, envelope.idField(), document).append(',');
        }
        if (timeAdded) {
            member(added, envelope.timeField(), document).append(',');
        }
        int rest = from + 1; // the text starts with the object's "{"
        while (rest < to && isWhitespace(bytes[rest])) {
            rest++;
        }
        if (bytes[rest] == '}') {
            added.setLength(added.length() - 1); // an otherwise empty object: no comma after the last member
        }
        byte[] front = added.toString().getBytes(StandardCharsets.UTF_8);
        byte[] spliced = new byte[front.length + to - from - 1];
        System.arraycopy(front, 0, spliced, 0, front.length);
        System.arraycopy(bytes, from + 1, spliced, front.length, to - from - 1); // the rest as received
        return spliced;
    }

    /**
     * The text from {@code from} to {@code to} with the {@code null} of the top-level id and/or
     * time member replaced by the value normalising gave it. Rare (an envelope field sent as
     * {@code null}), so the text is simply parsed again to find where the nulls lie.
     */
    private byte[] nullsFilledIn(byte[] bytes, int from, int to, boolean id, boolean time, ObjectNode document) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(to - from + 64);
        int copied = from;
        try (JsonParser parser = Json.mapper().createParser(bytes, from, to - from)) {
            parser.nextToken(); // the object's start
            for (JsonToken t = parser.nextToken(); t == JsonToken.FIELD_NAME; t = parser.nextToken()) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                boolean fill = value == JsonToken.VALUE_NULL
                        && ((id && name.equals(envelope.idField())) || (time && name.equals(envelope.timeField())));
                if (fill) {
                    int at = from + (int) parser.currentTokenLocation().getByteOffset();
                    out.write(bytes, copied, at - copied);
                    String filled =
                            value(new StringBuilder(), document.get(name)).toString();
                    out.writeBytes(filled.getBytes(StandardCharsets.UTF_8));
                    copied = at + 4; // "null"
                }
                parser.skipChildren();
            }
        } catch (IOException e) {
            throw new IllegalStateException("an event parsed once could not be read again", e);
        }
        out.write(bytes, copied, to - copied);
        return out.toByteArray();
    }

    private static boolean isWhitespace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r';
    }

    /** Appends {@code "name":value} for a member of the document. */
    private static StringBuilder member(StringBuilder b, String name, ObjectNode document) {
        return value(Json.quote(b, name).append(':'), document.get(name));
    }

    private static StringBuilder value(StringBuilder b, JsonNode value) {
        return value.isTextual() ? Json.quote(b, value.textValue()) : b.append(Json.write(value));
    }

    private void writeLoop() {
        List<Request> batch = new ArrayList<>();
        while (!closed || !queue.isEmpty()) {
            try {
                Request first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                int events = first.events.size();
                Request next;
                while (events < maxBatchEvents
                        && (next = queue.peek()) != null
                        && events + next.events.size() <= maxBatchEvents) {
                    batch.add(queue.poll());
                    events += next.events.size();
                }
                commit(batch, events);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException e) {
                LOG.error("log writer: unexpected failure", e);
            } finally {
                batch.clear();
            }
        }
    }

    private void commit(List<Request> batch, int eventCount) {
        List<EventStore.NewEvent> all = new ArrayList<>(eventCount);
        for (Request r : batch) {
            all.addAll(r.events);
        }
        List<EventStore.Appended> stored;
        long started = System.nanoTime();
        try {
            stored = store.append(all);
            commitTime.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        } catch (RuntimeException e) {
            LOG.warn("append of {} events failed; nothing of them was stored: {}", eventCount, e.toString());
            for (Request r : batch) {
                r.result.completeExceptionally(e);
            }
            return;
        }
        long now = System.nanoTime();
        List<EventStore.NewEvent> added = new ArrayList<>(eventCount);
        long[] addedOffsets = new long[eventCount];
        List<AppendResult> results = new ArrayList<>(batch.size());
        int i = 0;
        int dupes = 0;
        for (Request r : batch) {
            List<Long> offsets = new ArrayList<>(r.events.size());
            List<String> eventIds = new ArrayList<>(r.events.size());
            int requestDupes = 0;
            for (EventStore.NewEvent e : r.events) {
                EventStore.Appended a = stored.get(i++);
                offsets.add(a.offset());
                eventIds.add(e.id());
                if (a.duplicate()) {
                    requestDupes++;
                } else {
                    addedOffsets[added.size()] = a.offset();
                    added.add(e);
                }
            }
            dupes += requestDupes;
            appendLatency.record(now - r.enqueued, TimeUnit.NANOSECONDS);
            results.add(new AppendResult(List.copyOf(offsets), List.copyOf(eventIds), requestDupes));
        }
        // Metrics first, so that whoever is answered sees them counted.
        appended.increment(added.size());
        duplicates.increment(dupes);
        batchSize.record(eventCount);
        for (int r = 0; r < batch.size(); r++) {
            batch.get(r).result.complete(results.get(r));
        }
        if (!added.isEmpty()) {
            List<StoredEvent> committed = new Committed(added, addedOffsets);
            for (Subscriber s : subscribers) {
                try {
                    s.committed(committed);
                } catch (RuntimeException e) {
                    LOG.error("subscriber {} failed on a committed batch", s, e);
                }
            }
        }
    }

    /**
     * A committed batch as subscribers see it: each event's text is decoded from its UTF-8
     * bytes when a subscriber first asks for it, then kept for the others. Subscribers that
     * only count commits, or live streams without followers, decode nothing. Safe to read from
     * any thread: at worst two threads decode the same event, and a {@link StoredEvent} (final
     * fields only) is safely published even through the unsynchronised array.
     */
    private static final class Committed extends AbstractList<StoredEvent> implements RandomAccess {
        private final List<EventStore.NewEvent> events;
        private final long[] offsets;
        private final StoredEvent[] decoded;

        Committed(List<EventStore.NewEvent> events, long[] offsets) {
            this.events = events;
            this.offsets = offsets;
            this.decoded = new StoredEvent[events.size()];
        }

        @Override
        public StoredEvent get(int index) {
            StoredEvent e = decoded[index];
            if (e == null) {
                EventStore.NewEvent n = events.get(index);
                e = new StoredEvent(offsets[index], n.id(), n.type(), n.json());
                decoded[index] = e;
            }
            return e;
        }

        @Override
        public int size() {
            return events.size();
        }
    }

    /** Stops accepting appends, commits what is queued, and stops the writer. Does not close the store. */
    @Override
    public void close() {
        closed = true;
        try {
            writer.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
