package io.k3j.apiserver.watch;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.store.Event;
import io.k3j.store.KeyValue;
import io.k3j.store.RangeResult;
import io.k3j.store.Store;
import io.k3j.store.Watch;
import io.k3j.store.WatchListener;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Holds every object of every served resource in memory, fed by one store watch over all keys, and serves
 * reads and watches from it (what kube-apiserver's cacher does). One global dispatched revision tells how
 * fresh the cache is, so a consistent read waits until the cache has seen the store's current revision and
 * then answers from memory.
 */
public final class WatchCache implements AutoCloseable, WatchListener {
    private static final System.Logger LOG = System.getLogger(WatchCache.class.getName());

    /**
     * Resources cached as bytes, not trees ({@link CachedObject}): Events, two per pod in a busy cluster (a
     * Scheduled and a SuccessfulCreate), which no controller watches and people read now and then.
     */
    private static final java.util.Set<String> BYTES_ONLY = java.util.Set.of("/registry/core/events/", "/registry/events.k8s.io/events/");

    private final Store store;
    private final int windowSize;
    private final Map<String, ResourceCache> caches = new ConcurrentHashMap<>();
    private final ReentrantLock dispatchLock = new ReentrantLock();
    private final Condition advanced = dispatchLock.newCondition();
    private volatile long revision;
    private Watch watch;
    /** The revision {@link #start} began at; caches loaded at it get the store's history before it. */
    private long startRevision = -1;
    private History history;

    public WatchCache(Store store, int windowSize) {
        this.store = store;
        this.windowSize = windowSize;
    }

    /** Starts following the store from its current revision. */
    public void start() {
        dispatchLock.lock();
        try {
            revision = store.currentRevision();
            watch = store.watch("", revision, this);
            startRevision = revision;
            long from = Math.max(0, Math.max(store.compactRevision() - 1, revision - windowSize));
            if (from < revision) history = new History(from, revision);
        } finally {
            dispatchLock.unlock();
        }
        if (history != null) history.start();
    }

    /**
     * The store's events in (from, to], read in the background when the cache starts on a store that has
     * them (a restart): the windows of the caches loaded at {@code to} then begin at {@code from}, so a
     * client resuming a watch from before the restart gets what it missed, not 410. Watches from before
     * {@code to} wait for it ({@link ResourceCache#watch}); a failed read leaves the windows as they were.
     */
    private final class History implements WatchListener {
        final long from;
        final long to;
        final java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        final Map<String, List<ResourceCache.WindowEvent>> byPrefix = new java.util.HashMap<>();
        private Watch reading;
        private boolean finished;
        /** Set under the dispatch lock once every event in (from, to] is in {@link #byPrefix}. */
        private boolean read;

        History(long from, long to) {
            this.from = from;
            this.to = to;
        }

        void start() {
            Watch w;
            try {
                w = store.watch("", from, this);
            } catch (RuntimeException e) {
                onError(e);
                return;
            }
            synchronized (this) {
                if (!finished) reading = w;
            }
            if (!isReading()) w.close();
        }

        private synchronized boolean isReading() {
            return reading != null;
        }

        @Override
        public void onEvents(List<Event> events) {
            boolean end = false;
            for (Event e : events) {
                if (e.revision() > to) {
                    end = true;
                    break;
                }
                byPrefix.computeIfAbsent(prefixOf(e.kv().key()), k -> new ArrayList<>()).add(windowEvent(e));
                if (e.revision() == to) end = true;
            }
            if (end) finish(true);
        }

        @Override
        public void onError(Throwable error) {
            LOG.log(Level.WARNING, "reading the store's history before revision " + to + " for resumed watches: " + error);
            finish(false);
        }

        private void finish(boolean complete) {
            Watch w;
            synchronized (this) {
                if (finished) return;
                finished = true;
                w = reading;
                reading = null;
                if (!complete) byPrefix.clear();
            }
            dispatchLock.lock();
            try {
                if (complete) {
                    read = true;
                    for (ResourceCache c : caches.values()) fill(c);
                }
            } finally {
                dispatchLock.unlock();
                done.countDown();
            }
            if (w != null) w.close(); // from the listener itself: does not wait
        }

        /** Under the dispatch lock; changes only a cache loaded at {@link #to} whose window was not trimmed yet. */
        void fill(ResourceCache c) {
            List<ResourceCache.WindowEvent> events = byPrefix.get(c.prefix());
            c.prependHistory(events == null ? List.of() : events, from, to);
        }

        /** Whether the history was read; under the dispatch lock. */
        boolean complete() {
            return read;
        }

        void close() {
            Watch w;
            synchronized (this) {
                w = reading;
            }
            if (w != null) w.close();
            done.countDown();
        }
    }

    /** A store event as the window keeps it. */
    private static ResourceCache.WindowEvent windowEvent(Event e) {
        KeyValue prev = e.prevKv();
        byte[] prevBytes = prev == null ? null : prev.value();
        long prevRev = prev == null ? 0 : prev.modRevision();
        if (e.type() == Event.Type.DELETE) {
            return new ResourceCache.WindowEvent(CacheEvent.Type.DELETED, e.kv().key(), e.revision(), null, prevBytes, prevRev);
        }
        return new ResourceCache.WindowEvent(prev == null ? CacheEvent.Type.ADDED : CacheEvent.Type.MODIFIED, e.kv().key(),
                e.revision(), e.kv().value(), prevBytes, prevRev);
    }

    /**
     * The cache of one storage prefix, created (and loaded as of the dispatched revision) on first use, so
     * resources that appear at run time (custom resources) get a cache consistent with the event stream.
     */
    public ResourceCache cache(String prefix) {
        ResourceCache c = caches.get(prefix);
        if (c != null) return c;
        dispatchLock.lock();
        try {
            c = caches.get(prefix);
            if (c != null) return c;
            c = new ResourceCache(prefix, windowSize, revision, BYTES_ONLY.contains(prefix));
            if (revision > 0) load(c, revision);
            if (history != null && revision == startRevision) {
                if (history.complete()) history.fill(c);
                else if (history.done.getCount() > 0) c.historyPending(history.done);
            }
            caches.put(prefix, c);
            return c;
        } finally {
            dispatchLock.unlock();
        }
    }

    private void load(ResourceCache c, long atRevision) {
        String start = "";
        while (true) {
            RangeResult page = store.range(c.prefix(), start, atRevision, 5000);
            for (KeyValue kv : page.kvs()) c.load(kv.key(), kv.value(), kv.modRevision());
            if (!page.more()) break;
            start = page.kvs().getLast().key() + "\0";
        }
    }

    /** Drops the cache of a prefix whose resource is gone (a deleted CRD). */
    public void forget(String prefix) {
        ResourceCache c = caches.remove(prefix);
        if (c != null) c.terminateWatchers();
    }

    /** The newest revision every cache has applied. */
    public long revision() {
        return revision;
    }

    /**
     * Waits until the cache has applied {@code target}.
     *
     * @throws ApiException 504 Timeout ("Too large resource version") when it doesn't happen in time
     */
    public void waitFor(long target, long timeoutMillis) {
        if (revision >= target) return;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        dispatchLock.lock();
        try {
            while (revision < target) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    // errors.NewTimeoutError prefixes "Timeout: "
                    throw ApiException.timeout("Too large resource version: " + target + ", current: " + revision);
                }
                advanced.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.timeout("interrupted while waiting for the cache");
        } finally {
            dispatchLock.unlock();
        }
    }

    /** Waits until the cache has seen every write acknowledged so far (a consistent read). */
    public void sync() {
        waitFor(store.currentRevision(), 10_000);
    }

    @Override
    public void onEvents(List<Event> events) {
        dispatchLock.lock();
        try {
            long rev = revision;
            for (Event e : events) {
                rev = Math.max(rev, e.revision());
                ResourceCache c = caches.get(prefixOf(e.kv().key()));
                if (c == null) continue;
                String key = e.kv().key();
                ObjectNode prev = null;
                if (e.prevKv() != null) {
                    // the cached tree is the previous state: share it rather than parse the same bytes again
                    CachedObject cur = c.current(key);
                    prev = cur != null && cur.modRevision() == e.prevKv().modRevision() ? cur.object()
                            : decode(e.prevKv().value(), e.prevKv().modRevision());
                }
                byte[] prevBytes = e.prevKv() == null ? null : e.prevKv().value();
                long prevRev = e.prevKv() == null ? 0 : e.prevKv().modRevision();
                if (e.type() == Event.Type.DELETE) {
                    ObjectNode gone = prev.deepCopy();
                    Json.obj(gone, "metadata").put("resourceVersion", Long.toString(e.revision()));
                    c.apply(new CacheEvent(CacheEvent.Type.DELETED, key, gone, prev, e.revision(), Serialized.ofStored(gone, prevBytes, e.revision(), true)),
                            new ResourceCache.WindowEvent(CacheEvent.Type.DELETED, key, e.revision(), null, prevBytes, prevRev));
                } else {
                    CacheEvent.Type t = prev == null ? CacheEvent.Type.ADDED : CacheEvent.Type.MODIFIED;
                    ObjectNode obj = c.bytesOnly() ? decode(e.kv().value(), e.revision()) : decodeCached(e.kv().value(), e.revision());
                    c.apply(new CacheEvent(t, key, obj, prev, e.revision(), Serialized.ofStored(obj, e.kv().value(), e.revision(), true)),
                            new ResourceCache.WindowEvent(t, key, e.revision(), e.kv().value(), prevBytes, prevRev));
                }
            }
            revision = rev;
            // no cache can be loaded at the start revision any more: its history is in their windows or of no use
            if (history != null && rev > startRevision && history.done.getCount() == 0) history = null;
            for (ResourceCache c : caches.values()) c.advance(rev);
            advanced.signalAll();
        } finally {
            dispatchLock.unlock();
        }
    }

    @Override
    public void onError(Throwable error) {
        LOG.log(Level.ERROR, "the store watch feeding the cache ended", error);
        for (ResourceCache c : caches.values()) c.terminateWatchers();
    }

    /** {@code /registry/<group>/<plural>/} of a key. */
    static String prefixOf(String key) {
        int slashes = 0;
        for (int i = 0; i < key.length(); i++) {
            if (key.charAt(i) == '/' && ++slashes == 4) return key.substring(0, i + 1);
        }
        return key;
    }

    /** Stored bytes to the object clients see: resourceVersion is the revision, never stored. */
    public static ObjectNode decode(byte[] value, long revision) {
        ObjectNode obj = Json.parseStored(value);
        Json.obj(obj, "metadata").put("resourceVersion", Long.toString(revision));
        return obj;
    }

    /** {@link #decode} for a tree the cache keeps: its recurring subtrees are shared read-only ({@link Json#parseCached}). */
    static ObjectNode decodeCached(byte[] value, long revision) {
        ObjectNode obj = Json.parseCached(value);
        Json.obj(obj, "metadata").put("resourceVersion", Long.toString(revision));
        return obj;
    }

    public List<ResourceCache> caches() {
        return new ArrayList<>(caches.values());
    }

    @Override
    public void close() {
        History h = history;
        if (h != null) h.close();
        if (watch != null) watch.close();
        for (ResourceCache c : caches.values()) c.terminateWatchers();
    }
}
