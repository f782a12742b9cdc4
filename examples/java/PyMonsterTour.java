import io.sluice.client.ConsumerLoop;
import io.sluice.client.SluiceClient;
import io.sluice.client.TypedEvent;
import java.time.Duration;
import java.time.Instant;

/**
 * PyMonster's README tour, with Sluice's Java client: log events (untyped, typed and custom),
 * then consume them with a named consumer whose progress the server keeps.
 *
 * <p>Run it against a running server (`./sluice server`):
 * {@code java -cp sluice-client/target/classes:sluice-api/target/classes:<jackson jars> examples/java/PyMonsterTour.java}
 */
public class PyMonsterTour {
    /** A typed event: its record components become the event's data. */
    public record BoughtShirt(String user, int quantity) implements TypedEvent {
        @Override
        public String eventType() {
            return "events.user.bought_shirt";
        }
    }

    /** A custom event (PyMonster's custom_1): it checks its message and logs it its own way. */
    public record Custom1(String msg) implements TypedEvent {
        @Override
        public String eventType() {
            return "events.custom_1";
        }

        @Override
        public TypedEvent validated() {
            if (msg == null || msg.isBlank()) {
                throw new IllegalArgumentException("custom_1 needs a message");
            }
            System.out.println("[CustomEventLogger][events.custom_1] " + msg);
            return this;
        }
    }

    public static void main(String[] args) throws Exception {
        String url = args.length > 0 ? args[0] : System.getenv().getOrDefault("SLUICE_URL", "http://127.0.0.1:8470");
        SluiceClient events = SluiceClient.connect(url);

        // Logging events: no classes needed...
        events.log("events.event_1", "a really cool message");
        System.out.println("[Event][events.event_1] a really cool message");
        // ...but typed and custom events work too.
        events.log(new BoughtShirt("gordon", 2));
        System.out.println("[Event][events.user.bought_shirt] {user=gordon, quantity=2}");
        events.log(new Custom1("logging a really great message"));

        // Consumers: a named consumer sees the whole history, then new events, and keeps its
        // progress on the server (run several copies of this loop to share the work).
        try (ConsumerLoop consumer = events.consumer("pymonster-tour")
                .wait(Duration.ofMillis(500))
                .on("events.event_1", e ->
                        System.out.println("[Consumer][events.event_1 #" + e.offset() + "]: " + e.data().asText()))
                .on("events.user.bought_shirt", BoughtShirt.class, (shirt, e) ->
                        System.out.println("[Consumer][events.user.bought_shirt #" + e.offset() + "]: " + shirt.user()
                                + " bought " + shirt.quantity() + " shirts"))
                .on("events.custom_1", Custom1.class, (custom, e) ->
                        System.out.println("[CustomConsumer][events.custom_1 #" + e.offset() + "]: " + custom.msg()))
                .start()) {
            for (int i = 0; i < 20; i++) {
                events.log("events.event_1", "Logging event_1 " + i);
                events.log(new Custom1("Logging custom event " + i));
            }
            Instant deadline = Instant.now().plusSeconds(60);
            while (consumer.handled() < 43 && Instant.now().isBefore(deadline)) {
                Thread.onSpinWait();
                Thread.yield();
            }
            System.out.println("consumed " + consumer.handled() + " events");
        }
    }
}
