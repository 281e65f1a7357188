package io.k3j.store.backend;

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
 * One watch of a log-table backend (SQLite, PostgreSQL, MySQL): replays history up to the revision current when it was registered, then delivers the live
 * events the writer queued meanwhile and after. The writer never waits for it: {@link #offer} only appends
 * to a bounded queue, and a watch whose queue overflows ends with an error (the client re-lists, as it
 * would after a 410 Gone).
 *
 * <p>Registration and publication happen under one lock in the store, so every event either has a revision
 * at most {@code replayTo} (committed, found by the replay) or arrives through {@link #offer}: no gap, no
 * duplicate.
 */
public final class WatchStream implements Watch {
    /** Reads committed history: events of rows in (after, upTo] under prefix, in revision order, at most limit. */
    public interface History {
        List<Event> read(String prefix, long after, long upTo, int limit);
    }

    private static final int REPLAY_PAGE = 500;

    private final String prefix;
    private final long afterRevision;
    private final WatchListener listener;
    private final int capacity;
    private final History history;
    private final Consumer<WatchStream> onEnd;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Event> queue = new ArrayDeque<>();
    private boolean closed;
    private Throwable failure;

    /** Held while the listener runs, so that close() returns only once no call is under way. */
    private final ReentrantLock delivering = new ReentrantLock();
    private volatile Thread thread;

    public WatchStream(String prefix, long afterRevision, WatchListener listener, int capacity, History history,
                Consumer<WatchStream> onEnd) {
        this.prefix = prefix;
        this.afterRevision = afterRevision;
        this.listener = listener;
        this.capacity = capacity;
        this.history = history;
        this.onEnd = onEnd;
    }

    public void start(long replayTo) {
        thread = Thread.ofVirtual().name("k3j-watch " + prefix).start(() -> run(replayTo));
    }

    /** Queues the matching events of one commit. Called by the writer, in revision order; never blocks. */
    public void offer(List<Event> events) {
        lock.lock();
        try {
            if (closed || failure != null) {
                return;
            }
            boolean added = false;
            for (Event e : events) {
                if (e.revision() > afterRevision && e.kv().key().startsWith(prefix)) {
                    if (queue.size() >= capacity) {
                        queue.clear();
                        failure = new StoreException("watch of \"" + prefix + "\" fell behind: more than "
                                + capacity + " events queued");
                        changed.signal();
                        return;
                    }
                    queue.add(e);
                    added = true;
                }
            }
            if (added) {
                changed.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Ends the watch with {@code error} after the events already queued. */
    public void fail(Throwable error) {
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
            delivering.lock(); // wait for a listener call in progress
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
            long last = afterRevision;
            while (last < replayTo && !isClosed()) {
                List<Event> page = history.read(prefix, last, replayTo, REPLAY_PAGE);
                if (!page.isEmpty() && !deliver(page)) {
                    return;
                }
                if (page.size() < REPLAY_PAGE) {
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
            boolean closedByUser;
            lock.lock();
            try {
                closedByUser = closed;
                closed = true;
                queue.clear();
            } finally {
                lock.unlock();
            }
            onEnd.accept(this);
            if (error != null && !closedByUser) {
                delivering.lock();
                try {
                    listener.onError(error);
                } finally {
                    delivering.unlock();
                }
            }
        }
    }

    /** Calls the listener unless the watch was closed; false if it was. */
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
