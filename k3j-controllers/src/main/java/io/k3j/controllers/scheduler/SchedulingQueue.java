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
    /** Incremented by every pop: the scheduling attempt a pod belongs to. */
    private long schedulingCycle;
    /** The cycle during which the last cluster change was seen. */
    private long moveRequestCycle = -1;

    SchedulingQueue(Clock clock) {
        this.clock = clock;
    }

    /** A new or changed pod that needs a node: straight to active, unless it is backing off. */
    synchronized void add(String key, int priority) {
        priorities.put(key, priority);
        if (inActive.containsKey(key) || backoff.containsKey(key)) return;
        unschedulable.remove(key);
        Entry e = new Entry(key, priority, seq++);
        inActive.put(key, e);
        active.add(e);
        notifyAll();
    }

    /** The pod is gone, or bound: forget it everywhere. */
    synchronized void remove(String key) {
        Entry e = inActive.remove(key);
        if (e != null) active.remove(e);
        backoff.remove(key);
        unschedulable.remove(key);
        priorities.remove(key);
        attempts.remove(key);
        lastAttempt.remove(key);
    }

    /**
     * The attempt failed because nothing fits: park the pod until the cluster changes. If the cluster changed
     * while the attempt ran (a victim went, a node came), the pod backs off instead, so that change is not
     * missed (kube's moveRequestCycle).
     */
    synchronized void unschedulable(String key, long cycle) {
        if (!priorities.containsKey(key)) return;
        int n = attempts.merge(key, 1, Integer::sum);
        lastAttempt.put(key, clock.millis());
        if (moveRequestCycle >= cycle) {
            backoff.put(key, clock.millis() + backoffMillis(n));
            notifyAll();
        } else {
            unschedulable.put(key, clock.millis());
        }
    }

    /** The cycle of the pod last popped. */
    synchronized long schedulingCycle() {
        return schedulingCycle;
    }

    /** The attempt failed for another reason (a conflict, an API error): retry after the backoff. */
    synchronized void retry(String key) {
        if (!priorities.containsKey(key)) return;
        int n = attempts.merge(key, 1, Integer::sum);
        lastAttempt.put(key, clock.millis());
        backoff.put(key, clock.millis() + backoffMillis(n));
        notifyAll();
    }

    private static long backoffMillis(int attempts) {
        long ms = INITIAL_BACKOFF_MS << Math.min(attempts - 1, 10);
        return Math.min(ms, MAX_BACKOFF_MS);
    }

    /** Something changed that may let parked pods fit: move them to backoff (or active, if their backoff is over). */
    synchronized void moveAllToActiveOrBackoff() {
        moveRequestCycle = schedulingCycle;
        if (unschedulable.isEmpty()) return;
        for (String key : unschedulable.keySet()) {
            long due = lastAttempt.getOrDefault(key, 0L) + backoffMillis(attempts.getOrDefault(key, 1));
            backoff.put(key, due);
        }
        unschedulable.clear();
        notifyAll();
    }

    /** The next pod to schedule, blocking; null once closed. */
    synchronized String pop() throws InterruptedException {
        while (!closed) {
            long now = clock.millis();
            if (!backoff.isEmpty()) {
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
            if (!unschedulable.isEmpty()) {
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
            wait(backoff.isEmpty() ? 1000 : 100);
        }
        return null;
    }

    synchronized int pending() {
        return inActive.size() + backoff.size() + unschedulable.size();
    }

    synchronized void close() {
        closed = true;
        notifyAll();
    }
}
