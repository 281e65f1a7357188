package io.k3j.apiserver.system;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.ListOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.registry.core.NamespaceStrategy;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.watch.CacheEvent;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;

/**
 * Namespace lifecycle, as kube-controller-manager's namespace, service-account and root-CA publisher
 * controllers do it: every active namespace gets a {@code default} ServiceAccount and the
 * {@code kube-root-ca.crt} ConfigMap; a terminating namespace has its contents deleted, then its
 * {@code kubernetes} finalizer removed so the namespace itself goes.
 */
public final class NamespaceController implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NamespaceController.class.getName());
    private static final String MANAGER = "k3j-namespace-controller";

    private final ObjectStore objects;
    private final ResourceRegistry registry;
    private final String caPem;
    private final DelayQueue<Retry> retries = new DelayQueue<>();
    private final Set<String> queued = ConcurrentHashMap.newKeySet();
    private Informer informer;
    private Thread worker;

    public NamespaceController(ObjectStore objects, ResourceRegistry registry, String caPem) {
        this.objects = objects;
        this.registry = registry;
        this.caPem = caPem;
    }

    public NamespaceController start() {
        ResourceType ns = registry.find("", "v1", "namespaces").orElseThrow();
        informer = new Informer(objects, ns, this::onEvent).start();
        worker = Thread.ofVirtual().name("namespace-finalizer").start(this::work);
        return this;
    }

    private void onEvent(CacheEvent e) {
        if (e.type() == CacheEvent.Type.DELETED) return;
        String name = Meta.name(e.object());
        if (Meta.deleting(e.object())) {
            enqueue(name, 0);
        } else {
            ensureDefaults(name);
        }
    }

    private void enqueue(String namespace, long delayMillis) {
        if (queued.add(namespace)) retries.add(new Retry(namespace, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMillis)));
    }

    private void ensureDefaults(String namespace) {
        ResourceType sa = registry.find("", "v1", "serviceaccounts").orElseThrow();
        if (objects.find(sa, namespace, "default").isEmpty()) {
            ObjectNode obj = Json.object();
            obj.putObject("metadata").put("name", "default");
            createIgnoringConflicts(sa, namespace, obj);
        }
        ResourceType cm = registry.find("", "v1", "configmaps").orElseThrow();
        if (objects.find(cm, namespace, "kube-root-ca.crt").isEmpty()) {
            ObjectNode obj = Json.object();
            ObjectNode meta = obj.putObject("metadata");
            meta.put("name", "kube-root-ca.crt");
            meta.putObject("annotations").put("kubernetes.io/description", "Contains a CA bundle that can be used to verify the "
                    + "kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. "
                    + "No other usage is guaranteed across distributions of Kubernetes clusters.");
            obj.putObject("data").put("ca.crt", caPem);
            createIgnoringConflicts(cm, namespace, obj);
        }
    }

    private void createIgnoringConflicts(ResourceType type, String namespace, ObjectNode obj) {
        try {
            objects.create(type, namespace, obj, WriteOptions.system(MANAGER));
        } catch (ApiException e) {
            // 409: someone made it first; 403/404: the namespace is going away
            if (e.code() != 409 && e.code() != 403 && e.code() != 404) throw e;
        }
    }

    private void work() {
        while (!Thread.currentThread().isInterrupted()) {
            Retry r;
            try {
                r = retries.take();
            } catch (InterruptedException e) {
                return;
            }
            queued.remove(r.namespace);
            try {
                if (!finalizeNamespace(r.namespace)) enqueue(r.namespace, 500);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "deleting the contents of namespace " + r.namespace + ": " + e.getMessage());
                enqueue(r.namespace, 2000);
            }
        }
    }

    /** Deletes what is left in the namespace; true once it is empty and the finalizer is gone. */
    private boolean finalizeNamespace(String namespace) {
        ResourceType nsType = registry.find("", "v1", "namespaces").orElseThrow();
        var ns = objects.find(nsType, null, namespace);
        if (ns.isEmpty() || !Meta.deleting(ns.get())) return true;
        boolean empty = true;
        Map<String, ResourceType> byStorage = new LinkedHashMap<>();
        for (ResourceType t : registry.all()) {
            if (t.namespaced() && t.supports("list") && t.supports("delete")) byStorage.putIfAbsent(t.storagePrefix(), t);
        }
        for (ResourceType t : byStorage.values()) {
            var items = objects.list(t, namespace, ListOptions.ALL).items();
            for (ObjectNode o : items) {
                empty = false;
                if (Meta.deleting(o) && Meta.finalizers(o).isEmpty()) continue;
                try {
                    objects.delete(t, namespace, Meta.name(o), new DeleteOptions(null, "Background", Meta.uid(o), null, false));
                } catch (ApiException e) {
                    if (e.code() != 404 && e.code() != 409) throw e;
                }
            }
        }
        if (!empty) return false;
        objects.updateWith(nsType, null, namespace, "finalize", WriteOptions.system(MANAGER), current -> {
            JsonNode finalizers = Json.at(current, "spec", "finalizers");
            ArrayNode kept = Json.array();
            if (finalizers != null) {
                Set<String> seen = new HashSet<>();
                for (JsonNode f : finalizers) {
                    if (!f.asText().equals(NamespaceStrategy.FINALIZER) && seen.add(f.asText())) kept.add(f.asText());
                }
            }
            Json.obj(current, "spec").set("finalizers", kept);
            return current;
        });
        return true;
    }

    @Override
    public void close() {
        if (informer != null) informer.close();
        if (worker != null) worker.interrupt();
    }

    private record Retry(String namespace, long dueNanos) implements Delayed {
        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(dueNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            return Long.compare(dueNanos, ((Retry) o).dueNanos);
        }
    }
}
