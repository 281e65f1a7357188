package io.k3j.api.proto;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GoDurationTest {
    /** Expectations are what Go's time.Duration.String() prints for the same values. */
    @Test
    void formatsLikeGo() {
        assertThat(GoDuration.format(0)).isEqualTo("0s");
        assertThat(GoDuration.format(1)).isEqualTo("1ns");
        assertThat(GoDuration.format(1_100)).isEqualTo("1.1µs");
        assertThat(GoDuration.format(2_200_000)).isEqualTo("2.2ms");
        assertThat(GoDuration.format(300_000_000)).isEqualTo("300ms");
        assertThat(GoDuration.format(1_500_000_000)).isEqualTo("1.5s");
        assertThat(GoDuration.format(60_000_000_000L)).isEqualTo("1m0s");
        assertThat(GoDuration.format(3_600_000_000_000L)).isEqualTo("1h0m0s");
        assertThat(GoDuration.format(4_000_000_000_000L + 500)).isEqualTo("1h6m40.0000005s");
        assertThat(GoDuration.format(-90_000_000_000L)).isEqualTo("-1m30s");
        assertThat(GoDuration.format(Long.MIN_VALUE)).isEqualTo("-2562047h47m16.854775808s");
        assertThat(GoDuration.format(Long.MAX_VALUE)).isEqualTo("2562047h47m16.854775807s");
    }
}
