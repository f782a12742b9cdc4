package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.TypePattern;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A background loop consuming a named consumer's events: it leases a batch, hands each event
 * to the first handler whose type pattern matches, acknowledges the events whose handler
 * returned, and repeats. A handler that throws is reported to {@link Builder#onError} and its
 * event is delivered again when the lease expires; after {@link Builder#maxDeliveries}
 * deliveries it is parked: reported to {@link Builder#onParked} and acknowledged, so one poison
 * event never blocks the consumer. Events no handler matches are acknowledged. While the server
 * is unreachable the loop retries with exponential backoff. {@link #close()} stops it after the
 * batch in hand.
 */
public final class ConsumerLoop implements AutoCloseable {
    /** Handles one event. */
    @FunctionalInterface
    public interface Handler {
        void handle(ReceivedEvent event) throws Exception;
    }

    /** Handles one event's data as a {@code T}. */
    @FunctionalInterface
    public interface TypedHandler<T> {
        void handle(T data, ReceivedEvent event) throws Exception;
    }

    /** Told about a failure of a handler, or a parked event. */
    @FunctionalInterface
    public interface FailureListener {
        void failed(ReceivedEvent event, Throwable error);
    }

    private record Route(String pattern, Pattern regex, Handler handler) {}

    /** The longest pause between tries while the server is unreachable. */
    private static final long MAX_BACKOFF_MILLIS = 10_000;

    private final SluiceClient client;
    private final Builder config;
    private final Thread thread;
    private volatile boolean stopping;
    private volatile long handled;

    private ConsumerLoop(SluiceClient client, Builder config) {
        this.client = client;
        this.config = config;
        this.thread = Thread.ofVirtual().name("sluice-consumer-" + config.name).start(this::run);
    }

    /** How many events handlers have handled successfully. */
    public long handled() {
        return handled;
    }

    private void run() {
        List<String> patterns = config.routes.stream().map(Route::pattern).toList();
        Backoff backoff = new Backoff(MAX_BACKOFF_MILLIS);
        while (!stopping) {
            JsonNode answer;
            try {
                answer = client.next(
                        config.name, config.batchSize, config.wait, config.lease, config.from, patterns, config.filter);
                backoff.reset();
            } catch (SluiceException e) {
                if (!e.retryable()) {
                    config.onError.failed(null, e);
                    return; // a bad request will not get better
                }
                backoff.pauseQuietly();
                continue;
            }
            List<Long> done = new ArrayList<>();
            for (JsonNode item : answer.path("events")) {
                ReceivedEvent event = new ReceivedEvent(
                        item.path("offset").asLong(), item.path("deliveries").asInt(1), item.path("event"));
                if (process(event)) {
                    done.add(event.offset());
                }
            }
            if (!done.isEmpty()) {
                acknowledge(done);
            }
        }
    }

    /** Runs the event's handler; returns whether to acknowledge it. */
    private boolean process(ReceivedEvent event) {
        String type = event.type() == null ? "" : event.type();
        for (Route route : config.routes) {
            if (route.regex.matcher(type).matches()) {
                try {
                    route.handler.handle(event);
                    handled++;
                    return true;
                } catch (Exception e) {
                    config.onError.failed(event, e);
                    if (event.deliveries() >= config.maxDeliveries) {
                        config.onParked.failed(event, e);
                        return true; // parked: reported, and acknowledged so it stops blocking
                    }
                    return false; // delivered again when its lease expires
                }
            }
        }
        return true; // no handler for this type
    }

    private void acknowledge(List<Long> offsets) {
        Backoff backoff = new Backoff(MAX_BACKOFF_MILLIS);
        while (true) {
            try {
                client.ack(config.name, offsets);
                return;
            } catch (SluiceException e) {
                if (!e.retryable() || stopping) {
                    return; // unacknowledged events are delivered again: nothing is lost
                }
                backoff.pauseQuietly();
            }
        }
    }

    /** Stops after the batch in hand (waiting for it) and returns. */
    @Override
    public void close() {
        stopping = true;
        try {
            if (!thread.join(config.wait.plus(Duration.ofSeconds(60)))) {
                thread.interrupt();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Configures a consumer loop; {@link #start()} starts it. */
    public static final class Builder {
        private final SluiceClient client;
        private final String name;
        private final List<Route> routes = new ArrayList<>();
        private String from = "earliest";
        private JsonNode filter;
        private int batchSize = 100;
        private Duration wait = Duration.ofSeconds(5);
        private Duration lease = Duration.ofSeconds(30);
        private int maxDeliveries = 5;
        private FailureListener onError = (event, error) -> System.getLogger("io.sluice.client")
                .log(
                        System.Logger.Level.WARNING,
                        "handler failed on " + (event == null ? "a request" : event.id()),
                        error);
        private FailureListener onParked = (event, error) -> System.getLogger("io.sluice.client")
                .log(
                        System.Logger.Level.ERROR,
                        "parked event " + event.id() + " after " + event.deliveries() + " deliveries",
                        error);

        Builder(SluiceClient client, String name) {
            this.client = client;
            this.name = Objects.requireNonNull(name, "name");
        }

        /** Handles events whose type matches {@code typePattern} ({@code *} within a dotted segment, {@code **} across). */
        public Builder on(String typePattern, Handler handler) {
            routes.add(new Route(typePattern, TypePattern.compile(typePattern), handler));
            return this;
        }

        /** Handles events of {@code typePattern}, with their data read as a {@code dataType}. */
        public <T> Builder on(String typePattern, Class<T> dataType, TypedHandler<T> handler) {
            return on(typePattern, event -> handler.handle(event.dataAs(dataType), event));
        }

        /** Where a new consumer starts: {@code earliest} (default), {@code latest}, an offset or an ISO time. */
        public Builder from(String start) {
            this.from = start;
            return this;
        }

        /** Only events matching this query (fixed when the consumer is created). */
        public Builder filter(JsonNode query) {
            this.filter = query;
            return this;
        }

        public Builder batchSize(int events) {
            this.batchSize = events;
            return this;
        }

        /** How long each request waits for new events (default 5 s). */
        public Builder wait(Duration duration) {
            this.wait = duration;
            return this;
        }

        /** How long a handler has before its event is delivered again (default 30 s). */
        public Builder lease(Duration duration) {
            this.lease = duration;
            return this;
        }

        /** Deliveries after which a failing event is parked (default 5). */
        public Builder maxDeliveries(int deliveries) {
            this.maxDeliveries = deliveries;
            return this;
        }

        public Builder onError(FailureListener listener) {
            this.onError = listener;
            return this;
        }

        public Builder onParked(FailureListener listener) {
            this.onParked = listener;
            return this;
        }

        /** Starts the loop on a virtual thread of its own. */
        public ConsumerLoop start() {
            if (routes.isEmpty()) {
                throw new IllegalStateException("a consumer loop needs at least one handler (on(...))");
            }
            return new ConsumerLoop(client, this);
        }
    }
}
