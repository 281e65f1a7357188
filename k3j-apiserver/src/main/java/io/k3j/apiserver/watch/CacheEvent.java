package io.k3j.apiserver.watch;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One change seen by the cache. {@code object} carries {@code metadata.resourceVersion} = {@code revision}
 * (for DELETED: the deletion's revision, as kube-apiserver reports it); {@code previous} is the object before
 * the change (null for ADDED). Objects are shared and must never be mutated: copy before changing.
 */
public record CacheEvent(Type type, String key, ObjectNode object, ObjectNode previous, long revision, Serialized json) {
    public enum Type { ADDED, MODIFIED, DELETED, BOOKMARK }

    public CacheEvent(Type type, String key, ObjectNode object, ObjectNode previous, long revision) {
        this(type, key, object, previous, revision, object == null ? null : new Serialized(object));
    }
}
