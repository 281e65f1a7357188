package io.k3j.apiserver.watch;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An object as the cache holds it: shared and immutable by convention (copy before changing). Most are held as
 * a tree, which every in-process informer shares, and whose parts below the second level are shared with the
 * other cached trees holding equal ones and are read-only ({@link io.k3j.api.Json#parseCached}): changing them
 * throws. Resources the server itself hardly reads (Events: written for people, one or two per pod) are held as
 * the store's bytes only, a fraction of a tree's size, and decoded on each {@link #object()}.
 */
public final class CachedObject {
    private final String key;
    private final long modRevision;
    /** Null when held as bytes. */
    private final ObjectNode object;
    /** Null when held as bytes: such objects are serialized from the tree each read decodes. */
    private final Serialized json;
    /** The stored value (without resourceVersion), only when held as bytes. */
    private final byte[] stored;

    public CachedObject(String key, ObjectNode object, long modRevision, Serialized json) {
        this(key, modRevision, object, json, null);
    }

    public CachedObject(String key, ObjectNode object, long modRevision) {
        this(key, object, modRevision, new Serialized(object));
    }

    private CachedObject(String key, long modRevision, ObjectNode object, Serialized json, byte[] stored) {
        this.key = key;
        this.modRevision = modRevision;
        this.object = object;
        this.json = json;
        this.stored = stored;
    }

    /** An object held as the store's bytes; {@code value} must not change afterwards. */
    static CachedObject ofStored(String key, byte[] value, long modRevision) {
        return new CachedObject(key, modRevision, null, null, value);
    }

    public String key() {
        return key;
    }

    /** The object; for one held as bytes a new tree on each call (the same content). */
    public ObjectNode object() {
        return object != null ? object : WatchCache.decode(stored, modRevision);
    }

    public long modRevision() {
        return modRevision;
    }

    /** The object's shared JSON bytes, or null when it is held as bytes (serialize {@link #object()} instead). */
    public Serialized json() {
        return json;
    }

    @Override
    public String toString() {
        return "CachedObject[" + key + "@" + modRevision + (object == null ? ", as bytes]" : "]");
    }
}
