package io.sluice.connect.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.sluice.api.component.Field;
import io.sluice.api.component.Message;
import io.sluice.api.component.Settings;
import io.sluice.api.component.Sink;
import io.sluice.api.component.Spec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * Publishes each match to an AMQP 0-9-1 exchange (RabbitMQ), routing key = the query's
 * {@code key}, as PySeps did: the event as stored is the JSON body, persistent, with headers
 * {@code sluice-query}, {@code sluice-event-id}, {@code sluice-offset} and the idempotency key
 * {@code EVENTID:QUERY} as {@code message_id}. A list of messages counts as delivered once the
 * broker has confirmed all of it (publisher confirms).
 *
 * <p>With {@code declare_queues} (the default) a durable queue named by each key is declared
 * the first time the key is seen, and bound to the exchange unless it is the default exchange
 * (which routes to the queue of that name by itself) — so matches are never published into
 * nothing. Reconnecting after a failure is the framework's: a lost connection makes
 * {@link #send} throw, and the framework calls {@link #open} again after a backoff.
 */
public final class AmqpSink implements Sink {
    public static final Field URL = Field.required(
                    "url", Field.Type.STRING, "the broker, such as amqp://guest:guest@127.0.0.1:5672/%2F")
            .asSecret();
    public static final Field EXCHANGE = Field.optional(
            "exchange",
            Field.Type.STRING,
            "",
            "the exchange to publish to; \"\" is the default exchange (routes by queue name); a query's exchange overrides it");
    public static final Field DECLARE_QUEUES = Field.optional(
            "declare_queues",
            Field.Type.BOOLEAN,
            true,
            "declare a durable queue named by each key and bind it to the exchange");
    public static final Field CONFIRM_TIMEOUT = Field.optional(
            "confirm_timeout", Field.Type.DURATION, "30s", "how long to wait for the broker to confirm a batch");

    public static final Spec SPEC = new Spec(
            "output",
            "amqp",
            "Publishes each match to an AMQP exchange with the query's key as routing key, with publisher confirms.",
            List.of(URL, EXCHANGE, DECLARE_QUEUES, CONFIRM_TIMEOUT));

    private final String url;
    private final String exchange;
    private final boolean declareQueues;
    private final Duration confirmTimeout;
    private final Set<String> declared = new HashSet<>(); // "exchange\u0000key" seen on this connection
    private Connection connection;
    private Channel channel;

    public AmqpSink(String url, String exchange, boolean declareQueues, Duration confirmTimeout) {
        this.url = url;
        this.exchange = exchange;
        this.declareQueues = declareQueues;
        this.confirmTimeout = confirmTimeout;
    }

    /** An AMQP sink from its settings. */
    public static AmqpSink of(Settings s) {
        String url = s.string(URL.name());
        try {
            new ConnectionFactory().setUri(url);
        } catch (Exception e) {
            throw s.invalid(URL.name(), "not an AMQP URL (amqp://user:password@host:port/vhost): " + e.getMessage());
        }
        return new AmqpSink(
                url, s.string(EXCHANGE.name()), s.bool(DECLARE_QUEUES.name()), s.duration(CONFIRM_TIMEOUT.name()));
    }

    @Override
    public void open() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(url);
        factory.setAutomaticRecoveryEnabled(false); // the framework reconnects, with its backoff and metrics
        factory.setConnectionTimeout(10_000);
        connection = factory.newConnection("sluice-output");
        channel = connection.createChannel();
        channel.confirmSelect();
        declared.clear();
    }

    @Override
    public List<Refusal> send(List<Message> messages) throws Exception {
        for (Message m : messages) {
            String ex = m.exchange() != null ? m.exchange() : exchange;
            String key = m.key() == null ? "" : m.key();
            if (declareQueues && !key.isEmpty() && declared.add(ex + '\u0000' + key)) {
                channel.queueDeclare(key, true, false, false, null);
                if (!ex.isEmpty()) {
                    channel.queueBind(key, ex, key);
                }
            }
            AMQP.BasicProperties props = new AMQP.BasicProperties.Builder()
                    .contentType("application/json")
                    .deliveryMode(2)
                    .messageId(m.idempotencyKey())
                    .headers(Map.of(
                            "sluice-query", m.source(),
                            "sluice-event-id", m.eventId(),
                            "sluice-offset", m.offset()))
                    .build();
            channel.basicPublish(ex, key, props, m.eventJson().getBytes(StandardCharsets.UTF_8));
        }
        try {
            channel.waitForConfirmsOrDie(confirmTimeout.toMillis());
        } catch (TimeoutException e) {
            throw new TimeoutException("the broker did not confirm " + messages.size() + " messages within "
                    + confirmTimeout.toMillis() + " ms");
        }
        return List.of();
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
