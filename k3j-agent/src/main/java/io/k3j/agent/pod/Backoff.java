package io.k3j.agent.pod;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * Container restart back-off as kubelet's flowcontrol.Backoff: 10 s doubling to 300 s per key; an entry not
 * touched for twice the maximum (10 minutes: a container that ran that long) starts over at 10 s.
 */
final class Backoff {
    static final Duration INITIAL = Duration.ofSeconds(10);
    static final Duration MAX = Duration.ofSeconds(300);

    private final Clock clock;
    private final Map<String, Entry> entries = new HashMap<>();

    private record Entry(Duration backoff, Instant lastUpdate) {}

    Backoff(Clock clock) {
        this.clock = clock;
    }

    /** The current back-off of {@code key} (zero when none). */
    synchronized Duration get(String key) {
        Entry e = entries.get(key);
        return e == null ? Duration.ZERO : e.backoff;
    }

    /** Whether a restart of {@code key} whose last run ended at {@code since} must still wait. */
    synchronized boolean inBackoffSince(String key, Instant since) {
        Entry e = entries.get(key);
        if (e == null || expired(e, clock.instant())) return false;
        return Duration.between(since, clock.instant()).compareTo(e.backoff) < 0;
    }

    /** When the back-off of {@code key} that started at {@code since} ends. */
    synchronized Instant until(String key, Instant since) {
        Entry e = entries.get(key);
        return e == null ? since : since.plus(e.backoff);
    }

    /** Records a restart: the next back-off doubles (or starts at 10 s). */
    synchronized void next(String key) {
        Instant now = clock.instant();
        Entry e = entries.get(key);
        Duration d = e == null || expired(e, now) ? INITIAL : min(e.backoff.multipliedBy(2), MAX);
        entries.put(key, new Entry(d, now));
    }

    synchronized void forget(String prefix) {
        entries.keySet().removeIf(k -> k.startsWith(prefix));
    }

    private static boolean expired(Entry e, Instant now) {
        return Duration.between(e.lastUpdate, now).compareTo(MAX.multipliedBy(2)) > 0;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) < 0 ? a : b;
    }

    /** Go's time.Duration.String for whole seconds as kubelet's messages print them: 10s, 1m20s, 5m0s. */
    static String goString(Duration d) {
        long s = d.toSeconds();
        if (s < 60) return s + "s";
        long m = s / 60;
        if (m < 60) return m + "m" + (s % 60) + "s";
        return (m / 60) + "h" + (m % 60) + "m" + (s % 60) + "s";
    }
}
