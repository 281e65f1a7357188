package io.k3j.store;

import java.util.List;

/**
 * A page of keys.
 *
 * @param kvs      the keys, in key order
 * @param revision the revision the range was read at
 * @param more     true if keys past the last one returned match as well
 */
public record RangeResult(List<KeyValue> kvs, long revision, boolean more) {}
