package io.k3j.apiserver;

import io.k3j.apiserver.registry.ResourceStrategy;
import io.k3j.apiserver.registry.Strategies;
import io.k3j.apiserver.registry.core.NamespaceStrategy;

/** The strategies of the built-in resources. */
final class BuiltinStrategies {
    private BuiltinStrategies() {}

    static Strategies create(ServerConfig config) {
        ResourceStrategy base = ResourceStrategy.DEFAULT;
        return new Strategies()
                .register("", "Namespace", new NamespaceStrategy(base))
                .fallback(t -> base);
    }
}
