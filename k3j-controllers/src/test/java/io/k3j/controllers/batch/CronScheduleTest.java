package io.k3j.controllers.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class CronScheduleTest {
    static Instant next(String spec, String after) {
        return CronSchedule.parse(spec, ZoneOffset.UTC).next(Instant.parse(after));
    }

    @Test
    @DisplayName("next times follow minutes, hours, ranges, steps, lists, names and descriptors")
    void nextTimes() {
        assertThat(next("* * * * *", "2024-01-01T10:00:30Z")).isEqualTo("2024-01-01T10:01:00Z");
        assertThat(next("*/15 * * * *", "2024-01-01T10:00:00Z")).isEqualTo("2024-01-01T10:15:00Z");
        assertThat(next("5/20 * * * *", "2024-01-01T10:30:00Z")).isEqualTo("2024-01-01T10:45:00Z");
        assertThat(next("0 9-17/4 * * *", "2024-01-01T10:00:00Z")).isEqualTo("2024-01-01T13:00:00Z");
        assertThat(next("0 0 1,15 * *", "2024-01-02T00:00:00Z")).isEqualTo("2024-01-15T00:00:00Z");
        assertThat(next("0 0 * FEB MON", "2024-01-02T00:00:00Z")).isEqualTo("2024-02-05T00:00:00Z");
        assertThat(next("30 6 * * sun", "2024-01-01T00:00:00Z")).isEqualTo("2024-01-07T06:30:00Z");
        assertThat(next("30 6 * * 7", "2024-01-01T00:00:00Z")).isEqualTo("2024-01-07T06:30:00Z");
        assertThat(next("@hourly", "2024-01-01T10:00:00Z")).isEqualTo("2024-01-01T11:00:00Z");
        assertThat(next("@daily", "2024-01-01T10:00:00Z")).isEqualTo("2024-01-02T00:00:00Z");
        assertThat(next("@monthly", "2024-01-31T10:00:00Z")).isEqualTo("2024-02-01T00:00:00Z");
        assertThat(next("@yearly", "2024-03-01T00:00:00Z")).isEqualTo("2025-01-01T00:00:00Z");
        assertThat(next("@weekly", "2024-01-01T00:00:00Z")).isEqualTo("2024-01-07T00:00:00Z");
        assertThat(next("@every 90s", "2024-01-01T00:00:00.500Z")).isEqualTo("2024-01-01T00:01:30Z");
        assertThat(next("0 0 29 2 *", "2024-03-01T00:00:00Z")).isEqualTo("2028-02-29T00:00:00Z");
    }

    @Test
    @DisplayName("with both day fields restricted a day matching either runs; with one starred both must match")
    void dayFields() {
        // the 13th, or any Friday
        assertThat(next("0 0 13 * 5", "2024-01-01T00:00:00Z")).isEqualTo("2024-01-05T00:00:00Z");
        assertThat(next("0 0 13 * 5", "2024-01-05T00:00:00Z")).isEqualTo("2024-01-12T00:00:00Z");
        assertThat(next("0 0 13 * 5", "2024-01-12T00:00:00Z")).isEqualTo("2024-01-13T00:00:00Z");
        assertThat(next("0 0 * * 5", "2024-01-05T00:00:00Z")).isEqualTo("2024-01-12T00:00:00Z");
    }

    @Test
    @DisplayName("a schedule runs in its time zone, across daylight saving changes, and a CRON_TZ prefix names the zone")
    void zones() {
        CronSchedule tokyo = CronSchedule.parse("0 9 * * *", ZoneId.of("Asia/Tokyo"));
        assertThat(tokyo.next(Instant.parse("2024-01-01T01:00:00Z"))).isEqualTo("2024-01-02T00:00:00Z");
        CronSchedule berlin = CronSchedule.parse("30 2 * * *", ZoneId.of("Europe/Berlin"));
        // 2024-03-31 02:30 does not exist in Berlin: the next run is the day after
        assertThat(berlin.next(Instant.parse("2024-03-30T02:00:00Z"))).isEqualTo("2024-04-01T00:30:00Z");
        CronSchedule prefixed = CronSchedule.parse("CRON_TZ=Asia/Tokyo 0 9 * * *", ZoneOffset.UTC);
        assertThat(prefixed.next(Instant.parse("2024-01-01T01:00:00Z"))).isEqualTo("2024-01-02T00:00:00Z");
    }

    @Test
    @DisplayName("malformed schedules fail with robfig/cron's messages")
    void errors() {
        assertThatThrownBy(() -> CronSchedule.parse("* * * *", ZoneOffset.UTC)).hasMessage("expected exactly 5 fields, found 4: * * * *");
        assertThatThrownBy(() -> CronSchedule.parse("61 * * * *", ZoneOffset.UTC)).hasMessage("end of range (61) above maximum (59): 61");
        assertThatThrownBy(() -> CronSchedule.parse("@fortnightly", ZoneOffset.UTC)).hasMessage("unrecognized descriptor: @fortnightly");
        assertThatThrownBy(() -> CronSchedule.parse("*/0 * * * *", ZoneOffset.UTC)).hasMessage("step of range should be a positive number: */0");
    }

    @Test
    @DisplayName("completed indexes print as kube prints them")
    void indexes() {
        java.util.BitSet s = Indexes.parse("0-2,4,6,7", 10);
        assertThat(s.cardinality()).isEqualTo(6);
        assertThat(Indexes.format(s)).isEqualTo("0-2,4,6,7");
        assertThat(Indexes.format(Indexes.parse("0,1", 10))).isEqualTo("0,1");
        assertThat(Indexes.format(Indexes.parse("3-9", 5))).isEqualTo("3,4");
    }
}
