package io.k3j.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class LogTableTest {
    @Test
    @DisplayName("prefixEnd is the smallest string above every string with the prefix, in code point order")
    void prefixEnd() {
        assertThat(LogTable.prefixEnd("")).isNull();
        assertThat(LogTable.prefixEnd("/registry/pods/")).isEqualTo("/registry/pods0");
        assertThat(LogTable.prefixEnd("a\u00e9")).isEqualTo("a\u00ea");
        assertThat(LogTable.prefixEnd("a\ud7ff")).isEqualTo("a\ue000"); // skips the surrogate range
        assertThat(LogTable.prefixEnd("a" + Character.toString(Character.MAX_CODE_POINT))).isEqualTo("b");
        assertThat(LogTable.prefixEnd(Character.toString(Character.MAX_CODE_POINT))).isNull();
    }
}
