package io.k3j.store;

import java.util.Objects;

/** One key with its value and revisions, as etcd's mvccpb.KeyValue. */
public record KeyValue(String key, byte[] value, long createRevision, long modRevision) {
    public KeyValue {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
    }

    @Override
    public String toString() {
        return "KeyValue[" + key + " create=" + createRevision + " mod=" + modRevision + " " + value.length + "B]";
    }
}
