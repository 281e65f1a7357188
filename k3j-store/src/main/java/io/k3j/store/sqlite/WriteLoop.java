package io.k3j.store.sqlite;

import io.k3j.store.DeleteResult;
import io.k3j.store.Event;
import io.k3j.store.FutureRevisionException;
import io.k3j.store.KeyExistsException;
import io.k3j.store.KeyNotFoundException;
import io.k3j.store.KeyValue;
import io.k3j.store.RevisionConflictException;
import io.k3j.store.StoreException;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The only thread that writes. Callers queue operations; the loop takes whatever is queued (up to a batch
 * limit), applies each against the state left by the ones before it, commits them in one transaction and
 * only then answers the callers. One commit per batch instead of one per write is what makes concurrent
 * writers fast (group commit), and one writing connection is why SQLite never reports "database is locked".
 *
 * <p>A failed precondition fails only its own operation; an SQL failure rolls back and fails the batch.
 */
final class WriteLoop implements Runnable {

    /** The newest revision of a live key. */
    record Latest(long createRevision, long modRevision) {}

    sealed interface Op permits Create, Update, Delete, Compact, Stop {}

    record Create(String key, byte[] value, CompletableFuture<KeyValue> done) implements Op {}

    record Update(String key, byte[] value, long expected, CompletableFuture<KeyValue> done) implements Op {}

    record Delete(String key, long expected, CompletableFuture<DeleteResult> done) implements Op {}

    record Compact(long revision, CompletableFuture<Long> done) implements Op {}

    record Stop(CompletableFuture<Void> done) implements Op {}

    /** What the loop tells the store after each commit. */
    interface Publisher {
        /** Called after a commit, before the writers are answered; {@code events} in revision order. */
        void published(long revision, List<Event> events);

        void compacted(long compactRevision);
    }

    /** Marks a key deleted within a batch (the overlay needs to shadow the index). */
    private static final Latest DELETED = new Latest(0, 0);

    private final BlockingQueue<Op> queue = new LinkedBlockingQueue<>();
    private final Connection conn;
    private final String where;
    private final ConcurrentNavigableMap<String, Latest> index;
    private final Publisher publisher;
    private final int maxBatch;
    private final PreparedStatement insert;
    private final PreparedStatement valueAt;
    private long revision;
    private long compactRevision;

    WriteLoop(Connection conn, String where, ConcurrentNavigableMap<String, Latest> index, long revision,
              long compactRevision, Publisher publisher, int maxBatch) throws SQLException {
        this.conn = conn;
        this.where = where;
        this.index = index;
        this.revision = revision;
        this.compactRevision = compactRevision;
        this.publisher = publisher;
        this.maxBatch = maxBatch;
        this.insert = conn.prepareStatement(LogTable.INSERT);
        this.valueAt = conn.prepareStatement("SELECT value FROM kv WHERE id = ?");
    }

    void submit(Op op) {
        queue.add(op);
    }

    @Override
    public void run() {
        List<Op> batch = new ArrayList<>(maxBatch);
        List<Op> writes = new ArrayList<>(maxBatch);
        Stop stop = null;
        while (stop == null) {
            batch.clear();
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                continue; // nobody interrupts this thread; close() queues a Stop instead
            }
            queue.drainTo(batch, maxBatch - 1);
            try {
                for (Op op : batch) {
                    switch (op) {
                        case Compact c -> {
                            commit(writes);
                            compact(c);
                        }
                        case Stop s -> {
                            commit(writes);
                            stop = s;
                        }
                        default -> {
                            if (stop != null) {
                                fail(op, new StoreException("store is closed"));
                            } else {
                                writes.add(op);
                            }
                        }
                    }
                }
                commit(writes);
            } catch (Throwable t) {
                // Whatever went wrong (an Error in a publisher, say), no caller may wait forever: answer every
                // operation of this batch that is still unanswered, then carry on with the next batch.
                rollback();
                StoreException failure = new StoreException("writing to " + where + ": " + t, t);
                batch.forEach(op -> fail(op, failure));
                writes.clear();
            }
        }
        try {
            insert.close();
            valueAt.close();
            conn.close();
            stop.done().complete(null);
        } catch (SQLException e) {
            stop.done().completeExceptionally(new StoreException("closing " + where + ": " + e.getMessage(), e));
        }
    }

    private void commit(List<Op> writes) {
        if (writes.isEmpty()) {
            return;
        }
        long base = revision;
        Map<String, Latest> overlay = new HashMap<>();
        List<Event> events = new ArrayList<>(writes.size());
        Object[] results = new Object[writes.size()];
        try {
            for (int i = 0; i < writes.size(); i++) {
                results[i] = apply(writes.get(i), overlay, events);
            }
            conn.commit();
        } catch (SQLException | RuntimeException e) {
            rollback();
            revision = base;
            StoreException failure = new StoreException(
                    "writing " + writes.size() + " changes to " + where + ": " + e.getMessage(), e);
            writes.forEach(op -> fail(op, failure));
            writes.clear();
            return;
        }
        overlay.forEach((key, latest) -> {
            if (latest == DELETED) {
                index.remove(key);
            } else {
                index.put(key, latest);
            }
        });
        if (!events.isEmpty()) {
            publisher.published(revision, events);
        }
        for (int i = 0; i < writes.size(); i++) {
            complete(writes.get(i), results[i]);
        }
        writes.clear();
    }

    /** Applies one write; returns its result, or the precondition failure as a value. */
    private Object apply(Op op, Map<String, Latest> overlay, List<Event> events) throws SQLException {
        switch (op) {
            case Create(String key, byte[] value, var done) -> {
                if (latest(key, overlay) != null) {
                    return new KeyExistsException(key);
                }
                long rev = ++revision;
                insert(rev, key, true, false, rev, 0, value, null);
                overlay.put(key, new Latest(rev, rev));
                KeyValue kv = new KeyValue(key, value, rev, rev);
                events.add(new Event(Event.Type.PUT, kv, null));
                return kv;
            }
            case Update(String key, byte[] value, long expected, var done) -> {
                Latest cur = latest(key, overlay);
                if (cur == null) {
                    return new KeyNotFoundException(key);
                }
                byte[] old = valueAt(cur.modRevision());
                if (cur.modRevision() != expected) {
                    return new RevisionConflictException(
                            new KeyValue(key, old, cur.createRevision(), cur.modRevision()), expected);
                }
                long rev = ++revision;
                insert(rev, key, false, false, cur.createRevision(), cur.modRevision(), value, old);
                overlay.put(key, new Latest(cur.createRevision(), rev));
                KeyValue kv = new KeyValue(key, value, cur.createRevision(), rev);
                events.add(new Event(Event.Type.PUT, kv,
                        new KeyValue(key, old, cur.createRevision(), cur.modRevision())));
                return kv;
            }
            case Delete(String key, long expected, var done) -> {
                Latest cur = latest(key, overlay);
                if (cur == null) {
                    return new KeyNotFoundException(key);
                }
                byte[] old = valueAt(cur.modRevision());
                if (expected != 0 && cur.modRevision() != expected) {
                    return new RevisionConflictException(
                            new KeyValue(key, old, cur.createRevision(), cur.modRevision()), expected);
                }
                long rev = ++revision;
                // The deletion row keeps the last value, so its event is complete on its own.
                insert(rev, key, false, true, cur.createRevision(), cur.modRevision(), old, null);
                overlay.put(key, DELETED);
                Event event = LogTable.deleteEvent(key, old, cur.createRevision(), cur.modRevision(), rev);
                events.add(event);
                return new DeleteResult(event.prevKv(), rev);
            }
            default -> throw new IllegalStateException("not a write: " + op);
        }
    }

    private Latest latest(String key, Map<String, Latest> overlay) {
        Latest l = overlay.get(key);
        if (l == null) {
            l = index.get(key);
        }
        return l == DELETED ? null : l;
    }

    /** Reads through the writing connection, so rows of the batch in progress are visible. */
    private byte[] valueAt(long rev) throws SQLException {
        valueAt.setLong(1, rev);
        try (ResultSet rs = valueAt.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("log row " + rev + " is missing");
            }
            return LogTable.bytes(rs.getBytes(1));
        }
    }

    private void insert(long id, String name, boolean created, boolean deleted, long createRevision,
                        long prevRevision, byte[] value, byte[] oldValue) throws SQLException {
        insert.setLong(1, id);
        insert.setString(2, name);
        insert.setInt(3, created ? 1 : 0);
        insert.setInt(4, deleted ? 1 : 0);
        insert.setLong(5, createRevision);
        insert.setLong(6, prevRevision);
        insert.setBytes(7, value);
        insert.setBytes(8, oldValue);
        insert.executeUpdate();
    }

    /**
     * Removes the rows nobody can ask for once reads below {@code r} are refused: rows below {@code r}
     * that a newer row at or below {@code r} supersedes, and deletion records below {@code r}. The row at
     * {@code r} itself stays, because a watch may still start right after {@code r - 1}.
     */
    private void compact(Compact c) {
        long r = c.revision();
        if (r > revision) {
            c.done().completeExceptionally(new FutureRevisionException(r, revision));
            return;
        }
        if (r <= compactRevision) {
            c.done().complete(compactRevision);
            return;
        }
        try (PreparedStatement superseded = conn.prepareStatement("""
                DELETE FROM kv WHERE id < ?1 AND EXISTS
                    (SELECT 1 FROM kv AS newer WHERE newer.name = kv.name AND newer.id > kv.id AND newer.id <= ?1)""");
             PreparedStatement deletions = conn.prepareStatement("DELETE FROM kv WHERE id < ? AND deleted = 1");
             PreparedStatement mark = conn.prepareStatement(
                     "UPDATE meta SET value = ? WHERE name = 'compact_revision'")) {
            superseded.setLong(1, r);
            superseded.executeUpdate();
            deletions.setLong(1, r);
            deletions.executeUpdate();
            mark.setLong(1, r);
            mark.executeUpdate();
            conn.commit();
        } catch (SQLException | RuntimeException e) {
            rollback();
            c.done().completeExceptionally(
                    new StoreException("compacting " + where + " at " + r + ": " + e.getMessage(), e));
            return;
        }
        compactRevision = r;
        publisher.compacted(r);
        c.done().complete(r);
    }

    private void rollback() {
        try {
            conn.rollback();
        } catch (SQLException ignored) {
            // the failure being reported is the one that matters
        }
    }

    @SuppressWarnings("unchecked")
    private static void complete(Op op, Object result) {
        CompletableFuture<Object> done = (CompletableFuture<Object>) future(op);
        if (result instanceof Throwable t) {
            done.completeExceptionally(t);
        } else {
            done.complete(result);
        }
    }

    static void fail(Op op, Throwable t) {
        future(op).completeExceptionally(t);
    }

    private static CompletableFuture<?> future(Op op) {
        return switch (op) {
            case Create c -> c.done();
            case Update u -> u.done();
            case Delete d -> d.done();
            case Compact c -> c.done();
            case Stop s -> s.done();
        };
    }
}
