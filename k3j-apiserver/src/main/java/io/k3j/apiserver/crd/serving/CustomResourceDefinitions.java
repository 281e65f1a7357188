package io.k3j.apiserver.crd.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.crd.ScaleSubresource;
import io.k3j.apiserver.crd.StructuralSchema;
import io.k3j.apiserver.endpoints.TableConverter;
import io.k3j.apiserver.openapi.CustomResource;
import io.k3j.apiserver.openapi.OpenApiService;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.ListOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.registry.ResourceStrategy;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.table.TablePrinters;
import io.k3j.apiserver.watch.CacheEvent;
import io.k3j.apiserver.watch.CacheWatcher;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Serves custom resources as their CustomResourceDefinitions say (what apiextensions-apiserver's controllers and
 * CRD handler do): a controller follows the CRDs through the watch cache and, for each, registers a
 * {@link ResourceType} per served version with its {@link CustomResourceStrategy}, table printer and OpenAPI
 * schema, then marks the CRD NamesAccepted and Established. A deleted CRD first loses its custom resources, then
 * its finalizer, then everything it registered.
 *
 * <p>A CRD create or update returns only once the controller has served it, so a client may use the new resource
 * right after (kubectl applying a CRD, then a custom resource). Wiring: {@link #crdStrategy()} is the strategy of
 * {@code customresourcedefinitions}, {@link #strategy} the fallback for custom types, and {@link #start} runs before
 * the API serves, so every stored CRD is served from the first request.
 */
public final class CustomResourceDefinitions implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(CustomResourceDefinitions.class.getName());
    static final String GROUP = "apiextensions.k8s.io";
    static final String PREFIX = "/registry/" + GROUP + "/customresourcedefinitions/";
    private static final String MANAGER = "kube-apiserver";
    private static final long SERVE_WAIT_MS = 2_000;
    private static final long RETRY_MS = 1_000;

    /** What one CRD registered; {@code spec} tells whether a change needs re-registering. */
    private record Served(String prefix, List<ResourceType> types, AtomicBoolean terminating, JsonNode spec) {}

    private final ResourceRegistry registry;
    private final TableConverter tables;
    private final OpenApiService openApi;
    private final Clock clock;
    private final CrdStrategy crdStrategy;
    private final Map<String, CustomResourceStrategy> strategies = new ConcurrentHashMap<>();
    private final Map<String, Served> served = new ConcurrentHashMap<>();
    private final Map<String, Long> retries = new HashMap<>();
    private final ThreadLocal<Boolean> inController = ThreadLocal.withInitial(() -> false);
    private final Object progress = new Object();
    private long processedRevision;
    private volatile boolean closed;
    private volatile ObjectStore objects;
    private ResourceType crdType;
    private Thread thread;

    /** @throws NullPointerException when an argument is null */
    public CustomResourceDefinitions(ResourceRegistry registry, TableConverter tables, OpenApiService openApi, Clock clock) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.tables = Objects.requireNonNull(tables, "tables");
        this.openApi = Objects.requireNonNull(openApi, "openApi");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.crdStrategy = new CrdStrategy(this::awaitServed, clock);
    }

    /** The strategy of {@code customresourcedefinitions.apiextensions.k8s.io}. */
    public ResourceStrategy crdStrategy() {
        return crdStrategy;
    }

    /** The strategy of a served custom resource version; {@link ResourceStrategy#DEFAULT} for one no longer served. */
    public ResourceStrategy strategy(ResourceType type) {
        ResourceStrategy s = strategies.get(key(type));
        return s != null ? s : ResourceStrategy.DEFAULT;
    }

    /**
     * Serves every stored CRD (before returning), then follows changes on a daemon thread.
     *
     * @throws IllegalStateException when already started or when the registry lacks customresourcedefinitions
     */
    public synchronized void start(ObjectStore objects) {
        if (this.objects != null) throw new IllegalStateException("already started");
        this.objects = Objects.requireNonNull(objects, "objects");
        crdType = registry.find(GROUP, "v1", "customresourcedefinitions")
                .orElseThrow(() -> new IllegalStateException("customresourcedefinitions are not served"));
        long from = resync();
        thread = Thread.ofPlatform().daemon().name("crd-controller").start(() -> run(from));
    }

    /** Reconciles every stored CRD and drops what deleted ones registered; returns the revision listed at. */
    private long resync() {
        inController.set(true);
        try {
            ObjectStore.ListResult all = objects.list(crdType, null, ListOptions.ALL);
            Set<String> names = new HashSet<>();
            for (ObjectNode crd : all.items()) {
                names.add(Meta.name(crd));
                reconcileSafely(crd.deepCopy());
            }
            for (String name : new ArrayList<>(served.keySet())) {
                if (!names.contains(name)) unregister(name);
            }
            markProcessed(all.revision());
            return all.revision();
        } finally {
            inController.set(false);
        }
    }

    private void run(long from) {
        inController.set(true);
        long rev = from;
        while (!closed) {
            try (CacheWatcher w = objects.cache().cache(PREFIX).watch(rev, null, 10_000)) {
                while (!closed) {
                    CacheEvent e = w.next(200, TimeUnit.MILLISECONDS);
                    if (e == null) {
                        retryDue();
                        continue;
                    }
                    if (e.type() == CacheEvent.Type.DELETED) unregister(Meta.name(e.object()));
                    else if (e.type() != CacheEvent.Type.BOOKMARK) reconcileSafely(ObjectStore.withTypeMeta(crdType, e.object().deepCopy()));
                    rev = Math.max(rev, e.revision());
                    markProcessed(rev);
                }
            } catch (CacheWatcher.WatchEndedException | ApiException e) {
                if (!closed) rev = resync();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "CRD controller failed; resyncing", e);
                if (!closed) rev = resync();
            }
        }
    }

    private void markProcessed(long rev) {
        synchronized (progress) {
            if (rev > processedRevision) processedRevision = rev;
            progress.notifyAll();
        }
    }

    /** Called for every stored CRD write: holds the request until the controller has served that revision. */
    private void awaitServed(ObjectNode crd) {
        if (inController.get() || thread == null) return;
        long rv;
        try {
            rv = Long.parseLong(Meta.resourceVersion(crd));
        } catch (NumberFormatException e) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SERVE_WAIT_MS);
        synchronized (progress) {
            while (processedRevision < rv && !closed) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) return;
                try {
                    progress.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void retryDue() {
        long now = System.currentTimeMillis();
        List<String> due = new ArrayList<>();
        retries.forEach((name, at) -> {
            if (at <= now) due.add(name);
        });
        for (String name : due) {
            retries.remove(name);
            objects.find(crdType, null, name).ifPresentOrElse(this::reconcileSafely, () -> unregister(name));
        }
    }

    private void reconcileSafely(ObjectNode crd) {
        try {
            reconcile(crd);
        } catch (ApiException e) {
            if (e.code() == 404) return; // an older event of a CRD that is gone: its DELETED event follows
            LOG.log(Level.WARNING, "reconciling CustomResourceDefinition " + Meta.name(crd) + ": " + e.getMessage());
            retries.put(Meta.name(crd), System.currentTimeMillis() + RETRY_MS);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "reconciling CustomResourceDefinition " + Meta.name(crd) + ": " + e.getMessage(), e);
            retries.put(Meta.name(crd), System.currentTimeMillis() + RETRY_MS);
        }
    }

    private void reconcile(ObjectNode crd) {
        String name = Meta.name(crd);
        serve(crd);
        if (Meta.deleting(crd)) {
            if (Meta.finalizers(crd).contains(CrdStrategy.CLEANUP_FINALIZER)) cleanUp(crd);
            return;
        }
        if (!needsStatus(crd)) return;
        updateStatus(name, c -> {
            ObjectNode spec = (ObjectNode) c.path("spec");
            ObjectNode status = Json.obj(c, "status");
            status.set("acceptedNames", acceptedNames(spec.path("names")));
            String now = Meta.timestamp(clock.instant());
            CrdStatus.setCondition(c, "NamesAccepted", "True", "NoConflicts", "no conflicts found", now);
            CrdStatus.setCondition(c, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted", now);
        });
    }

    private static boolean needsStatus(ObjectNode crd) {
        JsonNode accepted = Json.at(crd, "status", "acceptedNames");
        return !CrdStatus.isTrue(crd, "NamesAccepted") || !CrdStatus.isTrue(crd, "Established")
                || accepted == null || !accepted.equals(acceptedNames(crd.path("spec").path("names")));
    }

    /** status.acceptedNames: spec.names in the field order of apiextensions' CustomResourceDefinitionNames. */
    private static ObjectNode acceptedNames(JsonNode names) {
        ObjectNode n = Json.object();
        for (String f : new String[] {"plural", "singular", "shortNames", "kind", "listKind", "categories"}) {
            JsonNode v = names.get(f);
            if (v != null && !v.isNull() && !(v.isArray() && v.isEmpty())) n.set(f, v.deepCopy());
        }
        return n;
    }

    private void updateStatus(String name, java.util.function.Consumer<ObjectNode> change) {
        objects.updateWith(crdType, null, name, "status", WriteOptions.system(MANAGER), c -> {
            Meta.metadata(c).remove("resourceVersion"); // retried on a concurrent change instead of a 409
            change.accept(c);
            return c;
        });
    }

    // ------------------------------------------------------------------ serving

    /** Registers (or re-registers after a spec change) the served versions of a CRD. */
    private void serve(ObjectNode crd) {
        String name = Meta.name(crd);
        JsonNode spec = crd.path("spec");
        Served old = served.get(name);
        boolean deleting = Meta.deleting(crd);
        if (old != null && old.spec().equals(spec)) {
            if (deleting) old.terminating().set(true);
            return;
        }
        AtomicBoolean terminating = old != null ? old.terminating() : new AtomicBoolean();
        terminating.set(deleting);
        String group = Json.text(spec, "group");
        JsonNode names = spec.path("names");
        String plural = Json.text(names, "plural");
        String kind = Json.text(names, "kind");
        String singular = Json.text(names, "singular").isEmpty() ? kind.toLowerCase(java.util.Locale.ROOT) : Json.text(names, "singular");
        String listKind = Json.text(names, "listKind");
        boolean namespaced = !"Cluster".equals(Json.text(spec, "scope"));
        List<String> shortNames = strings(names.get("shortNames"));
        List<String> categories = strings(names.get("categories"));
        List<JsonNode> versions = new ArrayList<>();
        spec.path("versions").forEach(v -> {
            if (v.path("served").asBoolean(false)) versions.add(v);
        });
        versions.sort((a, b) -> compareVersions(Json.text(a, "name"), Json.text(b, "name")));
        List<ResourceType> types = new ArrayList<>();
        for (JsonNode v : versions) {
            String version = Json.text(v, "name");
            Set<String> subresources = new LinkedHashSet<>();
            JsonNode subs = v.get("subresources");
            if (subs != null && subs.has("status")) subresources.add("status");
            if (subs != null && subs.has("scale")) subresources.add("scale");
            ResourceType t = new ResourceType(group, version, kind, plural, singular, namespaced, shortNames, categories,
                    ResourceType.STANDARD_VERBS, subresources, true, true);
            JsonNode raw = Json.at(v, "schema", "openAPIV3Schema");
            StructuralSchema schema = raw != null && raw.isObject() ? StructuralSchema.from(raw) : null;
            ScaleSubresource scale = subs == null ? null : ScaleSubresource.fromCrd(subs.get("scale"));
            Set<String> selectable = new HashSet<>();
            for (JsonNode f : v.path("selectableFields")) {
                String path = Json.text(f, "jsonPath");
                selectable.add(path.startsWith(".") ? path.substring(1) : path);
            }
            strategies.put(key(t), new CustomResourceStrategy(schema, scale, selectable, terminating::get));
            try {
                tables.customPrinter(t, TablePrinters.forCustomResource(v.get("additionalPrinterColumns")));
            } catch (IllegalArgumentException e) {
                tables.customPrinter(t, TablePrinters.forCustomResource(null));
            }
            openApi.putCustomResource(new CustomResource(group, version, kind, listKind, plural, namespaced,
                    raw instanceof ObjectNode o ? o : null));
            types.add(t);
        }
        List<ResourceType> removed = new ArrayList<>();
        if (old != null) {
            Set<String> now = new HashSet<>();
            types.forEach(t -> now.add(key(t)));
            for (ResourceType t : old.types()) {
                if (!now.contains(key(t))) forget(t);
                removed.add(t);
            }
        }
        String prefix = "/registry/" + group + "/" + plural + "/";
        objects.cache().cache(prefix);
        served.put(name, new Served(prefix, List.copyOf(types), terminating, spec.deepCopy()));
        registry.replace(removed, types);
    }

    private void forget(ResourceType t) {
        strategies.remove(key(t));
        tables.customPrinter(t, null);
        openApi.removeCustomResource(t.group(), t.version(), t.kind());
    }

    private void unregister(String name) {
        retries.remove(name);
        Served s = served.remove(name);
        if (s == null) return;
        registry.replace(s.types(), List.of());
        s.types().forEach(this::forget);
        objects.cache().forget(s.prefix());
    }

    /** Deletes every custom resource of a deleted CRD, then its cleanup finalizer (apiextensions' CRDFinalizer). */
    private void cleanUp(ObjectNode crd) {
        String name = Meta.name(crd);
        Served s = served.get(name);
        if (s != null && !s.types().isEmpty()) {
            ResourceType t = s.types().get(0);
            updateStatus(name, c -> CrdStatus.setCondition(c, "Terminating", "True", "InstanceDeletionInProgress",
                    "CustomResource deletion is in progress", Meta.timestamp(clock.instant())));
            for (ObjectNode cr : objects.list(t, null, ListOptions.ALL).items()) {
                String ns = Meta.namespace(cr);
                try {
                    objects.delete(t, ns.isEmpty() ? null : ns, Meta.name(cr), new DeleteOptions(null, null, null, null, false));
                } catch (ApiException e) {
                    if (e.code() != 404) throw e;
                }
            }
            int left = objects.list(t, null, ListOptions.ALL).items().size();
            if (left > 0) {
                // finalizers of the instances hold them; look again later, as the CRD finalizer requeues
                updateStatus(name, c -> CrdStatus.setCondition(c, "Terminating", "True", "InstanceDeletionCheck",
                        "could not confirm zero CustomResources remaining: " + left + " remaining", Meta.timestamp(clock.instant())));
                retries.put(name, System.currentTimeMillis() + RETRY_MS);
                return;
            }
        }
        updateStatus(name, c -> {
            CrdStatus.setCondition(c, "Terminating", "False", "InstanceDeletionCompleted", "removed all instances",
                    Meta.timestamp(clock.instant()));
            List<String> finalizers = new ArrayList<>(Meta.finalizers(c));
            finalizers.remove(CrdStrategy.CLEANUP_FINALIZER);
            if (finalizers.isEmpty()) Meta.metadata(c).putArray("finalizers");
            else Meta.setFinalizers(c, finalizers);
        });
    }

    // ------------------------------------------------------------------ helpers

    private static String key(ResourceType t) {
        return t.group() + "/" + t.version() + "/" + t.plural();
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        if (array instanceof ArrayNode a) a.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static final Pattern KUBE_VERSION = Pattern.compile("v(\\d+)(?:(alpha|beta)(\\d+))?");

    /**
     * Kubernetes' version priority (GA before beta before alpha, higher numbers first, then other names
     * alphabetically): discovery lists versions in this order and prefers the first.
     */
    static int compareVersions(String a, String b) {
        Matcher ma = KUBE_VERSION.matcher(a);
        Matcher mb = KUBE_VERSION.matcher(b);
        boolean ka = ma.matches();
        boolean kb = mb.matches();
        if (!ka || !kb) return ka ? -1 : kb ? 1 : a.compareTo(b);
        int sa = stability(ma.group(2));
        int sb = stability(mb.group(2));
        if (sa != sb) return Integer.compare(sb, sa);
        int major = Long.compare(Long.parseLong(mb.group(1)), Long.parseLong(ma.group(1)));
        if (major != 0 || ma.group(3) == null) return major;
        return Long.compare(Long.parseLong(mb.group(3)), Long.parseLong(ma.group(3)));
    }

    private static int stability(String s) {
        return s == null ? 2 : s.equals("beta") ? 1 : 0;
    }

    @Override
    public void close() {
        closed = true;
        synchronized (progress) {
            progress.notifyAll();
        }
        if (thread != null) thread.interrupt();
    }
}
