package io.k3j.apiserver.watch;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;

/**
 * The JSON bytes of one cached object, made on first use and then shared by every list and watch that sends
 * it, so an object is serialized once however many clients read it (kube-apiserver's cacher does the same).
 */
public final class Serialized {
    private final ObjectNode object;
    private volatile byte[] bytes;

    Serialized(ObjectNode object) {
        this.object = object;
    }

    /** The object as JSON; never modify the array. */
    public byte[] bytes() {
        byte[] b = bytes;
        if (b == null) {
            // a race makes the same bytes twice, harmlessly
            b = Json.bytes(object);
            bytes = b;
        }
        return b;
    }
}
