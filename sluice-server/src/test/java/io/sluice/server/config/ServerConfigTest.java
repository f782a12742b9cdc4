package io.sluice.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.api.Envelope;
import io.sluice.store.sqlite.Compression;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {
    @TempDir
    Path dir;

    private Path file(String yaml) throws IOException {
        return Files.writeString(dir.resolve("sluice.yaml"), yaml);
    }

    @Test
    void noKeysGiveTheDefaultsWithPathsBesideTheFile() throws IOException {
        ServerConfig c = ServerConfig.load(file("# nothing\n"));
        assertThat(c.bind()).isEqualTo("127.0.0.1");
        assertThat(c.port()).isEqualTo(8470);
        assertThat(c.store().path()).isEqualTo(dir.toAbsolutePath().resolve("sluice-data"));
        assertThat(c.store().compression()).isEqualTo(Compression.ZSTD);
        assertThat(c.retention().limited()).isFalse();
        assertThat(c.envelope()).isEqualTo(Envelope.DEFAULT);
    }

    @Test
    void readsEveryKey() throws IOException {
        ServerConfig c = ServerConfig.load(file("""
                server:
                  bind: 0.0.0.0
                  port: 9000
                  limits: {max_body_bytes: 2MiB, max_event_bytes: 64KB, max_events_per_request: 500, max_inflight_bytes: 256MiB}
                store:
                  type: sqlite
                  path: data/events
                  compression: none
                  retention: {max_events: 1000, max_bytes: 1GB, max_age: 7d}
                envelope: winchester
                """));
        assertThat(c.bind()).isEqualTo("0.0.0.0");
        assertThat(c.port()).isEqualTo(9000);
        assertThat(c.limits()).isEqualTo(new ServerConfig.Limits(2L << 20, 64_000, 500, 256L << 20));
        assertThat(c.limits().inflightBudget()).isEqualTo(256L << 20);
        assertThat(ServerConfig.Limits.DEFAULT.inflightBudget(8L << 30))
                .as("by default an eighth of the heap")
                .isEqualTo(1L << 30);
        assertThat(ServerConfig.Limits.DEFAULT.inflightBudget(256L << 20))
                .as("and never under the body limit")
                .isEqualTo(64L << 20);
        assertThat(c.limits().inflightBudget(8L << 30))
                .as("a configured budget stands")
                .isEqualTo(256L << 20);
        assertThat(c.store().path()).isEqualTo(dir.toAbsolutePath().resolve("data/events"));
        assertThat(c.store().compression()).isEqualTo(Compression.NONE);
        assertThat(c.withDataDir(dir.resolve("elsewhere")).store().compression())
                .as("--data keeps the file's compression")
                .isEqualTo(Compression.NONE);
        assertThat(ServerConfig.load(file("store: {compression: zstd}\n"))
                        .store()
                        .compression())
                .isEqualTo(Compression.ZSTD);
        assertThat(c.retention()).isEqualTo(new ServerConfig.Retention(1000, 1_000_000_000L, Duration.ofDays(7)));
        assertThat(c.envelope()).isEqualTo(Envelope.WINCHESTER);
        assertThat(ServerConfig.load(file("envelope: {id: uid, type: kind, time: at}\n"))
                        .envelope())
                .isEqualTo(new Envelope("uid", "kind", "at"));
        assertThat(ServerConfig.load(file("store: {type: postgres, url: 'postgres://db:5432/events'}\n"))
                        .store())
                .isEqualTo(ServerConfig.Store.postgres("postgres://db:5432/events", "sluice"));
        assertThat(ServerConfig.load(file("store: {type: postgres, url: 'jdbc:postgresql://db/e', schema: s2}\n"))
                        .store()
                        .schema())
                .isEqualTo("s2");
        assertThat(ServerConfig.load(file("store: {retention: {max_age: PT12H}}\n"))
                        .retention()
                        .maxAge())
                .isEqualTo(Duration.ofHours(12));
    }

    @Test
    void errorsNameTheFileAndTheKeyPath() throws IOException {
        Path f = file("server:\n  port: http\n");
        assertThatThrownBy(() -> ServerConfig.load(f))
                .isInstanceOf(ConfigException.class)
                .hasMessage(f + ": server.port: must be a whole number from 0 to 65535, not \"http\"");
        assertThatThrownBy(() -> ServerConfig.load(file("server: {prot: 1}\n")))
                .hasMessageContaining("server.prot: unknown key (known: bind, limits, port)");
        assertThatThrownBy(() -> ServerConfig.load(file("sever: {}\n"))).hasMessageContaining("unknown key 'sever'");
        assertThatThrownBy(() -> ServerConfig.load(file("store: {type: mongo}\n")))
                .hasMessageContaining("store.type: must be sqlite or postgres");
        assertThatThrownBy(() -> ServerConfig.load(file("server: {limits: {max_inflight_bytes: 100}}\n")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("server.limits.max_inflight_bytes: must be at least 1KiB")
                .hasMessageEndingWith("not 100");
        assertThatThrownBy(() -> ServerConfig.load(file("store: {compression: gzip}\n")))
                .isInstanceOf(ConfigException.class)
                .hasMessageEndingWith("store.compression: must be zstd or none, not 'gzip'");
        assertThatThrownBy(() ->
                        ServerConfig.load(file("store: {type: postgres, url: 'postgres://db/e', compression: zstd}\n")))
                .hasMessageContaining("store.compression: only for the sqlite store");
        assertThatThrownBy(() -> ServerConfig.load(file("store: {type: postgres}\n")))
                .hasMessageContaining("store.url: required with type postgres");
        assertThatThrownBy(() -> ServerConfig.load(file("store: {retention: {max_bytes: lots}}\n")))
                .hasMessageContaining("store.retention.max_bytes: must be a size");
        assertThatThrownBy(() -> ServerConfig.load(file("store: {retention: {max_age: forever}}\n")))
                .hasMessageContaining("store.retention.max_age: must be a duration");
        assertThatThrownBy(() -> ServerConfig.load(file("envelope: nope\n")))
                .hasMessageContaining("envelope: unknown envelope preset 'nope'");
        assertThatThrownBy(() -> ServerConfig.load(file("flows: [3]\n")))
                .hasMessageContaining("sluice.yaml: flows[0]: must be the path of a flow file");
        assertThatThrownBy(() -> ServerConfig.load(file("flows: [{modules: {a: {module: testevent}}}]\n")))
                .hasMessageContaining("flows[0]: an inline flow needs a name:");
        assertThatThrownBy(() -> ServerConfig.load(file("handlers: [{name: x, driver: shell}]\n")))
                .hasMessageContaining("sluice.yaml: handlers[0].handler: required");
        assertThatThrownBy(() -> ServerConfig.load(file("handlers: [{name: x, driver: perl, handler: a}]\n")))
                .hasMessageContaining("handlers[0].driver: unknown driver 'perl' (drivers: shell, java, http)");
        assertThatThrownBy(() -> ServerConfig.load(file(
                        "handlers: [{name: x, driver: shell, handler: a}, {name: x, driver: shell, handler: b}]\n")))
                .hasMessageContaining("two handlers are named 'x'");
        assertThatThrownBy(() -> ServerConfig.load(file("handlers: [{name: x, driver: shell, handler: \"a 'b\"}]\n")))
                .hasMessageContaining("handlers[0].handler: unclosed single quote");
        assertThatThrownBy(() -> ServerConfig.load(file("server:\n  port: [1\n")))
                .hasMessageMatching("(?s).*sluice.yaml:\\d+:\\d+: invalid YAML.*");
        assertThatThrownBy(() -> ServerConfig.load(dir.resolve("missing.yaml"))).hasMessageContaining("no such file");
    }
}
