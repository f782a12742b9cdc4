package io.sluice.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.api.ErrorCode;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The in-flight budget for request bodies: shares, waiting, refusal, release. */
class AdmissionTest {
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private double inflight() {
        return meters.get("sluice.http.inflight").gauge().value();
    }

    @Test
    void aRequestWaitsForRoomAndIsAdmittedWhenAnotherIsDone() throws Exception {
        Admission admission = new Admission(100 * 1024, Duration.ofSeconds(30));
        admission.bindTo(meters);
        Admission.Ticket first = admission.admit(80 * 1024);
        assertThat(inflight()).isEqualTo(80 * 1024);

        CompletableFuture<Admission.Ticket> second = CompletableFuture.supplyAsync(() -> admission.admit(40 * 1024));
        // 80 + 40 KB > 100 KB: it waits, still not admitted after 200 ms
        assertThatThrownBy(() -> second.get(200, TimeUnit.MILLISECONDS))
                .isInstanceOf(java.util.concurrent.TimeoutException.class);

        first.close();
        try (Admission.Ticket admitted = second.get(10, TimeUnit.SECONDS)) {
            assertThat(inflight()).isEqualTo(40 * 1024);
        }
        assertThat(inflight()).isZero();
    }

    @Test
    void aRequestThatFindsNoRoomInTimeIsRefusedWith503AndCounted() {
        Admission admission = new Admission(100 * 1024, Duration.ofMillis(50));
        admission.bindTo(meters);
        try (Admission.Ticket held = admission.admit(90 * 1024)) {
            assertThatThrownBy(() -> admission.admit(20 * 1024))
                    .isInstanceOfSatisfying(
                            ApiException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE))
                    .hasMessageContaining("server.limits.max_inflight_bytes (102400 bytes)")
                    .hasMessageContaining("nothing of this request was stored");
            assertThat(inflight()).isEqualTo(90 * 1024); // the refused one holds nothing
        }
        assertThat(meters.get("sluice.http.busy").functionCounter().count()).isEqualTo(1);
    }

    @Test
    void aRequestLargerThanTheBudgetIsAdmittedAlone() {
        Admission admission = new Admission(100 * 1024, Duration.ofMillis(50));
        admission.bindTo(meters);
        try (Admission.Ticket whole = admission.admit(1 << 20)) {
            assertThat(inflight()).isEqualTo(100 * 1024);
            assertThatThrownBy(() -> admission.admit(1)).isInstanceOf(ApiException.class);
        }
        assertThat(inflight()).isZero();
    }

    @Test
    void aBodyOfUnknownLengthTakesMoreAsItArrives() {
        Admission admission = new Admission(8L << 20, Duration.ofMillis(50));
        admission.bindTo(meters);
        try (Admission.Ticket ticket = admission.admit(-1)) {
            assertThat(inflight()).isEqualTo(1 << 20); // a first step
            ticket.cover(512 * 1024);
            assertThat(inflight()).isEqualTo(1 << 20);
            ticket.cover(3L << 20);
            assertThat(inflight()).isEqualTo(4L << 20); // what is read and a step more
            ticket.cover(100L << 20);
            assertThat(inflight()).isEqualTo(8L << 20); // never more than the whole budget
        }
        assertThat(inflight()).isZero();
    }
}
