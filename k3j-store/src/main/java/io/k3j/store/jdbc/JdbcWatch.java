package io.k3j.store.jdbc;

import io.k3j.store.Event;
import io.k3j.store.StoreException;
import io.k3j.store.Watch;
import io.k3j.store.WatchListener;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One watch on its own virtual thread: it replays the log up to the revision that was current when it was
 * registered, then delivers what the store published after. The store registers it and publishes under one
 * lock, so every revision is either at most the replay bound or offered live: no gap and no repeat.
 * {@link #offer} never blocks the publisher; a watch whose queue overflows ends with an error and the client
 * starts over, as after a 410 Gone.
 */
final class JdbcWatch implements Watch {
    interface History {
        List<Event> read(String prefix, long after, long upTo, int limit);
    }

    private static final int PAGE = 500;

    private final String prefix;
    private final long after;
    private final WatchListener listener;
    private final int capacity;
    private final History history;
    private final Consumer<JdbcWatch> onEnd;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Event> queue = new ArrayDeque<>();
    private boolean closed;
    private Throwable failure;
    /** Held while the listener runs, so close() can wait for a call under way. */
    private final ReentrantLock delivering = new ReentrantLock();
    private volatile Thread thread;

    JdbcWatch(String prefix, long after, WatchListener listener, int capacity, History history,
              Consumer<JdbcWatch> onEnd) {
        this.prefix = prefix;
        this.after = after;
        this.listener = listener;
        this.capacity = capacity;
        this.history = history;
        this.onEnd = onEnd;
    }

    void start(long replayTo) {
        thread = Thread.ofVirtual().name("k3j-jdbc-watch " + prefix).start(() -> run(replayTo));
    }

    /** Queues the matching events of one publication (in revision order); never blocks. */
    void offer(List<Event> events) {
        lock.lock();
        try {
            if (closed || failure != null) {
                return;
            }
            boolean added = false;
            for (Event e : events) {
                if (e.revision() <= after || !e.kv().key().startsWith(prefix)) {
                    continue;
                }
                if (queue.size() >= capacity) {
                    queue.clear();
                    failure = new StoreException("watch of \"" + prefix + "\" fell behind: more than " + capacity
                            + " events queued");
                    changed.signal();
                    return;
                }
                queue.add(e);
                added = true;
            }
            if (added) {
                changed.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Ends the watch with {@code error}, after the events already queued. */
    void fail(Throwable error) {
        lock.lock();
        try {
            if (failure == null) {
                failure = error;
            }
            changed.signal();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            changed.signal();
        } finally {
            lock.unlock();
        }
        if (Thread.currentThread() != thread) {
            delivering.lock();
            delivering.unlock();
        }
    }

    private boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    private void run(long replayTo) {
        Throwable error = null;
        try {
            long last = after;
            while (last < replayTo && !isClosed()) {
                List<Event> page = history.read(prefix, last, replayTo, PAGE);
                if (!page.isEmpty() && !deliver(page)) {
                    return;
                }
                if (page.size() < PAGE) {
                    break;
                }
                last = page.getLast().revision();
            }
            while (true) {
                List<Event> batch;
                lock.lock();
                try {
                    while (queue.isEmpty() && !closed && failure == null) {
                        changed.awaitUninterruptibly();
                    }
                    if (closed) {
                        return;
                    }
                    if (queue.isEmpty()) {
                        error = failure;
                        return;
                    }
                    batch = new ArrayList<>(queue);
                    queue.clear();
                } finally {
                    lock.unlock();
                }
                if (!deliver(batch)) {
                    return;
                }
            }
        } catch (Throwable t) {
            error = t;
        } finally {
            boolean byUser;
            lock.lock();
            try {
                byUser = closed;
                closed = true;
                queue.clear();
            } finally {
                lock.unlock();
            }
            onEnd.accept(this);
            if (error != null && !byUser) {
                delivering.lock();
                try {
                    listener.onError(error);
                } finally {
                    delivering.unlock();
                }
            }
        }
    }

    private boolean deliver(List<Event> events) {
        delivering.lock();
        try {
            if (isClosed()) {
                return false;
            }
            listener.onEvents(Collections.unmodifiableList(events));
            return true;
        } finally {
            delivering.unlock();
        }
    }
}
