package io.k3j.controllers.scheduler;

import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * kube-scheduler's three queues in one: active pods ordered by priority then arrival; pods backing off after a
 * failed attempt (1 s doubling to 10 s); unschedulable pods parked until a cluster event (a node added or
 * changed, a pod gone) might make them fit, or for at most five minutes.
 */
final class SchedulingQueue {
    private static final long INITIAL_BACKOFF_MS = 1000;
    private static final long MAX_BACKOFF_MS = 10_000;
    private static final long MAX_UNSCHEDULABLE_MS = 5 * 60_000;

    private record Entry(String key, int priority, long seq) {}

    private final Clock clock;
    private final PriorityQueue<Entry> active = new PriorityQueue<>((a, b) -> a.priority != b.priority
            ? Integer.compare(b.priority, a.priority) : Long.compare(a.seq, b.seq));
    private final Map<String, Entry> inActive = new HashMap<>();
    private final Map<String, Integer> priorities = new HashMap<>();
    private final Map<String, Integer> attempts = new HashMap<>();
    private final Map<String, Long> lastAttempt = new HashMap<>();
    private final Map<String, Long> backoff = new HashMap<>();
    private final Map<String, Long> unschedulable = new HashMap<>();
    private long seq;
    private boolean closed;
    /** A lock, not a monitor: waiting on a monitor pins a virtual thread to its carrier. */
    private final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
    private final java.util.concurrent.locks.Condition changed = lock.newCondition();
    /** Incremented by every pop: the scheduling attempt a pod belongs to. */
    private long schedulingCycle;
    /** The cycle during which the last cluster change was seen. */
    private long moveRequestCycle = -1;
    private long lastScan;

    SchedulingQueue(Clock clock) {
        this.clock = clock;
    }

    /** A new or changed pod that needs a node: straight to active, unless it is backing off. */
    void add(String key, int priority) {
        lock.lock();
        try {
            priorities.put(key, priority);
            if (inActive.containsKey(key) || backoff.containsKey(key)) return;
            unschedulable.remove(key);
            Entry e = new Entry(key, priority, seq++);
            inActive.put(key, e);
            active.add(e);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The pod is gone, or bound: forget it everywhere. */
    void remove(String key) {
        lock.lock();
        try {
            Entry e = inActive.remove(key);
            if (e != null) active.remove(e);
            backoff.remove(key);
            unschedulable.remove(key);
            priorities.remove(key);
            attempts.remove(key);
            lastAttempt.remove(key);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The attempt failed because nothing fits: park the pod until the cluster changes. If the cluster changed
     * while the attempt ran (a victim went, a node came), the pod backs off instead, so that change is not
     * missed (kube's moveRequestCycle).
     */
    void unschedulable(String key, long cycle) {
        lock.lock();
        try {
            if (!priorities.containsKey(key)) return;
            int n = attempts.merge(key, 1, Integer::sum);
            lastAttempt.put(key, clock.millis());
            if (moveRequestCycle >= cycle) {
                backoff.put(key, clock.millis() + backoffMillis(n));
                changed.signalAll();
            } else {
                unschedulable.put(key, clock.millis());
            }
        } finally {
            lock.unlock();
        }
    }

    /** The cycle of the pod last popped. */
    long schedulingCycle() {
        lock.lock();
        try {
            return schedulingCycle;
        } finally {
            lock.unlock();
        }
    }

    /** The attempt failed for another reason (a conflict, an API error): retry after the backoff. */
    void retry(String key) {
        lock.lock();
        try {
            if (!priorities.containsKey(key)) return;
            int n = attempts.merge(key, 1, Integer::sum);
            lastAttempt.put(key, clock.millis());
            backoff.put(key, clock.millis() + backoffMillis(n));
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private static long backoffMillis(int attempts) {
        long ms = INITIAL_BACKOFF_MS << Math.min(attempts - 1, 10);
        return Math.min(ms, MAX_BACKOFF_MS);
    }

    /** Something changed that may let parked pods fit: move them to backoff (or active, if their backoff is over). */
    void moveAllToActiveOrBackoff() {
        lock.lock();
        try {
            moveRequestCycle = schedulingCycle;
            if (unschedulable.isEmpty()) return;
            for (String key : unschedulable.keySet()) {
                long due = lastAttempt.getOrDefault(key, 0L) + backoffMillis(attempts.getOrDefault(key, 1));
                backoff.put(key, due);
            }
            unschedulable.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The next pod to schedule, blocking; null once closed. */
    String pop() throws InterruptedException {
        lock.lock();
        try {
            while (!closed) {
                long now = clock.millis();
                // scanning the parked pods costs O(parked): do it when idle, else at most every 100 ms
                boolean scan = active.isEmpty() || now - lastScan >= 100 || now < lastScan;
                if (scan) lastScan = now;
                if (scan && !backoff.isEmpty()) {
                    var it = backoff.entrySet().iterator();
                    while (it.hasNext()) {
                        var en = it.next();
                        if (en.getValue() <= now) {
                            it.remove();
                            Entry e = new Entry(en.getKey(), priorities.getOrDefault(en.getKey(), 0), seq++);
                            if (inActive.putIfAbsent(e.key, e) == null) active.add(e);
                        }
                    }
                }
                if (scan && !unschedulable.isEmpty()) {
                    var it = unschedulable.entrySet().iterator();
                    while (it.hasNext()) {
                        var en = it.next();
                        if (now - en.getValue() > MAX_UNSCHEDULABLE_MS) {
                            it.remove();
                            Entry e = new Entry(en.getKey(), priorities.getOrDefault(en.getKey(), 0), seq++);
                            if (inActive.putIfAbsent(e.key, e) == null) active.add(e);
                        }
                    }
                }
                Entry e = active.poll();
                if (e != null) {
                    inActive.remove(e.key);
                    schedulingCycle++;
                    return e.key;
                }
                changed.await(backoff.isEmpty() ? 1000 : 100, java.util.concurrent.TimeUnit.MILLISECONDS);
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    int pending() {
        lock.lock();
        try {
            return inActive.size() + backoff.size() + unschedulable.size();
        } finally {
            lock.unlock();
        }
    }

    void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
