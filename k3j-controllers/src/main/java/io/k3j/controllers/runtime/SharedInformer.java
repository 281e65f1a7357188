package io.k3j.controllers.runtime;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.watch.CacheEvent;
import io.k3j.apiserver.watch.CacheWatcher;
import io.k3j.apiserver.watch.ResourceCache;
import io.k3j.apiserver.watch.WatchCache;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One resource's objects followed in-process, as client-go's shared informer does: a list, then every change
 * in order, delivered to each registered {@link Handler}; a local store with indexes that controllers read
 * instead of the API; a periodic resync that hands every object to the handlers again so controllers repair
 * drift. When the watch falls behind, the informer relists and reports the differences.
 *
 * <p>Objects are the watch cache's own instances, shared by every reader: never change them, copy first
 * ({@code deepCopy()}). That sharing is why 10,000 objects cost controllers almost no extra memory.
 */
public final class SharedInformer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SharedInformer.class.getName());

    /** Receives an informer's changes, on the informer's thread: be quick (enqueue a key). */
    public interface Handler {
        default void onAdd(ObjectNode obj) { }

        default void onUpdate(ObjectNode oldObj, ObjectNode newObj) { }

        default void onDelete(ObjectNode obj) { }

        /** Passes every added object, every update's new state, and every deleted object to {@code f}. */
        static Handler onEvery(java.util.function.Consumer<ObjectNode> f) {
            return new Handler() {
                @Override
                public void onAdd(ObjectNode obj) {
                    f.accept(obj);
                }

                @Override
                public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                    f.accept(newObj);
                }

                @Override
                public void onDelete(ObjectNode obj) {
                    f.accept(obj);
                }
            };
        }

        /** Passes every added object and every update's new state (not deletions) to {@code f}. */
        static Handler onAddOrUpdate(java.util.function.Consumer<ObjectNode> f) {
            return new Handler() {
                @Override
                public void onAdd(ObjectNode obj) {
                    f.accept(obj);
                }

                @Override
                public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                    f.accept(newObj);
                }
            };
        }
    }

    private final WatchCache cache;
    private final ResourceType type;
    private final Duration resync;
    private final List<Handler> handlers = new CopyOnWriteArrayList<>();
    private final Map<String, ObjectNode> items = new ConcurrentHashMap<>();
    private final Map<String, Function<ObjectNode, Collection<String>>> indexers = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Set<String>>> indices = new ConcurrentHashMap<>();
    private final CountDownLatch synced = new CountDownLatch(1);
    private volatile boolean closed;
    private volatile CacheWatcher watcher;
    private Thread thread;

    SharedInformer(WatchCache cache, ResourceType type, Duration resync) {
        this.cache = cache;
        this.type = type;
        this.resync = resync;
        addIndexer(Indexers.NAMESPACE, o -> List.of(Meta.namespace(o)));
    }

    public ResourceType type() {
        return type;
    }

    /** Adds a handler; one added after the start first receives the current objects as adds. */
    public void addHandler(Handler handler) {
        synchronized (this) {
            handlers.add(handler);
            if (hasSynced()) items.values().forEach(handler::onAdd);
        }
    }

    /** Declares an index: {@code fn} maps an object to the values it is found under. Call before start. */
    public void addIndexer(String name, Function<ObjectNode, Collection<String>> fn) {
        if (thread != null) throw new IllegalStateException("indexer " + name + " added after the informer started");
        indexers.put(name, fn);
        indices.put(name, new ConcurrentHashMap<>());
    }

    synchronized SharedInformer start() {
        if (thread == null) thread = Thread.ofVirtual().name("informer-" + type.plural()).start(this::run);
        return this;
    }

    public boolean hasSynced() {
        return synced.getCount() == 0;
    }

    /** Waits until the first listing has been delivered. */
    public boolean waitForSync(Duration timeout) throws InterruptedException {
        return synced.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The object stored under {@code namespace/name} (or {@code name} when cluster-scoped), or null. */
    public ObjectNode get(String namespace, String name) {
        return items.get(Keys.of(namespace, name));
    }

    public ObjectNode get(String key) {
        return items.get(key);
    }

    public List<ObjectNode> list() {
        return new ArrayList<>(items.values());
    }

    public List<ObjectNode> list(String namespace) {
        return byIndex(Indexers.NAMESPACE, namespace == null ? "" : namespace);
    }

    public int size() {
        return items.size();
    }

    /** The objects an index holds under {@code value}. */
    public List<ObjectNode> byIndex(String index, String value) {
        Map<String, Set<String>> idx = indices.get(index);
        if (idx == null) throw new IllegalArgumentException("no index " + index + " on " + type.plural());
        Set<String> keys = idx.get(value);
        if (keys == null) return List.of();
        List<ObjectNode> out = new ArrayList<>(keys.size());
        for (String k : keys.toArray(String[]::new)) {
            ObjectNode o = items.get(k);
            if (o != null) out.add(o);
        }
        return out;
    }

    private void run() {
        long nextResync = System.nanoTime() + resync.toNanos();
        while (!closed) {
            ResourceCache rc = cache.cache(type.storagePrefix());
            CacheWatcher w = rc.watch(0, type.storagePrefix(), 200_000);
            watcher = w;
            try {
                Map<String, ObjectNode> listed = new HashMap<>();
                while (w.hasInitial()) {
                    CacheEvent e = w.next(0, TimeUnit.MILLISECONDS);
                    listed.put(Keys.of(e.object()), e.object());
                }
                replace(listed);
                synced.countDown();
                while (!closed) {
                    CacheEvent e = w.next(200, TimeUnit.MILLISECONDS);
                    if (e != null && e.type() != CacheEvent.Type.BOOKMARK) apply(e);
                    if (!resync.isZero() && System.nanoTime() - nextResync > 0) {
                        nextResync = System.nanoTime() + resync.toNanos();
                        for (ObjectNode o : items.values()) dispatch(h -> h.onUpdate(o, o));
                    }
                }
            } catch (CacheWatcher.WatchEndedException e) {
                LOG.log(System.Logger.Level.DEBUG, "informer for {0} relists", type.plural());
            } catch (InterruptedException e) {
                return;
            } finally {
                w.close();
            }
        }
    }

    /** A relist: objects gone since are deleted, the rest added or updated. */
    private synchronized void replace(Map<String, ObjectNode> listed) {
        for (String key : new HashSet<>(items.keySet())) {
            if (!listed.containsKey(key)) {
                ObjectNode old = items.remove(key);
                unindex(key, old);
                dispatch(h -> h.onDelete(old));
            }
        }
        for (Map.Entry<String, ObjectNode> en : listed.entrySet()) {
            ObjectNode old = items.put(en.getKey(), en.getValue());
            reindex(en.getKey(), old, en.getValue());
            if (old == null) dispatch(h -> h.onAdd(en.getValue()));
            else if (old != en.getValue()) dispatch(h -> h.onUpdate(old, en.getValue()));
        }
    }

    private synchronized void apply(CacheEvent e) {
        String key = Keys.of(e.object());
        switch (e.type()) {
            case ADDED, MODIFIED -> {
                ObjectNode old = items.put(key, e.object());
                reindex(key, old, e.object());
                if (old == null) dispatch(h -> h.onAdd(e.object()));
                else dispatch(h -> h.onUpdate(old, e.object()));
            }
            case DELETED -> {
                ObjectNode old = items.remove(key);
                if (old != null) unindex(key, old);
                dispatch(h -> h.onDelete(e.object()));
            }
            default -> { }
        }
    }

    /**
     * Moves {@code key} from the index entries of {@code old} (null: none) to those of {@code obj}: first adds it
     * under the new values, then removes it from the old values the new object no longer has. Readers list without
     * this object's lock, so removing first made an updated object vanish from {@link #list(String)} for a moment:
     * a controller syncing then saw one pod too few and created another (Deployments over their surge, Jobs over
     * their parallelism, a ReplicationController one pod too many).
     */
    private void reindex(String key, ObjectNode old, ObjectNode obj) {
        for (Map.Entry<String, Function<ObjectNode, Collection<String>>> en : indexers.entrySet()) {
            Map<String, Set<String>> idx = indices.get(en.getKey());
            Collection<String> now = en.getValue().apply(obj);
            for (String v : now) idx.computeIfAbsent(v, x -> ConcurrentHashMap.newKeySet()).add(key);
            if (old == null) continue;
            for (String v : en.getValue().apply(old)) {
                if (now.contains(v)) continue;
                idx.computeIfPresent(v, (k, keys) -> {
                    keys.remove(key);
                    return keys.isEmpty() ? null : keys;
                });
            }
        }
    }

    private void unindex(String key, ObjectNode obj) {
        for (Map.Entry<String, Function<ObjectNode, Collection<String>>> en : indexers.entrySet()) {
            Map<String, Set<String>> idx = indices.get(en.getKey());
            for (String v : en.getValue().apply(obj)) {
                idx.computeIfPresent(v, (k, keys) -> {
                    keys.remove(key);
                    return keys.isEmpty() ? null : keys;
                });
            }
        }
    }

    private void dispatch(java.util.function.Consumer<Handler> call) {
        for (Handler h : handlers) {
            try {
                call.accept(h);
            } catch (RuntimeException ex) {
                LOG.log(System.Logger.Level.WARNING, "informer handler for " + type.plural() + " failed: " + ex, ex);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        CacheWatcher w = watcher;
        if (w != null) w.close();
        if (thread != null) thread.interrupt();
    }
}
