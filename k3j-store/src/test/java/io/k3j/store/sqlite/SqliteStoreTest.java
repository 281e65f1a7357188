package io.k3j.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3j.store.Event;
import io.k3j.store.KeyValue;
import io.k3j.store.RangeResult;
import io.k3j.store.Store;
import io.k3j.store.StoreConformanceTest;
import io.k3j.store.StoreException;
import io.k3j.store.Watch;
import io.k3j.store.WatchListener;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SqliteStoreTest extends StoreConformanceTest {

    @Override
    protected Store openStore(Path dir) {
        return SqliteStore.open(dir.resolve("state.db"));
    }

    private long query(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("state.db"));
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    @DisplayName("the database is in WAL mode")
    void walMode() throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("state.db"));
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("wal");
        }
    }

    @Test
    @DisplayName("a second store cannot open the same file while the first has it open")
    void exclusive() {
        assertThatThrownBy(() -> SqliteStore.open(dir.resolve("state.db")))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("another store");
        store.close();
        SqliteStore.open(dir.resolve("state.db")).close();
    }

    @Test
    @DisplayName("a reader holding a snapshot open neither blocks writes nor sees them")
    void readersDoNotBlockWriter() throws SQLException {
        store.create("/a", b("1"));
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("state.db"))) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                assertThat(count(s)).isEqualTo(1); // the snapshot starts here
                for (int i = 0; i < 100; i++) {
                    store.create("/k" + i, b("x"));
                }
                assertThat(count(s)).isEqualTo(1);
            }
            c.rollback();
        }
        assertThat(store.count("")).isEqualTo(101);
    }

    private static long count(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM kv")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    @DisplayName("the log has one row per revision, and compaction removes superseded rows and old deletions")
    void logRows() throws SQLException {
        KeyValue a = store.create("/a", b("1"));
        a = store.update("/a", b("2"), a.modRevision());
        store.create("/b", b("1"));
        store.delete("/b", 0);
        store.create("/c", b("1"));
        assertThat(query("SELECT COUNT(*) FROM kv")).isEqualTo(5);
        assertThat(query("SELECT MAX(id) FROM kv")).isEqualTo(store.currentRevision());

        store.compact(store.currentRevision());
        // left: /a at 2 (live), /c at 5 (live); gone: /a at 1, /b at 3 and its deletion at 4
        assertThat(query("SELECT COUNT(*) FROM kv")).isEqualTo(2);
        assertThat(query("SELECT value FROM meta WHERE name = 'compact_revision'")).isEqualTo(5);
        assertThat(valueOf("/a")).contains("2");
    }

    @Test
    @DisplayName("writes from one batch are each checked against the writes before them, and committed once")
    void groupCommitPreconditions() throws Exception {
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("batch.db"))) {
            conn.setAutoCommit(false);
            LogTable.create(conn);
            conn.commit();
            List<Long> commits = new ArrayList<>();
            List<Event> published = new ArrayList<>();
            WriteLoop loop = new WriteLoop(conn, "batch.db", new java.util.concurrent.ConcurrentSkipListMap<>(), 0, 0,
                    new WriteLoop.Publisher() {
                        @Override
                        public void published(long revision, List<Event> events) {
                            commits.add(revision);
                            published.addAll(events);
                        }

                        @Override
                        public void compacted(long compactRevision) {}
                    }, 100);
            var c1 = new java.util.concurrent.CompletableFuture<KeyValue>();
            var c2 = new java.util.concurrent.CompletableFuture<KeyValue>();
            var u1 = new java.util.concurrent.CompletableFuture<KeyValue>();
            var u2 = new java.util.concurrent.CompletableFuture<KeyValue>();
            var d1 = new java.util.concurrent.CompletableFuture<io.k3j.store.DeleteResult>();
            var c3 = new java.util.concurrent.CompletableFuture<KeyValue>();
            var stop = new java.util.concurrent.CompletableFuture<Void>();
            // all queued before the loop runs, so they form one batch
            loop.submit(new WriteLoop.Create("/a", b("1"), c1));
            loop.submit(new WriteLoop.Create("/a", b("dup"), c2));
            loop.submit(new WriteLoop.Update("/a", b("2"), 1, u1));
            loop.submit(new WriteLoop.Update("/a", b("stale"), 1, u2));
            loop.submit(new WriteLoop.Delete("/a", 2, d1));
            loop.submit(new WriteLoop.Create("/a", b("3"), c3));
            loop.submit(new WriteLoop.Stop(stop));
            loop.run();

            assertThat(c1.join().modRevision()).isEqualTo(1);
            assertThat(c2).isCompletedExceptionally();
            assertThat(u1.join().modRevision()).isEqualTo(2);
            assertThat(u2).isCompletedExceptionally();
            assertThat(d1.join().revision()).isEqualTo(3);
            assertThat(s(d1.join().previous().value())).isEqualTo("2");
            assertThat(c3.join().createRevision()).isEqualTo(4);
            assertThat(stop).isCompleted();
            assertThat(commits).containsExactly(4L);
            assertThat(published).extracting(Event::revision).containsExactly(1L, 2L, 3L, 4L);
        }
    }

    @Test
    @DisplayName("a watcher that falls too far behind is ended with an error and never blocks the writer")
    void slowWatcher() throws Exception {
        store.close();
        store = SqliteStore.builder(dir.resolve("slow.db")).watchQueueCapacity(10).open();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch inListener = new CountDownLatch(1);
        AtomicInteger delivered = new AtomicInteger();
        CountDownLatch errored = new CountDownLatch(1);
        Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Watch w = store.watch("", 0, new WatchListener() {
            @Override
            public void onEvents(List<Event> events) {
                delivered.addAndGet(events.size());
                inListener.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void onError(Throwable t) {
                errors.add(t);
                errored.countDown();
            }
        });
        store.create("/first", b("x"));
        assertThat(inListener.await(10, TimeUnit.SECONDS)).isTrue();
        for (int i = 0; i < 50; i++) {
            store.create("/k" + i, b("x")); // would hang here if the writer waited for the listener
        }
        release.countDown();
        assertThat(errored.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(errors).singleElement().isInstanceOf(StoreException.class);
        assertThat(errors.peek()).hasMessageContaining("fell behind");
        assertThat(delivered.get()).isEqualTo(1);
        w.close();
    }

    @Test
    @DisplayName("a listener that throws ends its watch with that exception")
    void throwingListener() throws Exception {
        RuntimeException boom = new IllegalStateException("boom");
        CountDownLatch errored = new CountDownLatch(1);
        Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicInteger calls = new AtomicInteger();
        store.watch("", 0, new WatchListener() {
            @Override
            public void onEvents(List<Event> events) {
                calls.incrementAndGet();
                throw boom;
            }

            @Override
            public void onError(Throwable t) {
                errors.add(t);
                errored.countDown();
            }
        });
        store.create("/a", b("1"));
        assertThat(errored.await(10, TimeUnit.SECONDS)).isTrue();
        store.create("/b", b("1"));
        Thread.sleep(100);
        assertThat(errors).containsExactly(boom);
        assertThat(calls.get()).isEqualTo(1);
    }

    @Test
    @DisplayName("32 writers and concurrent readers: no 'database is locked', and creates are fast")
    void throughput() throws Exception {
        int threads = 32;
        int total = 10_000;
        byte[] value = new byte[1024];
        Arrays.fill(value, (byte) 'v');
        AtomicInteger next = new AtomicInteger();
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger reads = new AtomicInteger();
        Thread reader = Thread.ofPlatform().start(() -> {
            while (writing.get()) {
                try {
                    RangeResult r = store.range("/bench/", null, 0, 100);
                    assertThat(r.kvs().size()).isLessThanOrEqualTo(100);
                    reads.incrementAndGet();
                } catch (Throwable t) {
                    failures.add(t);
                }
            }
        });
        List<Thread> writers = new ArrayList<>();
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            writers.add(Thread.ofPlatform().start(() -> {
                int i;
                while ((i = next.getAndIncrement()) < total) {
                    try {
                        store.create("/bench/" + i, value);
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }
            }));
        }
        for (Thread t : writers) {
            t.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        writing.set(false);
        reader.join();
        double perSecond = total / seconds;
        System.out.printf("SqliteStore: %d creates of 1 KiB from %d threads in %.2f s = %.0f/s (%d concurrent ranges)%n",
                total, threads, seconds, perSecond, reads.get());
        assertThat(failures).isEmpty();
        assertThat(store.count("/bench/")).isEqualTo(total);
        assertThat(store.currentRevision()).isEqualTo(total);
        assertThat(perSecond).as("creates per second").isGreaterThan(500);
    }
}
