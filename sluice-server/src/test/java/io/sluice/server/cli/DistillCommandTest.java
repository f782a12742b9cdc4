package io.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.api.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice distill} on StackDistiller's own definitions. */
class DistillCommandTest {
    @TempDir
    Path dir;

    @Test
    void printsTheEventsOfCoveredNotificationsAndCountsTheRest() throws Exception {
        Path notifications = dir.resolve("n.json");
        Files.writeString(
                notifications,
                "[{\"message_id\":\"m1\",\"event_type\":\"compute.instance.create.end\","
                        + "\"publisher_id\":\"compute.host-7\",\"timestamp\":\"2014-08-01 10:00:00.000001\","
                        + "\"payload\":{\"instance_id\":\"i-1\",\"tenant_id\":\"t\",\"memory_mb\":\"512\"}},"
                        + "{\"message_id\":\"m2\",\"event_type\":\"image.upload\"}]");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = SluiceCommand.commandLine(new PrintWriter(out), new PrintWriter(err))
                .execute(
                        "distill",
                        "--definitions",
                        Path.of(
                                        "..",
                                        "sluice-core",
                                        "src",
                                        "test",
                                        "resources",
                                        "openstack",
                                        "stackdistiller",
                                        "event_definitions.yaml")
                                .toString(),
                        notifications.toString());
        assertThat(exit).as(err.toString()).isZero();
        var lines = out.toString().lines().toList();
        assertThat(lines).hasSize(1);
        var e = Json.parse(lines.getFirst());
        assertThat(e.path("instance_id").asText()).isEqualTo("i-1");
        assertThat(e.path("host").asText()).isEqualTo("host-7");
        assertThat(e.path("memory_mb").asLong()).isEqualTo(512);
        assertThat(e.path("timestamp").asText()).isEqualTo("2014-08-01T10:00:00.000001Z");
        assertThat(err.toString()).contains("1 notifications no definition covers");

        exit = SluiceCommand.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err))
                .execute("distill", "--definitions", dir.resolve("missing.yaml").toString(), notifications.toString());
        assertThat(exit).isEqualTo(2);
    }
}
