package io.sluice.core.handle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.api.Json;
import io.sluice.core.deliver.DeadLetters;
import io.sluice.core.log.EventStore;
import io.sluice.core.log.LiveEvents;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handlers of a server: one {@link HandlerRunner} per definition, the run history, and
 * changes at run time. Definitions come from the configuration (applied at every start) and
 * from {@code POST /v1/handlers} (kept in the store's {@code handler_definitions} table, so they
 * survive restarts); a configured handler wins over a stored one of the same name.
 *
 * <p>Adding a handler starts its reader; changing one (same name) stops the old runner and
 * starts the new one from the same checkpoint; removing one stops it and forgets its
 * checkpoint and runs. No other handler is touched by any of these.
 */
public final class Handlers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Handlers.class);

    private final EventStore store;
    private final LiveEvents live;
    private final DeadLetters deadLetters;
    private final RunLog runs;
    private final Clock clock;
    private final MeterRegistry meters;
    private final ClassLoader plugins;
    private final Path apiBase;
    private final Map<String, HandlerRunner> runners = new LinkedHashMap<>();
    private final Map<String, Boolean> configured = new LinkedHashMap<>();
    private final Map<String, HandlerDefinition> configuredDefinitions = new LinkedHashMap<>();
    private boolean started;

    /**
     * @param plugins where {@code driver: java} classes are found
     * @param apiBase the directory shell handlers defined through the API run in
     */
    public Handlers(
            EventStore store, LiveEvents live, Clock clock, MeterRegistry meters, ClassLoader plugins, Path apiBase) {
        this.store = store;
        this.live = live;
        this.clock = clock;
        this.meters = meters;
        this.plugins = plugins;
        this.apiBase = apiBase;
        this.deadLetters = new DeadLetters(store, clock);
        this.runs = new RunLog(store, meters);
        store.transaction("creating the handler table", c -> {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("CREATE TABLE IF NOT EXISTS handler_definitions (name TEXT PRIMARY KEY,"
                        + " definition TEXT NOT NULL, updated BIGINT NOT NULL)");
            }
            return null;
        });
    }

    /**
     * Starts the configured handlers and those stored through the API.
     *
     * @throws IllegalArgumentException when a definition cannot be made (a missing class, a bad URL)
     */
    public synchronized void start(List<HandlerDefinition> fromConfig) {
        for (HandlerDefinition d : fromConfig) {
            configured.put(d.name(), true);
            configuredDefinitions.put(d.name(), d);
            runners.put(d.name(), runner(d));
        }
        for (Map.Entry<String, JsonNode> stored : stored().entrySet()) {
            if (configured.containsKey(stored.getKey())) {
                LOG.warn(
                        "handler {} is defined in the configuration and through the API; the configuration's is used",
                        stored.getKey());
                continue;
            }
            try {
                HandlerDefinition d = HandlerDefinition.read(stored.getValue(), "handler " + stored.getKey(), apiBase);
                runners.put(d.name(), runner(d));
            } catch (IllegalArgumentException e) {
                LOG.error("handler {} (defined through the API) cannot start: {}", stored.getKey(), e.getMessage());
            }
        }
        runners.values().forEach(HandlerRunner::start);
        started = true;
        if (!runners.isEmpty()) {
            LOG.info("handlers running: {}", String.join(", ", runners.keySet()));
        }
    }

    /**
     * What a configuration reload changed.
     *
     * @param added handlers now running that were not
     * @param changed handlers restarted with their new definition (from their checkpoints)
     * @param removed handlers stopped (their checkpoints, runs and dead letters are kept)
     */
    public record Reloaded(List<String> added, List<String> changed, List<String> removed) {}

    /**
     * Applies a new configuration's handlers: the added ones start, the changed ones restart
     * from their checkpoints, the removed ones stop; the others run on untouched. Every new
     * definition's driver is made first, so a bad one (a missing class) changes nothing.
     *
     * @throws IllegalArgumentException naming the definition that cannot be made, or a handler
     *     defined through the API that the configuration now names too
     */
    public synchronized Reloaded reload(List<HandlerDefinition> fromConfig) {
        Map<String, HandlerDefinition> next = new LinkedHashMap<>();
        fromConfig.forEach(d -> next.put(d.name(), d));
        Map<String, Driver> drivers = new LinkedHashMap<>();
        for (HandlerDefinition d : next.values()) {
            HandlerDefinition before = configuredDefinitions.get(d.name());
            if (before == null && runners.containsKey(d.name())) {
                throw new IllegalArgumentException("handler " + d.name()
                        + " is defined through the API; delete it there before the configuration defines it");
            }
            if (before == null || !before.source().equals(d.source())) {
                drivers.put(d.name(), driver(d));
            }
        }
        List<String> added = new ArrayList<>();
        List<String> changed = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        for (String name : new ArrayList<>(configuredDefinitions.keySet())) {
            if (!next.containsKey(name)) {
                HandlerRunner old = runners.remove(name);
                if (old != null) {
                    old.close();
                }
                configured.remove(name);
                configuredDefinitions.remove(name);
                removed.add(name);
            }
        }
        for (Map.Entry<String, Driver> e : drivers.entrySet()) {
            HandlerDefinition d = next.get(e.getKey());
            HandlerRunner old = runners.remove(d.name());
            if (old != null) {
                old.close(); // saves its checkpoint: the new one continues from it
                changed.add(d.name());
            } else {
                added.add(d.name());
            }
            HandlerRunner fresh = new HandlerRunner(d, e.getValue(), store, live, deadLetters, runs, clock, meters);
            runners.put(d.name(), fresh);
            configured.put(d.name(), true);
            configuredDefinitions.put(d.name(), d);
            if (started) {
                fresh.start();
            }
        }
        LOG.info("handlers reloaded: added {}, changed {}, removed {}", added, changed, removed);
        return new Reloaded(added, changed, removed);
    }

    private HandlerRunner runner(HandlerDefinition d) {
        return new HandlerRunner(d, driver(d), store, live, deadLetters, runs, clock, meters);
    }

    /** The driver of a definition; throws when it cannot be made (a missing class, a bad URL). */
    private Driver driver(HandlerDefinition d) {
        try {
            return switch (d.driver()) {
                case SHELL -> new ShellDriver(d.handler(), d.base(), d.timeout(), d.maxOutput());
                case JAVA -> new JavaDriver(d.handler(), plugins, d.maxOutput());
                case HTTP -> new HttpDriver(d.handler(), d.timeout(), d.maxOutput());
            };
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("handler " + d.name() + ": handler: " + e.getMessage(), e);
        }
    }

    /**
     * Adds or replaces a handler from its API definition, and keeps it in the store.
     *
     * @return true when it replaced one
     * @throws IllegalArgumentException naming what is wrong with the definition
     */
    public synchronized boolean put(JsonNode definition) {
        HandlerDefinition d = HandlerDefinition.read(definition, "handler", apiBase);
        if (configured.containsKey(d.name())) {
            throw new IllegalArgumentException("handler " + d.name()
                    + " is defined in the server's configuration; change it there (or choose another name)");
        }
        Driver driver = driver(d); // made before the old one stops: a bad class changes nothing
        store.transaction("storing handler " + d.name(), c -> {
            try (PreparedStatement del = c.prepareStatement("DELETE FROM handler_definitions WHERE name = ?");
                    PreparedStatement ins = c.prepareStatement(
                            "INSERT INTO handler_definitions(name, definition, updated) VALUES (?, ?, ?)")) {
                del.setString(1, d.name());
                del.executeUpdate();
                ins.setString(1, d.name());
                ins.setString(2, Json.write(d.source()));
                ins.setLong(3, clock.millis());
                ins.executeUpdate();
            }
            return null;
        });
        HandlerRunner old = runners.remove(d.name());
        if (old != null) {
            old.close();
        }
        // A replaced handler continues from the old one's checkpoint, saved by close().
        HandlerRunner fresh = new HandlerRunner(d, driver, store, live, deadLetters, runs, clock, meters);
        runners.put(d.name(), fresh);
        if (started) {
            fresh.start();
        }
        LOG.info("handler {} {}", d.name(), old == null ? "added" : "changed");
        return old != null;
    }

    /**
     * Removes a handler defined through the API, with its checkpoint and runs.
     *
     * @return false when there is no such handler
     * @throws IllegalArgumentException when the handler comes from the configuration
     */
    public synchronized boolean remove(String name) {
        if (configured.containsKey(name)) {
            throw new IllegalArgumentException(
                    "handler " + name + " is defined in the server's configuration; remove it there");
        }
        HandlerRunner old = runners.remove(name);
        boolean stored = store.transaction("deleting handler " + name, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM handler_definitions WHERE name = ?")) {
                ps.setString(1, name);
                return ps.executeUpdate() > 0;
            }
        });
        if (old == null && !stored) {
            return false;
        }
        if (old != null) {
            old.close();
        }
        store.deleteCheckpoint(HandlerRunner.readerName(name));
        runs.forget(name);
        LOG.info("handler {} removed", name);
        return true;
    }

    /** The handlers with their counters, for {@code GET /v1/handlers}. */
    public synchronized ArrayNode list() {
        ArrayNode out = Json.nodes().arrayNode();
        for (HandlerRunner r : runners.values()) {
            out.add(status(r));
        }
        return out;
    }

    /** One handler's status. */
    public synchronized Optional<ObjectNode> get(String name) {
        HandlerRunner r = runners.get(name);
        return r == null ? Optional.empty() : Optional.of(status(r));
    }

    private ObjectNode status(HandlerRunner r) {
        ObjectNode o = r.definition().toJson();
        o.put("defined_in", configured.containsKey(r.definition().name()) ? "config" : "api");
        o.put("runs", r.runs());
        o.put("failures", r.failures());
        o.put("dead_lettered", deadLetters.count(r.reader()));
        o.put("running", r.running());
        o.put("checkpoint", r.checkpointed());
        o.put("lag", r.lag());
        if (r.lastRunMillis() > 0) {
            o.put("last_run", Instant.ofEpochMilli(r.lastRunMillis()).toString());
        }
        if (r.lastError() != null) {
            o.put("last_error", r.lastError());
        }
        return o;
    }

    /** Recorded runs, newest first. */
    public List<RunLog.Run> runs(String handler, String status, int limit) {
        return runs.list(handler, status, limit);
    }

    /** Whether a dead letter belongs to a handler. */
    public static boolean isHandlerReader(String reader) {
        return reader.startsWith("handler:");
    }

    /**
     * Runs a handler's dead letter once more; on success it leaves the list.
     *
     * @return null on success, else the failure
     */
    public String replay(DeadLetters.DeadLetter letter) throws InterruptedException {
        HandlerRunner r;
        synchronized (this) {
            r = runners.get(letter.reader().substring("handler:".length()));
        }
        if (r == null) {
            return "its handler (" + letter.reader() + ") is not defined any more";
        }
        return r.replay(letter);
    }

    /** The names of the running handlers. */
    public synchronized List<String> names() {
        return new ArrayList<>(runners.keySet());
    }

    private Map<String, JsonNode> stored() {
        return store.transaction("reading handler definitions", c -> {
            Map<String, JsonNode> out = new LinkedHashMap<>();
            try (PreparedStatement ps =
                            c.prepareStatement("SELECT name, definition FROM handler_definitions ORDER BY name");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), Json.parse(rs.getString(2)));
                }
            }
            return out;
        });
    }

    @Override
    public synchronized void close() {
        List<Thread> stopping = new ArrayList<>();
        for (HandlerRunner r : runners.values()) {
            stopping.add(Thread.ofVirtual().start(r::close)); // in parallel: each may wait for its runs
        }
        for (Thread t : stopping) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        runners.clear();
        runs.close();
    }
}
