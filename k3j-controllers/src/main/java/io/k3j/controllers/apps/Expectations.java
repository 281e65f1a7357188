package io.k3j.controllers.apps;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a controller has asked for and not yet seen in its informer (kube's UIDTrackingControllerExpectations):
 * creations are counted, deletions are tracked by pod key so that the several updates a terminating pod
 * goes through count once. A controller does not create or delete again for a key until its expectations are
 * met or have expired (five minutes, as in kube, so a lost watch event cannot wedge it forever).
 */
final class Expectations {
    static final Duration TTL = Duration.ofMinutes(5);

    private static final class Entry {
        int adds;
        final Set<String> deletes = ConcurrentHashMap.newKeySet();
        long setAtMillis;
    }

    private final Clock clock;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    Expectations(Clock clock) {
        this.clock = clock;
    }

    /** True when nothing is outstanding (or what is outstanding has expired): the controller may act. */
    boolean satisfied(String key) {
        Entry e = entries.get(key);
        if (e == null) return true;
        synchronized (e) {
            if (e.adds <= 0 && e.deletes.isEmpty()) return true;
            return clock.millis() - e.setAtMillis > TTL.toMillis();
        }
    }

    void expectCreations(String key, int n) {
        Entry e = new Entry();
        e.adds = n;
        e.setAtMillis = clock.millis();
        entries.put(key, e);
    }

    void expectDeletions(String key, Set<String> podKeys) {
        Entry e = new Entry();
        e.deletes.addAll(podKeys);
        e.setAtMillis = clock.millis();
        entries.put(key, e);
    }

    void creationObserved(String key) {
        lowerCreations(key, 1);
    }

    /** Creations that were skipped or failed will never be observed. */
    void lowerCreations(String key, int n) {
        Entry e = entries.get(key);
        if (e == null) return;
        synchronized (e) {
            e.adds -= n;
        }
    }

    void deletionObserved(String key, String podKey) {
        Entry e = entries.get(key);
        if (e != null) e.deletes.remove(podKey);
    }

    void forget(String key) {
        entries.remove(key);
    }
}
