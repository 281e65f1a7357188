package io.k3j.controllers.batch;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.Locale;
import java.util.Map;

/**
 * A CronJob schedule: the standard 5-field syntax (minute, hour, day of month, month, day of week) with
 * ranges, steps, lists and month/day names, the {@code @yearly … @hourly} descriptors and {@code @every
 * <duration>}, evaluated in a time zone as robfig/cron (which kube's CronJob controller uses) evaluates it.
 * When both day fields are restricted a day matches either; when one starts with {@code *} both must match.
 */
final class CronSchedule {
    private static final Map<String, Integer> MONTHS = Map.ofEntries(Map.entry("jan", 1), Map.entry("feb", 2),
            Map.entry("mar", 3), Map.entry("apr", 4), Map.entry("may", 5), Map.entry("jun", 6), Map.entry("jul", 7),
            Map.entry("aug", 8), Map.entry("sep", 9), Map.entry("oct", 10), Map.entry("nov", 11), Map.entry("dec", 12));
    private static final Map<String, Integer> DAYS = Map.of("sun", 0, "mon", 1, "tue", 2, "wed", 3, "thu", 4, "fri", 5, "sat", 6);

    private final BitSet minutes;
    private final BitSet hours;
    private final BitSet daysOfMonth;
    private final BitSet months;
    private final BitSet daysOfWeek;
    private final boolean domStar;
    private final boolean dowStar;
    private final Duration every;
    private final ZoneId zone;

    private CronSchedule(BitSet[] fields, boolean domStar, boolean dowStar, Duration every, ZoneId zone) {
        this.minutes = fields == null ? null : fields[0];
        this.hours = fields == null ? null : fields[1];
        this.daysOfMonth = fields == null ? null : fields[2];
        this.months = fields == null ? null : fields[3];
        this.daysOfWeek = fields == null ? null : fields[4];
        this.domStar = domStar;
        this.dowStar = dowStar;
        this.every = every;
        this.zone = zone;
    }

    /**
     * Parses {@code spec}, to be evaluated in {@code zone}.
     *
     * @throws IllegalArgumentException with robfig/cron's message when the schedule does not parse
     */
    static CronSchedule parse(String spec, ZoneId zone) {
        String s = spec.trim();
        // legacy schedules may name their zone in front, as robfig/cron allows ("CRON_TZ=Asia/Tokyo 0 9 * * *")
        if (s.startsWith("CRON_TZ=") || s.startsWith("TZ=")) {
            int space = s.indexOf(' ');
            String name = s.substring(s.indexOf('=') + 1, space < 0 ? s.length() : space);
            try {
                zone = ZoneId.of(name);
            } catch (java.time.DateTimeException e) {
                throw new IllegalArgumentException("provided bad location " + name + ": unknown time zone " + name);
            }
            s = space < 0 ? "" : s.substring(space + 1).trim();
        }
        if (s.isEmpty()) throw new IllegalArgumentException("empty spec string");
        if (s.startsWith("@")) {
            String fields = switch (s) {
                case "@yearly", "@annually" -> "0 0 1 1 *";
                case "@monthly" -> "0 0 1 * *";
                case "@weekly" -> "0 0 * * 0";
                case "@daily", "@midnight" -> "0 0 * * *";
                case "@hourly" -> "0 * * * *";
                default -> null;
            };
            if (fields != null) return parse(fields, zone);
            if (s.startsWith("@every ")) return new CronSchedule(null, false, false, goDuration(s.substring(7).trim()), zone);
            throw new IllegalArgumentException("unrecognized descriptor: " + s);
        }
        String[] f = s.split("\\s+");
        if (f.length != 5) throw new IllegalArgumentException("expected exactly 5 fields, found " + f.length + ": " + s);
        int[][] bounds = {{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}};
        BitSet[] sets = new BitSet[5];
        for (int i = 0; i < 5; i++) sets[i] = field(f[i], bounds[i][0], bounds[i][1], i == 3 ? MONTHS : i == 4 ? DAYS : Map.of());
        if (sets[4].get(7)) { // 7 is Sunday too
            sets[4].clear(7);
            sets[4].set(0);
        }
        return new CronSchedule(sets, star(f[2]), star(f[4]), null, zone);
    }

    /** robfig marks a field "star" when it begins with * or ? and has no step above 1. */
    private static boolean star(String field) {
        for (String expr : field.split(",")) {
            if (expr.startsWith("*") || expr.startsWith("?")) {
                int slash = expr.indexOf('/');
                if (slash < 0 || expr.substring(slash + 1).equals("1")) return true;
            }
        }
        return false;
    }

    private static BitSet field(String field, int min, int max, Map<String, Integer> names) {
        BitSet out = new BitSet();
        for (String expr : field.split(",", -1)) {
            String[] rangeAndStep = expr.split("/", -1);
            String[] lowHigh = rangeAndStep[0].split("-", -1);
            int start;
            int end;
            boolean all = lowHigh[0].equals("*") || lowHigh[0].equals("?");
            if (all) {
                if (lowHigh.length > 1) throw new IllegalArgumentException("too many hyphens: " + expr);
                start = min;
                end = max;
            } else {
                start = value(lowHigh[0], names);
                if (lowHigh.length == 1) end = start;
                else if (lowHigh.length == 2) end = value(lowHigh[1], names);
                else throw new IllegalArgumentException("too many hyphens: " + expr);
            }
            int step = 1;
            if (rangeAndStep.length == 2) {
                step = value(rangeAndStep[1], Map.of());
                if (lowHigh.length == 1 && !all) end = max; // "N/step" means "N-max/step"
                if (step == 0) throw new IllegalArgumentException("step of range should be a positive number: " + expr);
            } else if (rangeAndStep.length > 2) {
                throw new IllegalArgumentException("too many slashes: " + expr);
            }
            if (start < min) throw new IllegalArgumentException("beginning of range (" + start + ") below minimum (" + min + "): " + expr);
            if (end > max) throw new IllegalArgumentException("end of range (" + end + ") above maximum (" + max + "): " + expr);
            if (start > end) throw new IllegalArgumentException("beginning of range (" + start + ") beyond end of range (" + end + "): " + expr);
            for (int v = start; v <= end; v += step) out.set(v);
        }
        return out;
    }

    private static int value(String s, Map<String, Integer> names) {
        Integer named = names.get(s.toLowerCase(Locale.ROOT));
        if (named != null) return named;
        if (!s.matches("[0-9]{1,9}")) {
            throw new IllegalArgumentException("failed to parse int from " + s + ": strconv.Atoi: parsing \"" + s + "\": invalid syntax");
        }
        return Integer.parseInt(s);
    }

    /** A Go duration such as {@code 1h30m} or {@code 90s}. */
    private static Duration goDuration(String text) {
        var m = java.util.regex.Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ns|us|µs|ms|s|m|h)").matcher(text);
        int pos = 0;
        double nanos = 0;
        while (m.find() && m.start() == pos) {
            double v = Double.parseDouble(m.group(1));
            nanos += v * switch (m.group(2)) {
                case "ns" -> 1;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            pos = m.end();
        }
        if (pos == 0 || pos != text.length()) {
            throw new IllegalArgumentException("failed to parse duration @every " + text + ": time: invalid duration \"" + text + "\"");
        }
        // robfig rounds the delay down to whole seconds, with at least one second
        long seconds = Math.max(1, (long) (nanos / 1e9));
        return Duration.ofSeconds(seconds);
    }

    ZoneId zone() {
        return zone;
    }

    /** The first activation strictly after {@code after}, or null when none comes within five years. */
    Instant next(Instant after) {
        if (every != null) return after.truncatedTo(ChronoUnit.SECONDS).plus(every);
        ZonedDateTime t = after.atZone(zone).truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
        int limit = t.getYear() + 5;
        while (t.getYear() <= limit) {
            if (!months.get(t.getMonthValue())) {
                t = t.toLocalDate().withDayOfMonth(1).plusMonths(1).atStartOfDay(zone);
                continue;
            }
            if (!dayMatches(t)) {
                t = t.toLocalDate().plusDays(1).atStartOfDay(zone);
                continue;
            }
            if (!hours.get(t.getHour())) {
                t = t.truncatedTo(ChronoUnit.HOURS).plusHours(1);
                continue;
            }
            if (!minutes.get(t.getMinute())) {
                t = t.plusMinutes(1);
                continue;
            }
            return t.toInstant();
        }
        return null;
    }

    private boolean dayMatches(ZonedDateTime t) {
        boolean dom = daysOfMonth.get(t.getDayOfMonth());
        boolean dow = daysOfWeek.get(t.getDayOfWeek().getValue() % 7);
        return domStar || dowStar ? dom && dow : dom || dow;
    }
}
