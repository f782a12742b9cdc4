package io.sluice.connect.amqp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.sluice.api.Json;
import io.sluice.api.pipeline.PipelineHandler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Winchester's {@code NotabeneHandler} pipeline step: collects the notifications other handlers
 * left in {@code env} under {@code env_keys} (the usage handler's {@code usage_notifications})
 * and, on commit only, publishes each as JSON to an AMQP exchange with the routing key
 * {@code queue_name}, declaring the exchange ({@code exchange_type}, durable) and a durable
 * queue of that name bound to it, so that nothing is published to nowhere. Params as in
 * Winchester's pipelines.yaml: {@code host}, {@code port}, {@code user}, {@code password},
 * {@code vhost}, {@code exchange} (required), {@code exchange_type} (default topic),
 * {@code queue_name} (required), {@code env_keys}; {@code library} is accepted and ignored
 * (the official RabbitMQ client is used). Messages are persistent and confirmed by the broker.
 *
 * <p>Connections are shared by every instance with the same broker settings (a fresh handler
 * is made per pipeline run); a failed publish is logged, as Winchester did — a commit cannot be
 * undone.
 */
public final class NotabeneHandler implements PipelineHandler {
    private static final Logger LOG = LoggerFactory.getLogger(NotabeneHandler.class);
    private static final Map<String, Connection> CONNECTIONS = new ConcurrentHashMap<>();

    private final ConnectionFactory factory = new ConnectionFactory();
    private final String connectionKey;
    private final String exchange;
    private final String exchangeType;
    private final String queue;
    private final List<String> envKeys = new ArrayList<>();
    private final List<JsonNode> pending = new ArrayList<>();

    public NotabeneHandler(JsonNode params) {
        exchange = params.path("exchange").asText(null);
        if (exchange == null) {
            throw new IllegalArgumentException("notabene: no 'exchange' name provided");
        }
        queue = params.path("queue_name").asText(null);
        if (queue == null) {
            throw new IllegalArgumentException("notabene: no 'queue_name' provided");
        }
        exchangeType = params.path("exchange_type").asText("topic");
        factory.setHost(params.path("host").asText("localhost"));
        factory.setPort(params.path("port").asInt(5672));
        factory.setUsername(params.path("user").asText("guest"));
        factory.setPassword(params.path("password").asText("guest"));
        factory.setVirtualHost(params.path("vhost").asText("/"));
        factory.setAutomaticRecoveryEnabled(true);
        params.path("env_keys").forEach(k -> envKeys.add(k.asText()));
        connectionKey = factory.getHost() + ":" + factory.getPort() + ":" + factory.getUsername() + ":"
                + factory.getPassword().hashCode() + ":" + factory.getVirtualHost();
    }

    @Override
    public List<ObjectNode> handleEvents(List<ObjectNode> events, Map<String, Object> env) {
        pending.clear();
        for (String key : envKeys) {
            Object v = env.get(key);
            if (v instanceof List<?> list) {
                for (Object n : list) {
                    pending.add(n instanceof JsonNode j ? j : Json.mapper().valueToTree(n));
                }
            }
        }
        return events;
    }

    @Override
    public void commit() throws Exception {
        if (pending.isEmpty()) {
            return;
        }
        Connection c = CONNECTIONS.compute(connectionKey, (k, old) -> {
            if (old != null && old.isOpen()) {
                return old;
            }
            try {
                return factory.newConnection("sluice-notabene");
            } catch (Exception e) {
                throw new IllegalStateException(
                        "notabene: cannot connect to " + factory.getHost() + ":" + factory.getPort() + ": "
                                + e.getMessage(),
                        e);
            }
        });
        try (Channel ch = c.createChannel()) {
            ch.exchangeDeclare(exchange, exchangeType, true);
            ch.queueDeclare(queue, true, false, false, null);
            ch.queueBind(queue, exchange, queue);
            ch.confirmSelect();
            for (JsonNode n : pending) {
                LOG.info(
                        "Publishing '{}' to '{}' with routing_key '{}'",
                        n.path("event_type").asText(),
                        exchange,
                        queue);
                ch.basicPublish(
                        exchange,
                        queue,
                        new AMQP.BasicProperties.Builder()
                                .contentType("application/json")
                                .deliveryMode(2)
                                .messageId(n.path("message_id").asText(null))
                                .build(),
                        Json.write(n).getBytes(StandardCharsets.UTF_8));
            }
            ch.waitForConfirmsOrDie(30_000);
        }
    }
}
