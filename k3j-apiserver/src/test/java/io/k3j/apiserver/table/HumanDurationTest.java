package io.k3j.apiserver.table;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HumanDurationTest {

    // Cases from k8s.io/apimachinery/pkg/util/duration TestHumanDuration, in seconds.
    @ParameterizedTest
    @CsvSource({
        "-2, <invalid>", "-1, 0s", "0, 0s", "1, 1s", "119, 119s", "120, 2m", "121, 2m1s", "182, 3m2s", "599, 9m59s",
        "600, 10m", "10799, 179m", "10800, 3h", "11400, 3h10m", "28799, 7h59m", "28800, 8h", "172799, 47h",
        "172800, 2d", "180000, 2d2h", "691199, 7d23h", "691200, 8d", "63071999, 729d", "63072000, 2y",
        "65664000, 2y30d", "252287999, 7y364d", "252288000, 8y", "315360000, 10y"})
    void formatsLikeKubernetes(long seconds, String expected) {
        assertThat(HumanDuration.format(Duration.ofSeconds(seconds))).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"-1500, 0s", "-2500, <invalid>", "59999, 59s", "120500, 2m"})
    void truncatesFractionsTowardZero(long millis, String expected) {
        assertThat(HumanDuration.format(Duration.ofMillis(millis))).isEqualTo(expected);
    }
}
