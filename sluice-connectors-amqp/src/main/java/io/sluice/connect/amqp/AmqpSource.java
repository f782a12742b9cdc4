package io.sluice.connect.amqp;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import io.sluice.api.component.Field;
import io.sluice.api.component.Settings;
import io.sluice.api.component.Source;
import io.sluice.api.component.Spec;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Consumes an AMQP 0-9-1 queue (RabbitMQ): declared durable unless {@code declare: false},
 * optionally bound to exchanges, with {@code prefetch} unacknowledged deliveries at most.
 * Deliveries are acknowledged by the framework once their events are durable in the log (one
 * {@code basic.ack} with {@code multiple} for a whole batch), and malformed ones are rejected
 * without requeueing, so a dead-letter exchange on the queue receives them.
 */
public final class AmqpSource implements Source {
    public static final Field URL = Field.required(
                    "url", Field.Type.STRING, "the broker, such as amqp://guest:guest@127.0.0.1:5672/%2F")
            .asSecret();
    public static final Field QUEUE = Field.required("queue", Field.Type.STRING, "the queue to consume");
    public static final Field DECLARE =
            Field.optional("declare", Field.Type.BOOLEAN, true, "declare the queue (durable) if it does not exist");
    public static final Field BINDINGS =
            Field.optional("bindings", Field.Type.ANY, null, "bind the queue: a list of {exchange, routing_key}");
    public static final Field PREFETCH =
            Field.optional("prefetch", Field.Type.INTEGER, 256, "unacknowledged deliveries the broker sends ahead");
    public static final Field MESSAGES = Field.optional(
            "messages",
            Field.Type.STRING,
            "events",
            "what the messages hold: events, or queries (standing query documents)");

    public static final Spec SPEC = new Spec(
            "input",
            "amqp",
            "Consumes JSON events (or query documents) from an AMQP queue, acknowledging once they are durable.",
            List.of(URL, QUEUE, DECLARE, BINDINGS, PREFETCH, MESSAGES));

    /** An exchange binding of the queue. */
    public record Binding(String exchange, String routingKey) {}

    private final String url;
    private final String queue;
    private final boolean declare;
    private final List<Binding> bindings;
    private final int prefetch;
    private Connection connection;
    private Channel channel;
    private LinkedBlockingQueue<Object> arrived; // Received, or the ShutdownSignalException that ended the consumer

    public AmqpSource(String url, String queue, boolean declare, List<Binding> bindings, int prefetch) {
        this.url = url;
        this.queue = queue;
        this.declare = declare;
        this.bindings = List.copyOf(bindings);
        this.prefetch = prefetch;
    }

    /** An AMQP source from its settings. */
    public static AmqpSource of(Settings s) {
        String url = s.string(URL.name());
        try {
            new ConnectionFactory().setUri(url);
        } catch (Exception e) {
            throw s.invalid(URL.name(), "not an AMQP URL (amqp://user:password@host:port/vhost): " + e.getMessage());
        }
        long prefetch = s.integer(PREFETCH.name());
        if (prefetch < 1 || prefetch > 65_535) {
            throw s.invalid(PREFETCH.name(), "must be from 1 to 65535, not " + prefetch);
        }
        String messages = s.string(MESSAGES.name());
        if (!messages.equals("events") && !messages.equals("queries")) {
            throw s.invalid(MESSAGES.name(), "must be events or queries, not '" + messages + "'");
        }
        List<Binding> bindings = new ArrayList<>();
        JsonNode b = s.any(BINDINGS.name());
        if (b != null) {
            if (!b.isArray()) {
                throw s.invalid(BINDINGS.name(), "must be a list of {exchange, routing_key}");
            }
            int i = 0;
            for (JsonNode one : b) {
                if (!one.isObject() || !one.path("exchange").isTextual()) {
                    throw s.invalid(BINDINGS.name() + "[" + i + "]", "must be {exchange: NAME, routing_key: KEY}");
                }
                bindings.add(new Binding(
                        one.get("exchange").textValue(), one.path("routing_key").asText("#")));
                i++;
            }
        }
        return new AmqpSource(url, s.string(QUEUE.name()), s.bool(DECLARE.name()), bindings, (int) prefetch);
    }

    @Override
    public void open() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(url);
        factory.setAutomaticRecoveryEnabled(false); // the framework reconnects, with its backoff and metrics
        factory.setConnectionTimeout(10_000);
        connection = factory.newConnection("sluice-input");
        channel = connection.createChannel();
        if (declare) {
            channel.queueDeclare(queue, true, false, false, null);
        }
        for (Binding b : bindings) {
            channel.queueBind(queue, b.exchange(), b.routingKey());
        }
        channel.basicQos(prefetch);
        LinkedBlockingQueue<Object> q = new LinkedBlockingQueue<>();
        arrived = q;
        channel.basicConsume(queue, false, "sluice", new DefaultConsumer(channel) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
                q.add(new Received(body, envelope.getDeliveryTag(), envelope.isRedeliver()));
            }

            @Override
            public void handleShutdownSignal(String tag, ShutdownSignalException sig) {
                q.add(sig);
            }

            @Override
            public void handleCancel(String tag) {
                q.add(new IOException("the broker cancelled the consumer of queue " + queue));
            }
        });
    }

    @Override
    public List<Received> poll(int max, Duration timeout) throws Exception {
        List<Received> out = new ArrayList<>();
        Object first = arrived.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        if (first == null) {
            return out;
        }
        Object next = first;
        while (next != null) {
            if (next instanceof Exception e) {
                if (out.isEmpty()) {
                    throw e;
                }
                arrived.add(e); // hand over what came first; fail on the next poll
                return out;
            }
            out.add((Received) next);
            if (out.size() >= max) {
                break;
            }
            next = arrived.poll();
        }
        return out;
    }

    @Override
    public void ack(List<Received> messages) throws IOException {
        long highest = 0;
        for (Received r : messages) {
            highest = Math.max(highest, r.handle());
        }
        if (highest > 0) {
            channel.basicAck(highest, true);
        }
    }

    @Override
    public void reject(Received message, String reason) throws IOException {
        // basic.nack without requeue: RabbitMQ dead-letters or drops it as for basic.reject, and
        // Qpid Broker-J discards it (its basic.reject without requeue only skips the consumer).
        channel.basicNack(message.handle(), false, false);
    }

    @Override
    public void close() {
        try {
            if (connection != null && connection.isOpen()) {
                connection.close(2_000);
            }
        } catch (Exception ignored) {
            // closing a broken connection; the next open reports what is wrong
        }
        connection = null;
        channel = null;
    }
}
