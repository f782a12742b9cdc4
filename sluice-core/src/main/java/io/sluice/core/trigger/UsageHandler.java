package io.sluice.core.trigger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import io.sluice.api.pipeline.PipelineHandler;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Winchester's {@code UsageHandler}: checks an instance's day of notifications against its
 * end-of-day {@code compute.instance.exists} and says whether the usage is right.
 *
 * <p>The stream's events (by timestamp) are cut into blocks, each ended by a
 * {@code compute.instance.exists}; each block is checked against its exists:
 * U1 no {@code launched_at}; U2 conflicting core fields (launched_at, instance_flavor_id,
 * tenant_id, os_architecture, os_version, os_distro) between the exists and the block's last
 * rebuild/resize/rescue end, or launched_at/deleted_at against the delete; U3
 * {@code deleted_at} set but state not deleted; U4 deleted_at before launched_at; U5 deleted
 * within the audit period but no delete event; U6 delete events but no deleted_at; U7 several
 * deletes; U8 launched within the audit period but no events. Each exists gives a
 * {@code compute.instance.exists.verified} or {@code .failed} (with {@code error} and
 * {@code error_code}), plus {@code .warnings} for a non-end-of-day exists without an operation;
 * events after the last exists give a {@code .failed} with U0.
 *
 * <p>What Winchester did with them: put them in {@code env["usage_notifications"]} for the
 * notabene handler to publish. Sluice does that too and (improved) also returns them, so that
 * they are appended to the log once the pipeline commits. Their ids are derived from the
 * exists' id and the new event's type (a name-based UUID) rather than random, so a pipeline run
 * again stores nothing twice.
 */
public final class UsageHandler implements PipelineHandler {
    private static final Logger LOG = LoggerFactory.getLogger(UsageHandler.class);
    private static final List<String> CORE_FIELDS =
            List.of("launched_at", "instance_flavor_id", "tenant_id", "os_architecture", "os_version", "os_distro");
    private static final List<String> OPERATIONS =
            List.of("compute.instance.rebuild.end", "compute.instance.resize.prep.end", "compute.instance.rescue.end");

    private final List<String> warnings = new ArrayList<>();
    private Object streamId;

    /** A failed check, with Winchester's code. */
    static final class UsageException extends Exception {
        final String code;

        UsageException(String code, String message) {
            super(message);
            this.code = code;
        }
    }

    public UsageHandler() {}

    public UsageHandler(JsonNode params) {}

    @Override
    public List<ObjectNode> handleEvents(List<ObjectNode> events, Map<String, Object> env) {
        streamId = env.get("stream_id");
        warnings.clear(); // per run, as Winchester: a later block's warnings event repeats earlier ones
        List<ObjectNode> fresh = new ArrayList<>();
        List<ObjectNode> block = new ArrayList<>();
        for (ObjectNode e : events) {
            if (isExists(e)) {
                fresh.addAll(processBlock(block, e));
                block = new ArrayList<>();
            } else {
                block.add(e);
            }
        }
        if (!block.isEmpty()) {
            ObjectNode first = block.getFirst();
            ObjectNode failed = Json.object();
            failed.put("event_type", "compute.instance.exists.failed");
            failed.put("message_id", derivedId(first, "compute.instance.exists.failed"));
            failed.set("timestamp", first.get("timestamp"));
            putStreamId(failed);
            failed.set("instance_id", first.get("instance_id"));
            failed.put("error", "Notifications, but no .exists notification found.");
            failed.put("error_code", "U0");
            fresh.add(failed);
        }
        env.put("usage_notifications", fresh);
        List<ObjectNode> out = new ArrayList<>(events);
        out.addAll(fresh);
        return out;
    }

    private List<ObjectNode> processBlock(List<ObjectNode> block, ObjectNode exists) {
        UsageException error = null;
        String type;
        try {
            check(block, exists);
            type = "compute.instance.exists.verified";
        } catch (UsageException e) {
            error = e;
            type = "compute.instance.exists.failed";
            LOG.warn("Stream {} UsageException: ({}) {}", streamId, e.code, e.getMessage());
        }
        List<ObjectNode> out = new ArrayList<>();
        if (!warnings.isEmpty()) {
            ObjectNode w = Json.object();
            w.put("event_type", "compute.instance.exists.warnings");
            w.put("publisher_id", "stv3");
            w.put("message_id", derivedId(exists, "compute.instance.exists.warnings"));
            w.set("timestamp", exists.get("timestamp"));
            putStreamId(w);
            w.set("instance_id", exists.get("instance_id"));
            var list = w.putArray("warnings");
            warnings.forEach(list::add);
            out.add(w);
        }
        ObjectNode n = baseNotification(exists);
        n.put("event_type", type);
        n.put("message_id", derivedId(exists, type));
        n.put("publisher_id", "stv3");
        n.set("timestamp", exists.get("timestamp"));
        putStreamId(n);
        n.put("error", error == null ? "None" : error.getMessage());
        if (error == null) {
            n.putNull("error_code");
        } else {
            n.put("error_code", error.code);
        }
        out.add(n);
        return out;
    }

    private void putStreamId(ObjectNode e) {
        if (streamId instanceof Number id) {
            e.put("stream_id", id.longValue());
        } else {
            e.put("stream_id", String.valueOf(streamId));
        }
    }

    private void check(List<ObjectNode> block, ObjectNode exists) throws UsageException {
        confirmLaunchedAt(block, exists);
        ObjectNode lastOperation = null;
        for (ObjectNode e : block) {
            if (OPERATIONS.contains(e.path("event_type").asText())) {
                lastOperation = e;
            }
        }
        if (lastOperation != null) {
            verifyFields(lastOperation, exists, CORE_FIELDS);
        } else if (isNonEodExists(exists)) {
            warnings.add("Non-EOD .exists found (msg_id: "
                    + exists.path("message_id").asText() + ") with no operation event.");
        }
        List<ObjectNode> deletes = block.stream()
                .filter(e -> e.path("event_type").asText().equals("compute.instance.delete.end"))
                .toList();
        confirmDelete(exists, deletes);
    }

    private void confirmLaunchedAt(List<ObjectNode> block, ObjectNode exists) throws UsageException {
        if (!"active".equals(exists.path("state").asText(null))) {
            return;
        }
        LocalDateTime launched = launchedAt(exists);
        LocalDateTime apb = time(exists, "audit_period_beginning");
        LocalDateTime ape = time(exists, "audit_period_ending");
        if (apb != null && ape != null && !launched.isBefore(apb) && !launched.isAfter(ape) && block.isEmpty()) {
            throw new UsageException("U8", ".exists launched_at in audit period, but no related events found.");
        }
    }

    private static LocalDateTime launchedAt(ObjectNode exists) throws UsageException {
        LocalDateTime t = time(exists, "launched_at");
        if (t == null) {
            throw new UsageException("U1", ".exists has no launched_at value.");
        }
        return t;
    }

    private void confirmDelete(ObjectNode exists, List<ObjectNode> deletes) throws UsageException {
        LocalDateTime deletedAt = time(exists, "deleted_at");
        String state = exists.path("state").asText(null);
        LocalDateTime apb = time(exists, "audit_period_beginning");
        LocalDateTime ape = time(exists, "audit_period_ending");
        if (deletedAt == null && !deletes.isEmpty()) {
            throw new UsageException("U6", ".deleted events found but .exists has no deleted_at value.");
        }
        if (deletedAt != null && !"deleted".equals(state)) {
            throw new UsageException("U3", ".exists state not 'deleted' but .exists deleted_at is set.");
        }
        if (deletedAt != null && deletes.isEmpty()) {
            LocalDateTime launched = time(exists, "launched_at");
            if (launched != null && deletedAt.isBefore(launched)) {
                throw new UsageException("U4", ".exists deleted_at < .exists launched_at.");
            }
            if (apb != null && ape != null && !deletedAt.isBefore(apb) && !deletedAt.isAfter(ape)) {
                throw new UsageException(
                        "U5", ".exists deleted_at in audit period, but no matching .delete event found.");
            }
        }
        if (deletes.size() > 1) {
            throw new UsageException("U7", "Multiple .delete.end events");
        }
        if (!deletes.isEmpty()) {
            verifyFields(exists, deletes.getLast(), List.of("launched_at", "deleted_at"));
        }
    }

    /**
     * Fields that differ between two events. A field neither has is skipped; one that only one
     * has is a conflict (Winchester raised a KeyError there, failing the whole pipeline).
     */
    private static void verifyFields(ObjectNode a, ObjectNode b, List<String> fields) throws UsageException {
        for (String f : fields) {
            if (!a.has(f) && !b.has(f)) {
                continue;
            }
            Object x = a.has(f) ? Traits.value(a.get(f)) : null;
            Object y = b.has(f) ? Traits.value(b.get(f)) : null;
            if (x == null ? y != null : !Traits.same(x, y)) {
                throw new UsageException(
                        "U2", "Conflicting '" + f + "' values ('" + text(a, f) + "' != '" + text(b, f) + "')");
            }
        }
    }

    private static String text(ObjectNode e, String f) {
        return e.has(f) ? e.get(f).asText() : "None";
    }

    private static boolean isExists(ObjectNode e) {
        return e.path("event_type").asText().equals("compute.instance.exists");
    }

    private static boolean isNonEodExists(ObjectNode e) {
        LocalDateTime apb = time(e, "audit_period_beginning");
        LocalDateTime ape = time(e, "audit_period_ending");
        return isExists(e)
                && apb != null
                && ape != null
                && !ape.toLocalDate().equals(apb.toLocalDate().plusDays(1));
    }

    /** Whether an exists is the end-of-day one: a whole day's audit period from midnight. */
    static boolean isEodExists(ObjectNode e) {
        LocalDateTime apb = time(e, "audit_period_beginning");
        LocalDateTime ape = time(e, "audit_period_ending");
        return isExists(e)
                && apb != null
                && ape != null
                && apb.toLocalTime().equals(LocalTime.MIDNIGHT)
                && ape.toLocalTime().equals(LocalTime.MIDNIGHT)
                && ape.toLocalDate().equals(apb.toLocalDate().plusDays(1));
    }

    private static LocalDateTime time(ObjectNode e, String field) {
        JsonNode v = e.get(field);
        return v == null || !v.isTextual() ? null : Traits.datetime(v.textValue());
    }

    private static ObjectNode baseNotification(ObjectNode exists) {
        ObjectNode p = Json.object();
        p.put("audit_period_beginning", exists.path("audit_period_beginning").asText(""));
        p.put("audit_period_ending", exists.path("audit_period_ending").asText(""));
        p.put("launched_at", exists.path("launched_at").asText(""));
        p.put("deleted_at", exists.path("deleted_at").asText(""));
        p.put("instance_id", exists.path("instance_id").asText(""));
        p.put("tenant_id", exists.path("tenant_id").asText(""));
        p.put("display_name", exists.path("display_name").asText(""));
        p.put("instance_type", exists.path("instance_flavor").asText(""));
        p.put("instance_flavor_id", exists.path("instance_flavor_id").asText(""));
        p.put("state", exists.path("state").asText(""));
        p.put("state_description", exists.path("state_description").asText(""));
        ObjectNode bw = p.putObject("bandwidth").putObject("public");
        bw.set(
                "bw_in",
                exists.has("bandwidth_in")
                        ? exists.get("bandwidth_in")
                        : Json.nodes().numberNode(0));
        bw.set(
                "bw_out",
                exists.has("bandwidth_out")
                        ? exists.get("bandwidth_out")
                        : Json.nodes().numberNode(0));
        ObjectNode image = p.putObject("image_meta");
        image.put(
                "org.openstack__1__architecture", exists.path("os_architecture").asText(""));
        image.put("org.openstack__1__os_version", exists.path("os_version").asText(""));
        image.put("org.openstack__1__os_distro", exists.path("os_distro").asText(""));
        image.put("org.rackspace__1__options", exists.path("rax_options").asText("0"));
        ObjectNode n = Json.object();
        n.set("payload", p);
        n.put("original_message_id", exists.path("message_id").asText(""));
        n.set("instance_id", exists.get("instance_id"));
        return n;
    }

    /** A name-based id: the same original event and new type always give the same id. */
    private static String derivedId(ObjectNode original, String type) {
        String seed = original.path("message_id").asText(original.path("id").asText()) + "/" + type;
        return UUID.nameUUIDFromBytes(seed.getBytes(StandardCharsets.UTF_8)).toString();
    }
}
