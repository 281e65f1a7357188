package io.k3j.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3j.store.CompactedException;
import io.k3j.store.Event;
import io.k3j.store.KeyValue;
import io.k3j.store.RevisionConflictException;
import io.k3j.store.Store;
import io.k3j.store.StoreConformanceTest;
import io.k3j.store.Watch;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The conformance suite plus what only a shared SQL database adds: several servers (stores) writing to one
 * database. Each test directory maps to its own database, created by the store on first open.
 */
abstract class JdbcStoreTest extends StoreConformanceTest {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static final Map<Path, String> NAMES = new ConcurrentHashMap<>();

    /** The endpoint of {@code database} on the test's server. */
    protected abstract String endpoint(String database);

    /** Restarts the database server, cutting every connection. */
    protected abstract void restartDatabase() throws Exception;

    protected String database() {
        return NAMES.computeIfAbsent(dir, d -> "k3j_test_" + DATABASES.incrementAndGet());
    }

    @Override
    protected Store openStore(Path dir) {
        String db = NAMES.computeIfAbsent(dir, d -> "k3j_test_" + DATABASES.incrementAndGet());
        return JdbcStore.open(endpoint(db));
    }

    /** A second server on the same database. */
    protected JdbcStore second() {
        return JdbcStore.builder(endpoint(database())).pollInterval(Duration.ofMillis(100)).open();
    }

    @Test
    @DisplayName("two servers writing to one database: each watch sees every revision of both, in order, without gaps")
    void twoServersWatchEachOther() throws Exception {
        try (JdbcStore other = second()) {
            Recorder onFirst = new Recorder();
            Recorder onSecond = new Recorder();
            int each = 150;
            try (Watch w1 = store.watch("/", 0, onFirst); Watch w2 = other.watch("/", 0, onSecond)) {
                List<Thread> writers = new ArrayList<>();
                for (Store s : List.of(store, other, store, other)) {
                    int n = writers.size();
                    writers.add(Thread.ofPlatform().start(() -> {
                        for (int i = 0; i < each; i++) {
                            s.create("/w/" + n + "/" + i, b("v" + i));
                        }
                    }));
                }
                for (Thread t : writers) {
                    t.join();
                }
                int total = 4 * each;
                List<Event> first = onFirst.take(total);
                List<Event> second = onSecond.take(total);
                long[] expected = LongStream.rangeClosed(1, total).toArray();
                assertThat(first).extracting(Event::revision).containsExactly(box(expected));
                assertThat(second).extracting(Event::revision).containsExactly(box(expected));
                assertThat(first).extracting(StoreConformanceTest::describe)
                        .containsExactlyElementsOf(second.stream().map(StoreConformanceTest::describe).toList());
                onFirst.assertQuiet(Duration.ofMillis(300));
            }
            assertThat(store.count("/w/")).isEqualTo(4L * each);
            assertThat(other.count("/w/")).isEqualTo(4L * each);
        }
    }

    private static Long[] box(long[] a) {
        return LongStream.of(a).boxed().toArray(Long[]::new);
    }

    @Test
    @DisplayName("two servers: a precondition is checked against the other server's writes")
    void preconditionsAcrossServers() {
        try (JdbcStore other = second()) {
            KeyValue a = store.create("/a", b("1"));
            KeyValue a2 = other.update("/a", b("2"), a.modRevision());
            assertThatThrownBy(() -> store.update("/a", b("3"), a.modRevision()))
                    .isInstanceOfSatisfying(RevisionConflictException.class,
                            e -> assertThat(describe(e.current())).isEqualTo(describe(a2)));
            assertThatThrownBy(() -> other.create("/a", b("x"))).isInstanceOf(io.k3j.store.KeyExistsException.class);
            other.delete("/a", a2.modRevision());
            KeyValue again = store.create("/a", b("again"));
            assertThat(again.modRevision()).isEqualTo(a2.modRevision() + 2);
            assertThat(s(other.get("/a").orElseThrow().value())).isEqualTo("again");
        }
    }

    @Test
    @DisplayName("two servers: a compaction by one is in force on the other, and a fresh list sees the other's writes")
    void compactionAcrossServers() throws Exception {
        try (JdbcStore other = second()) {
            KeyValue a = store.create("/a", b("1"));
            KeyValue a2 = store.update("/a", b("2"), a.modRevision());
            long r = store.update("/a", b("3"), a2.modRevision()).modRevision();
            assertThat(other.compact(r)).isEqualTo(r);
            assertThatThrownBy(() -> store.range("", null, r - 1, 0)).isInstanceOf(CompactedException.class);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (store.compactRevision() != r && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(store.compactRevision()).isEqualTo(r);
            assertThatThrownBy(() -> store.watch("", r - 2, new Recorder())).isInstanceOf(CompactedException.class);

            KeyValue b = other.create("/b", b("from other"));
            // a list at "now" is a consistent read of the database, not of what this server has polled so far
            assertThat(keys(store.range("", null, 0, 0))).containsExactly("/a", "/b");
            assertThat(store.range("", null, 0, 0).revision()).isGreaterThanOrEqualTo(b.modRevision());
        }
    }

    @Test
    @DisplayName("a server that missed history another compacted away rebuilds its key index and ends its watches")
    void fellBehindCompaction() throws Exception {
        try (JdbcStore behind = JdbcStore.builder(endpoint(database())).withoutPoller().open()) {
            Recorder rec = new Recorder();
            behind.watch("/", 0, rec);
            KeyValue a = store.create("/a", b("1"));
            store.delete("/a", a.modRevision());
            store.create("/b", b("1"));
            long r = store.currentRevision();
            store.compact(r);
            assertThat(behind.currentRevision()).isZero();

            KeyValue c = behind.create("/c", b("1")); // its write transaction catches up first
            assertThat(c.modRevision()).isEqualTo(r + 1);
            assertThat(rec.awaitError()).isInstanceOf(CompactedException.class);
            assertThat(behind.count("/")).isEqualTo(2);
            assertThat(behind.create("/a", b("again")).createRevision()).isEqualTo(r + 2);
            assertThat(keys(behind.range("/", null, 0, 0))).containsExactly("/a", "/b", "/c");
        }
    }

    @Test
    @DisplayName("a database restart: acknowledged writes are kept, and reads, writes and watches carry on")
    void databaseRestart() throws Exception {
        KeyValue a = store.create("/a", b("1"));
        store.get("/a"); // leaves idle reading connections in the pool, to be cut by the restart
        Recorder rec = new Recorder();
        try (Watch w = store.watch("/", a.modRevision(), rec)) {
            restartDatabase();
            assertThat(s(store.get("/a").orElseThrow().value())).isEqualTo("1");
            KeyValue a2 = store.update("/a", b("2"), a.modRevision());
            assertThat(a2.modRevision()).isEqualTo(a.modRevision() + 1);
            assertThat(describe(rec.takeOne().kv())).isEqualTo(describe(a2));
            try (JdbcStore other = second()) {
                assertThat(describe(other.get("/a").orElseThrow())).isEqualTo(describe(a2));
                KeyValue b = other.create("/b", b("from other"));
                assertThat(describe(rec.takeOne().kv())).isEqualTo(describe(b)); // found by the poller
            }
        }
    }
}
