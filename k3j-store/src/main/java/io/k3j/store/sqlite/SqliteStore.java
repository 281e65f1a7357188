package io.k3j.store.sqlite;

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
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

import org.sqlite.SQLiteConfig;

/**
 * The embedded default {@link Store}: one SQLite file holding a kine-like log table (one row per revision).
 *
 * <p>Writes go through a single writer thread with group commit; reads use a small pool of separate
 * connections, which WAL mode lets run beside the writer without either waiting. The newest revision of
 * every live key is kept in memory (rebuilt on open) for precondition checks and {@link #count}.
 *
 * <p>Open with {@link #open(Path)} or {@link #builder(Path)}.
 */
public final class SqliteStore implements Store {
    private static final System.Logger LOG = System.getLogger(SqliteStore.class.getName());

    /** Options of a {@link SqliteStore}; immutable once opened. */
    public static final class Builder {
        private final Path dbFile;
        private int readConnections = 4;
        private int maxBatch = 1000;
        private int watchQueueCapacity = 10_000;
        private boolean fsyncEachCommit;

        private Builder(Path dbFile) {
            this.dbFile = Objects.requireNonNull(dbFile, "dbFile");
        }

        /** Read connections in the pool (default 4). */
        public Builder readConnections(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("readConnections : " + n + " (expected: >= 1)");
            }
            this.readConnections = n;
            return this;
        }

        /** Most writes committed in one transaction (default 1000). */
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
         * Whether every commit is fsync'ed (synchronous=FULL), so acknowledged writes also survive a power
         * loss or OS crash, at the cost of one fsync per batch. Default false: see {@link SqliteStore#open}.
         */
        public Builder fsyncEachCommit(boolean on) {
            this.fsyncEachCommit = on;
            return this;
        }

        /**
         * Opens (creating if needed) the database.
         *
         * @throws StoreException if the file cannot be opened or read
         */
        public SqliteStore open() {
            return new SqliteStore(this);
        }
    }

    private final Path dbFile;
    private final FileLock ownership;
    private final String url;
    private final int watchQueueCapacity;
    private final ReadPool reads;
    private final WriteLoop writer;
    private final Thread writerThread;
    private final ConcurrentNavigableMap<String, WriteLoop.Latest> index = new ConcurrentSkipListMap<>();

    /** Guards publication of revisions and the watch list, so a new watch sees each event exactly once. */
    private final ReentrantLock publishLock = new ReentrantLock();
    private final List<WatchStream> watches = new ArrayList<>();
    private volatile long currentRevision;
    private volatile long compactRevision;

    /** Submitters hold it shared; close() exclusively, so nothing is queued after the writer's Stop. */
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    /**
     * Opens (creating if needed) the database at {@code dbFile} with default options.
     *
     * <p>Durability: the journal is a write-ahead log with synchronous=NORMAL. A commit then appends its
     * frames to the WAL with write(2) before the call returns, without fsync. Those bytes are in the
     * kernel's page cache the moment write returns, so they survive the death of the JVM ({@code kill -9},
     * OOM) — the failure this store promises to survive — and reach the disk with the next checkpoint. What
     * NORMAL gives up is durability of the last commits across an OS crash or power loss (the database
     * stays consistent either way); {@link Builder#fsyncEachCommit} buys that with one fsync per batch.
     *
     * <p>A lock file beside the database ({@code <dbFile>.lock}) keeps a second store, in this process or
     * another, from opening it: a second writer would make SQLite answer "database is locked".
     *
     * @throws StoreException if the file cannot be opened or read, or another store has it open
     */
    public static SqliteStore open(Path dbFile) {
        return builder(dbFile).open();
    }

    /** Options for opening the database at {@code dbFile}. */
    public static Builder builder(Path dbFile) {
        return new Builder(dbFile);
    }

    private SqliteStore(Builder b) {
        this.dbFile = b.dbFile.toAbsolutePath();
        this.url = "jdbc:sqlite:" + dbFile;
        this.watchQueueCapacity = b.watchQueueCapacity;
        Connection conn = null;
        FileLock lock = null;
        try {
            Path parent = dbFile.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            lock = lockOwnership(dbFile);
            if (parent != null) NativeLibrary.useCopyIn(parent.resolve("native"));
            SQLiteConfig config = new SQLiteConfig();
            config.setJournalMode(SQLiteConfig.JournalMode.WAL);
            // NORMAL: a commit is written to the WAL (survives kill -9) but not fsync'ed (would not survive
            // power loss); see open(Path) for the reasoning.
            config.setSynchronous(b.fsyncEachCommit
                    ? SQLiteConfig.SynchronousMode.FULL : SQLiteConfig.SynchronousMode.NORMAL);
            config.setBusyTimeout(10_000);
            conn = DriverManager.getConnection(url, config.toProperties());
            conn.setAutoCommit(false);
            LogTable.create(conn);
            conn.commit();
            long compact = LogTable.compactRevision(conn);
            long maxId;
            try (Statement s = conn.createStatement();
                 ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(id), 0) FROM kv")) {
                rs.next();
                maxId = rs.getLong(1);
            }
            // SQLite takes the bare columns of a MAX() aggregate from the row holding the maximum.
            try (Statement s = conn.createStatement();
                 ResultSet rs = s.executeQuery(
                         "SELECT name, MAX(id), create_revision, deleted FROM kv GROUP BY name")) {
                while (rs.next()) {
                    if (rs.getInt(4) == 0) {
                        index.put(rs.getString(1), new WriteLoop.Latest(rs.getLong(3), rs.getLong(2)));
                    }
                }
            }
            conn.commit();
            this.currentRevision = Math.max(maxId, compact);
            this.compactRevision = compact;
            this.writer = new WriteLoop(conn, dbFile.toString(), index, currentRevision, compact, new Publisher(),
                    b.maxBatch);
        } catch (Exception e) {
            release(lock);
            if (conn != null) {
                try {
                    conn.close();
                } catch (SQLException ignored) {
                    // reporting the failure to open
                }
            }
            throw new StoreException("opening SQLite store " + dbFile + ": " + e.getMessage(), e);
        }
        this.ownership = lock;
        this.reads = new ReadPool(b.readConnections, this::openReader);
        this.writerThread = Thread.ofPlatform().name("k3j-sqlite-writer").daemon(true).start(writer);
        LOG.log(System.Logger.Level.DEBUG, "opened {0} at revision {1} (compacted {2}), {3} keys, "
                        + "readConnections={4} maxBatch={5} watchQueueCapacity={6} fsyncEachCommit={7}",
                dbFile, currentRevision, compactRevision, index.size(), b.readConnections, b.maxBatch,
                b.watchQueueCapacity, b.fsyncEachCommit);
    }

    /** Locks {@code <db>.lock}; the OS drops the lock when the process dies, so a crash leaves none behind. */
    private static FileLock lockOwnership(Path db) throws IOException {
        Path lockFile = db.resolveSibling(db.getFileName() + ".lock");
        FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            channel.close();
            throw new StoreException("another store has " + db + " open (lock " + lockFile + ")");
        }
        return lock;
    }

    private static void release(FileLock lock) {
        if (lock != null) {
            try {
                lock.channel().close(); // releases the lock
            } catch (IOException ignored) {
                // the lock goes with the process anyway
            }
        }
    }

    private Connection openReader() throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(10_000);
        Connection c = DriverManager.getConnection(url, config.toProperties());
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA query_only = 1");
        }
        return c;
    }

    /** The database file. */
    public Path file() {
        return dbFile;
    }

    @Override
    public long currentRevision() {
        return currentRevision;
    }

    @Override
    public long compactRevision() {
        return compactRevision;
    }

    @Override
    public Optional<KeyValue> get(String key) {
        Objects.requireNonNull(key, "key");
        return reads.read("reading " + key, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id, create_revision, deleted, value FROM kv WHERE name = ? ORDER BY id DESC LIMIT 1")) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || rs.getInt(3) != 0) {
                        return Optional.empty();
                    }
                    return Optional.of(new KeyValue(key, LogTable.bytes(rs.getBytes(4)), rs.getLong(2), rs.getLong(1)));
                }
            }
        });
    }

    @Override
    public RangeResult range(String prefix, String startKey, long revision, int limit) {
        Objects.requireNonNull(prefix, "prefix");
        if (revision < 0) {
            throw new IllegalArgumentException("revision : " + revision + " (expected: >= 0)");
        }
        if (limit < 0) {
            throw new IllegalArgumentException("limit : " + limit + " (expected: >= 0)");
        }
        long current = currentRevision;
        long at = revision == 0 ? current : revision;
        if (at > current) {
            throw new FutureRevisionException(at, current);
        }
        String end = LogTable.prefixEnd(prefix);
        String from = startKey == null ? "" : startKey;
        return reads.read("listing " + prefix, c -> {
            long compact = LogTable.compactRevision(c); // in the same snapshot as the rows read below
            if (at < compact) {
                throw new CompactedException(at, compact);
            }
            String sql = """
                    SELECT k.name, k.create_revision, k.id, k.value FROM kv AS k
                    WHERE k.name >= ? AND k.name >= ? AND k.id <= ? AND k.deleted = 0
                      AND k.id = (SELECT MAX(l.id) FROM kv AS l WHERE l.name = k.name AND l.id <= ?)"""
                    + (end == null ? "" : " AND k.name < ?")
                    + " ORDER BY k.name LIMIT ?";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                ps.setString(i++, prefix);
                ps.setString(i++, from);
                ps.setLong(i++, at);
                ps.setLong(i++, at);
                if (end != null) {
                    ps.setString(i++, end);
                }
                ps.setLong(i, limit == 0 ? -1 : limit + 1L);
                List<KeyValue> kvs = new ArrayList<>();
                boolean more = false;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        if (limit != 0 && kvs.size() == limit) {
                            more = true;
                            break;
                        }
                        kvs.add(new KeyValue(rs.getString(1), LogTable.bytes(rs.getBytes(4)), rs.getLong(2),
                                rs.getLong(3)));
                    }
                }
                return new RangeResult(List.copyOf(kvs), at, more);
            }
        });
    }

    @Override
    public long count(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        long n = 0;
        for (String key : index.tailMap(prefix).keySet()) {
            if (!key.startsWith(prefix)) {
                break;
            }
            n++;
        }
        return n;
    }

    @Override
    public KeyValue create(String key, byte[] value) {
        Objects.requireNonNull(key, "key");
        byte[] copy = value.clone();
        return submit(done -> new WriteLoop.Create(key, copy, done));
    }

    @Override
    public KeyValue update(String key, byte[] value, long expectedModRevision) {
        Objects.requireNonNull(key, "key");
        byte[] copy = value.clone();
        return submit(done -> new WriteLoop.Update(key, copy, expectedModRevision, done));
    }

    @Override
    public DeleteResult delete(String key, long expectedModRevision) {
        Objects.requireNonNull(key, "key");
        return submit(done -> new WriteLoop.Delete(key, expectedModRevision, done));
    }

    @Override
    public long compact(long revision) {
        return this.<Long>submit(done -> new WriteLoop.Compact(revision, done));
    }

    private <T> T submit(Function<CompletableFuture<T>, WriteLoop.Op> op) {
        CompletableFuture<T> done = new CompletableFuture<>();
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new StoreException("SQLite store " + dbFile + " is closed");
            }
            writer.submit(op.apply(done));
        } finally {
            lifecycle.readLock().unlock();
        }
        try {
            return done.join(); // not interruptible: once queued, the write happens whether we wait or not
        } catch (CompletionException e) {
            if (e.getCause() instanceof StoreException se) {
                throw se;
            }
            throw new StoreException("writing to " + dbFile + ": " + e.getCause(), e.getCause());
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
                this::unregister);
        long replayTo;
        publishLock.lock();
        try {
            if (isClosed()) {
                throw new StoreException("SQLite store " + dbFile + " is closed");
            }
            if (afterRevision + 1 < compactRevision) {
                throw new CompactedException(afterRevision + 1, compactRevision);
            }
            replayTo = currentRevision;
            watches.add(w);
        } finally {
            publishLock.unlock();
        }
        w.start(replayTo);
        return w;
    }

    private boolean isClosed() {
        lifecycle.readLock().lock();
        try {
            return closed;
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private void unregister(WatchStream w) {
        publishLock.lock();
        try {
            watches.remove(w);
        } finally {
            publishLock.unlock();
        }
    }

    /** Events of rows in (after, upTo] under {@code prefix}, oldest first, at most {@code limit}. */
    private List<Event> history(String prefix, long after, long upTo, int limit) {
        String end = LogTable.prefixEnd(prefix);
        return reads.read("replaying " + prefix + " after " + after, c -> {
            long compact = LogTable.compactRevision(c);
            if (after + 1 < compact) {
                throw new CompactedException(after + 1, compact);
            }
            String sql = "SELECT " + LogTable.COLUMNS + " FROM kv WHERE id > ? AND id <= ? AND name >= ?"
                    + (end == null ? "" : " AND name < ?") + " ORDER BY id LIMIT ?";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                ps.setLong(i++, after);
                ps.setLong(i++, upTo);
                ps.setString(i++, prefix);
                if (end != null) {
                    ps.setString(i++, end);
                }
                ps.setInt(i, limit);
                List<Event> events = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        events.add(LogTable.event(rs));
                    }
                }
                return events;
            }
        });
    }

    private final class Publisher implements WriteLoop.Publisher {
        @Override
        public void published(long revision, List<Event> events) {
            publishLock.lock();
            try {
                currentRevision = revision;
                for (WatchStream w : watches) {
                    w.offer(events);
                }
            } finally {
                publishLock.unlock();
            }
        }

        @Override
        public void compacted(long revision) {
            compactRevision = revision;
        }
    }

    /** Lets queued writes finish, stops the writer, ends every watch with an error and closes the file. */
    @Override
    public void close() {
        CompletableFuture<Void> stopped = new CompletableFuture<>();
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            writer.submit(new WriteLoop.Stop(stopped));
        } finally {
            lifecycle.writeLock().unlock();
        }
        StoreException failure = null;
        try {
            stopped.join();
        } catch (CompletionException e) {
            failure = e.getCause() instanceof StoreException se ? se
                    : new StoreException("closing " + dbFile + ": " + e.getCause(), e.getCause());
        }
        List<WatchStream> open;
        publishLock.lock();
        try {
            open = List.copyOf(watches);
        } finally {
            publishLock.unlock();
        }
        StoreException ended = new StoreException("SQLite store " + dbFile + " was closed");
        open.forEach(w -> w.fail(ended));
        reads.close();
        try {
            writerThread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        release(ownership);
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "SqliteStore[" + dbFile + " revision=" + currentRevision + "]";
    }
}
