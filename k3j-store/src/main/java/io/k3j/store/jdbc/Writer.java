package io.k3j.store.jdbc;

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
import java.util.concurrent.LinkedBlockingQueue;

/**
 * This server's only writing thread. It takes whatever writes are queued (up to a batch limit) and commits
 * them in one transaction (group commit), answering the callers only after the commit.
 *
 * <p>Every transaction first locks the revision counter row ({@code SELECT ... FOR UPDATE} on {@code k3j_meta}).
 * That serializes writers across all servers sharing the database, so revisions are handed out in commit order:
 * once a reader sees revision N committed, every revision below N is committed too. Holding the lock, the
 * writer first reads the rows other servers committed since it last looked (they are final: nobody else can
 * commit while the lock is held) and publishes them, so its in-memory index is exact for checking this batch's
 * preconditions and its watchers get those revisions before its own.
 *
 * <p>A failed precondition fails only its own write. An SQL failure fails the batch, and the connection is
 * replaced, so a database restart costs the writes in flight and nothing after.
 */
final class Writer implements Runnable {
    sealed interface Op permits Create, Update, Delete, Compact, Stop {}

    record Create(String key, byte[] value, CompletableFuture<KeyValue> done) implements Op {}

    record Update(String key, byte[] value, long expected, CompletableFuture<KeyValue> done) implements Op {}

    record Delete(String key, long expected, CompletableFuture<DeleteResult> done) implements Op {}

    record Compact(long revision, CompletableFuture<Long> done) implements Op {}

    record Stop(CompletableFuture<Void> done) implements Op {}

    /** A key written earlier in the batch being built: its new latest row and value. */
    private record Pending(Log.Latest latest, byte[] value) {}

    private final BlockingQueue<Op> queue = new LinkedBlockingQueue<>();
    private final Database db;
    private final Dialect dialect;
    private final Published published;
    private final int maxBatch;
    private Connection conn;

    Writer(Database db, Published published, int maxBatch) {
        this.db = db;
        this.dialect = db.dialect();
        this.published = published;
        this.maxBatch = maxBatch;
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
                continue; // close() queues a Stop; nobody interrupts this thread
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
                // No caller may wait forever, whatever went wrong: answer everything of this batch still open.
                dropConnection();
                StoreException failure = new StoreException("writing to " + db.endpoint() + ": " + t, t);
                batch.forEach(op -> fail(op, failure));
                writes.clear();
            }
        }
        dropConnection();
        stop.done().complete(null);
    }

    private Connection connection() throws SQLException {
        if (conn == null) {
            // READ COMMITTED: after the counter lock is granted, each statement sees what the previous holder
            // committed (MySQL's default REPEATABLE READ could keep reading an older snapshot).
            conn = db.connect(Connection.TRANSACTION_READ_COMMITTED);
        }
        return conn;
    }

    private void dropConnection() {
        if (conn != null) {
            try {
                conn.rollback();
            } catch (SQLException ignored) {
                // the connection is going away
            }
            ReadPool.quietlyClose(conn);
            conn = null;
        }
    }

    private void commit(List<Op> writes) {
        if (writes.isEmpty()) {
            return;
        }
        for (int attempt = 1; ; attempt++) {
            Map<String, Pending> overlay = new HashMap<>();
            List<Event> events = new ArrayList<>(writes.size());
            Object[] results = new Object[writes.size()];
            long revision;
            boolean reused = conn != null;
            boolean committing = false;
            try {
                Connection c = connection();
                Log.Meta meta = Log.meta(c, true);
                published.catchUp(c, meta);
                revision = meta.revision();
                try (PreparedStatement insert = c.prepareStatement(Log.INSERT)) {
                    for (int i = 0; i < writes.size(); i++) {
                        Object r = apply(c, insert, writes.get(i), revision, overlay, events);
                        results[i] = r;
                        if (!(r instanceof Throwable)) {
                            revision++;
                        }
                    }
                    if (!events.isEmpty()) {
                        insert.executeBatch();
                    }
                }
                if (!events.isEmpty()) {
                    setMeta(c, "revision", revision);
                    notifyOthers(c, revision);
                }
                committing = true;
                c.commit();
            } catch (SQLException | RuntimeException e) {
                // A connection that died while idle (the database restarted, a proxy dropped it) fails the first
                // statement. Nothing was committed before the commit was sent, so the batch may run once more
                // on a new connection; a failed commit has an unknown outcome and is reported.
                boolean retry = attempt == 1 && reused && !committing && e instanceof SQLException && !connectionAlive();
                dropConnection();
                if (retry) {
                    continue;
                }
                StoreException failure = new StoreException(
                        "writing " + writes.size() + " changes to " + db.endpoint() + ": " + e.getMessage(), e);
                writes.forEach(op -> fail(op, failure));
                writes.clear();
                return;
            }
            if (!events.isEmpty()) {
                published.publish(events, revision);
            }
            for (int i = 0; i < writes.size(); i++) {
                complete(writes.get(i), results[i]);
            }
            writes.clear();
            return;
        }
    }

    private boolean connectionAlive() {
        try {
            return conn != null && conn.isValid(2);
        } catch (SQLException e) {
            return false;
        }
    }

    /** Applies one write as revision {@code base + 1}; returns its result, or its precondition failure. */
    private Object apply(Connection c, PreparedStatement insert, Op op, long base, Map<String, Pending> overlay,
                         List<Event> events) throws SQLException {
        long rev = base + 1;
        switch (op) {
            case Create(String key, byte[] value, var done) -> {
                Log.Latest cur = latest(key, overlay);
                if (cur != null && !cur.deleted()) {
                    return new KeyExistsException(key);
                }
                // A re-created key names its deletion row as previous, as kine does, which keeps
                // (name, prev_revision) unique.
                addRow(insert, rev, key, true, false, rev, cur == null ? 0 : cur.modRevision(), value, null);
                overlay.put(key, new Pending(new Log.Latest(rev, rev, false), value));
                KeyValue kv = new KeyValue(key, value, rev, rev);
                events.add(new Event(Event.Type.PUT, kv, null));
                return kv;
            }
            case Update(String key, byte[] value, long expected, var done) -> {
                Log.Latest cur = latest(key, overlay);
                if (cur == null || cur.deleted()) {
                    return new KeyNotFoundException(key);
                }
                byte[] old = valueOf(c, key, cur, overlay);
                if (cur.modRevision() != expected) {
                    return new RevisionConflictException(
                            new KeyValue(key, old, cur.createRevision(), cur.modRevision()), expected);
                }
                addRow(insert, rev, key, false, false, cur.createRevision(), cur.modRevision(), value, old);
                overlay.put(key, new Pending(new Log.Latest(cur.createRevision(), rev, false), value));
                KeyValue kv = new KeyValue(key, value, cur.createRevision(), rev);
                events.add(new Event(Event.Type.PUT, kv,
                        new KeyValue(key, old, cur.createRevision(), cur.modRevision())));
                return kv;
            }
            case Delete(String key, long expected, var done) -> {
                Log.Latest cur = latest(key, overlay);
                if (cur == null || cur.deleted()) {
                    return new KeyNotFoundException(key);
                }
                byte[] old = valueOf(c, key, cur, overlay);
                if (expected != 0 && cur.modRevision() != expected) {
                    return new RevisionConflictException(
                            new KeyValue(key, old, cur.createRevision(), cur.modRevision()), expected);
                }
                addRow(insert, rev, key, false, true, cur.createRevision(), cur.modRevision(), old, null);
                overlay.put(key, new Pending(new Log.Latest(cur.createRevision(), rev, true), old));
                Event event = Log.deleteEvent(key, old, cur.createRevision(), cur.modRevision(), rev);
                events.add(event);
                return new DeleteResult(event.prevKv(), rev);
            }
            default -> throw new IllegalStateException("not a write: " + op);
        }
    }

    private Log.Latest latest(String key, Map<String, Pending> overlay) {
        Pending p = overlay.get(key);
        return p != null ? p.latest() : published.latest(key);
    }

    /** The value of the key's latest row: from this batch if written in it, else from the table. */
    private byte[] valueOf(Connection c, String key, Log.Latest cur, Map<String, Pending> overlay)
            throws SQLException {
        Pending p = overlay.get(key);
        if (p != null) {
            return p.value();
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT value FROM k3j_kv WHERE id = ?")) {
            ps.setLong(1, cur.modRevision());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("log row " + cur.modRevision() + " of " + key + " is missing");
                }
                return Log.bytes(rs.getBytes(1));
            }
        }
    }

    private void addRow(PreparedStatement insert, long id, String name, boolean created, boolean deleted,
                        long createRevision, long prevRevision, byte[] value, byte[] oldValue) throws SQLException {
        insert.setLong(1, id);
        dialect.bindName(insert, 2, name);
        insert.setInt(3, created ? 1 : 0);
        insert.setInt(4, deleted ? 1 : 0);
        insert.setLong(5, createRevision);
        insert.setLong(6, prevRevision);
        insert.setBytes(7, value);
        insert.setBytes(8, oldValue);
        insert.addBatch();
    }

    /** On PostgreSQL, a NOTIFY delivered at commit, which wakes the other servers' pollers at once. */
    private void notifyOthers(Connection c, long revision) throws SQLException {
        if (dialect == Dialect.POSTGRES) {
            try (PreparedStatement n = c.prepareStatement("SELECT pg_notify('k3j_kv', ?)")) {
                n.setString(1, Long.toString(revision));
                n.executeQuery().close();
            }
        }
    }

    private static void setMeta(Connection c, String name, long value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE k3j_meta SET value = ? WHERE name = ?")) {
            ps.setLong(1, value);
            ps.setString(2, name);
            if (ps.executeUpdate() != 1) {
                throw new SQLException("k3j_meta has no " + name + " row");
            }
        }
    }

    /**
     * Removes the rows nobody can ask for once reads below {@code r} are refused: rows below {@code r} that a
     * newer row at or below {@code r} supersedes, and deletion rows below {@code r}. The row at {@code r}
     * stays, since a watch may still start right after {@code r - 1}. The compact revision is stored beside the
     * revision counter, under the same lock, so every server agrees on it.
     */
    private void compact(Compact op) {
        long r = op.revision();
        try {
            Connection c = connection();
            Log.Meta meta = Log.meta(c, true);
            published.catchUp(c, meta);
            if (r > meta.revision()) {
                c.rollback();
                op.done().completeExceptionally(new FutureRevisionException(r, meta.revision()));
                return;
            }
            if (r <= meta.compactRevision()) {
                c.rollback();
                op.done().complete(meta.compactRevision());
                return;
            }
            try (PreparedStatement superseded = c.prepareStatement(dialect.deleteSuperseded());
                 PreparedStatement deletions = c.prepareStatement("DELETE FROM k3j_kv WHERE id < ? AND deleted = 1")) {
                superseded.setLong(1, r);
                superseded.setLong(2, r);
                superseded.executeUpdate();
                deletions.setLong(1, r);
                deletions.executeUpdate();
            }
            setMeta(c, "compact_revision", r);
            notifyOthers(c, meta.revision());
            c.commit();
        } catch (SQLException | RuntimeException e) {
            dropConnection();
            op.done().completeExceptionally(
                    new StoreException("compacting " + db.endpoint() + " at " + r + ": " + e.getMessage(), e));
            return;
        }
        published.compacted(r);
        op.done().complete(r);
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
