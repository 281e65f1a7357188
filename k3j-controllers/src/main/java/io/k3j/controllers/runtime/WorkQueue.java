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
    /** A lock, not a monitor: waiting on a monitor pins a virtual thread to its carrier. */
    private final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
    private final java.util.concurrent.locks.Condition changed = lock.newCondition();

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

    public void add(String key) {
        lock.lock();
        try {
            if (shutDown || !dirty.add(key)) return;
            if (!processing.contains(key)) {
                queue.add(key);
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Adds the key once {@code delay} has passed on the clock; an earlier pending delay wins. */
    public void addAfter(String key, Duration delay) {
        lock.lock();
        try {
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
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Adds the key after its backoff, which doubles with each call until {@link #forget}. */
    public void addRateLimited(String key) {
        lock.lock();
        try {
            int n = failures.merge(key, 1, Integer::sum);
            long millis = BASE_BACKOFF.toMillis() << Math.min(n - 1, 30);
            addAfter(key, Duration.ofMillis(Math.min(millis, maxBackoff.toMillis())));
        } finally {
            lock.unlock();
        }
    }

    /** Clears the key's backoff (it was processed successfully). */
    public void forget(String key) {
        lock.lock();
        try {
            failures.remove(key);
        } finally {
            lock.unlock();
        }
    }

    public int failures(String key) {
        lock.lock();
        try {
            return failures.getOrDefault(key, 0);
        } finally {
            lock.unlock();
        }
    }

    /** The next key to process, blocking; null once the queue is shut down. */
    public String take() throws InterruptedException {
        lock.lock();
        try {
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
                changed.await(wait, java.util.concurrent.TimeUnit.MILLISECONDS);
            }
        } finally {
            lock.unlock();
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
    public void done(String key) {
        lock.lock();
        try {
            processing.remove(key);
            if (dirty.contains(key)) {
                queue.add(key);
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    public int length() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    public void shutDown() {
        lock.lock();
        try {
            shutDown = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
