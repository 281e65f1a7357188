package io.k3j.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class QuantityTest {

    // Expected canonical forms are what kube-apiserver echoes back (apimachinery quantity_test.go cases).
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "0, 0", "0Mi, 0", "100m, 100m", "0.5, 500m", "1.0, 1", "1000m, 1", "1500m, 1500m",
            "1000, 1k", "1500, 1500", "1k, 1k", "1M, 1M", "2G, 2G", "12345, 12345",
            "1Ki, 1Ki", "1024, 1024", "1024Ki, 1Mi", "1536Mi, 1536Mi", "1.5Gi, 1536Mi", "0.5Ki, 512",
            "1e3, 1e3", "1E3, 1e3", "1e6, 1e6", "12e2, 1200", "1e-3, 1e-3",
            "0.000000001, 1n", "0.0000000001, 1n", "1n, 1n", "1u, 1u", "-100m, -100m", "+5, 5",
            "128974848, 128974848", "129e6, 129e6", "123Mi, 123Mi", "1000E, 1000E", "2Ei, 2Ei"})
    void canonicalForm(String in, String out) {
        assertThat(Quantity.parse(in).toString()).isEqualTo(out);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "abc", "1.2.3", "1Q", "1KiB", "Mi", "1 Gi", "1e", ".", "1e3.5"})
    void rejectsNonQuantities(String in) {
        assertThatThrownBy(() -> Quantity.parse(in)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void comparesByAmount() {
        assertThat(Quantity.parse("1Gi")).isEqualTo(Quantity.parse("1073741824"));
        assertThat(Quantity.parse("500m").compareTo(Quantity.parse("0.5"))).isZero();
        assertThat(Quantity.parse("1")).isGreaterThan(Quantity.parse("999m"));
        assertThat(Quantity.parse("1Ki")).isGreaterThan(Quantity.parse("1k"));
    }

    @Test
    void roundsUpToMilli() {
        assertThat(Quantity.parse("1n").roundUp(3).toString()).isEqualTo("1m");
        assertThat(Quantity.parse("100m").roundUp(3).toString()).isEqualTo("100m");
        assertThat(Quantity.parse("1.0001").roundUp(3).toString()).isEqualTo("1001m");
    }

    @Test
    void formatErrorIsApimachinerys() {
        assertThatThrownBy(() -> Quantity.parse("abc")).hasMessage(Quantity.FORMAT_ERROR);
    }
}
