package io.k3j.apiserver.watch;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The cached objects of one storage prefix, and a window of its recent events from which watches resume.
 * Guarded by its own monitor; the {@link WatchCache} dispatcher is the only writer.
 */
public final class ResourceCache {
    /**
     * The window's bound in bytes of stored values, beside its bound in events: after a burst (10,000 pods, each
     * created and bound; ReplicaSets updating their status a thousand times) a 10,000-event window held every
     * superseded version, tens of MB per resource, for watches that resume from an older revision, which then get
     * 410 Expired and relist (kube-apiserver's window is sized by time, ~75 s of events, for the same reason).
     * The newest value of a key is shared with its cached object, so this counts more than the window alone costs.
     */
    static final long WINDOW_BYTES = 8L << 20;
    /** Events kept whatever their size (kube-apiserver's smallest window is 100). */
    static final int WINDOW_MIN = 100;

    private final String prefix;
    private final int windowSize;
    private final boolean bytesOnly;
    private final NavigableMap<String, CachedObject> objects = new TreeMap<>();
    /**
     * Recent events as the store's bytes, not trees: a tree costs about eight times its JSON, and the window
     * is read only when a watch resumes from an older revision, which then decodes what it replays.
     */
    private final ArrayDeque<WindowEvent> window = new ArrayDeque<>();
    /** Each key's newest event in the window, whose value is the next event's previous state. */
    private final java.util.HashMap<String, WindowEvent> lastInWindow = new java.util.HashMap<>();
    private final List<CacheWatcher> watchers = new CopyOnWriteArrayList<>();
    /** Every event with a revision above this one is in the window. */
    private long windowStart;
    private long revision;
    /** The revision the objects were loaded at; the window holds only later events until history fills it. */
    private final long loadRevision;
    /** Open while the store's history before {@link #loadRevision} is being read in ({@link WatchCache}); else null. */
    private volatile java.util.concurrent.CountDownLatch historyPending;
    /** What the window's events hold: their values, and their previous states where not another event's value. */
    private long windowBytes;

    ResourceCache(String prefix, int windowSize, long revision, boolean bytesOnly) {
        this.prefix = prefix;
        this.bytesOnly = bytesOnly;
        this.windowSize = windowSize;
        this.windowStart = revision;
        this.revision = revision;
        this.loadRevision = revision;
    }

    public String prefix() {
        return prefix;
    }

    synchronized void load(String key, byte[] value, long modRevision) {
        objects.put(key, bytesOnly ? CachedObject.ofStored(key, value, modRevision)
                : cached(key, WatchCache.decodeCached(value, modRevision), value, modRevision));
    }

    /** A tree-backed object whose JSON is spliced from its stored bytes on each read ({@link Serialized}). */
    private static CachedObject cached(String key, ObjectNode obj, byte[] stored, long modRevision) {
        return new CachedObject(key, obj, modRevision, stored == null ? new Serialized(obj) : Serialized.ofStored(obj, stored, modRevision, false));
    }

    /** Whether this cache holds its objects as bytes ({@link CachedObject#ofStored}). */
    boolean bytesOnly() {
        return bytesOnly;
    }

    /**
     * One event of the window: enough to rebuild the {@link CacheEvent}.
     *
     * @param bytes what it adds to the window: its arrays, not counting a previous state that another event holds
     */
    record WindowEvent(CacheEvent.Type type, String key, long revision, byte[] value, byte[] previous, long previousRevision, int bytes) {
        WindowEvent(CacheEvent.Type type, String key, long revision, byte[] value, byte[] previous, long previousRevision) {
            this(type, key, revision, value, previous, previousRevision, length(value) + length(previous));
        }

        private static int length(byte[] b) {
            return b == null ? 0 : b.length;
        }

        CacheEvent materialize() {
            ObjectNode obj = WatchCache.decode(type == CacheEvent.Type.DELETED ? previous : value, revision);
            ObjectNode prev = previous == null ? null : WatchCache.decode(previous, previousRevision);
            return new CacheEvent(type, key, obj, prev, revision, Serialized.ofStored(obj, type == CacheEvent.Type.DELETED ? previous : value, revision, true));
        }
    }

    /** The current object, or null; for the dispatcher, which reuses it as the next event's previous state. */
    synchronized CachedObject current(String key) {
        return objects.get(key);
    }

    synchronized void apply(CacheEvent e, WindowEvent compact) {
        if (e.type() == CacheEvent.Type.DELETED) objects.remove(e.key());
        else if (bytesOnly) objects.put(e.key(), CachedObject.ofStored(e.key(), compact.value(), e.revision()));
        else objects.put(e.key(), cached(e.key(), e.object(), compact.value(), e.revision()));
        WindowEvent last = lastInWindow.get(compact.key());
        if (last != null && compact.previous() != null && last.value() != null && last.revision() == compact.previousRevision()) {
            // the previous state is the value of this key's last event: keep one array, not two equal ones
            compact = new WindowEvent(compact.type(), compact.key(), compact.revision(), compact.value(), last.value(),
                    compact.previousRevision(), WindowEvent.length(compact.value()));
        }
        window.addLast(compact);
        windowBytes += compact.bytes();
        lastInWindow.put(compact.key(), compact);
        while (window.size() > windowSize || (windowBytes > WINDOW_BYTES && window.size() > WINDOW_MIN)) {
            WindowEvent gone = window.removeFirst();
            windowStart = gone.revision();
            lastInWindow.remove(gone.key(), gone);
            windowBytes -= gone.bytes();
        }
        revision = e.revision();
        for (CacheWatcher w : watchers) w.offer(e);
    }

    /** Watches resuming from before the load revision wait for {@code pending} (see {@link #watch}). */
    void historyPending(java.util.concurrent.CountDownLatch pending) {
        historyPending = pending;
    }

    /**
     * Puts the store's events in ({@code from}, load revision] in front of the window, so that a watch resumed
     * from a revision before this cache was loaded (a client of a restarted server) replays what it missed
     * instead of getting 410, as kube-apiserver serves such a watch from etcd. Only while the window still
     * starts at the load revision (nothing trimmed), and only as many as the window has room for (count and bytes).
     *
     * @param older events of this prefix in ({@code from}, {@code to}], in revision order
     */
    synchronized void prependHistory(List<WindowEvent> older, long from, long to) {
        if (to != loadRevision || windowStart != loadRevision || from >= windowStart) return;
        int room = windowSize - window.size();
        long start = from;
        for (int i = older.size() - 1; i >= 0; i--) {
            WindowEvent e = older.get(i);
            if (room-- <= 0 || (windowBytes + e.bytes() > WINDOW_BYTES && window.size() >= WINDOW_MIN)) {
                start = e.revision();
                break;
            }
            window.addFirst(e);
            windowBytes += e.bytes();
            lastInWindow.putIfAbsent(e.key(), e);
        }
        windowStart = Math.min(windowStart, start);
    }

    synchronized void advance(long rev) {
        revision = Math.max(revision, rev);
    }

    /** The revision this cache is current at. */
    public synchronized long revision() {
        return revision;
    }

    /** The current objects whose keys start with {@code keyPrefix} (the whole prefix, or one namespace's). */
    public synchronized Snapshot list(String keyPrefix) {
        List<CachedObject> out = new ArrayList<>(objects.subMap(keyPrefix, true, keyPrefix + Character.MAX_VALUE, false).values());
        return new Snapshot(out, revision);
    }

    public synchronized CachedObject get(String key) {
        return objects.get(key);
    }

    public synchronized int size() {
        return objects.size();
    }

    /**
     * Registers a watcher that first receives the events after {@code afterRevision} (or, when
     * {@code initialKeyPrefix} is not null, a synthetic ADDED for every current object under it) and then
     * every live event.
     *
     * @throws ApiException 410 Expired when {@code afterRevision} is older than the window
     */
    public CacheWatcher watch(long afterRevision, String initialKeyPrefix, int queueSize) {
        java.util.concurrent.CountDownLatch pending = historyPending;
        if (initialKeyPrefix == null && pending != null && afterRevision < loadRevision) {
            // outside the monitor: filling the window takes it
            try {
                if (!pending.await(HISTORY_WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS)) {
                    System.getLogger(ResourceCache.class.getName()).log(System.Logger.Level.WARNING,
                            "{0}: the store''s history not read within {1} s; a watch from {2} may get 410", prefix, HISTORY_WAIT_SECONDS, afterRevision);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw ApiException.timeout("interrupted while waiting for the store's history");
            }
        }
        return register(afterRevision, initialKeyPrefix, queueSize);
    }

    private static final int HISTORY_WAIT_SECONDS = 5;

    private synchronized CacheWatcher register(long afterRevision, String initialKeyPrefix, int queueSize) {
        CacheWatcher w = new CacheWatcher(this, queueSize);
        if (initialKeyPrefix != null) {
            for (CachedObject o : objects.subMap(initialKeyPrefix, true, initialKeyPrefix + Character.MAX_VALUE, false).values()) {
                w.initial(new CacheEvent(CacheEvent.Type.ADDED, o.key(), o.object(), null, o.modRevision(), o.json()));
            }
            w.initialDone(revision);
        } else {
            if (afterRevision < windowStart) {
                throw ApiException.gone("too old resource version: " + afterRevision + " (" + windowStart + ")");
            }
            for (WindowEvent e : window) {
                if (e.revision() > afterRevision) w.initial(e.materialize());
            }
        }
        watchers.add(w);
        return w;
    }

    void remove(CacheWatcher w) {
        watchers.remove(w);
    }

    void terminateWatchers() {
        for (CacheWatcher w : watchers) w.terminate();
        watchers.clear();
    }

    public int watcherCount() {
        return watchers.size();
    }

    /** Objects as of {@code revision}. */
    public record Snapshot(List<CachedObject> objects, long revision) {}
}
