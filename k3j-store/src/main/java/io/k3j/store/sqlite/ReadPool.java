package io.k3j.store.sqlite;

import io.k3j.store.StoreException;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * A few read-only connections. In WAL mode a reader works on its own snapshot and neither blocks the writer
 * nor is blocked by it; connections are opened lazily, up to {@code size}.
 */
final class ReadPool implements AutoCloseable {
    interface ConnectionFactory {
        Connection open() throws SQLException;
    }

    interface ReadWork<T> {
        T run(Connection c) throws SQLException;
    }

    private final ConnectionFactory factory;
    private final BlockingQueue<Connection> idle;
    private final Semaphore permits;
    private volatile boolean closed;

    ReadPool(int size, ConnectionFactory factory) {
        this.factory = factory;
        this.idle = new ArrayBlockingQueue<>(size);
        this.permits = new Semaphore(size);
    }

    /**
     * Runs {@code work} in one read transaction, so every statement in it sees the same snapshot.
     *
     * @throws StoreException wrapping an SQL failure, with {@code what} was being done
     */
    <T> T read(String what, ReadWork<T> work) {
        if (closed) {
            throw new StoreException(what + ": store is closed");
        }
        permits.acquireUninterruptibly();
        Connection c = idle.poll();
        boolean broken = false;
        try {
            if (c == null) {
                c = factory.open();
                c.setAutoCommit(false);
            }
            try {
                return work.run(c);
            } finally {
                c.rollback(); // ends the read transaction and its snapshot
            }
        } catch (SQLException e) {
            broken = true;
            throw new StoreException(what + ": " + e.getMessage(), e);
        } finally {
            if (c != null) {
                if (broken || closed || !idle.offer(c)) {
                    quietlyClose(c);
                } else if (closed) {
                    close(); // close() ran while we were offering: don't leave this one open
                }
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

    private static void quietlyClose(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // closing a read-only connection loses nothing
        }
    }
}
