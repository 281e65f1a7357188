package io.k3j.apiserver.system;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.watch.CacheEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Garbage collection through ownerReferences, as kube-controller-manager's garbage collector does it: a
 * graph of every object's owners kept from informers on every resource; dependents of a deleted owner are
 * deleted (or, with some owners left, lose the reference); an owner deleted in the foreground (finalizer
 * {@code foregroundDeletion}) goes once its dependents are gone; an owner deleted with {@code orphan} first
 * has the reference removed from its dependents.
 */
public final class GarbageCollector implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GarbageCollector.class.getName());
    private static final String MANAGER = "k3j-garbage-collector";
    static final String FOREGROUND = "foregroundDeletion";
    static final String ORPHAN = "orphan";

    /** What the collector knows of one object. */
    private record Node(String uid, ResourceType type, String namespace, String name, List<Owner> owners, boolean deleting,
                        List<String> finalizers) {}

    private record Owner(String uid, String apiVersion, String kind, String name, boolean blockOwnerDeletion) {}

    private final ObjectStore objects;
    private final ResourceRegistry registry;
    private final Map<String, Node> nodes = new HashMap<>();
    private final Map<String, Set<String>> dependents = new HashMap<>();
    private final LinkedBlockingQueue<Runnable> events = new LinkedBlockingQueue<>();
    private final DelayQueue<Check> checks = new DelayQueue<>();
    private final Set<String> pendingChecks = ConcurrentHashMap.newKeySet();
    private final Map<String, Informer> informers = new ConcurrentHashMap<>();
    private Thread graphThread;
    private Thread workThread;

    public GarbageCollector(ObjectStore objects, ResourceRegistry registry) {
        this.objects = objects;
        this.registry = registry;
    }

    public GarbageCollector start() {
        follow(registry);
        registry.onChange(this::follow);
        graphThread = Thread.ofVirtual().name("gc-graph").start(() -> loop(events));
        workThread = Thread.ofVirtual().name("gc-worker").start(this::work);
        return this;
    }

    /** One informer per storage prefix (versions of a resource share objects). */
    private synchronized void follow(ResourceRegistry r) {
        Set<String> live = new HashSet<>();
        for (ResourceType t : r.all()) {
            if (!t.supports("watch")) continue;
            live.add(t.storagePrefix());
            informers.computeIfAbsent(t.storagePrefix(), p -> new Informer(objects, t, e -> events.add(() -> observe(t, e))).start());
        }
        informers.keySet().removeIf(prefix -> {
            if (live.contains(prefix)) return false;
            informers.get(prefix).close();
            return true;
        });
    }

    private static void loop(LinkedBlockingQueue<Runnable> queue) {
        while (true) {
            try {
                queue.take().run();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "garbage collector: " + e.getMessage());
            }
        }
    }

    // ------------------------------------------------------------------ the graph (one thread)

    private void observe(ResourceType type, CacheEvent e) {
        ObjectNode obj = e.object();
        String uid = Meta.uid(obj);
        if (uid.isEmpty()) return;
        Node old = nodes.get(uid);
        if (old != null) for (Owner o : old.owners) unlink(o.uid, uid);
        if (e.type() == CacheEvent.Type.DELETED) {
            nodes.remove(uid);
            for (String dep : dependents.getOrDefault(uid, Set.of())) schedule(dep, 0);
            if (old != null) for (Owner o : old.owners) schedule(o.uid, 0);
            return;
        }
        List<Owner> owners = owners(obj);
        Node n = new Node(uid, type, Meta.namespace(obj), Meta.name(obj), owners, Meta.deleting(obj), Meta.finalizers(obj));
        nodes.put(uid, n);
        for (Owner o : owners) {
            dependents.computeIfAbsent(o.uid, k -> new HashSet<>()).add(uid);
            if (!nodes.containsKey(o.uid)) schedule(uid, 0);
            else if (nodes.get(o.uid).deleting) schedule(o.uid, 0);
        }
        if (n.deleting && (n.finalizers.contains(FOREGROUND) || n.finalizers.contains(ORPHAN))) schedule(uid, 0);
        if (old != null && old.deleting != n.deleting) {
            for (Owner o : owners) schedule(o.uid, 0);
        }
    }

    private void unlink(String owner, String dependent) {
        Set<String> deps = dependents.get(owner);
        if (deps != null) {
            deps.remove(dependent);
            if (deps.isEmpty()) dependents.remove(owner);
        }
    }

    private static List<Owner> owners(ObjectNode obj) {
        List<Owner> out = new ArrayList<>();
        JsonNode refs = Json.at(obj, "metadata", "ownerReferences");
        if (refs != null && refs.isArray()) {
            for (JsonNode r : refs) {
                out.add(new Owner(r.path("uid").asText(), r.path("apiVersion").asText(), r.path("kind").asText(), r.path("name").asText(),
                        r.path("blockOwnerDeletion").asBoolean(false)));
            }
        }
        return out;
    }

    private void schedule(String uid, long delayMillis) {
        if (pendingChecks.add(uid)) checks.add(new Check(uid, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMillis)));
    }

    // ------------------------------------------------------------------ decisions (worker thread)

    private void work() {
        while (!Thread.currentThread().isInterrupted()) {
            Check c;
            try {
                c = checks.take();
            } catch (InterruptedException e) {
                return;
            }
            pendingChecks.remove(c.uid);
            try {
                if (!process(c.uid)) schedule(c.uid, 1000);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "garbage collecting " + c.uid + ": " + e.getMessage());
                schedule(c.uid, 2000);
            }
        }
    }

    /** A consistent copy of what the graph knows, taken on the graph thread. */
    private <T> T onGraph(java.util.function.Supplier<T> read) {
        var result = new java.util.concurrent.CompletableFuture<T>();
        events.add(() -> result.complete(read.get()));
        return result.join();
    }

    /** Handles one object; false to look again later. */
    private boolean process(String uid) {
        record View(Node node, Map<String, Node> owners, List<Node> deps) {}
        View v = onGraph(() -> {
            Node n = nodes.get(uid);
            if (n == null) return new View(null, Map.of(), List.of());
            Map<String, Node> owners = new HashMap<>();
            for (Owner o : n.owners) if (nodes.containsKey(o.uid)) owners.put(o.uid, nodes.get(o.uid));
            List<Node> deps = new ArrayList<>();
            for (String d : dependents.getOrDefault(uid, Set.of())) if (nodes.containsKey(d)) deps.add(nodes.get(d));
            return new View(n, owners, deps);
        });
        Node n = v.node;
        if (n == null) return true;
        if (n.deleting && n.finalizers.contains(ORPHAN)) return orphanDependents(n, v.deps);
        if (n.deleting && n.finalizers.contains(FOREGROUND)) return deleteInForeground(n, v.deps);
        if (n.owners.isEmpty() || n.deleting) return true;
        Set<String> gone = new HashSet<>();
        int waitingInForeground = 0;
        for (Owner o : n.owners) {
            Node owner = v.owners.get(o.uid);
            if (owner == null) {
                if (ownerAbsent(n, o)) gone.add(o.uid);
            } else if (owner.deleting && owner.finalizers.contains(FOREGROUND)) {
                waitingInForeground++;
            }
        }
        if (gone.size() == n.owners.size()) {
            delete(n, "Background");
        } else if (gone.size() + waitingInForeground == n.owners.size() && waitingInForeground > 0) {
            delete(n, "Foreground");
        } else if (!gone.isEmpty()) {
            removeOwnerRefs(n, gone);
        }
        return true;
    }

    /** Confirms with a consistent read that the owner is gone, not merely unseen yet. */
    private boolean ownerAbsent(Node dependent, Owner o) {
        String[] gv = o.apiVersion.contains("/") ? o.apiVersion.split("/", 2) : new String[] {"", o.apiVersion};
        Optional<ResourceType> t = registry.findKind(gv[0], gv[1], o.kind);
        if (t.isEmpty()) return false;
        Optional<ObjectNode> owner = objects.find(t.get(), t.get().namespaced() ? dependent.namespace : null, o.name);
        return owner.isEmpty() || !Meta.uid(owner.get()).equals(o.uid);
    }

    private boolean orphanDependents(Node owner, List<Node> deps) {
        for (Node d : deps) removeOwnerRefs(d, Set.of(owner.uid));
        removeFinalizer(owner, ORPHAN);
        return true;
    }

    private boolean deleteInForeground(Node owner, List<Node> deps) {
        boolean blocking = false;
        for (Node d : deps) {
            blocking = true;
            if (!d.deleting) delete(d, "Foreground");
        }
        if (blocking) return false;
        removeFinalizer(owner, FOREGROUND);
        return true;
    }

    private void delete(Node n, String policy) {
        try {
            objects.delete(n.type, n.type.namespaced() ? n.namespace : null, n.name, new DeleteOptions(null, policy, n.uid, null, false));
        } catch (ApiException e) {
            if (e.code() != 404 && e.code() != 409) throw e;
        }
    }

    private void removeOwnerRefs(Node n, Set<String> ownerUids) {
        try {
            objects.updateWith(n.type, n.type.namespaced() ? n.namespace : null, n.name, "", WriteOptions.system(MANAGER), current -> {
                if (!Meta.uid(current).equals(n.uid)) return current;
                JsonNode refs = Json.at(current, "metadata", "ownerReferences");
                if (refs == null || !refs.isArray()) return current;
                ArrayNode kept = Json.array();
                for (JsonNode r : refs) if (!ownerUids.contains(r.path("uid").asText())) kept.add(r);
                if (kept.isEmpty()) Meta.metadata(current).remove("ownerReferences");
                else Meta.metadata(current).set("ownerReferences", kept);
                return current;
            });
        } catch (ApiException e) {
            if (e.code() != 404) throw e;
        }
    }

    private void removeFinalizer(Node n, String finalizer) {
        try {
            objects.updateWith(n.type, n.type.namespaced() ? n.namespace : null, n.name, "", WriteOptions.system(MANAGER), current -> {
                if (!Meta.uid(current).equals(n.uid)) return current;
                List<String> f = new ArrayList<>(Meta.finalizers(current));
                f.remove(finalizer);
                Meta.setFinalizers(current, f);
                return current;
            });
        } catch (ApiException e) {
            if (e.code() != 404) throw e;
        }
    }

    @Override
    public void close() {
        informers.values().forEach(Informer::close);
        if (graphThread != null) graphThread.interrupt();
        if (workThread != null) workThread.interrupt();
    }

    private record Check(String uid, long dueNanos) implements Delayed {
        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(dueNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            return Long.compare(dueNanos, ((Check) o).dueNanos);
        }
    }
}
