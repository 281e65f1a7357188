package io.k3j.controllers.runtime;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * A rate-limited, de-duplicating queue of keys with client-go's workqueue semantics: a key waiting is queued
 * once however often it is added; a key being processed is not handed to a second worker, and one added
 * meanwhile is processed again after {@link #done}. Failed keys come back after a per-key exponential backoff
 * (5 ms doubling up to {@code maxBackoff}) until {@link #forget}.
 *
 * <p>Delays are measured on the injected clock, so a test that advances a fake clock releases delayed keys
 * (checked at least every 100 ms of real time).
 */
public final class WorkQueue {
    private static final Duration BASE_BACKOFF = Duration.ofMillis(5);

    private final Clock clock;
    private final Duration maxBackoff;
    private final ArrayDeque<String> queue = new ArrayDeque<>();
    private final Set<String> dirty = new HashSet<>();
    private final Set<String> processing = new HashSet<>();
    private final Map<String, Integer> failures = new HashMap<>();
    private final PriorityQueue<Delayed> delayed = new PriorityQueue<>();
    private final Map<String, Long> delayedDue = new HashMap<>();
    private boolean shutDown;

    private record Delayed(long dueMillis, String key) implements Comparable<Delayed> {
        @Override
        public int compareTo(Delayed o) {
            return Long.compare(dueMillis, o.dueMillis);
        }
    }

    public WorkQueue(Clock clock, Duration maxBackoff) {
        this.clock = clock;
        this.maxBackoff = maxBackoff;
    }

    public WorkQueue(Clock clock) {
        this(clock, Duration.ofSeconds(300));
    }

    public synchronized void add(String key) {
        if (shutDown || !dirty.add(key)) return;
        if (!processing.contains(key)) {
            queue.add(key);
            notifyAll();
        }
    }

    /** Adds the key once {@code delay} has passed on the clock; an earlier pending delay wins. */
    public synchronized void addAfter(String key, Duration delay) {
        if (shutDown) return;
        if (delay.isZero() || delay.isNegative()) {
            add(key);
            return;
        }
        long due = clock.millis() + delay.toMillis();
        Long pending = delayedDue.get(key);
        if (pending != null && pending <= due) return;
        delayedDue.put(key, due);
        delayed.add(new Delayed(due, key));
        notifyAll();
    }

    /** Adds the key after its backoff, which doubles with each call until {@link #forget}. */
    public synchronized void addRateLimited(String key) {
        int n = failures.merge(key, 1, Integer::sum);
        long millis = BASE_BACKOFF.toMillis() << Math.min(n - 1, 30);
        addAfter(key, Duration.ofMillis(Math.min(millis, maxBackoff.toMillis())));
    }

    /** Clears the key's backoff (it was processed successfully). */
    public synchronized void forget(String key) {
        failures.remove(key);
    }

    public synchronized int failures(String key) {
        return failures.getOrDefault(key, 0);
    }

    /** The next key to process, blocking; null once the queue is shut down. */
    public synchronized String take() throws InterruptedException {
        while (true) {
            releaseDue();
            if (!queue.isEmpty()) {
                String key = queue.poll();
                processing.add(key);
                dirty.remove(key);
                return key;
            }
            if (shutDown) return null;
            long wait = 100;
            if (!delayed.isEmpty()) wait = Math.max(1, Math.min(wait, delayed.peek().dueMillis - clock.millis()));
            wait(wait);
        }
    }

    private void releaseDue() {
        long now = clock.millis();
        while (!delayed.isEmpty() && delayed.peek().dueMillis <= now) {
            Delayed d = delayed.poll();
            Long due = delayedDue.get(d.key);
            if (due != null && due == d.dueMillis) {
                delayedDue.remove(d.key);
                add(d.key);
            }
        }
    }

    /** Marks the key processed; if it was added meanwhile it is queued again. */
    public synchronized void done(String key) {
        processing.remove(key);
        if (dirty.contains(key)) {
            queue.add(key);
            notifyAll();
        }
    }

    public synchronized int length() {
        return queue.size();
    }

    public synchronized void shutDown() {
        shutDown = true;
        notifyAll();
    }
}
