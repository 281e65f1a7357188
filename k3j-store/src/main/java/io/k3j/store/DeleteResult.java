package io.k3j.store;

/** A deletion: the key/value as it was just before, and the revision of the deletion itself. */
public record DeleteResult(KeyValue previous, long revision) {}
