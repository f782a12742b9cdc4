package io.sluice.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/** {@code sluice send --zmq}: events over ZeroMQ REQ to the router's REP socket, one request each. */
final class ZmqSend {
    private ZmqSend() {}

    /**
     * Sends each event and prints each answer (the event as stored, or the error object).
     *
     * @return 0 when all were stored; 2 when the router refused one (the rest are not sent)
     */
    static int send(String endpoint, List<String> events, Duration timeout, PrintWriter out) {
        if (!endpoint.matches("(tcp://[^:/]+:\\d+|ipc://.+)")) {
            throw new InvalidInputException("--zmq: not a ZeroMQ endpoint (tcp://HOST:PORT): '" + endpoint + "'");
        }
        try (ZContext context = new ZContext(1);
                ZMQ.Socket req = context.createSocket(SocketType.REQ)) {
            req.setLinger(0);
            req.setReceiveTimeOut((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            req.connect(endpoint);
            for (String event : events) {
                req.send(event);
                String answer = req.recvStr();
                if (answer == null) {
                    throw new IllegalStateException(
                            "no answer from " + endpoint + " within " + timeout.toMillis() + " ms");
                }
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
