package io.k3j.api.proto;

/** Go's time.Duration.String(), which metav1.Duration marshals to JSON: {@code 1h0m0s}, {@code 1.5s}, {@code 300ms}. */
final class GoDuration {
    private GoDuration() {}

    static String format(long nanos) {
        if (nanos == 0) return "0s";
        boolean negative = nanos < 0;
        // Long.MIN_VALUE has no positive counterpart; unsigned arithmetic handles it as Go does with uint64
        long u = negative ? -nanos : nanos;
        StringBuilder out = new StringBuilder();
        if (Long.compareUnsigned(u, 1_000_000_000L) < 0) {
            if (u < 1_000L) {
                out.append(u).append("ns");
            } else if (u < 1_000_000L) {
                out.append(fraction(u, 3)).append("µs");
            } else {
                out.append(fraction(u, 6)).append("ms");
            }
        } else {
            String seconds = fraction(u, 9);
            long whole = Long.divideUnsigned(u, 1_000_000_000L);
            String fractional = seconds.substring(Long.toUnsignedString(whole).length());
            long s = Long.remainderUnsigned(whole, 60);
            long minutes = Long.divideUnsigned(whole, 60);
            if (minutes > 0) {
                long m = minutes % 60;
                long hours = minutes / 60;
                if (hours > 0) out.append(hours).append('h');
                out.append(m).append('m');
            }
            out.append(s).append(fractional).append('s');
        }
        return negative ? "-" + out : out.toString();
    }

    /** {@code value / 10^digits} with the fraction's trailing zeros (and a bare dot) removed. */
    private static String fraction(long value, int digits) {
        long scale = 1;
        for (int i = 0; i < digits; i++) scale *= 10;
        long whole = Long.divideUnsigned(value, scale);
        long rest = Long.remainderUnsigned(value, scale);
        if (rest == 0) return Long.toUnsignedString(whole);
        String frac = String.format("%0" + digits + "d", rest).replaceAll("0+$", "");
        return Long.toUnsignedString(whole) + "." + frac;
    }
}
