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

    /**
     * Runs {@code work} in one read transaction; SQL failures become StoreExceptions saying {@code what} failed.
     * Reads change nothing, so a read that failed on a pooled connection found dead (the database restarted)
     * is run once more on a new one, and the other idle connections, likely dead as well, are dropped.
     */
    <T> T read(String what, Work<T> work) {
        if (closed) {
            throw new StoreException(what + ": store is closed");
        }
        permits.acquireUninterruptibly();
        try {
            Connection c = idle.poll();
            if (c != null) {
                try {
                    return attempt(c, work);
                } catch (SQLException e) {
                    boolean dead = !alive(c);
                    quietlyClose(c);
                    if (!dead) {
                        throw new StoreException(what + " in " + db.endpoint() + ": " + e.getMessage(), e);
                    }
                    Connection stale;
                    while ((stale = idle.poll()) != null) {
                        quietlyClose(stale);
                    }
                }
            }
            Connection fresh = null;
            try {
                fresh = db.connect(Connection.TRANSACTION_REPEATABLE_READ);
                return attempt(fresh, work);
            } catch (SQLException e) {
                if (fresh != null) {
                    quietlyClose(fresh);
                }
                throw new StoreException(what + " in " + db.endpoint() + ": " + e.getMessage(), e);
            }
        } finally {
            permits.release();
        }
    }

    /** Runs work on c and returns c to the pool; on an SQL failure leaves c to the caller and throws. */
    private <T> T attempt(Connection c, Work<T> work) throws SQLException {
        T result;
        try {
            try {
                result = work.run(c);
            } finally {
                c.rollback(); // ends the snapshot
            }
        } catch (RuntimeException | Error e) {
            release(c);
            throw e;
        }
        release(c);
        return result;
    }

    private void release(Connection c) {
        if (closed || !idle.offer(c)) {
            quietlyClose(c);
        } else if (closed) {
            close(); // close() ran while this one was being returned
        }
    }

    private static boolean alive(Connection c) {
        try {
            return c.isValid(1);
        } catch (SQLException e) {
            return false;
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
