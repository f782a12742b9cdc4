package io.sluice.server.flow;

import io.sluice.api.Json;
import io.sluice.api.component.Spec;
import io.sluice.api.flow.ModuleProvider;
import io.sluice.api.flow.ModuleType;
import java.util.List;
import java.util.Locale;

/** A plugin's module type for the tests: {@code upper} upper-cases text data. */
public final class UpperModules implements ModuleProvider {
    @Override
    public List<ModuleType> modules() {
        return List.of(new ModuleType(
                new Spec("module", "upper", "Upper-cases text data.", List.of()),
                List.of("inbox"),
                List.of("outbox"),
                (args, base) -> (event, queue, ctx) -> ctx.submit(event.withData(
                        Json.nodes().textNode(event.data().asText().toUpperCase(Locale.ROOT))))));
    }
}
