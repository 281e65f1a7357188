package io.k3j.apiserver.registry;

import io.k3j.apiserver.resource.ResourceType;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/** Which {@link ResourceStrategy} handles a resource: registered per group/kind, with a fallback for the rest. */
public final class Strategies {
    private final Map<String, ResourceStrategy> byKind = new ConcurrentHashMap<>();
    private volatile Function<ResourceType, ResourceStrategy> fallback = t -> ResourceStrategy.DEFAULT;

    public Strategies register(String group, String kind, ResourceStrategy strategy) {
        byKind.put(group + "/" + kind, strategy);
        return this;
    }

    /** The strategy for resources without a registered one (custom resources, simple built-ins). */
    public Strategies fallback(Function<ResourceType, ResourceStrategy> fallback) {
        this.fallback = fallback;
        return this;
    }

    public ResourceStrategy of(ResourceType type) {
        ResourceStrategy s = byKind.get(type.group() + "/" + type.kind());
        return s != null ? s : fallback.apply(type);
    }
}
