package io.sluice.client;

/**
 * A typed event: usually a record, logged with {@link SluiceClient#log(TypedEvent)}. Its
 * components become the event's {@code data}. Override {@link #eventType()} to name the type
 * (by default the class name in dotted lower case: {@code UserBoughtShirt} is
 * {@code user.bought.shirt}), and {@link #validated()} to check or transform the event before
 * it is logged — PyMonster's custom event classes.
 */
public interface TypedEvent {
    /** The event's type. */
    default String eventType() {
        String simple = getClass().getSimpleName();
        return simple.replaceAll("([a-z0-9])([A-Z])", "$1.$2").toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * The event to log: this one, or a transformed one.
     *
     * @throws IllegalArgumentException when the event is not valid; it is then not logged
     */
    default TypedEvent validated() {
        return this;
    }
}
