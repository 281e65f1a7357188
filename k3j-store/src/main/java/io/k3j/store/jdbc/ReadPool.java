package io.k3j.store.jdbc;

import io.k3j.store.StoreException;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * A few reading connections, opened lazily. Each read runs in one REPEATABLE READ transaction, so the compact
 * revision and the rows it reads come from the same snapshot. A connection that failed is dropped, so a
 * database restart costs the reads in flight, not the pool.
 */
final class ReadPool implements AutoCloseable {
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private final Database db;
    private final BlockingQueue<Connection> idle;
    private final Semaphore permits;
    private volatile boolean closed;

    ReadPool(Database db, int size) {
        this.db = db;
        this.idle = new ArrayBlockingQueue<>(size);
        this.permits = new Semaphore(size);
    }

    /** Runs {@code work} in one read transaction; SQL failures become StoreExceptions saying {@code what} failed. */
    <T> T read(String what, Work<T> work) {
        if (closed) {
            throw new StoreException(what + ": store is closed");
        }
        permits.acquireUninterruptibly();
        Connection c = idle.poll();
        boolean broken = false;
        try {
            if (c == null) {
                c = db.connect(Connection.TRANSACTION_REPEATABLE_READ);
            }
            try {
                return work.run(c);
            } finally {
                c.rollback(); // ends the snapshot
            }
        } catch (SQLException e) {
            broken = true;
            throw new StoreException(what + " in " + db.endpoint() + ": " + e.getMessage(), e);
        } finally {
            if (c != null && (broken || closed || !idle.offer(c))) {
                quietlyClose(c);
            } else if (closed) {
                close(); // close() ran while this one was being returned
            }
            permits.release();
        }
    }

    @Override
    public void close() {
        closed = true;
        Connection c;
        while ((c = idle.poll()) != null) {
            quietlyClose(c);
        }
    }

    static void quietlyClose(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // nothing is pending on a connection being dropped
        }
    }
}
