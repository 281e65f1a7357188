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
        CacheEvent e = queue.poll(timeout, unit);
        if (e == END || (e == null && ended)) throw new WatchEndedException();
        return e;
    }

    public boolean ended() {
        return ended;
    }

    @Override
    public void close() {
        ended = true;
        cache.remove(this);
    }

    /** The watch was ended by the server (the client should re-watch from its last resourceVersion). */
    public static final class WatchEndedException extends RuntimeException {
        WatchEndedException() {
            super("watch ended", null, false, false);
        }
    }
}
