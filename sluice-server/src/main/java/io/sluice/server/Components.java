package io.sluice.server;

import io.sluice.api.component.Settings;
import io.sluice.api.component.Sink;
import io.sluice.api.component.Source;
import io.sluice.api.component.Spec;
import io.sluice.connect.amqp.AmqpSink;
import io.sluice.connect.amqp.AmqpSource;
import io.sluice.connect.zeromq.ZmqPullSource;
import io.sluice.core.connect.FileSink;
import io.sluice.core.connect.StdoutSink;
import io.sluice.core.connect.WebhookSink;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every component type Sluice knows, in one readable list: its spec (settings, defaults,
 * docs) and how to make one from its settings. Configurations are read through the specs;
 * the server makes the components.
 */
public final class Components {
    /** Makes an output's sink from its settings; {@code base} resolves relative paths. */
    @FunctionalInterface
    public interface SinkFactory {
        Sink make(Settings settings, Path base);
    }

    /** An output type. */
    public record OutputType(Spec spec, SinkFactory factory) {}

    /** Makes an input's source from its settings; {@code base} resolves relative paths. */
    @FunctionalInterface
    public interface SourceFactory {
        Source make(Settings settings, Path base);
    }

    /** An input type. */
    public record InputType(Spec spec, SourceFactory factory) {}

    private static final Map<String, OutputType> OUTPUTS = new LinkedHashMap<>();
    private static final Map<String, InputType> INPUTS = new LinkedHashMap<>();

    static {
        input(AmqpSource.SPEC, (s, base) -> AmqpSource.of(s));
        input(ZmqPullSource.SPEC, (s, base) -> ZmqPullSource.of(s));

        output(AmqpSink.SPEC, (s, base) -> AmqpSink.of(s));
        output(WebhookSink.SPEC, (s, base) -> WebhookSink.of(s));
        output(FileSink.SPEC, FileSink::of);
        output(StdoutSink.SPEC, (s, base) -> new StdoutSink(System.out));
    }

    private Components() {}

    private static void output(Spec spec, SinkFactory factory) {
        if (OUTPUTS.putIfAbsent(spec.type(), new OutputType(spec, factory)) != null) {
            throw new IllegalStateException("two output types are named '" + spec.type() + "'");
        }
    }

    private static void input(Spec spec, SourceFactory factory) {
        if (INPUTS.putIfAbsent(spec.type(), new InputType(spec, factory)) != null) {
            throw new IllegalStateException("two input types are named '" + spec.type() + "'");
        }
    }

    /** The input type of that name, or null. */
    public static InputType input(String type) {
        return INPUTS.get(type);
    }

    /** All input types. */
    public static Collection<InputType> inputs() {
        return INPUTS.values();
    }

    /** The output type of that name, or null. */
    public static OutputType output(String type) {
        return OUTPUTS.get(type);
    }

    /** All output types, in the order of the list above. */
    public static Collection<OutputType> outputs() {
        return OUTPUTS.values();
    }
}
