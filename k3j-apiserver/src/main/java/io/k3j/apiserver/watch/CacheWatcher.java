package io.k3j.apiserver.watch;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One client's watch on a {@link ResourceCache}: a bounded queue the dispatcher fills and the client's
 * thread drains. A watcher that falls too far behind is terminated (the client re-watches from its last
 * resourceVersion), so a slow client never holds up the cache.
 */
public final class CacheWatcher implements AutoCloseable {
    private static final CacheEvent END = new CacheEvent(CacheEvent.Type.BOOKMARK, "", null, null, -1);
    private static final CacheEvent WAKE = new CacheEvent(CacheEvent.Type.BOOKMARK, "", null, null, -2);

    private final ResourceCache cache;
    /** Linked, not an array: a bound of 200,000 events must not cost 800 KB per idle watcher. */
    private final BlockingQueue<CacheEvent> queue;
    private final List<CacheEvent> initial = new ArrayList<>();
    private volatile boolean ended;
    private long initialRevision = -1;
    private int initialIndex;

    CacheWatcher(ResourceCache cache, int queueSize) {
        this.cache = cache;
        this.queue = new LinkedBlockingQueue<>(queueSize);
    }

    void initial(CacheEvent e) {
        initial.add(e);
    }

    void initialDone(long revision) {
        initialRevision = revision;
    }

    /** The revision the initial ADDED events were taken at, or -1 when the watch started from a revision. */
    public long initialRevision() {
        return initialRevision;
    }

    /** Number of initial events still to be delivered before live events. */
    public boolean hasInitial() {
        return initialIndex < initial.size();
    }

    void offer(CacheEvent e) {
        if (ended) return;
        if (!queue.offer(e)) terminate();
    }

    void terminate() {
        ended = true;
        queue.clear();
        queue.offer(END);
    }

    /**
     * Makes a {@link #next()} waiting on this watcher return null (a timer's way to let the client's thread check
     * its deadline). Lost when the queue is full: the watcher is then about to be terminated anyway.
     */
    public void wake() {
        if (!ended) queue.offer(WAKE);
    }

    /**
     * The next event: initial ones first, then live ones; null when nothing came within the timeout.
     *
     * @throws WatchEndedException when the watcher was terminated (overflow, cache gone)
     */
    public CacheEvent next(long timeout, TimeUnit unit) throws InterruptedException {
        if (initialIndex < initial.size()) {
            CacheEvent e = initial.get(initialIndex);
            initial.set(initialIndex++, null);
            return e;
        }
        return checked(queue.poll(timeout, unit));
    }

    /**
     * The next event, waiting without a timeout; null after a {@link #wake()}. A virtual thread's timed wait
     * registers and cancels a timer on every event: with 1,000 watchers that was a measurable share of each
     * delivery, so the server's watches wait untimed and a timer wakes them for bookmarks and deadlines.
     *
     * @throws WatchEndedException when the watcher was terminated (overflow, cache gone)
     */
    public CacheEvent next() throws InterruptedException {
        if (initialIndex < initial.size()) {
            CacheEvent e = initial.get(initialIndex);
            initial.set(initialIndex++, null);
            return e;
        }
        return checked(queue.take());
    }

    private CacheEvent checked(CacheEvent e) {
        if (e == END || (e == null && ended)) throw new WatchEndedException();
        return e == WAKE ? null : e;
    }

    public boolean ended() {
        return ended;
    }

    @Override
    public void close() {
        ended = true;
        cache.remove(this);
        // a client's thread waiting untimed in next() must see the end
        queue.clear();
        queue.offer(END);
    }

    /** The watch was ended by the server (the client should re-watch from its last resourceVersion). */
    public static final class WatchEndedException extends RuntimeException {
        WatchEndedException() {
            super("watch ended", null, false, false);
        }
    }
}
