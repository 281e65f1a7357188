package io.k3j.agent.stats;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Turns cumulative CPU time into a rate: keeps the last two samples of each counter (node, pod, container) and
 * answers the usage between them in nanocores, as cAdvisor does for kubelet. A counter not seen in a round is
 * forgotten at {@link #endRound()}, so a restarted container starts afresh.
 */
final class RateSampler {
    private record Point(long timeNanos, long cumulative) {
    }

    private static final class Counter {
        Point previous;
        Point last;
    }

    private final Map<String, Counter> counters = new HashMap<>();
    private final Set<String> seen = new HashSet<>();

    /**
     * Records a sample and answers the rate between the last two samples, or null with fewer than two. A sample at
     * the time of the last one (the same reading twice) is not a new sample; a counter that went backwards
     * (the container restarted under the same key) starts over.
     *
     * @param timeNanos  when the counter was read, in nanoseconds on any fixed time line
     * @param cumulative the counter, in core-nanoseconds
     */
    synchronized Long add(String key, long timeNanos, long cumulative) {
        seen.add(key);
        Counter c = counters.computeIfAbsent(key, k -> new Counter());
        if (c.last != null && cumulative < c.last.cumulative) {
            c.previous = null;
            c.last = null;
        }
        if (c.last == null || timeNanos > c.last.timeNanos) {
            c.previous = c.last;
            c.last = new Point(timeNanos, cumulative);
        }
        if (c.previous == null) return null;
        return nanoCores(c.previous.timeNanos, c.previous.cumulative, c.last.timeNanos, c.last.cumulative);
    }

    /** Whether {@code key} has a rate (two samples). */
    synchronized boolean hasRate(String key) {
        Counter c = counters.get(key);
        return c != null && c.previous != null;
    }

    /** Forgets counters not sampled since the last call. */
    synchronized void endRound() {
        counters.keySet().retainAll(seen);
        seen.clear();
    }

    /** Core-nanoseconds used per second of wall time between two readings: nanocores. */
    static long nanoCores(long t1, long cpu1, long t2, long cpu2) {
        if (t2 <= t1) throw new IllegalArgumentException("samples out of order: " + t1 + " then " + t2 + " (expected: later)");
        return Math.round((double) (cpu2 - cpu1) * 1e9 / (t2 - t1));
    }
}
