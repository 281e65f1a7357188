package io.k3j.apiserver.validation;

import java.util.Map;

/**
 * The standard 5-field cron syntax CronJob accepts (robfig/cron ParseStandard): minute, hour, day of month,
 * month, day of week, with ranges, steps, lists, names and the @-descriptors. Error texts follow robfig/cron.
 */
final class Cron {
    private Cron() {}

    private static final Map<String, Integer> MONTHS = Map.ofEntries(Map.entry("jan", 1), Map.entry("feb", 2),
            Map.entry("mar", 3), Map.entry("apr", 4), Map.entry("may", 5), Map.entry("jun", 6), Map.entry("jul", 7),
            Map.entry("aug", 8), Map.entry("sep", 9), Map.entry("oct", 10), Map.entry("nov", 11), Map.entry("dec", 12));
    private static final Map<String, Integer> DAYS = Map.of("sun", 0, "mon", 1, "tue", 2, "wed", 3, "thu", 4, "fri", 5, "sat", 6);

    /** Null when valid, else the parser's message. */
    static String check(String spec) {
        String s = spec.trim();
        if (s.startsWith("@")) {
            return switch (s) {
                case "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly" -> null;
                default -> s.startsWith("@every ") ? every(s.substring(7)) : "unrecognized descriptor: " + s;
            };
        }
        String[] fields = s.split("\\s+");
        if (s.isEmpty()) return "empty spec string";
        if (fields.length != 5) return "expected exactly 5 fields, found " + fields.length + ": " + s;
        int[][] bounds = {{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}};
        for (int i = 0; i < 5; i++) {
            String err = field(fields[i], bounds[i][0], bounds[i][1], i == 3 ? MONTHS : i == 4 ? DAYS : Map.of());
            if (err != null) return err;
        }
        return null;
    }

    private static String every(String duration) {
        return duration.matches("([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+") ? null
                : "failed to parse duration @every " + duration + ": time: invalid duration " + Errs.quote(duration);
    }

    private static String field(String field, int min, int max, Map<String, Integer> names) {
        for (String expr : field.split(",", -1)) {
            String err = range(expr, min, max, names);
            if (err != null) return err;
        }
        return null;
    }

    private static String range(String expr, int min, int max, Map<String, Integer> names) {
        String[] rangeAndStep = expr.split("/", -1);
        String[] lowAndHigh = rangeAndStep[0].split("-", -1);
        boolean single = lowAndHigh.length == 1;
        int start;
        int end;
        if (lowAndHigh[0].equals("*") || lowAndHigh[0].equals("?")) {
            start = min;
            end = max;
        } else {
            Integer v = value(lowAndHigh[0], names);
            if (v == null) return "failed to parse int from " + lowAndHigh[0] + ": strconv.Atoi: parsing " + Errs.quote(lowAndHigh[0]) + ": invalid syntax";
            start = v;
            switch (lowAndHigh.length) {
                case 1 -> end = start;
                case 2 -> {
                    Integer h = value(lowAndHigh[1], names);
                    if (h == null) return "failed to parse int from " + lowAndHigh[1] + ": strconv.Atoi: parsing " + Errs.quote(lowAndHigh[1]) + ": invalid syntax";
                    end = h;
                }
                default -> {
                    return "too many hyphens: " + expr;
                }
            }
        }
        switch (rangeAndStep.length) {
            case 1 -> { }
            case 2 -> {
                Integer step = value(rangeAndStep[1], Map.of());
                if (step == null) return "failed to parse int from " + rangeAndStep[1] + ": strconv.Atoi: parsing " + Errs.quote(rangeAndStep[1]) + ": invalid syntax";
                if (single && !lowAndHigh[0].equals("*") && !lowAndHigh[0].equals("?")) end = max;
                if (step == 0) return "step of range should be a positive number: " + expr;
            }
            default -> {
                return "too many slashes: " + expr;
            }
        }
        if (start < min) return "beginning of range (" + start + ") below minimum (" + min + "): " + expr;
        if (end > max) return "end of range (" + end + ") above maximum (" + max + "): " + expr;
        if (start > end) return "beginning of range (" + start + ") beyond end of range (" + end + "): " + expr;
        return null;
    }

    private static Integer value(String s, Map<String, Integer> names) {
        Integer named = names.get(s.toLowerCase(java.util.Locale.ROOT));
        if (named != null) return named;
        if (!s.matches("[0-9]+")) return null;
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
