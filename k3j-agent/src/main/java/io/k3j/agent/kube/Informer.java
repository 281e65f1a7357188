package io.k3j.agent.kube;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Lists then watches one collection through a {@link KubeClient} (e.g. {@code /api/v1/pods} with
 * {@code fieldSelector=spec.nodeName=n1}), keeping the objects in a local map by {@code namespace/name} and telling
 * {@link Handler}s about adds, updates and deletes. A watch that ends (the server ends each after 5 to 10 minutes)
 * is resumed from the last resourceVersion seen;
 * 410 Gone, an error or an unreachable server means a fresh list, after a back-off (1 s doubling to 30 s).
 *
 * <p>With a cache folder the store is also kept on disk, one JSON file per object written atomically, so that an
 * agent that restarts while the server is unreachable can {@link #loadCache()} what it last knew: the handlers see
 * those objects as adds before the server answers, and the first successful list reconciles them (updates for
 * changed objects, deletes for vanished ones). An edge node rebooted offline brings its pods back this way.
 *
 * <p>Handlers run one at a time on the informer's thread (or the caller's, for {@link #loadCache()}); they get the
 * stored trees, which they must not change.
 */
public final class Informer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Informer.class.getName());
    private static final Duration MIN_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    /** Callbacks for changes of the store. */
    public interface Handler {
        default void onAdd(ObjectNode obj) { }

        default void onUpdate(ObjectNode old, ObjectNode obj) { }

        default void onDelete(ObjectNode obj) { }

        /** A handler that treats an add and an update alike ({@code upsert} gets the new object) and a delete apart. */
        static Handler of(java.util.function.Consumer<ObjectNode> upsert, java.util.function.Consumer<ObjectNode> delete) {
            return new Handler() {
                @Override
                public void onAdd(ObjectNode obj) {
                    upsert.accept(obj);
                }

                @Override
                public void onUpdate(ObjectNode old, ObjectNode obj) {
                    upsert.accept(obj);
                }

                @Override
                public void onDelete(ObjectNode obj) {
                    delete.accept(obj);
                }
            };
        }
    }

    private final KubeClient client;
    private final String path;
    private final Map<String, String> query;
    private final Path cacheDir;
    private final Object lock = new Object();
    private final Map<String, ObjectNode> store = new LinkedHashMap<>();
    private final List<Handler> handlers = new CopyOnWriteArrayList<>();
    private final CountDownLatch synced = new CountDownLatch(1);
    private volatile boolean closed;
    private volatile KubeClient.Watch watch;
    private volatile Thread thread;
    private volatile String lastResourceVersion = "";
    private volatile Duration minBackoff = MIN_BACKOFF;
    private volatile java.util.function.UnaryOperator<ObjectNode> transform = java.util.function.UnaryOperator.identity();

    /**
     * @param collectionPath e.g. {@code /api/v1/pods} or {@code /api/v1/namespaces/ns/configmaps}
     * @param query          list and watch parameters such as {@code fieldSelector} or {@code labelSelector}
     * @param cacheDir       the folder to mirror the store into, or null for none
     */
    public Informer(KubeClient client, String collectionPath, Map<String, String> query, Path cacheDir) {
        this.client = requireNonNull(client, "client");
        this.path = requireNonNull(collectionPath, "collectionPath");
        this.query = Map.copyOf(requireNonNull(query, "query"));
        this.cacheDir = cacheDir;
    }

    /**
     * Applies {@code t} to every object before it is stored or handed to handlers (client-go's SetTransform): an
     * informer that only needs to know <em>that</em> something changed keeps a fraction of the memory with
     * {@link #metadataOnly}. Set it before {@link #start()}.
     */
    public Informer withTransform(java.util.function.UnaryOperator<ObjectNode> t) {
        this.transform = requireNonNull(t, "transform");
        return this;
    }

    /**
     * What is stored of an object received from the server: without {@code metadata.managedFields} (server-side
     * apply's bookkeeping, which no part of the agent reads and which is often a third of a pod's tree: one
     * fieldsV1 tree per writer), then the transform. The tree is the freshly parsed one, changed in place.
     */
    private ObjectNode prepare(ObjectNode obj) {
        if (obj.get("metadata") instanceof ObjectNode meta) meta.remove("managedFields");
        return transform.apply(obj);
    }

    /** Keeps apiVersion, kind and the identifying metadata (namespace, name, uid, resourceVersion). */
    public static ObjectNode metadataOnly(ObjectNode obj) {
        ObjectNode slim = Json.object();
        if (obj.has("apiVersion")) slim.set("apiVersion", obj.get("apiVersion"));
        if (obj.has("kind")) slim.set("kind", obj.get("kind"));
        ObjectNode meta = slim.putObject("metadata");
        JsonNode m = obj.path("metadata");
        for (String f : new String[] {"namespace", "name", "uid", "resourceVersion"}) {
            if (m.has(f)) meta.set(f, m.get(f));
        }
        return slim;
    }

    /** Adds a handler; add them before {@link #loadCache()} / {@link #start()} to see every object. */
    public Informer addHandler(Handler handler) {
        handlers.add(requireNonNull(handler, "handler"));
        return this;
    }

    /** Shortens the back-off for tests. */
    Informer minBackoff(Duration d) {
        this.minBackoff = d;
        return this;
    }

    /**
     * Loads the objects of the cache folder into the store (handlers see adds); a file that cannot be read is
     * skipped and removed. Call before {@link #start()}.
     *
     * @return how many objects were loaded
     * @throws IllegalStateException if the informer has no cache folder
     */
    public int loadCache() {
        if (cacheDir == null) throw new IllegalStateException("this informer has no cache folder");
        if (!Files.isDirectory(cacheDir)) return 0;
        int n = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(cacheDir, "*.json")) {
            for (Path f : files) {
                ObjectNode obj;
                try {
                    obj = Json.parseObject(Files.readAllBytes(f));
                } catch (IOException | RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "dropping unreadable cache file " + f + ": " + e.getMessage());
                    Files.deleteIfExists(f);
                    continue;
                }
                synchronized (lock) {
                    String key = key(obj);
                    ObjectNode old = store.put(key, obj);
                    if (old == null) {
                        n++;
                        for (Handler h : handlers) call(() -> h.onAdd(obj));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading informer cache " + cacheDir, e);
        }
        return n;
    }

    /** Starts listing and watching on a virtual thread. */
    public Informer start() {
        if (thread != null) throw new IllegalStateException("already started");
        thread = Thread.ofVirtual().name("informer " + path).start(this::run);
        return this;
    }

    /** Whether a list from the server has been applied (a loaded cache does not count). */
    public boolean hasSynced() {
        return synced.getCount() == 0;
    }

    /** Waits up to {@code timeout} for the first list; false when it did not come. */
    public boolean awaitSynced(Duration timeout) throws InterruptedException {
        return synced.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The stored object, or empty. Do not change it. */
    public Optional<ObjectNode> get(String namespace, String name) {
        synchronized (lock) {
            return Optional.ofNullable(store.get(key(namespace, name)));
        }
    }

    /** A snapshot of every stored object. */
    public List<ObjectNode> list() {
        synchronized (lock) {
            return new ArrayList<>(store.values());
        }
    }

    /** The resourceVersion of the last list or event applied. */
    public String lastResourceVersion() {
        return lastResourceVersion;
    }

    @Override
    public void close() {
        closed = true;
        KubeClient.Watch w = watch;
        if (w != null) w.close();
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---- the loop --------------------------------------------------------------------------------------------

    private void run() {
        Duration backoff = minBackoff;
        boolean needList = true;
        boolean reportedFailure = false;
        while (!closed) {
            try {
                if (needList) {
                    ObjectNode list = client.list(path, query);
                    replace(list);
                    synced.countDown();
                    needList = false;
                    if (reportedFailure) LOG.log(System.Logger.Level.INFO, "informer " + path + " is back in sync");
                    reportedFailure = false;
                }
                backoff = minBackoff;
                needList = watchOnce();
                if (needList) {
                    sleep(backoff);
                    backoff = next(backoff);
                }
            } catch (KubeClient.Unreachable | ApiException e) {
                if (closed) break;
                if (!reportedFailure) {
                    LOG.log(System.Logger.Level.WARNING, "informer " + path + ": " + e.getMessage() + " (retrying)");
                    reportedFailure = true;
                }
                needList = true;
                sleep(backoff);
                backoff = next(backoff);
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException e) {
                if (closed) break;
                LOG.log(System.Logger.Level.ERROR, "informer " + path + " failed; relisting", e);
                needList = true;
                sleep(backoff);
                backoff = next(backoff);
            }
        }
    }

    private static Duration next(Duration d) {
        Duration n = d.multipliedBy(2);
        return n.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : n;
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            // close() interrupts after setting closed; the loop checks it
        }
    }

    /** One watch from the last resourceVersion; true when a relist is needed (410, ERROR, failure). */
    private boolean watchOnce() throws InterruptedException {
        Map<String, String> q = new HashMap<>(query);
        q.put("resourceVersion", lastResourceVersion);
        // like client-go: the server ends each watch after 5-10 minutes, so a connection that died silently (an
        // edge uplink dropping without a FIN) is noticed; the watchdog below covers a server that never ends it
        long timeout = 300 + java.util.concurrent.ThreadLocalRandom.current().nextLong(300);
        q.put("timeoutSeconds", Long.toString(timeout));
        CountDownLatch ended = new CountDownLatch(1);
        boolean[] relist = {false};
        KubeClient.Watch w = client.watch(path, q, ev -> {
            if (closed) return;
            switch (ev.type()) {
                case "ADDED", "MODIFIED" -> upsert(prepare(ev.object()));
                case "DELETED" -> remove(prepare(ev.object()));
                case "BOOKMARK" -> rememberVersion(ev.object());
                case "ERROR" -> {
                    // 410 Expired (too old) or anything else: the stream is over, list again
                    relist[0] = true;
                    KubeClient.Watch current = watch;
                    if (current != null) current.close();
                    ended.countDown();
                }
                default -> { }
            }
        }, cause -> {
            if (cause != null) relist[0] = true;
            ended.countDown();
        });
        watch = w;
        if (closed) {
            w.close();
            return false;
        }
        if (!ended.await(timeout + 30, TimeUnit.SECONDS)) {
            LOG.log(System.Logger.Level.INFO, "informer " + path + ": watch outlived its timeout; restarting it");
        }
        w.close();
        return relist[0];
    }

    // ---- store -----------------------------------------------------------------------------------------------

    private void replace(ObjectNode list) {
        Map<String, ObjectNode> fresh = new LinkedHashMap<>();
        JsonNode items = list.get("items");
        if (items != null) {
            for (JsonNode item : items) {
                if (item instanceof ObjectNode o) fresh.put(key(o), prepare(withTypeMeta(o, list)));
            }
        }
        synchronized (lock) {
            for (Map.Entry<String, ObjectNode> e : new ArrayList<>(store.entrySet())) {
                if (!fresh.containsKey(e.getKey())) {
                    store.remove(e.getKey());
                    uncache(e.getKey());
                    for (Handler h : handlers) call(() -> h.onDelete(e.getValue()));
                }
            }
            for (ObjectNode o : fresh.values()) apply(o);
            lastResourceVersion = Json.text(list.path("metadata"), "resourceVersion");
        }
    }

    /** Lists omit each item's apiVersion/kind; put them back so handlers and the cache see whole objects. */
    private static ObjectNode withTypeMeta(ObjectNode item, ObjectNode list) {
        String kind = Json.text(list, "kind");
        if (!item.has("kind") && kind.endsWith("List")) item.put("kind", kind.substring(0, kind.length() - 4));
        if (!item.has("apiVersion") && list.has("apiVersion")) item.put("apiVersion", Json.text(list, "apiVersion"));
        return item;
    }

    private void upsert(ObjectNode obj) {
        synchronized (lock) {
            apply(obj);
            rememberVersion(obj);
        }
    }

    private void apply(ObjectNode obj) {
        String key = key(obj);
        ObjectNode old = store.put(key, obj);
        if (old != null && resourceVersion(old).equals(resourceVersion(obj)) && !resourceVersion(obj).isEmpty()) {
            return;
        }
        cache(key, obj);
        if (old == null) {
            for (Handler h : handlers) call(() -> h.onAdd(obj));
        } else {
            for (Handler h : handlers) call(() -> h.onUpdate(old, obj));
        }
    }

    private void remove(ObjectNode obj) {
        synchronized (lock) {
            String key = key(obj);
            ObjectNode old = store.remove(key);
            uncache(key);
            rememberVersion(obj);
            if (old != null) {
                for (Handler h : handlers) call(() -> h.onDelete(obj));
            }
        }
    }

    private void rememberVersion(ObjectNode obj) {
        String rv = resourceVersion(obj);
        if (!rv.isEmpty()) lastResourceVersion = rv;
    }

    private static String resourceVersion(ObjectNode obj) {
        return Json.text(obj.path("metadata"), "resourceVersion");
    }

    private void call(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "informer " + path + " handler failed", e);
        }
    }

    static String key(ObjectNode obj) {
        JsonNode meta = obj.path("metadata");
        return key(Json.text(meta, "namespace"), Json.text(meta, "name"));
    }

    static String key(String namespace, String name) {
        return namespace == null || namespace.isEmpty() ? name : namespace + "/" + name;
    }

    // ---- disk cache ------------------------------------------------------------------------------------------

    /** Namespaces and names are DNS labels/subdomains, so '_' cannot occur in them and separates safely. */
    private Path file(String key) {
        return cacheDir.resolve(key.replace('/', '_') + ".json");
    }

    private void cache(String key, ObjectNode obj) {
        if (cacheDir == null) return;
        try {
            Files.createDirectories(cacheDir);
            Path target = file(key);
            Path tmp = Files.createTempFile(cacheDir, ".tmp-", ".part");
            try {
                Files.write(tmp, Json.bytes(obj));
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot cache " + key + " in " + cacheDir + ": " + e.getMessage());
        }
    }

    private void uncache(String key) {
        if (cacheDir == null) return;
        try {
            Files.deleteIfExists(file(key));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove cached " + key + ": " + e.getMessage());
        }
    }
}
