package io.k3j.store.jdbc;

import io.k3j.store.CompactedException;
import io.k3j.store.Event;

import io.k3j.store.backend.WatchStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What this server knows of the log: every revision up to {@link #revision()}, applied in order to the index of
 * latest rows and handed to the watches. Three sources feed it — this server's writer after each commit, the
 * writer's catch-up inside each write transaction, and the poller — each with a contiguous run of revisions
 * starting at or below what is already known; revisions already known are skipped, so whichever source comes
 * first wins and no watch sees a gap or a repeat.
 */
final class Published {
    private static final System.Logger LOG = System.getLogger(Published.class.getName());
    private static final int PAGE = 5000;

    private final Dialect dialect;
    private final ConcurrentNavigableMap<String, Log.Latest> index = new ConcurrentSkipListMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final List<WatchStream> watches = new ArrayList<>();
    private volatile long revision;
    private volatile long compactRevision;

    Published(Dialect dialect) {
        this.dialect = dialect;
    }

    long revision() {
        return revision;
    }

    long compactRevision() {
        return compactRevision;
    }

    /** The latest row of {@code key} as far as this server knows, tombstones included. */
    Log.Latest latest(String key) {
        return index.get(key);
    }

    long count(String prefix) {
        long n = 0;
        for (Map.Entry<String, Log.Latest> e : index.tailMap(prefix).entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                break;
            }
            if (!e.getValue().deleted()) {
                n++;
            }
        }
        return n;
    }

    /**
     * Applies committed events covering the revisions from at most {@link #revision()} up to {@code upTo}, in
     * order, and offers them to the watches.
     */
    void publish(List<Event> events, long upTo) {
        lock.lock();
        try {
            long known = revision;
            List<Event> fresh = events;
            if (!events.isEmpty() && events.getFirst().revision() <= known) {
                fresh = events.stream().filter(e -> e.revision() > known).toList();
            }
            for (Event e : fresh) {
                boolean deleted = e.type() == Event.Type.DELETE;
                index.put(e.kv().key(), new Log.Latest(e.kv().createRevision(), e.revision(), deleted));
            }
            if (!fresh.isEmpty()) {
                for (WatchStream w : watches) {
                    w.offer(fresh);
                }
            }
            if (upTo > known) {
                revision = upTo;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Notes a compaction: tombstones below it name rows that are gone, so they are dropped. */
    void compacted(long r) {
        if (r <= compactRevision) {
            return;
        }
        lock.lock();
        try {
            if (r > compactRevision) {
                compactRevision = r;
                index.values().removeIf(l -> l.deleted() && l.modRevision() < r);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Brings this server up to {@code meta}, reading what it has not seen through {@code c} (whose snapshot
     * or lock must cover {@code meta}). When another server compacted past what this one knows, rows it never
     * saw may be gone: the index is rebuilt from the table and every watch ends with a CompactedException, so
     * its client re-lists, as etcd clients do after a compaction they fell behind.
     */
    void catchUp(Connection c, Log.Meta meta) throws SQLException {
        long known = revision;
        if (meta.revision() > known) {
            if (meta.compactRevision() > known + 1) {
                rebuild(c, meta);
                return;
            }
            long from = known;
            while (from < meta.revision()) {
                List<Event> page = Log.events(c, dialect, "", from, meta.revision(), PAGE);
                long upTo = page.size() < PAGE ? meta.revision() : page.getLast().revision();
                publish(page, upTo);
                from = upTo;
            }
        }
        compacted(meta.compactRevision());
    }

    /** Replaces the index with the latest rows at or below {@code meta.revision()}. */
    void rebuild(Connection c, Log.Meta meta) throws SQLException {
        Map<String, Log.Latest> latest = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT k.name, k.id, k.create_revision, k.deleted FROM k3j_kv AS k
                JOIN (SELECT name, MAX(id) AS id FROM k3j_kv WHERE id <= ? GROUP BY name) AS m ON m.id = k.id""")) {
            ps.setLong(1, meta.revision());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    latest.put(dialect.readName(rs, 1),
                            new Log.Latest(rs.getLong(3), rs.getLong(2), rs.getInt(4) != 0));
                }
            }
        }
        lock.lock();
        try {
            long known = revision;
            if (known > 0) {
                LOG.log(System.Logger.Level.WARNING, "history after revision {0} was compacted (at {1}) before "
                        + "this server read it; rebuilt the key index at {2} and ended the watches", known,
                        meta.compactRevision(), meta.revision());
            }
            index.clear();
            index.putAll(latest);
            revision = meta.revision();
            compactRevision = meta.compactRevision();
            CompactedException gone = new CompactedException(known + 1, meta.compactRevision());
            List.copyOf(watches).forEach(w -> w.fail(gone));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Registers a watch unless {@code after + 1} is compacted.
     *
     * @return the revision the watch must replay up to; later ones it receives live
     */
    long register(WatchStream w, long after) {
        lock.lock();
        try {
            if (after + 1 < compactRevision) {
                throw new CompactedException(after + 1, compactRevision);
            }
            watches.add(w);
            return revision;
        } finally {
            lock.unlock();
        }
    }

    void unregister(WatchStream w) {
        lock.lock();
        try {
            watches.remove(w);
        } finally {
            lock.unlock();
        }
    }

    void failAll(Throwable error) {
        List<WatchStream> open;
        lock.lock();
        try {
            open = List.copyOf(watches);
        } finally {
            lock.unlock();
        }
        open.forEach(w -> w.fail(error));
    }

    int keys() {
        return index.size();
    }
}
