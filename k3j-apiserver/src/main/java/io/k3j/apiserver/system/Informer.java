package io.k3j.apiserver.system;

import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.watch.CacheEvent;
import io.k3j.apiserver.watch.CacheWatcher;
import io.k3j.apiserver.watch.ResourceCache;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Follows every object of one resource in-process: the current objects first (as ADDED), then every change,
 * in order, on one virtual thread. When the cache drops the watcher (it fell behind) the informer starts over
 * from a fresh listing, as client-go's reflector relists. Objects handed out are shared: copy before changing.
 */
final class Informer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Informer.class.getName());

    private final ObjectStore objects;
    private final ResourceType type;
    private final Consumer<CacheEvent> handler;
    private volatile boolean closed;
    private volatile CacheWatcher watcher;
    private Thread thread;

    Informer(ObjectStore objects, ResourceType type, Consumer<CacheEvent> handler) {
        this.objects = objects;
        this.type = type;
        this.handler = handler;
    }

    Informer start() {
        thread = Thread.ofVirtual().name("informer-" + type.plural()).start(this::run);
        return this;
    }

    private void run() {
        while (!closed) {
            ResourceCache cache = objects.cache().cache(type.storagePrefix());
            CacheWatcher w = cache.watch(0, type.storagePrefix(), 100_000);
            watcher = w;
            try {
                while (!closed) {
                    CacheEvent e = w.next(1, TimeUnit.SECONDS);
                    if (e == null || e.type() == CacheEvent.Type.BOOKMARK) continue;
                    try {
                        handler.accept(e);
                    } catch (RuntimeException ex) {
                        LOG.log(System.Logger.Level.WARNING, "handling " + type.plural() + " " + e.key() + ": " + ex.getMessage());
                    }
                }
            } catch (CacheWatcher.WatchEndedException e) {
                // relist
            } catch (InterruptedException e) {
                return;
            } finally {
                w.close();
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
