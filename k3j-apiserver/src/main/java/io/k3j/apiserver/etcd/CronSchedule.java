package io.k3j.apiserver.etcd;

import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;

/**
 * A five-field cron spec as {@code --etcd-snapshot-schedule-cron} takes it (minute, hour, day of month, month, day
 * of week; {@code *}, {@code a-b}, {@code * /n} and {@code a-b/n} steps, comma lists; day of week 0-7 with 0 and 7
 * Sunday). As in cron (and robfig/cron, which k3s uses), when both day fields are restricted a day matching either
 * one fires.
 */
final class CronSchedule {
    private final String spec;
    private final BitSet minutes;
    private final BitSet hours;
    private final BitSet days;
    private final BitSet months;
    private final BitSet weekdays;
    private final boolean anyDay;
    private final boolean anyWeekday;

    private CronSchedule(String spec, BitSet minutes, BitSet hours, BitSet days, BitSet months, BitSet weekdays,
                         boolean anyDay, boolean anyWeekday) {
        this.spec = spec;
        this.minutes = minutes;
        this.hours = hours;
        this.days = days;
        this.months = months;
        this.weekdays = weekdays;
        this.anyDay = anyDay;
        this.anyWeekday = anyWeekday;
    }

    /**
     * @throws IllegalArgumentException naming the field that is malformed
     */
    static CronSchedule parse(String spec) {
        String[] f = spec.strip().split("\\s+");
        if (f.length != 5) {
            throw new IllegalArgumentException("cron spec \"" + spec + "\": expected 5 fields (minute hour day-of-month month day-of-week), e.g. \"0 */12 * * *\"");
        }
        BitSet weekdays = field(spec, "day-of-week", f[4], 0, 7);
        if (weekdays.get(7)) weekdays.set(0);
        return new CronSchedule(spec, field(spec, "minute", f[0], 0, 59), field(spec, "hour", f[1], 0, 23),
                field(spec, "day-of-month", f[2], 1, 31), field(spec, "month", f[3], 1, 12), weekdays,
                f[2].equals("*"), f[4].equals("*"));
    }

    private static BitSet field(String spec, String name, String text, int min, int max) {
        BitSet bits = new BitSet(max + 1);
        for (String part : text.split(",")) {
            try {
                int step = 1;
                String range = part;
                int slash = part.indexOf('/');
                if (slash >= 0) {
                    step = Integer.parseInt(part.substring(slash + 1));
                    range = part.substring(0, slash);
                    if (step < 1) throw new NumberFormatException("step " + step);
                }
                int from;
                int to;
                if (range.equals("*")) {
                    from = min;
                    to = max;
                } else if (range.contains("-")) {
                    from = Integer.parseInt(range.substring(0, range.indexOf('-')));
                    to = Integer.parseInt(range.substring(range.indexOf('-') + 1));
                } else {
                    from = Integer.parseInt(range);
                    to = slash >= 0 ? max : from;
                }
                if (from < min || to > max || from > to) throw new NumberFormatException(from + "-" + to + " outside " + min + "-" + max);
                for (int v = from; v <= to; v += step) bits.set(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("cron spec \"" + spec + "\": bad " + name + " field \"" + text + "\" (" + e.getMessage() + ")");
            }
        }
        return bits;
    }

    /** The first time strictly after {@code after}, at a whole minute, that the spec matches. */
    ZonedDateTime next(ZonedDateTime after) {
        ZonedDateTime t = after.truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
        // a matching minute exists within 5 years for every spec parse() accepts except impossible dates (Feb 31)
        ZonedDateTime limit = t.plusYears(5);
        while (t.isBefore(limit)) {
            if (!months.get(t.getMonthValue())) {
                t = t.withDayOfMonth(1).withHour(0).withMinute(0).plusMonths(1);
                continue;
            }
            if (!dayMatches(t)) {
                t = t.withHour(0).withMinute(0).plusDays(1);
                continue;
            }
            if (!hours.get(t.getHour())) {
                t = t.withMinute(0).plusHours(1);
                continue;
            }
            if (!minutes.get(t.getMinute())) {
                t = t.plusMinutes(1);
                continue;
            }
            return t;
        }
        throw new IllegalArgumentException("cron spec \"" + spec + "\" never fires");
    }

    private boolean dayMatches(ZonedDateTime t) {
        boolean dom = days.get(t.getDayOfMonth());
        boolean dow = weekdays.get(t.getDayOfWeek().getValue() % 7);
        if (anyDay && anyWeekday) return true;
        if (anyDay) return dow;
        if (anyWeekday) return dom;
        return dom || dow;
    }

    @Override
    public String toString() {
        return spec;
    }
}
