package io.sluice.core.trigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Winchester's own files (the sandbox's and the example's) load unchanged; bad files say where. */
class WinchesterConfigTest {
    @TempDir
    Path dir;

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(
                WinchesterConfigTest.class.getResource("/openstack/" + name).toURI());
    }

    @Test
    void theSandboxLoadsAsItIs() throws Exception {
        WinchesterConfig c = WinchesterConfig.load(resource("sandbox/winchester.yaml"));
        assertThat(c.triggers()).hasSize(1);
        TriggerDefinition t = c.triggers().getFirst();
        assertThat(t.name()).isEqualTo("test_trigger");
        assertThat(t.debugLevel()).isEqualTo(2);
        assertThat(t.distinguishedBy()).hasSize(2);
        assertThat(t.distinguishedBy().get(1).range().source()).isEqualTo("day");
        assertThat(t.expiration().source()).isEqualTo("$last + 2d");
        assertThat(t.matchCriteria()).hasSize(2);
        assertThat(t.matchCriteria().get(1).mapDistinguishedBy()).containsEntry("timestamp", "audit_period_beginning");
        assertThat(t.fireCriteria().getFirst().traits()).hasSize(1);
        assertThat(c.pipelines()).containsOnlyKeys("test_fire_pipeline", "test_expire_pipeline");
        assertThat(c.pipelines().get("test_fire_pipeline").handlers())
                .extracting(PipelineDefinition.Step::name)
                .containsExactly("logger", "usage", "notabene");
        assertThat(c.pipelines()
                        .get("test_fire_pipeline")
                        .handlers()
                        .get(2)
                        .params()
                        .path("exchange")
                        .asText())
                .isEqualTo("nova");
        assertThat(c.handlers()).containsEntry("usage", "winchester.pipeline_handler:UsageHandler");
        assertThat(c.distillerConfig().getFileName().toString()).isEqualTo("event_definitions.yaml");
        assertThat(c.catchAllNotifications()).isFalse();
    }

    @Test
    void theExampleConfigurationLoadsAsItIs() throws Exception {
        WinchesterConfig c = WinchesterConfig.load(resource("winchester/winchester.yaml"));
        TriggerDefinition t = c.triggers().getFirst();
        assertThat(t.expiration().source()).isEqualTo("$last + 1h");
        // Winchester's example spells it map_distingushed_by: read all the same.
        assertThat(t.matchCriteria().get(1).mapDistinguishedBy()).containsEntry("timestamp", "audit_period_beginning");
        assertThat(c.pipelines()).containsOnlyKeys("test_pipeline", "test_expire_pipeline");
    }

    private Path copySandbox() throws Exception {
        for (String f : new String[] {"winchester.yaml", "triggers.yaml", "pipelines.yaml", "event_definitions.yaml"}) {
            Files.copy(resource("sandbox/" + f), dir.resolve(f));
        }
        return dir.resolve("winchester.yaml");
    }

    private void replace(String file, String from, String to) throws IOException {
        Path p = dir.resolve(file);
        String s = Files.readString(p);
        assertThat(s).contains(from);
        Files.writeString(p, s.replace(from, to));
    }

    @Test
    void pipelineWorkersFollowWinchestersSettingsAndSluicesRetry() throws Exception {
        Path w = copySandbox();
        WinchesterConfig c = WinchesterConfig.load(w);
        assertThat(c.workers().batch()).isEqualTo(1000); // pipeline_worker_batch_size
        assertThat(c.workers().delay()).isEqualTo(java.time.Duration.ofSeconds(10)); // pipeline_worker_delay
        assertThat(c.workers().threads()).isEqualTo(1);
        assertThat(c.workers().retry()).isNull();

        Files.writeString(
                w,
                Files.readString(w)
                        + "sluice: {pipeline_workers: 3, retry: {attempts: 4, backoff: 10s, max_backoff: 25s}}\n");
        c = WinchesterConfig.load(w);
        assertThat(c.workers().threads()).isEqualTo(3);
        WorkerSettings.Retry r = c.workers().retry();
        java.time.Instant t = java.time.Instant.parse("2026-01-01T00:00:00Z");
        assertThat(r.next(1, t)).isEqualTo(t.plusSeconds(10));
        assertThat(r.next(2, t)).isEqualTo(t.plusSeconds(20));
        assertThat(r.next(3, t)).as("capped").isEqualTo(t.plusSeconds(25));
        assertThat(r.next(4, t)).as("attempts spent").isNull();

        replace("winchester.yaml", "attempts: 4", "attempts: 1");
        assertThatThrownBy(() -> WinchesterConfig.load(w))
                .hasMessageContaining("winchester.yaml: sluice.retry.attempts:")
                .hasMessageContaining("at least 2");
        replace("winchester.yaml", "attempts: 1", "attempts: 4, tries: 2");
        assertThatThrownBy(() -> WinchesterConfig.load(w)).hasMessageContaining("sluice.retry.tries: unknown setting");
        replace("winchester.yaml", "attempts: 4, tries: 2", "attempts: 4");
        replace("winchester.yaml", "pipeline_worker_delay: 10", "pipeline_worker_delay: soon");
        assertThatThrownBy(() -> WinchesterConfig.load(w)).hasMessageContaining("pipeline_worker_delay:");
    }

    @Test
    void badFilesNameTheFileTheTriggerAndTheField() throws Exception {
        Path w = copySandbox();
        replace("triggers.yaml", "expiration: \"$last + 2d\"", "expiration: \"$last + 2 fortnights\"");
        assertThatThrownBy(() -> WinchesterConfig.load(w))
                .isInstanceOf(DefinitionException.class)
                .hasMessageContaining("triggers.yaml: trigger 'test_trigger': expiration:")
                .hasMessageContaining("unknown unit 'fortnights'");

        replace("triggers.yaml", "expiration: \"$last + 2 fortnights\"", "expiration: \"$last + 2d\"");
        replace("triggers.yaml", "fire_pipeline: \"test_fire_pipeline\"", "fire_pipeline: \"nope\"");
        assertThatThrownBy(() -> WinchesterConfig.load(w))
                .hasMessageContaining("trigger 'test_trigger': fire_pipeline: no pipeline named 'nope'");

        replace("triggers.yaml", "fire_pipeline: \"nope\"", "fire_pipeline: \"test_fire_pipeline\"");
        replace("pipelines.yaml", "    - usage\n    - name: notabene", "    - usgae\n    - name: notabene");
        assertThatThrownBy(() -> WinchesterConfig.load(w))
                .hasMessageContaining("pipelines.yaml: pipeline 'test_fire_pipeline': [1]: no handler named 'usgae'");

        Files.copy(
                resource("sandbox/pipelines.yaml"),
                dir.resolve("pipelines.yaml"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        replace(
                "triggers.yaml",
                "        datetime: $audit_period_beginning + 1d",
                "        datetime: $audit_period_beginning + 1d\n        int: 3");
        assertThatThrownBy(() -> WinchesterConfig.load(w))
                .hasMessageContaining(
                        "trigger 'test_trigger': fire_criteria[0].traits.audit_period_ending: exactly one");

        Files.copy(
                resource("sandbox/triggers.yaml"),
                dir.resolve("triggers.yaml"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        replace("winchester.yaml", "statistics_period: 10", "statistics_period: 10\nstatistic_period: 5");
        assertThatThrownBy(() -> WinchesterConfig.load(w))
                .hasMessageContaining("winchester.yaml: statistic_period: unknown Winchester setting");

        replace("winchester.yaml", "statistic_period: 5", "");
        Files.delete(dir.resolve("pipelines.yaml"));
        assertThatThrownBy(() -> WinchesterConfig.load(w))
                .hasMessageContaining("winchester.yaml: pipeline_config: no file pipelines.yaml");
    }
}
