package io.k3j.apiserver.crd;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3j.api.Json;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Values print as Go's fmt and encoding/json print them inside field errors. */
class GoValuesTest {
    @Test
    @DisplayName("float64 %v uses shortest digits and %e from exponent 6 or below -4")
    void floats() {
        assertThat(GoValues.goFloat(20)).isEqualTo("20");
        assertThat(GoValues.goFloat(1.5)).isEqualTo("1.5");
        assertThat(GoValues.goFloat(123456)).isEqualTo("123456");
        assertThat(GoValues.goFloat(1e6)).isEqualTo("1e+06");
        assertThat(GoValues.goFloat(1234567)).isEqualTo("1.234567e+06");
        assertThat(GoValues.goFloat(0.0001)).isEqualTo("0.0001");
        assertThat(GoValues.goFloat(0.00001)).isEqualTo("1e-05");
        assertThat(GoValues.jsonFloat(1e21)).isEqualTo("1e+21");
        assertThat(GoValues.jsonFloat(1e20)).isEqualTo("100000000000000000000");
    }

    @Test
    @DisplayName("bad values: strings quoted, maps as sorted JSON, HTML characters escaped")
    void render() {
        assertThat(GoValues.render("a\"b\n")).isEqualTo("\"a\\\"b\\n\"");
        assertThat(GoValues.render(Json.parse("{\"b\":1,\"a\":[true,null,\"<x>\"]}".getBytes())))
                .isEqualTo("{\"a\":[true,null,\"\\u003cx\\u003e\"],\"b\":1}");
        assertThat(GoValues.render(Json.parse("1.0".getBytes()))).isEqualTo("1");
    }

    @Test
    @DisplayName("formats: date, date-time, byte, ipv4, uuid as strfmt checks them")
    void formats() {
        assertThat(Formats.valid("date", "2024-02-29")).isTrue();
        assertThat(Formats.valid("date", "2023-02-29")).isFalse();
        assertThat(Formats.valid("date-time", "2024-01-02T03:04:05Z")).isTrue();
        assertThat(Formats.valid("date-time", "2024-01-02T03:04:05.123+01:00")).isTrue();
        assertThat(Formats.valid("date-time", "2024-01-02 03:04:05")).isFalse();
        assertThat(Formats.valid("byte", "aGVsbG8=")).isTrue();
        assertThat(Formats.valid("byte", "hello")).isFalse();
        assertThat(Formats.valid("ipv4", "10.0.0.1")).isTrue();
        assertThat(Formats.valid("ipv4", "10.0.0.256")).isFalse();
        assertThat(Formats.valid("uuid", "123e4567-e89b-12d3-a456-426614174000")).isTrue();
        assertThat(Formats.supported("date-time")).isTrue();
        assertThat(Formats.supported("int-or-string")).isFalse();
    }
}
