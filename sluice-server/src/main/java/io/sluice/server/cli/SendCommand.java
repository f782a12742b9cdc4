package io.sluice.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sluice send}: appends events (arguments, else NDJSON on stdin, in batches) and prints
 * {@code {"offset":N,"id":"..."}} for each once it is durable. A bad stdin line is named; every
 * batch before it has been stored.
 */
@Command(
        name = "send",
        mixinStandardHelpOptions = true,
        description =
                "Append events: JSON arguments, else NDJSON on stdin. Prints {\"offset\":N,\"id\":\"...\"} per event.")
final class SendCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ServerUrl server;

    @Option(
            names = {"--type", "-e", "--event-type"},
            paramLabel = "T",
            description = "Set the type field of events that have none (with --zmq: event_type).")
    String type;

    @Option(
            names = "--zmq",
            paramLabel = "tcp://HOST:PORT",
            description = "Send over ZeroMQ REQ to the router's rep socket instead (EventReactor's fire-event);"
                    + " prints the event as stored.")
    String zmq;

    @Option(
            names = {"--namespace", "-n"},
            paramLabel = "N",
            description = "With --zmq: the namespace of events that have none.")
    String namespace;

    @Option(
            names = {"--data", "-d"},
            paramLabel = "DATA",
            description = "With --zmq: the event's data (JSON, else taken as a string).")
    String data;

    @Option(
            names = "--timeout",
            defaultValue = "10s",
            paramLabel = "DURATION",
            description = "With --zmq: how long to wait for the answer (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Option(
            names = "--batch",
            defaultValue = "1000",
            paramLabel = "N",
            description = "Events per request from stdin (default: ${DEFAULT-VALUE}).")
    int batch;

    @Parameters(paramLabel = "JSON", arity = "0..*", description = "Events as JSON objects.")
    List<String> events = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        if (batch < 1) {
            throw new InvalidInputException("--batch must be at least 1");
        }
        PrintWriter out = spec.commandLine().getOut();
        if (zmq != null) {
            return ZmqSend.send(zmq, zmqEvents(), io.sluice.api.component.Settings.parseDuration(timeout), out);
        }
        if (namespace != null || data != null) {
            throw new InvalidInputException("--namespace and --data go with --zmq");
        }
        if (!events.isEmpty()) {
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < events.size(); i++) {
                lines.add(line(events.get(i), "argument " + (i + 1)));
            }
            send(lines, out);
            return 0;
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        List<String> pending = new ArrayList<>();
        String text;
        long number = 0;
        while ((text = in.readLine()) != null) {
            number++;
            if (text.isBlank()) {
                continue;
            }
            String line;
            try {
                line = line(text, "line " + number);
            } catch (InvalidInputException e) {
                send(pending, out);
                throw new InvalidInputException(e.getMessage() + "; the events before it were stored");
            }
            pending.add(line);
            if (pending.size() == batch) {
                send(pending, out);
                pending.clear();
            }
        }
        send(pending, out);
        return 0;
    }

    /** The events for --zmq: the arguments (else one built from the flags), completed by the flags. */
    private List<String> zmqEvents() throws IOException {
        List<String> texts = new ArrayList<>(events);
        if (texts.isEmpty() && type == null && data == null) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String text;
            while ((text = in.readLine()) != null) {
                if (!text.isBlank()) {
                    texts.add(text);
                }
            }
        }
        if (texts.isEmpty()) {
            texts.add("{}");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            JsonNode node;
            try {
                node = Json.parse(texts.get(i));
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException("event " + (i + 1) + ": " + e.getMessage());
            }
            if (!node.isObject()) {
                throw new InvalidInputException("event " + (i + 1) + ": an event must be a JSON object");
            }
            com.fasterxml.jackson.databind.node.ObjectNode e = (com.fasterxml.jackson.databind.node.ObjectNode) node;
            if (namespace != null && !e.has("namespace")) {
                e.put("namespace", namespace);
            }
            if (type != null && !e.has("event_type")) {
                e.put("event_type", type);
            }
            if (data != null && !e.has("data")) {
                JsonNode d;
                try {
                    d = Json.parse(data);
                } catch (IllegalArgumentException notJson) {
                    d = Json.nodes().textNode(data);
                }
                e.set("data", d);
            }
            // Unchanged events go as written; completed ones as Jackson writes them.
            out.add(e.size() == Json.parse(texts.get(i)).size() ? texts.get(i).strip() : Json.write(e));
        }
        return out;
    }

    private String line(String json, String where) {
        JsonNode node;
        try {
            node = Json.parse(json);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(where + ": " + e.getMessage());
        }
        if (!node.isObject()) {
            throw new InvalidInputException(where + ": an event must be a JSON object");
        }
        // Sent as given, so that numbers and escapes are stored exactly as written; raw line
        // breaks can only be whitespace between tokens in JSON, so they become spaces (NDJSON).
        String text = json.strip().replace('\n', ' ').replace('\r', ' ');
        if (type != null && !node.has("type")) {
            StringBuilder typed = Json.quote(new StringBuilder("{\"type\":"), type);
            String rest = text.substring(1).strip();
            return typed.append(rest.startsWith("}") ? "" : ",").append(rest).toString();
        }
        return text;
    }

    private void send(List<String> lines, PrintWriter out) {
        if (lines.isEmpty()) {
            return;
        }
        JsonNode answer = server.post("/v1/events", "application/x-ndjson", String.join("\n", lines));
        JsonNode ids = answer.path("ids");
        JsonNode offsets = answer.path("offsets");
        for (int i = 0; i < ids.size(); i++) {
            out.println("{\"offset\":" + offsets.get(i).asLong() + ",\"id\":" + Json.write(ids.get(i)) + "}");
        }
        out.flush();
    }
}
