package io.sluice.connect.zeromq;

import io.sluice.api.component.Field;
import io.sluice.api.component.Settings;
import io.sluice.api.component.Source;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

/**
 * A ZeroMQ PULL socket that feeders PUSH JSON events to (EventReactor's aggregator on
 * {@code tcp://*:45454}): bound, or connected to a PUSH socket that binds. JeroMQ speaks ZMTP,
 * so libzmq peers (pyzmq, czmq) work unchanged.
 *
 * <p>ZeroMQ has no acknowledgements: a message is the framework's once it is read, and counts as
 * stored once the append that holds it is durable. A message of several frames is not an event
 * (feeders send one frame of JSON): it is handed on as rejected-to-be, with its frames joined, so
 * that the framework counts and logs it. Messages above {@code max_message_bytes} are rejected
 * the same way; above 16 times that, the socket itself drops them ({@code ZMQ_MAXMSGSIZE}) and
 * closes that peer's connection, so a rogue peer cannot exhaust memory.
 */
public final class ZmqPullSource implements Source {
    public static final Field BIND =
            Field.optional("bind", Field.Type.STRING, null, "the endpoint to bind, such as tcp://*:45454");
    public static final Field CONNECT =
            Field.optional("connect", Field.Type.STRING, null, "or a PUSH endpoint to connect to");
    public static final Field MAX_MESSAGE_BYTES =
            Field.optional("max_message_bytes", Field.Type.SIZE, "16MB", "larger messages are dropped by the socket");
    public static final Field RECEIVE_BUFFER = Field.optional(
            "high_water_mark", Field.Type.INTEGER, 100_000, "messages the socket queues before feeders block");

    public static final io.sluice.api.component.Spec SPEC = new io.sluice.api.component.Spec(
            "input",
            "zeromq",
            "A PULL socket that feeders PUSH JSON events to, one event per message.",
            List.of(BIND, CONNECT, MAX_MESSAGE_BYTES, RECEIVE_BUFFER));

    /** The handle of a message of more than one frame: the framework rejects it. */
    private static final long MULTIPART = -1;

    /** The handle of a message above {@code max_message_bytes}: the framework rejects it. */
    private static final long TOO_LARGE = -2;

    /** The socket's own limit, far above max_message_bytes: beyond it a peer is disconnected. */
    private static final long HARD_LIMIT_FACTOR = 16;

    private final String endpoint;
    private final boolean bind;
    private final long maxMessageBytes;
    private final int highWaterMark;
    private ZContext context;
    private ZMQ.Socket socket;
    private volatile String bound; // the endpoint as bound (the port chosen for tcp://host:*)

    public ZmqPullSource(String endpoint, boolean bind, long maxMessageBytes, int highWaterMark) {
        this.endpoint = endpoint;
        this.bind = bind;
        this.maxMessageBytes = maxMessageBytes;
        this.highWaterMark = highWaterMark;
    }

    /** A PULL source from its settings: exactly one of {@code bind} and {@code connect}. */
    public static ZmqPullSource of(Settings s) {
        boolean hasBind = s.has(BIND.name());
        boolean hasConnect = s.has(CONNECT.name());
        if (hasBind == hasConnect) {
            throw s.invalid(BIND.name(), "give exactly one of bind (tcp://*:45454) and connect (tcp://host:port)");
        }
        String endpoint = hasBind ? s.string(BIND.name()) : s.string(CONNECT.name());
        checkEndpoint(s, hasBind ? BIND.name() : CONNECT.name(), endpoint);
        long hwm = s.integer(RECEIVE_BUFFER.name());
        if (hwm < 1 || hwm > 10_000_000) {
            throw s.invalid(RECEIVE_BUFFER.name(), "must be from 1 to 10000000, not " + hwm);
        }
        return new ZmqPullSource(endpoint, hasBind, s.size(MAX_MESSAGE_BYTES.name()), (int) hwm);
    }

    /** Checks an endpoint's form: {@code tcp://host:port}, {@code ipc://path} or {@code inproc://name}. */
    public static void checkEndpoint(Settings s, String field, String endpoint) {
        if (!endpoint.matches("(tcp://[^:/]+:(\\d+|\\*)|ipc://.+|inproc://.+)")) {
            throw s.invalid(
                    field,
                    "not a ZeroMQ endpoint (tcp://*:45454, tcp://host:port, tcp://host:* for any port): '" + endpoint
                            + "'");
        }
    }

    /** The endpoint, as configured. */
    public String endpoint() {
        return endpoint;
    }

    /** The endpoint as bound, with the port the system chose for {@code tcp://host:*}; null before. */
    public String boundEndpoint() {
        return bound;
    }

    @Override
    public void open() {
        context = new ZContext(1);
        socket = context.createSocket(SocketType.PULL);
        socket.setRcvHWM(highWaterMark);
        socket.setMaxMsgSize(maxMessageBytes * HARD_LIMIT_FACTOR);
        socket.setLinger(0);
        try {
            if (bind) {
                socket.bind(endpoint);
                bound = socket.getLastEndpoint();
            } else {
                socket.connect(endpoint);
            }
        } catch (ZMQException e) {
            close();
            throw new IllegalStateException("cannot " + (bind ? "bind " : "connect to ") + endpoint + ": " + e, e);
        }
    }

    @Override
    public List<Received> poll(int max, Duration timeout) {
        List<Received> out = new ArrayList<>();
        socket.setReceiveTimeOut((int) Math.max(0, Math.min(Integer.MAX_VALUE, timeout.toMillis())));
        byte[] first = socket.recv(0);
        if (first == null) {
            return out;
        }
        out.add(message(first));
        byte[] next;
        while (out.size() < max && (next = socket.recv(ZMQ.DONTWAIT)) != null) {
            out.add(message(next));
        }
        return out;
    }

    /** One message: its frame, or all its frames joined and marked to be rejected. */
    private Received message(byte[] frame) {
        if (!socket.hasReceiveMore()) {
            return new Received(frame, frame.length > maxMessageBytes ? TOO_LARGE : 0, false);
        }
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        all.writeBytes(frame);
        while (socket.hasReceiveMore()) {
            byte[] more = socket.recv(0);
            if (more != null) {
                all.writeBytes(more);
            }
        }
        return new Received(all.toByteArray(), MULTIPART, false);
    }

    @Override
    public String problem(Received message) {
        if (message.handle() == MULTIPART) {
            return "a message of several frames; an event is one frame of JSON";
        }
        if (message.handle() == TOO_LARGE) {
            return "the message is " + message.body().length + " bytes; max_message_bytes is " + maxMessageBytes;
        }
        return null;
    }

    @Override
    public void ack(List<Received> messages) {
        // ZeroMQ has no acknowledgements: what was read is the server's.
    }

    @Override
    public void reject(Received message, String reason) {
        // Nothing to tell a PUSH peer: the framework counts and logs the reason.
    }

    @Override
    public void close() {
        if (context != null) {
            context.close();
            context = null;
            socket = null;
        }
    }
}
