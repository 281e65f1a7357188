package io.k3j.store.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Finds what other servers wrote to the shared database and publishes it. This server's own writes need no
 * polling: its writer publishes them right after each commit.
 *
 * <p>On PostgreSQL every write transaction sends {@code NOTIFY k3j_kv}, delivered at its commit, so the
 * poller sleeps in {@code LISTEN} and reads as soon as another server commits; it still looks every
 * {@code interval} in case a notification was lost with a connection. MySQL has nothing like it, so there the
 * poller checks the revision counter (one primary-key read) every {@code interval}.
 */
final class Poller implements Runnable {
    private static final System.Logger LOG = System.getLogger(Poller.class.getName());

    /** How long a LISTEN wait lasts before checking whether the store is closing. */
    private static final int LISTEN_SLICE_MILLIS = 250;

    private final Database db;
    private final ReadPool reads;
    private final Published published;
    private final Duration interval;
    private volatile boolean stopped;
    private boolean failing;
    private Connection listener;

    Poller(Database db, ReadPool reads, Published published, Duration interval) {
        this.db = db;
        this.reads = reads;
        this.published = published;
        this.interval = interval;
    }

    void stop() {
        stopped = true;
    }

    @Override
    public void run() {
        long lastPoll = System.nanoTime();
        while (!stopped) {
            boolean notified = false;
            if (db.dialect() == Dialect.POSTGRES) {
                notified = awaitNotification();
            } else {
                LockSupport.parkNanos(interval.toNanos());
            }
            if (stopped) {
                break;
            }
            boolean due = System.nanoTime() - lastPoll >= interval.toNanos();
            if (db.dialect() == Dialect.POSTGRES && !notified && !due) {
                continue;
            }
            lastPoll = System.nanoTime();
            try {
                poll();
                if (failing) {
                    failing = false;
                    LOG.log(System.Logger.Level.INFO, "reading other servers' writes from " + db.endpoint()
                            + " again");
                }
            } catch (RuntimeException e) {
                if (!failing) { // once per outage, not once per poll
                    failing = true;
                    LOG.log(System.Logger.Level.WARNING, "polling " + db.endpoint() + " for other servers' writes: "
                            + e.getMessage());
                }
                LockSupport.parkNanos(interval.toNanos());
            }
        }
        closeListener();
    }

    /** Reads and publishes every revision committed since the last one this server knows. */
    void poll() {
        reads.read("reading other servers' writes", c -> {
            Log.Meta meta = Log.meta(c, false);
            if (meta.revision() > published.revision() || meta.compactRevision() > published.compactRevision()) {
                published.catchUp(c, meta);
            }
            return null;
        });
    }

    /** Waits up to one slice for a NOTIFY; true if one came (or the listening connection broke). */
    private boolean awaitNotification() {
        try {
            if (listener == null) {
                listener = db.connectAutoCommit();
                try (Statement s = listener.createStatement()) {
                    s.execute("LISTEN k3j_kv");
                }
            }
            PGNotification[] got = listener.unwrap(PGConnection.class).getNotifications(LISTEN_SLICE_MILLIS);
            return got != null && got.length > 0;
        } catch (SQLException e) {
            LOG.log(System.Logger.Level.DEBUG, "LISTEN on " + db.endpoint() + " failed: " + e.getMessage());
            closeListener();
            LockSupport.parkNanos(Duration.ofMillis(LISTEN_SLICE_MILLIS).toNanos());
            return true; // poll, as a notification may have been missed
        }
    }

    private void closeListener() {
        if (listener != null) {
            ReadPool.quietlyClose(listener);
            listener = null;
        }
    }
}
