package io.sluice.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * {@code sluice send --zmq}: events over ZeroMQ REQ to the router's REP socket, one request each.
 *
 * <p>A REQ socket that gets no answer is stuck (ZeroMQ's "lazy pirate" case): the request is
 * sent again on a fresh socket every {@value #ATTEMPT_MILLIS} ms until the timeout. So that a
 * request that did arrive is not stored twice, an event without {@code id} or
 * {@code message_id} is given an {@code id} first: the log drops the repeat by it.
 */
final class ZmqSend {
    private static final long ATTEMPT_MILLIS = 2_000;

    private ZmqSend() {}

    /** Sends one request until it is answered or the timeout passes. */
    private static String request(ZContext context, String endpoint, String event, Duration timeout) {
        String body = withId(event);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                throw new IllegalStateException("no answer from " + endpoint + " within " + timeout.toMillis() + " ms");
            }
            try (ZMQ.Socket req = context.createSocket(SocketType.REQ)) {
                req.setLinger(0);
                req.setReceiveTimeOut((int) Math.min(left, ATTEMPT_MILLIS));
                req.connect(endpoint);
                req.send(body);
                String answer = req.recvStr();
                if (answer != null) {
                    return answer;
                }
            }
        }
    }

    /** The event with an {@code id} when it has neither {@code id} nor {@code message_id}. */
    private static String withId(String event) {
        JsonNode n = Json.parse(event);
        if (!(n instanceof com.fasterxml.jackson.databind.node.ObjectNode o) || o.has("id") || o.has("message_id")) {
            return event;
        }
        com.fasterxml.jackson.databind.node.ObjectNode copy = Json.object();
        copy.put("id", UUID.randomUUID().toString());
        copy.setAll(o);
        return Json.write(copy);
    }

    /**
     * Sends each event and prints each answer (the event as stored, or the error object).
     *
     * @return 0 when all were stored; 2 when the router refused one (the rest are not sent)
     */
    static int send(String endpoint, List<String> events, Duration timeout, PrintWriter out) {
        if (!endpoint.matches("(tcp://[^:/]+:\\d+|ipc://.+)")) {
            throw new InvalidInputException("--zmq: not a ZeroMQ endpoint (tcp://HOST:PORT): '" + endpoint + "'");
        }
        try (ZContext context = new ZContext(1)) {
            for (String event : events) {
                String answer = request(context, endpoint, event, timeout);
                JsonNode a = Json.parse(answer);
                if (a.has("error")) {
                    throw new InvalidInputException(
                            "the router refused the event: " + a.path("error").asText());
                }
                out.println(answer);
                out.flush();
            }
        }
        return 0;
    }
}
