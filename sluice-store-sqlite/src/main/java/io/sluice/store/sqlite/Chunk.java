package io.sluice.store.sqlite;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.sluice.api.Json;
import io.sluice.core.log.EventStore.NewEvent;
import io.sluice.core.log.StoreException;
import io.sluice.core.log.StoredEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A run of consecutive events stored as one row of the {@code chunks} table.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>A row per event costs SQLite a B-tree insert and a cell per event; a row per run of
 * events costs one, and the events' text is written once, sequentially. The row keeps the
 * events as a JSON array of their texts exactly as received ({@code events}, UTF-8), with
 * their ids, types and UTF-8 sizes as JSON arrays beside it, so that a user can still read it
 * with {@code sqlite3} (and the {@code events} view) while the store cuts the texts out by
 * size, without parsing them. The array may be compressed in the row ({@link Compression});
 * the other columns never are, and the sizes say how long the array is once decompressed.
 *
 * @param firstOffset the offset of the first event
 * @param ids the events' ids, in order
 * @param types the events' types (null for none)
 * @param sizes each event's JSON text length in UTF-8 bytes
 * @param text {@code [event,event,...]} in UTF-8
 */
record Chunk(long firstOffset, List<String> ids, List<String> types, int[] sizes, byte[] text) {
    /** At most this many events in one row. */
    static final int MAX_EVENTS = 256;

    /** A row is closed once its events reach this many bytes (a larger event gets a row alone). */
    static final int MAX_BYTES = 256 * 1024;

    private static final JsonFactory JSON = new JsonFactory();

    long lastOffset() {
        return firstOffset + ids.size() - 1;
    }

    /** The events from {@code offset} on (the whole chunk when it starts earlier). */
    List<StoredEvent> eventsFrom(long offset) {
        List<StoredEvent> events = new ArrayList<>(ids.size());
        int position = 1; // after '['
        for (int i = 0; i < ids.size(); i++) {
            long eventOffset = firstOffset + i;
            if (eventOffset >= offset) {
                String json = new String(text, position, sizes[i], StandardCharsets.UTF_8);
                events.add(new StoredEvent(eventOffset, ids.get(i), types.get(i), json));
            }
            position += sizes[i] + 1; // and the ',' or ']' after it
        }
        return events;
    }

    /** The event at {@code offset}, which must be in this chunk: only its text is decoded. */
    StoredEvent event(long offset) {
        int index = (int) (offset - firstOffset);
        int position = 1; // after '['
        for (int i = 0; i < index; i++) {
            position += sizes[i] + 1;
        }
        String json = new String(text, position, sizes[index], StandardCharsets.UTF_8);
        return new StoredEvent(offset, ids.get(index), types.get(index), json);
    }

    /** The statement that stores a chunk; {@link Writer#addRows} sets its parameters. */
    static final String INSERT = "INSERT INTO chunks(first_offset, last_offset, ingested, bytes, ids, types, sizes,"
            + " events) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

    /**
     * Cuts new events into rows (at most {@link #MAX_EVENTS}, closed once they reach {@link
     * #MAX_BYTES}) and adds them to a batch of {@link #INSERT}. Each row's JSON array is
     * assembled in a buffer kept from row to row and handed to the encoder from there, so a
     * row costs no array of its own before it is encoded. One thread at a time: the store's
     * writer keeps one.
     */
    static final class Writer implements AutoCloseable {
        private final Compression.Encoder encoder;
        private final byte[] text = new byte[2 * MAX_BYTES];

        Writer(Compression compression) {
            this.encoder = compression.encoder();
        }

        /** What {@link #addRows} added: the events' bytes, and the rows' events columns as encoded. */
        record Added(long eventBytes, long storedBytes) {}

        /**
         * Adds the rows of {@code events}, given offsets from {@code firstOffset} on and
         * ingested at {@code ingestedMillis}, to {@code insert}'s batch.
         */
        Added addRows(PreparedStatement insert, long firstOffset, List<NewEvent> events, long ingestedMillis)
                throws SQLException {
            long eventBytes = 0;
            long storedBytes = 0;
            int from = 0;
            while (from < events.size()) {
                int limit = Math.min(MAX_EVENTS, events.size() - from);
                int n = 0;
                int length = 1; // '['
                while (n < limit && (n == 0 || length < MAX_BYTES)) {
                    length += events.get(from + n).utf8().length + 1; // and ',' or ']'
                    n++;
                }
                byte[] into = length <= text.length ? text : new byte[length]; // one event larger than the buffer
                int[] sizes = new int[n];
                List<String> ids = new ArrayList<>(n);
                List<String> types = new ArrayList<>(n);
                into[0] = '[';
                int position = 1;
                for (int i = 0; i < n; i++) {
                    NewEvent e = events.get(from + i);
                    byte[] utf8 = e.utf8();
                    System.arraycopy(utf8, 0, into, position, utf8.length);
                    position += utf8.length;
                    into[position++] = (byte) (i == n - 1 ? ']' : ',');
                    sizes[i] = utf8.length;
                    ids.add(e.id());
                    types.add(e.type());
                }
                long rowBytes = length - n - 1L; // the events: the array without its brackets and commas
                eventBytes += rowBytes;
                byte[] stored = encoder.encode(into, length);
                insert.setLong(1, firstOffset + from);
                insert.setLong(2, firstOffset + from + n - 1);
                insert.setLong(3, ingestedMillis);
                insert.setLong(4, rowBytes);
                insert.setString(5, stringArray(ids));
                insert.setString(6, stringArray(types));
                insert.setString(7, sizesColumn(sizes));
                insert.setBytes(8, stored);
                insert.addBatch();
                storedBytes += stored.length;
                from += n;
            }
            return new Added(eventBytes, storedBytes);
        }

        @Override
        public void close() {
            encoder.close();
        }
    }

    private static String sizesColumn(int[] sizes) {
        StringBuilder s = new StringBuilder(sizes.length * 5 + 2).append('[');
        for (int i = 0; i < sizes.length; i++) {
            if (i > 0) {
                s.append(',');
            }
            s.append(sizes[i]);
        }
        return s.append(']').toString();
    }

    /** Reads a row back from its columns; {@code events} as stored, compressed or not. */
    static Chunk fromColumns(long firstOffset, String ids, String types, String sizes, byte[] events) {
        List<String> idList = strings(ids);
        List<String> typeList = strings(types);
        int[] sizeArray = ints(sizes);
        if (typeList.size() != idList.size() || sizeArray.length != idList.size()) {
            throw new StoreException("corrupt chunk at offset " + firstOffset + ": " + idList.size() + " ids, "
                    + typeList.size() + " types, " + sizeArray.length + " sizes");
        }
        long length = 1; // '['
        for (int size : sizeArray) {
            length += size + 1; // and ',' or ']'
        }
        if (length > Integer.MAX_VALUE) {
            throw new StoreException("corrupt chunk at offset " + firstOffset + ": sizes add up to " + length);
        }
        byte[] text = Compression.decode(events, (int) length, firstOffset);
        return new Chunk(firstOffset, idList, typeList, sizeArray, text);
    }

    private static String stringArray(List<String> values) {
        StringBuilder out = new StringBuilder(values.size() * 40 + 2).append('[');
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            Json.quote(out, values.get(i));
        }
        return out.append(']').toString();
    }

    /** The strings (or nulls) of a JSON array. */
    static List<String> strings(String array) {
        List<String> values = new ArrayList<>();
        try (JsonParser p = JSON.createParser(array)) {
            expect(p.nextToken(), JsonToken.START_ARRAY, array);
            for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
                if (t == JsonToken.VALUE_NULL) {
                    values.add(null);
                } else {
                    expect(t, JsonToken.VALUE_STRING, array);
                    values.add(p.getText());
                }
            }
        } catch (IOException e) {
            throw new StoreException("corrupt chunk column: " + e.getMessage(), e);
        }
        return values;
    }

    static int[] ints(String array) {
        int[] values = new int[16];
        int n = 0;
        try (JsonParser p = JSON.createParser(array)) {
            expect(p.nextToken(), JsonToken.START_ARRAY, array);
            for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
                expect(t, JsonToken.VALUE_NUMBER_INT, array);
                if (n == values.length) {
                    values = Arrays.copyOf(values, n * 2);
                }
                values[n++] = p.getIntValue();
            }
        } catch (IOException e) {
            throw new StoreException("corrupt chunk column: " + e.getMessage(), e);
        }
        return Arrays.copyOf(values, n);
    }

    private static void expect(JsonToken actual, JsonToken expected, String array) {
        if (actual != expected) {
            String start = array.length() > 60 ? array.substring(0, 60) + "..." : array;
            throw new StoreException(
                    "corrupt chunk column: expected " + expected + ", found " + actual + " in " + start);
        }
    }
}
