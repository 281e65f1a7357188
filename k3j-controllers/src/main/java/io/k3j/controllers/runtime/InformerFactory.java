package io.k3j.controllers.runtime;

import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.watch.WatchCache;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** One {@link SharedInformer} per resource, shared by every controller that asks for it. */
public final class InformerFactory implements AutoCloseable {
    private final WatchCache cache;
    private final Duration resync;
    private final Map<String, SharedInformer> informers = new ConcurrentHashMap<>();
    private volatile boolean started;

    public InformerFactory(WatchCache cache, Duration resync) {
        this.cache = cache;
        this.resync = resync;
    }

    /** The informer of {@code type}; started at once when the factory already runs. */
    public SharedInformer informer(ResourceType type) {
        SharedInformer inf = informers.computeIfAbsent(type.storagePrefix(), p -> new SharedInformer(cache, type, resync));
        if (started) inf.start();
        return inf;
    }

    public void start() {
        started = true;
        informers.values().forEach(SharedInformer::start);
    }

    /** Waits for every informer's first listing. */
    public void waitForSync(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (SharedInformer inf : new ArrayList<>(informers.values())) {
            long left = deadline - System.nanoTime();
            if (!inf.waitForSync(Duration.ofNanos(Math.max(left, 0)))) {
                throw new IllegalStateException("informer for " + inf.type().plural() + " did not sync within " + timeout);
            }
        }
    }

    public List<SharedInformer> all() {
        return List.copyOf(informers.values());
    }

    @Override
    public void close() {
        informers.values().forEach(SharedInformer::close);
    }
}
