package io.k3j.apiserver.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;

class CronScheduleTest {
    private static ZonedDateTime at(String t) {
        return ZonedDateTime.parse(t);
    }

    @Test
    void k3sDefaultFiresAtMidnightAndNoon() {
        CronSchedule s = CronSchedule.parse("0 */12 * * *");
        assertThat(s.next(at("2026-11-26T05:07:13Z"))).isEqualTo(at("2026-11-26T12:00Z"));
        assertThat(s.next(at("2026-11-26T12:00Z"))).isEqualTo(at("2026-11-27T00:00Z"));
    }

    @Test
    void stepsRangesListsAndWeekdays() {
        assertThat(CronSchedule.parse("*/5 * * * *").next(at("2026-11-26T05:07:00Z"))).isEqualTo(at("2026-11-26T05:10Z"));
        assertThat(CronSchedule.parse("15,45 9-17/4 * * *").next(at("2026-11-26T13:46Z"))).isEqualTo(at("2026-11-26T17:15Z"));
        // 2026-11-26 is a Thursday; 0 and 7 are both Sunday
        assertThat(CronSchedule.parse("30 2 * * 0").next(at("2026-11-26T00:00Z"))).isEqualTo(at("2026-11-29T02:30Z"));
        assertThat(CronSchedule.parse("30 2 * * 7").next(at("2026-11-26T00:00Z"))).isEqualTo(at("2026-11-29T02:30Z"));
        // both day fields restricted: either matches (the 1st, or a Monday)
        assertThat(CronSchedule.parse("0 0 1 * 1").next(at("2026-11-26T00:00Z"))).isEqualTo(at("2026-11-30T00:00Z"));
        assertThat(CronSchedule.parse("0 0 29 2 *").next(at("2026-03-01T00:00Z"))).isEqualTo(at("2028-02-29T00:00Z"));
    }

    @Test
    void malformedSpecsNameTheField() {
        assertThatThrownBy(() -> CronSchedule.parse("0 */12 * *")).hasMessageContaining("expected 5 fields");
        assertThatThrownBy(() -> CronSchedule.parse("0 25 * * *")).hasMessageContaining("bad hour field");
        assertThatThrownBy(() -> CronSchedule.parse("*/0 * * * *")).hasMessageContaining("bad minute field");
        assertThatThrownBy(() -> CronSchedule.parse("0 0 31 2 *").next(at("2026-01-01T00:00Z"))).hasMessageContaining("never fires");
    }
}
