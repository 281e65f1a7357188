package io.k3j.apiserver.resource;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Every resource the API serves right now: the built-ins, plus custom resources that come and go with their
 * CustomResourceDefinitions. Lookups are lock-free reads of an immutable snapshot; changes notify listeners
 * (discovery and OpenAPI caches, the watch cache).
 */
public final class ResourceRegistry {
    private record Snapshot(Map<String, ResourceType> byPath, List<ResourceType> all) {}

    private volatile Snapshot snapshot = new Snapshot(Map.of(), List.of());
    private final List<Consumer<ResourceRegistry>> listeners = new CopyOnWriteArrayList<>();

    public static ResourceRegistry withBuiltins() {
        ResourceRegistry r = new ResourceRegistry();
        r.replace(List.of(), BuiltinResources.all());
        return r;
    }

    /** The resource served at {@code /apis/<group>/<version>/<plural>} (core: group ""). */
    public Optional<ResourceType> find(String group, String version, String plural) {
        return Optional.ofNullable(snapshot.byPath.get(group + "/" + version + "/" + plural));
    }

    /** All served resources, built-ins first, in registration order. */
    public List<ResourceType> all() {
        return snapshot.all;
    }

    /** The resource for a kind at a group/version, e.g. for an object's apiVersion and kind. */
    public Optional<ResourceType> findKind(String group, String version, String kind) {
        for (ResourceType t : snapshot.all) {
            if (t.group().equals(group) && t.version().equals(version) && t.kind().equals(kind)) return Optional.of(t);
        }
        return Optional.empty();
    }

    /** Removes {@code remove} and adds {@code add} in one step (a CRD's served versions change together). */
    public synchronized void replace(Collection<ResourceType> remove, Collection<ResourceType> add) {
        Map<String, ResourceType> byPath = new LinkedHashMap<>(snapshot.byPath);
        for (ResourceType t : remove) byPath.remove(path(t));
        for (ResourceType t : add) byPath.put(path(t), t);
        snapshot = new Snapshot(Collections.unmodifiableMap(byPath), List.copyOf(byPath.values()));
        for (Consumer<ResourceRegistry> l : listeners) l.accept(this);
    }

    public void onChange(Consumer<ResourceRegistry> listener) {
        listeners.add(listener);
    }

    private static String path(ResourceType t) {
        return t.group() + "/" + t.version() + "/" + t.plural();
    }
}
