package io.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.api.flow.ModuleType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * docs/flows.md lists every module type exactly as its spec says (the text {@code sluice flow
 * show TYPE} prints). After changing a spec, regenerate the list with {@code ./mvnw test -pl
 * sluice-server -Dtest=FlowDocsTest -Dsluice.writeDocs=true}.
 */
class FlowDocsTest {
    private static final Path DOC =
            Path.of("..", "docs", "flows.md").toAbsolutePath().normalize();
    private static final String BEGIN = "<!-- modules:begin (generated from the specs by FlowDocsTest) -->\n";
    private static final String END = "<!-- modules:end -->";

    @Test
    void theFlowsDocListsEveryModuleTypeFromItsSpec() throws Exception {
        StringBuilder generated = new StringBuilder(BEGIN).append('\n');
        for (ModuleType t : FlowCommand.registry().types()) {
            generated.append(FlowCommand.markdown(t));
        }
        String doc = Files.readString(DOC);
        int begin = doc.indexOf(BEGIN);
        int end = doc.indexOf(END);
        assertThat(begin).as("the begin marker in docs/flows.md").isNotNegative();
        assertThat(end).as("the end marker in docs/flows.md").isGreaterThan(begin);
        String written = doc.substring(begin, end);
        if (Boolean.getBoolean("sluice.writeDocs")) {
            Files.writeString(DOC, doc.substring(0, begin) + generated + doc.substring(end));
            return;
        }
        assertThat(written)
                .as("docs/flows.md's module list; regenerate it with -Dsluice.writeDocs=true")
                .isEqualTo(generated.toString());
    }
}
