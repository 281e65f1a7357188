package io.k3j.store;

/**
 * One change. For {@link Type#PUT}, {@code kv} is the new value and {@code prevKv} the previous one (null on
 * create). For {@link Type#DELETE}, {@code kv} holds the key with the deletion's revision as its modRevision and
 * the last value (and the key's createRevision), and {@code prevKv} the value as it was.
 */
public record Event(Type type, KeyValue kv, KeyValue prevKv) {
    public enum Type { PUT, DELETE }

    public long revision() {
        return kv.modRevision();
    }

    public boolean isCreate() {
        return type == Type.PUT && prevKv == null;
    }
}
