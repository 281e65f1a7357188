package io.k3j.store.jdbc;

import io.k3j.store.CompactedException;
import io.k3j.store.DeleteResult;
import io.k3j.store.Event;
import io.k3j.store.FutureRevisionException;
import io.k3j.store.KeyValue;
import io.k3j.store.RangeResult;
import io.k3j.store.Store;
import io.k3j.store.StoreException;
import io.k3j.store.Watch;
import io.k3j.store.WatchListener;

import io.k3j.store.backend.WatchStream;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * A {@link Store} in an external PostgreSQL or MySQL/MariaDB database, laid out as kine does for k3s: one log
 * table with a row per revision ({@code k3j_kv}) and a small table holding the revision counter and the compact
 * revision ({@code k3j_meta}). Database and tables are created on first start when the user may.
 *
 * <p>Several servers may share one database. Each write transaction locks the revision counter row, so commit
 * order is revision order across all of them, and this server's writes are batched, several to a transaction
 * (group commit). A write is acknowledged after its commit, so it is as durable as the database makes commits.
 * This server's writes reach its watches at once; other servers' writes are found by a poller (woken by
 * {@code LISTEN/NOTIFY} on PostgreSQL, polling every {@link Builder#pollInterval} on MySQL) and by every write
 * transaction of this server, which reads them before its own. Watches get every revision in order either way.
 *
 * <p>Open with {@link #open(String)} or {@link #builder(String)}.
 */
public final class JdbcStore implements Store {
    private static final System.Logger LOG = System.getLogger(JdbcStore.class.getName());

    /** Options of a {@link JdbcStore}. */
    public static final class Builder {
        private final Endpoint endpoint;
        private int readConnections = 4;
        private int maxBatch = 500;
        private int watchQueueCapacity = 10_000;
        private Duration pollInterval;
        private boolean polling = true;

        private Builder(Endpoint endpoint) {
            this.endpoint = endpoint;
            this.pollInterval = endpoint.dialect() == Dialect.POSTGRES ? Duration.ofSeconds(1) : Duration.ofMillis(100);
        }

        /** Reading connections (default 4); the store holds these plus one writing and, on PostgreSQL, one listening. */
        public Builder readConnections(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("readConnections : " + n + " (expected: >= 1)");
            }
            this.readConnections = n;
            return this;
        }

        /** Most writes committed in one transaction (default 500). */
        public Builder maxBatch(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxBatch : " + n + " (expected: >= 1)");
            }
            this.maxBatch = n;
            return this;
        }

        /** Events a watch may have queued before it is ended as too slow (default 10000). */
        public Builder watchQueueCapacity(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("watchQueueCapacity : " + n + " (expected: >= 1)");
            }
            this.watchQueueCapacity = n;
            return this;
        }

        /**
         * How often other servers' writes are looked for: on MySQL the polling period (default 100 ms), on
         * PostgreSQL the fallback behind LISTEN/NOTIFY (default 1 s).
         */
        public Builder pollInterval(Duration d) {
            Objects.requireNonNull(d, "pollInterval");
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("pollInterval : " + d + " (expected: > 0)");
            }
            this.pollInterval = d;
            return this;
        }

        /** Tests only: no poller, so this server learns of other servers' writes only in its own writes. */
        Builder withoutPoller() {
            this.polling = false;
            return this;
        }

        /**
         * Connects, creating the database and tables if missing, and loads the index of keys.
         *
         * @throws StoreException if the database cannot be reached or prepared
         */
        public JdbcStore open() {
            return new JdbcStore(this);
        }
    }

    private final Database db;
    private final Dialect dialect;
    private final int watchQueueCapacity;
    private final Published published;
    private final ReadPool reads;
    private final Writer writer;
    private final Thread writerThread;
    private final Poller poller;
    private final Thread pollerThread;

    /** Submitters hold it shared, close() exclusively, so nothing is queued after the writer's Stop. */
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    /**
     * Opens the store at a k3s-style endpoint with default options.
     *
     * @param endpoint {@code postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable} (also
     *                 {@code postgresql://}; query parameters go to the PostgreSQL JDBC driver) or
     *                 {@code mysql://USER:PASSWORD@tcp(HOST:PORT)/DATABASE} (MySQL or MariaDB; {@code tls=true}
     *                 asks for verified TLS). The database defaults to {@code kubernetes}.
     * @throws IllegalArgumentException if the endpoint is malformed (the message names the accepted forms)
     * @throws StoreException           if the database cannot be reached or prepared
     */
    public static JdbcStore open(String endpoint) {
        return builder(endpoint).open();
    }

    /**
     * Options for opening the store at {@code endpoint}; see {@link #open(String)}.
     *
     * @throws IllegalArgumentException if the endpoint is malformed
     */
    public static Builder builder(String endpoint) {
        return new Builder(Endpoint.parse(endpoint));
    }

    /** True if {@code endpoint} names PostgreSQL or MySQL, so {@link #open(String)} is the store to use. */
    public static boolean accepts(String endpoint) {
        return endpoint != null && Endpoint.accepts(endpoint);
    }

    private JdbcStore(Builder b) {
        this.db = new Database(b.endpoint);
        this.dialect = db.dialect();
        this.watchQueueCapacity = b.watchQueueCapacity;
        this.published = new Published(dialect);
        try {
            db.prepare();
        } catch (SQLException e) {
            throw new StoreException("preparing datastore " + b.endpoint + ": " + e.getMessage(), e);
        }
        this.reads = new ReadPool(db, b.readConnections);
        try {
            reads.read("loading the key index", c -> {
                published.rebuild(c, Log.meta(c, false));
                return null;
            });
        } catch (StoreException e) {
            reads.close();
            throw e;
        }
        this.writer = new Writer(db, published, b.maxBatch);
        this.writerThread = Thread.ofPlatform().name("k3j-jdbc-writer").daemon(true).start(writer);
        this.poller = new Poller(db, reads, published, b.pollInterval);
        this.pollerThread = Thread.ofPlatform().name("k3j-jdbc-poller").daemon(true).unstarted(poller);
        if (b.polling) {
            pollerThread.start();
        }
        LOG.log(System.Logger.Level.INFO, "opened {0} at revision {1} (compacted {2}), {3} keys; readConnections={4}"
                        + " maxBatch={5} watchQueueCapacity={6} pollInterval={7}", db.endpoint(),
                published.revision(), published.compactRevision(), published.keys(), b.readConnections, b.maxBatch,
                b.watchQueueCapacity, b.pollInterval);
    }

    @Override
    public long currentRevision() {
        return published.revision();
    }

    @Override
    public long compactRevision() {
        return published.compactRevision();
    }

    @Override
    public Optional<KeyValue> get(String key) {
        Objects.requireNonNull(key, "key");
        return reads.read("reading " + key, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT id, create_revision, deleted, value FROM k3j_kv"
                    + " WHERE name = ? ORDER BY id DESC LIMIT 1")) {
                dialect.bindName(ps, 1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || rs.getInt(3) != 0) {
                        return Optional.empty();
                    }
                    return Optional.of(new KeyValue(key, Log.bytes(rs.getBytes(4)), rs.getLong(2), rs.getLong(1)));
                }
            }
        });
    }

    /**
     * {@inheritDoc}
     *
     * <p>At revision 0 this reads the newest committed state, including other servers' writes this server has
     * not published yet (a consistent read, as etcd's), and reports that revision.
     */
    @Override
    public RangeResult range(String prefix, String startKey, long revision, int limit) {
        Objects.requireNonNull(prefix, "prefix");
        if (revision < 0) {
            throw new IllegalArgumentException("revision : " + revision + " (expected: >= 0)");
        }
        if (limit < 0) {
            throw new IllegalArgumentException("limit : " + limit + " (expected: >= 0)");
        }
        String end = Log.prefixEnd(prefix);
        String start = startKey == null ? "" : startKey;
        // PostgreSQL text cannot hold NUL, so no key contains one; "k\0..." (the API server's continue key) then
        // bounds exactly like "greater than k".
        int nul = dialect == Dialect.POSTGRES ? start.indexOf('\0') : -1;
        String from = nul < 0 ? start : start.substring(0, nul);
        String fromOp = nul < 0 ? ">=" : ">";
        return reads.read("listing " + prefix, c -> {
            Log.Meta meta = Log.meta(c, false); // in the snapshot the rows are read from
            long at = revision == 0 ? meta.revision() : revision;
            if (at > meta.revision()) {
                throw new FutureRevisionException(at, meta.revision());
            }
            if (at < meta.compactRevision()) {
                throw new CompactedException(at, meta.compactRevision());
            }
            String sql = "SELECT k.name, k.create_revision, k.id, k.value FROM k3j_kv AS k"
                    + " WHERE k.name >= ? AND k.name " + fromOp + " ? AND k.id <= ? AND k.deleted = 0"
                    + " AND k.id = (SELECT MAX(l.id) FROM k3j_kv AS l WHERE l.name = k.name AND l.id <= ?)"
                    + (end == null ? "" : " AND k.name < ?")
                    + " ORDER BY k.name LIMIT ?";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                dialect.bindName(ps, i++, prefix);
                dialect.bindName(ps, i++, from);
                ps.setLong(i++, at);
                ps.setLong(i++, at);
                if (end != null) {
                    dialect.bindName(ps, i++, end);
                }
                ps.setLong(i, limit == 0 ? Integer.MAX_VALUE : limit + 1L);
                List<KeyValue> kvs = new ArrayList<>();
                boolean more = false;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        if (limit != 0 && kvs.size() == limit) {
                            more = true;
                            break;
                        }
                        kvs.add(new KeyValue(dialect.readName(rs, 1), Log.bytes(rs.getBytes(4)), rs.getLong(2),
                                rs.getLong(3)));
                    }
                }
                return new RangeResult(List.copyOf(kvs), at, more);
            }
        });
    }

    /** {@inheritDoc} Counted from this server's index, as of {@link #currentRevision()}. */
    @Override
    public long count(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        return published.count(prefix);
    }

    @Override
    public KeyValue create(String key, byte[] value) {
        Objects.requireNonNull(key, "key");
        byte[] copy = value.clone();
        return submit(done -> new Writer.Create(key, copy, done));
    }

    @Override
    public KeyValue update(String key, byte[] value, long expectedModRevision) {
        Objects.requireNonNull(key, "key");
        byte[] copy = value.clone();
        return submit(done -> new Writer.Update(key, copy, expectedModRevision, done));
    }

    @Override
    public DeleteResult delete(String key, long expectedModRevision) {
        Objects.requireNonNull(key, "key");
        return submit(done -> new Writer.Delete(key, expectedModRevision, done));
    }

    @Override
    public long compact(long revision) {
        return this.<Long>submit(done -> new Writer.Compact(revision, done));
    }

    private <T> T submit(Function<CompletableFuture<T>, Writer.Op> op) {
        CompletableFuture<T> done = new CompletableFuture<>();
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new StoreException("datastore " + db.endpoint() + " is closed");
            }
            writer.submit(op.apply(done));
        } finally {
            lifecycle.readLock().unlock();
        }
        try {
            return done.join(); // once queued the write happens whether we wait or not
        } catch (CompletionException e) {
            if (e.getCause() instanceof StoreException se) {
                throw se;
            }
            throw new StoreException("writing to " + db.endpoint() + ": " + e.getCause(), e.getCause());
        }
    }

    @Override
    public Watch watch(String prefix, long afterRevision, WatchListener listener) {
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(listener, "listener");
        if (afterRevision < 0) {
            throw new IllegalArgumentException("afterRevision : " + afterRevision + " (expected: >= 0)");
        }
        WatchStream w = new WatchStream(prefix, afterRevision, listener, watchQueueCapacity, this::history,
                published::unregister);
        lifecycle.readLock().lock();
        long replayTo;
        try {
            if (closed) {
                throw new StoreException("datastore " + db.endpoint() + " is closed");
            }
            replayTo = published.register(w, afterRevision);
        } finally {
            lifecycle.readLock().unlock();
        }
        w.start(replayTo);
        return w;
    }

    private List<Event> history(String prefix, long after, long upTo, int limit) {
        return reads.read("replaying " + prefix + " after " + after, c -> {
            Log.Meta meta = Log.meta(c, false);
            if (after + 1 < meta.compactRevision()) {
                throw new CompactedException(after + 1, meta.compactRevision());
            }
            return Log.events(c, dialect, prefix, after, upTo, limit);
        });
    }

    /** Lets queued writes finish, stops the writer and the poller, ends every watch and disconnects. */
    @Override
    public void close() {
        CompletableFuture<Void> stopped = new CompletableFuture<>();
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            writer.submit(new Writer.Stop(stopped));
        } finally {
            lifecycle.writeLock().unlock();
        }
        poller.stop();
        stopped.join();
        join(writerThread);
        if (pollerThread.isAlive()) {
            join(pollerThread);
        }
        published.failAll(new StoreException("datastore " + db.endpoint() + " was closed"));
        reads.close();
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "JdbcStore[" + db.endpoint() + " revision=" + published.revision() + "]";
    }
}
