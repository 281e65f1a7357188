package io.k3j.controllers.runtime;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.apiserver.registry.Meta;

/** Work-queue and informer keys: {@code namespace/name}, or {@code name} for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
public final class Keys {
    private Keys() {
    }

    public static String of(String namespace, String name) {
        return namespace == null || namespace.isEmpty() ? name : namespace + "/" + name;
    }

    public static String of(ObjectNode obj) {
        return of(Meta.namespace(obj), Meta.name(obj));
    }

    /** The namespace of a key ("" for cluster-scoped). */
    public static String namespace(String key) {
        int slash = key.indexOf('/');
        return slash < 0 ? "" : key.substring(0, slash);
    }

    public static String name(String key) {
        return key.substring(key.indexOf('/') + 1);
    }
}
