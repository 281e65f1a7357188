package io.k3j.apiserver.watch;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** An object as the cache holds it: shared and immutable by convention (copy before changing). */
public record CachedObject(String key, ObjectNode object, long modRevision, Serialized json) {
    public CachedObject(String key, ObjectNode object, long modRevision) {
        this(key, object, modRevision, new Serialized(object));
    }
}
