package io.k3j.bench;

import java.util.Arrays;

/** Order statistics over samples; percentiles by the nearest-rank method. */
final class Stats {

    private Stats() {
    }

    static double median(double[] xs) {
        if (xs.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        double[] s = xs.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Nearest-rank percentile of sorted {@code s}: the smallest sample with at least p% of samples at or below it. */
    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        if (p <= 0 || p > 100) {
            throw new IllegalArgumentException("p : " + p + " (expected: 0 < p <= 100)");
        }
        int rank = (int) Math.ceil(p / 100 * sorted.length);
        return sorted[Math.max(rank, 1) - 1];
    }

    static String ms(double nanos) {
        return String.format("%.1f ms", nanos / 1e6);
    }
}
