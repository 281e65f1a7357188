package io.k3j.store;

import java.util.Optional;

/**
 * A revisioned key/value store with the etcd data model: every write gets the next value of one global
 * revision counter; keys carry their create and modification revisions; history is kept until compacted,
 * so reads at a past revision and watches from a past revision work.
 *
 * <p>Implementations are thread-safe. Writes are durable when the call returns (an acknowledged write
 * survives {@code kill -9}). Events reach watchers in revision order, after the write is durable.
 *
 * <p>Keys are UTF-8 strings compared as bytes (which, for the ASCII keys the API server uses, is
 * {@link String#compareTo} order).
 */
public interface Store extends AutoCloseable {

    /** The revision of the newest write (0 for an empty store). */
    long currentRevision();

    /** The oldest revision that can still be read or watched from; below it, {@link CompactedException}. */
    long compactRevision();

    /** The newest value of {@code key}, if it exists. */
    Optional<KeyValue> get(String key);

    /**
     * Keys starting with {@code prefix}, in key order.
     *
     * @param prefix   key prefix ("" for all keys)
     * @param startKey first key to return (inclusive); null or "" to start at the prefix
     * @param revision read the state as of this revision; 0 for the current one
     * @param limit    most keys to return; 0 for no limit
     * @throws CompactedException if {@code revision} is older than {@link #compactRevision()}
     * @throws FutureRevisionException if {@code revision} is newer than {@link #currentRevision()}
     */
    RangeResult range(String prefix, String startKey, long revision, int limit);

    /** Number of keys under {@code prefix} at the current revision. */
    long count(String prefix);

    /**
     * Creates {@code key} if absent.
     *
     * @return the stored key/value, with its new revision
     * @throws KeyExistsException if the key exists
     */
    KeyValue create(String key, byte[] value);

    /**
     * Replaces the value of {@code key} if its modification revision is still {@code expectedModRevision}.
     *
     * @return the stored key/value, with its new revision
     * @throws KeyNotFoundException if the key does not exist
     * @throws RevisionConflictException if the key was modified since (carries the current value)
     */
    KeyValue update(String key, byte[] value, long expectedModRevision);

    /**
     * Deletes {@code key}; when {@code expectedModRevision} is not 0, only if it is still that revision.
     *
     * @return the key/value as it was before the deletion, and the deletion's revision
     * @throws KeyNotFoundException if the key does not exist
     * @throws RevisionConflictException if the key was modified since
     */
    DeleteResult delete(String key, long expectedModRevision);

    /**
     * Watches keys starting with {@code prefix}: first every change with revision greater than
     * {@code afterRevision} that is still in history, then live changes, until the watch is closed.
     * The listener is called from one thread per watch, never concurrently, in revision order. A watch
     * may fall too far behind (its listener too slow); it then ends with {@link WatchListener#onError}.
     *
     * @throws CompactedException if {@code afterRevision} + 1 is older than {@link #compactRevision()}
     */
    Watch watch(String prefix, long afterRevision, WatchListener listener);

    /**
     * Discards history older than {@code revision}: afterwards reads at {@code revision} and later still
     * work, and so do watches with {@code afterRevision >= revision - 1}; older ones fail with
     * {@link CompactedException}. The newest value of every live key is kept. Compacting at or below the
     * current compact revision changes nothing.
     *
     * @return the compact revision now in effect
     * @throws FutureRevisionException if {@code revision} is newer than {@link #currentRevision()}
     */
    long compact(long revision);

    @Override
    void close();
}
