package io.k3j.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract every {@link Store} backend must meet: the etcd data model as kine offers it to k3s. A
 * backend's test extends this class and says how to open a store kept in a directory.
 */
public abstract class StoreConformanceTest {

    /** How long a test waits for an event that should come; never reached when the store is correct. */
    protected static final Duration WAIT = Duration.ofSeconds(10);

    /**
     * Opens the store kept in {@code dir}. Opening the same directory again (after closing) must reach the
     * same data; a fresh directory holds an empty store.
     */
    protected abstract Store openStore(Path dir);

    @TempDir
    protected Path dir;

    protected Store store;

    @BeforeEach
    void openTheStore() {
        store = openStore(dir);
    }

    @AfterEach
    void closeTheStore() {
        store.close();
    }

    /** Closes the store and opens it again from the same directory. */
    protected Store reopen() {
        store.close();
        store = openStore(dir);
        return store;
    }

    protected static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    protected static String s(byte[] b) {
        return new String(b, UTF_8);
    }

    protected static List<String> keys(RangeResult r) {
        return r.kvs().stream().map(KeyValue::key).toList();
    }

    protected static List<String> values(RangeResult r) {
        return r.kvs().stream().map(kv -> s(kv.value())).toList();
    }

    /** Events as comparable text: type, key, value, revisions, and the previous key/value. */
    protected static String describe(Event e) {
        return e.type() + " " + describe(e.kv()) + " prev=" + (e.prevKv() == null ? "-" : describe(e.prevKv()));
    }

    protected static String describe(KeyValue kv) {
        return kv.key() + "=" + s(kv.value()) + "@" + kv.createRevision() + "/" + kv.modRevision();
    }

    /** Records a watch's events, and checks the listener is never called concurrently or out of order. */
    protected static final class Recorder implements WatchListener {
        private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
        private final AtomicInteger inFlight = new AtomicInteger();
        private final AtomicReference<String> violation = new AtomicReference<>();
        private final CountDownLatch ended = new CountDownLatch(1);
        private volatile Throwable error;
        private long lastRevision;

        /** Public, so backend tests in other packages can record watches of their own. */
        public Recorder() {
        }

        @Override
        public void onEvents(List<Event> batch) {
            if (inFlight.incrementAndGet() != 1) {
                violation.compareAndSet(null, "listener called concurrently");
            }
            if (batch.isEmpty()) {
                violation.compareAndSet(null, "listener called without events");
            }
            for (Event e : batch) {
                if (e.revision() <= lastRevision) {
                    violation.compareAndSet(null, "revision " + e.revision() + " after " + lastRevision);
                }
                lastRevision = e.revision();
            }
            events.addAll(batch);
            inFlight.decrementAndGet();
        }

        @Override
        public void onError(Throwable t) {
            error = t;
            ended.countDown();
        }

        /** The next {@code n} events; fails if they don't come within {@link #WAIT}. */
        public List<Event> take(int n) {
            List<Event> got = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            try {
                while (got.size() < n) {
                    Event e = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                    if (e == null) {
                        fail("expected " + n + " events, got " + got.size() + ", the last: "
                                + got.subList(Math.max(0, got.size() - 5), got.size()) + " (error " + error + ")");
                    }
                    got.add(e);
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            assertThat(violation.get()).as("listener contract").isNull();
            return got;
        }

        public Event takeOne() {
            return take(1).getFirst();
        }

        /** Asserts nothing more arrives within {@code d}. */
        public void assertQuiet(Duration d) throws InterruptedException {
            Event e = events.poll(d.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(e).as("unexpected event").isNull();
            assertThat(violation.get()).as("listener contract").isNull();
        }

        public Throwable awaitError() throws InterruptedException {
            assertThat(ended.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).as("watch ended with an error").isTrue();
            return error;
        }

        public Throwable error() {
            return error;
        }
    }

    @Nested
    @DisplayName("a fresh store")
    class Fresh {
        @Test
        @DisplayName("is empty at revision 0")
        void empty() {
            assertThat(store.currentRevision()).isZero();
            assertThat(store.compactRevision()).isZero();
            assertThat(store.get("/a")).isEmpty();
            assertThat(store.count("")).isZero();
            RangeResult r = store.range("", null, 0, 0);
            assertThat(r.kvs()).isEmpty();
            assertThat(r.more()).isFalse();
            assertThat(r.revision()).isZero();
        }
    }

    @Nested
    @DisplayName("create")
    class Create {
        @Test
        @DisplayName("stores the key at the next revision, with createRevision equal to modRevision")
        void create() {
            long before = store.currentRevision();
            KeyValue kv = store.create("/registry/pods/default/a", b("one"));
            assertThat(kv.key()).isEqualTo("/registry/pods/default/a");
            assertThat(s(kv.value())).isEqualTo("one");
            assertThat(kv.modRevision()).isEqualTo(before + 1);
            assertThat(kv.createRevision()).isEqualTo(kv.modRevision());
            assertThat(store.currentRevision()).isEqualTo(kv.modRevision());
            KeyValue got = store.get("/registry/pods/default/a").orElseThrow();
            assertThat(describe(got)).isEqualTo(describe(kv));
        }

        @Test
        @DisplayName("of an existing key fails with KeyExistsException and uses no revision")
        void exists() {
            store.create("/a", b("1"));
            long rev = store.currentRevision();
            assertThatThrownBy(() -> store.create("/a", b("2")))
                    .isInstanceOfSatisfying(KeyExistsException.class, e -> assertThat(e.key()).isEqualTo("/a"));
            assertThat(store.currentRevision()).isEqualTo(rev);
            assertThat(s(store.get("/a").orElseThrow().value())).isEqualTo("1");
        }

        @Test
        @DisplayName("keeps empty and binary values byte for byte")
        void values() {
            byte[] all = new byte[256];
            for (int i = 0; i < all.length; i++) {
                all[i] = (byte) i;
            }
            store.create("/empty", new byte[0]);
            store.create("/binary", all);
            assertThat(store.get("/empty").orElseThrow().value()).isEmpty();
            assertThat(store.get("/binary").orElseThrow().value()).isEqualTo(all);
            assertThat(store.range("/binary", null, 0, 0).kvs().getFirst().value()).isEqualTo(all);
        }

        @Test
        @DisplayName("copies the value: changing the caller's array afterwards changes nothing")
        void copies() {
            byte[] value = b("abc");
            store.create("/a", value);
            value[0] = 'x';
            assertThat(s(store.get("/a").orElseThrow().value())).isEqualTo("abc");
        }

        @Test
        @DisplayName("after a deletion starts a new life: createRevision is the new revision")
        void recreate() {
            KeyValue first = store.create("/a", b("1"));
            store.delete("/a", 0);
            KeyValue second = store.create("/a", b("2"));
            assertThat(second.createRevision()).isEqualTo(second.modRevision()).isGreaterThan(first.createRevision());
            assertThat(store.get("/a").orElseThrow().createRevision()).isEqualTo(second.createRevision());
        }
    }

    @Nested
    @DisplayName("update")
    class Update {
        @Test
        @DisplayName("with the current modRevision stores the value at a new revision and keeps createRevision")
        void update() {
            KeyValue created = store.create("/a", b("1"));
            store.create("/b", b("other key moves the global revision"));
            KeyValue updated = store.update("/a", b("2"), created.modRevision());
            assertThat(updated.modRevision()).isEqualTo(store.currentRevision()).isEqualTo(created.modRevision() + 2);
            assertThat(updated.createRevision()).isEqualTo(created.createRevision());
            assertThat(s(updated.value())).isEqualTo("2");
            assertThat(describe(store.get("/a").orElseThrow())).isEqualTo(describe(updated));
        }

        @Test
        @DisplayName("with a stale modRevision fails with RevisionConflictException carrying the current value")
        void conflict() {
            KeyValue created = store.create("/a", b("1"));
            KeyValue updated = store.update("/a", b("2"), created.modRevision());
            long rev = store.currentRevision();
            assertThatThrownBy(() -> store.update("/a", b("3"), created.modRevision()))
                    .isInstanceOfSatisfying(RevisionConflictException.class,
                            e -> assertThat(describe(e.current())).isEqualTo(describe(updated)));
            assertThat(store.currentRevision()).isEqualTo(rev);
            assertThat(s(store.get("/a").orElseThrow().value())).isEqualTo("2");
        }

        @Test
        @DisplayName("of a missing or deleted key fails with KeyNotFoundException")
        void missing() {
            assertThatThrownBy(() -> store.update("/nope", b("1"), 1))
                    .isInstanceOfSatisfying(KeyNotFoundException.class, e -> assertThat(e.key()).isEqualTo("/nope"));
            KeyValue kv = store.create("/a", b("1"));
            store.delete("/a", 0);
            assertThatThrownBy(() -> store.update("/a", b("2"), kv.modRevision()))
                    .isInstanceOf(KeyNotFoundException.class);
        }
    }

    @Nested
    @DisplayName("delete")
    class Delete {
        @Test
        @DisplayName("returns the value as it was and the deletion's revision; the key is gone")
        void delete() {
            KeyValue kv = store.create("/a", b("1"));
            store.create("/b", b("2"));
            DeleteResult d = store.delete("/a", 0);
            assertThat(describe(d.previous())).isEqualTo(describe(kv));
            assertThat(d.revision()).isEqualTo(store.currentRevision()).isEqualTo(kv.modRevision() + 2);
            assertThat(store.get("/a")).isEmpty();
            assertThat(store.count("")).isEqualTo(1);
            assertThat(keys(store.range("", null, 0, 0))).containsExactly("/b");
        }

        @Test
        @DisplayName("with an expected modRevision deletes only if it still matches")
        void conditional() {
            KeyValue kv = store.create("/a", b("1"));
            KeyValue updated = store.update("/a", b("2"), kv.modRevision());
            long rev = store.currentRevision();
            assertThatThrownBy(() -> store.delete("/a", kv.modRevision()))
                    .isInstanceOfSatisfying(RevisionConflictException.class,
                            e -> assertThat(describe(e.current())).isEqualTo(describe(updated)));
            assertThat(store.currentRevision()).isEqualTo(rev);
            assertThat(store.get("/a")).isPresent();
            DeleteResult d = store.delete("/a", updated.modRevision());
            assertThat(describe(d.previous())).isEqualTo(describe(updated));
            assertThat(store.get("/a")).isEmpty();
        }

        @Test
        @DisplayName("of a missing or already deleted key fails with KeyNotFoundException")
        void missing() {
            assertThatThrownBy(() -> store.delete("/nope", 0))
                    .isInstanceOfSatisfying(KeyNotFoundException.class, e -> assertThat(e.key()).isEqualTo("/nope"));
            store.create("/a", b("1"));
            store.delete("/a", 0);
            long rev = store.currentRevision();
            assertThatThrownBy(() -> store.delete("/a", 0)).isInstanceOf(KeyNotFoundException.class);
            assertThat(store.currentRevision()).isEqualTo(rev);
        }
    }

    @Nested
    @DisplayName("revisions")
    class Revisions {
        @Test
        @DisplayName("form one global counter that every successful write advances by one")
        void global() {
            List<Long> revs = new ArrayList<>();
            revs.add(store.create("/a", b("1")).modRevision());
            revs.add(store.create("/b", b("1")).modRevision());
            revs.add(store.update("/a", b("2"), revs.get(0)).modRevision());
            assertThatThrownBy(() -> store.create("/b", b("x"))).isInstanceOf(KeyExistsException.class);
            revs.add(store.delete("/b", 0).revision());
            revs.add(store.create("/c", b("1")).modRevision());
            long first = revs.getFirst();
            assertThat(revs).containsExactly(first, first + 1, first + 2, first + 3, first + 4);
            assertThat(store.currentRevision()).isEqualTo(first + 4);
        }
    }

    @Nested
    @DisplayName("range")
    class Range {
        @BeforeEach
        void someKeys() {
            for (String k : List.of("/r/services/a", "/r/pods/ns1/b", "/r/pods-x/c", "/r/pods/ns1/a", "/r/podsz",
                    "/r/pods/ns2/a", "/s")) {
                store.create(k, b("v" + k));
            }
        }

        @Test
        @DisplayName("returns exactly the keys under the prefix, in key order")
        void prefix() {
            RangeResult r = store.range("/r/pods/", null, 0, 0);
            assertThat(keys(r)).containsExactly("/r/pods/ns1/a", "/r/pods/ns1/b", "/r/pods/ns2/a");
            assertThat(values(r)).containsExactly("v/r/pods/ns1/a", "v/r/pods/ns1/b", "v/r/pods/ns2/a");
            assertThat(r.more()).isFalse();
            assertThat(r.revision()).isEqualTo(store.currentRevision());
            assertThat(keys(store.range("/r/pods", null, 0, 0)))
                    .containsExactly("/r/pods-x/c", "/r/pods/ns1/a", "/r/pods/ns1/b", "/r/pods/ns2/a", "/r/podsz");
            assertThat(keys(store.range("", null, 0, 0))).hasSize(7).isSorted();
            assertThat(keys(store.range("/r/pods/ns1/a", null, 0, 0))).containsExactly("/r/pods/ns1/a");
            assertThat(store.range("/nothing/", null, 0, 0).kvs()).isEmpty();
        }

        @Test
        @DisplayName("orders keys as UTF-8 bytes")
        void byteOrder() {
            store.create("/u/\u00e9", b("e-acute"));
            store.create("/u/z", b("z"));
            store.create("/u/A", b("A"));
            store.create("/u/\u4e2d", b("zhong"));
            assertThat(keys(store.range("/u/", null, 0, 0))).containsExactly("/u/A", "/u/z", "/u/\u00e9", "/u/\u4e2d");
            assertThat(keys(store.range("/u/\u00e9", null, 0, 0))).containsExactly("/u/\u00e9");
        }

        @Test
        @DisplayName("starts at startKey, inclusive")
        void startKey() {
            assertThat(keys(store.range("/r/pods/", "/r/pods/ns1/b", 0, 0)))
                    .containsExactly("/r/pods/ns1/b", "/r/pods/ns2/a");
            assertThat(keys(store.range("/r/pods/", "/r/pods/ns1/aa", 0, 0)))
                    .containsExactly("/r/pods/ns1/b", "/r/pods/ns2/a");
            assertThat(keys(store.range("/r/pods/", "/r/pods/zzz", 0, 0))).isEmpty();
            assertThat(keys(store.range("/r/pods/", "", 0, 0))).hasSize(3);
        }

        @Test
        @DisplayName("returns at most limit keys and says whether more match")
        void limit() {
            RangeResult first = store.range("/r/", null, 0, 2);
            assertThat(keys(first)).containsExactly("/r/pods-x/c", "/r/pods/ns1/a");
            assertThat(first.more()).isTrue();
            RangeResult exact = store.range("/r/pods/", null, 0, 3);
            assertThat(exact.kvs()).hasSize(3);
            assertThat(exact.more()).isFalse();

            // paging the way the API server continues a list: next startKey is the last key + "\0"
            List<String> all = new ArrayList<>();
            String start = null;
            long rev = store.currentRevision();
            store.create("/r/zz-after-the-first-page", b("not at rev"));
            while (true) {
                RangeResult page = store.range("/r/", start, rev, 2);
                all.addAll(keys(page));
                if (!page.more()) {
                    break;
                }
                start = page.kvs().getLast().key() + "\0";
            }
            assertThat(all).containsExactly("/r/pods-x/c", "/r/pods/ns1/a", "/r/pods/ns1/b", "/r/pods/ns2/a",
                    "/r/podsz", "/r/services/a");
        }

        @Test
        @DisplayName("at a past revision shows the state as it was then")
        void historical() {
            long r0 = store.currentRevision();
            KeyValue a = store.get("/r/pods/ns1/a").orElseThrow();
            KeyValue updated = store.update("/r/pods/ns1/a", b("new"), a.modRevision());
            store.delete("/r/pods/ns1/b", 0);
            store.create("/r/pods/ns3/a", b("later"));
            long r1 = store.currentRevision();
            store.update("/r/pods/ns1/a", b("newer"), updated.modRevision());

            RangeResult then = store.range("/r/pods/", null, r0, 0);
            assertThat(then.revision()).isEqualTo(r0);
            assertThat(keys(then)).containsExactly("/r/pods/ns1/a", "/r/pods/ns1/b", "/r/pods/ns2/a");
            assertThat(describe(then.kvs().getFirst())).isEqualTo(describe(a));

            RangeResult mid = store.range("/r/pods/", null, r1, 0);
            assertThat(keys(mid)).containsExactly("/r/pods/ns1/a", "/r/pods/ns2/a", "/r/pods/ns3/a");
            assertThat(describe(mid.kvs().getFirst())).isEqualTo(describe(updated));

            assertThat(values(store.range("/r/pods/ns1/a", null, 0, 0))).containsExactly("newer");
            assertThat(keys(store.range("/r/pods/", null, r0, 2))).hasSize(2);
            assertThat(store.range("/r/pods/", null, r0, 2).more()).isTrue();
            assertThat(store.range("", null, 1, 0).kvs()).hasSize(1);
        }

        @Test
        @DisplayName("at a future revision fails with FutureRevisionException")
        void future() {
            long rev = store.currentRevision();
            assertThatThrownBy(() -> store.range("", null, rev + 1, 0)).isInstanceOf(FutureRevisionException.class);
        }

        @Test
        @DisplayName("count gives the number of live keys under a prefix")
        void count() {
            assertThat(store.count("/r/pods/")).isEqualTo(3);
            assertThat(store.count("/r/pods")).isEqualTo(5);
            assertThat(store.count("")).isEqualTo(7);
            assertThat(store.count("/x")).isZero();
            store.delete("/r/pods/ns2/a", 0);
            assertThat(store.count("/r/pods/")).isEqualTo(2);
        }
    }

    @Nested
    @DisplayName("watch")
    class Watches {
        @Test
        @DisplayName("from the current revision delivers creates, updates and deletions with their previous values")
        void live() {
            Recorder rec = new Recorder();
            try (Watch w = store.watch("/a", store.currentRevision(), rec)) {
                KeyValue c = store.create("/a", b("1"));
                KeyValue u = store.update("/a", b("2"), c.modRevision());
                DeleteResult d = store.delete("/a", 0);
                List<Event> events = rec.take(3);

                assertThat(events.get(0).type()).isEqualTo(Event.Type.PUT);
                assertThat(events.get(0).isCreate()).isTrue();
                assertThat(describe(events.get(0).kv())).isEqualTo(describe(c));
                assertThat(events.get(0).prevKv()).isNull();

                assertThat(events.get(1).type()).isEqualTo(Event.Type.PUT);
                assertThat(events.get(1).isCreate()).isFalse();
                assertThat(describe(events.get(1).kv())).isEqualTo(describe(u));
                assertThat(describe(events.get(1).prevKv())).isEqualTo(describe(c));

                Event del = events.get(2);
                assertThat(del.type()).isEqualTo(Event.Type.DELETE);
                assertThat(del.revision()).isEqualTo(d.revision());
                assertThat(del.kv().key()).isEqualTo("/a");
                assertThat(describe(del.prevKv())).isEqualTo(describe(u));
            }
        }

        @Test
        @DisplayName("delivers only keys under its prefix")
        void prefix() throws InterruptedException {
            Recorder rec = new Recorder();
            try (Watch w = store.watch("/r/pods/", store.currentRevision(), rec)) {
                store.create("/r/pods-x/a", b("no"));
                store.create("/r/pods/a", b("yes"));
                store.create("/r/podsz", b("no"));
                store.create("/r/pods/b", b("yes"));
                assertThat(rec.take(2)).extracting(e -> e.kv().key()).containsExactly("/r/pods/a", "/r/pods/b");
                rec.assertQuiet(Duration.ofMillis(100));
            }
        }

        @Test
        @DisplayName("from an old revision replays history after it, then continues live, without gaps or repeats")
        void replayThenLive() {
            List<KeyValue> created = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                created.add(store.create("/k/" + i, b("v" + i)));
            }
            store.update("/k/0", b("v0'"), created.get(0).modRevision());
            long after = created.get(1).modRevision();
            Recorder rec = new Recorder();
            try (Watch w = store.watch("/k/", after, rec)) {
                store.delete("/k/4", 0);
                store.create("/k/5", b("v5"));
                List<Event> events = rec.take(6);
                assertThat(events).extracting(Event::revision)
                        .containsExactly(after + 1, after + 2, after + 3, after + 4, after + 5, after + 6);
                assertThat(events).extracting(e -> e.kv().key())
                        .containsExactly("/k/2", "/k/3", "/k/4", "/k/0", "/k/4", "/k/5");
                assertThat(events.get(3).type()).isEqualTo(Event.Type.PUT);
                assertThat(s(events.get(3).prevKv().value())).isEqualTo("v0");
                assertThat(events.get(4).type()).isEqualTo(Event.Type.DELETE);
            }
        }

        @Test
        @DisplayName("replays the same events that were delivered live")
        void replayEqualsLive() {
            Recorder live = new Recorder();
            List<String> liveEvents;
            try (Watch w = store.watch("", 0, live)) {
                KeyValue a = store.create("/a", b("1"));
                store.create("/b", b("1"));
                KeyValue a2 = store.update("/a", b("2"), a.modRevision());
                store.delete("/b", 0);
                store.create("/b", b("again"));
                store.delete("/a", a2.modRevision());
                liveEvents = live.take(6).stream().map(StoreConformanceTest::describe).toList();
            }
            Recorder replay = new Recorder();
            try (Watch w = store.watch("", 0, replay)) {
                assertThat(replay.take(6).stream().map(StoreConformanceTest::describe).toList())
                        .containsExactlyElementsOf(liveEvents);
            }
        }

        @Test
        @DisplayName("started while writes go on sees every revision exactly once, in order")
        void concurrentStart() throws Exception {
            int n = 400;
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                CountDownLatch halfway = new CountDownLatch(n / 2);
                List<Future<?>> writers = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int thread = t;
                    writers.add(pool.submit(() -> {
                        for (int i = 0; i < n / 4; i++) {
                            store.create("/c/" + thread + "/" + i, b("x"));
                            halfway.countDown();
                        }
                    }));
                }
                assertThat(halfway.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                Recorder rec = new Recorder();
                try (Watch w = store.watch("/c/", 0, rec)) {
                    for (Future<?> f : writers) {
                        f.get();
                    }
                    List<Event> events = rec.take(n);
                    assertThat(events).extracting(Event::revision).doesNotHaveDuplicates().isSorted();
                    assertThat(events).extracting(e -> e.kv().key()).doesNotHaveDuplicates();
                    rec.assertQuiet(Duration.ofMillis(100));
                }
            } finally {
                pool.shutdownNow();
            }
        }

        @Test
        @DisplayName("after an unseen future revision delivers only what comes after it")
        void futureStart() {
            long rev = store.currentRevision();
            Recorder rec = new Recorder();
            try (Watch w = store.watch("", rev + 2, rec)) {
                store.create("/1", b("1"));
                store.create("/2", b("2"));
                store.create("/3", b("3"));
                assertThat(rec.takeOne().kv().key()).isEqualTo("/3");
            }
        }

        @Test
        @DisplayName("stops delivering once closed")
        void close() throws InterruptedException {
            Recorder closed = new Recorder();
            Recorder open = new Recorder();
            Watch w = store.watch("", store.currentRevision(), closed);
            try (Watch other = store.watch("", store.currentRevision(), open)) {
                store.create("/before", b("1"));
                assertThat(closed.takeOne().kv().key()).isEqualTo("/before");
                w.close();
                store.create("/after", b("1"));
                assertThat(open.take(2)).extracting(e -> e.kv().key()).containsExactly("/before", "/after");
                closed.assertQuiet(Duration.ofMillis(100));
                assertThat(closed.error()).isNull();
                w.close(); // idempotent
            }
        }

        @Test
        @DisplayName("ends with onError when the store closes")
        void storeClose() throws InterruptedException {
            Recorder rec = new Recorder();
            store.watch("", 0, rec);
            store.close();
            assertThat(rec.awaitError()).isInstanceOf(StoreException.class);
        }

        @Test
        @DisplayName("runs many watches side by side, each with its own prefix")
        void many() {
            List<Recorder> recs = new ArrayList<>();
            List<Watch> watches = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                Recorder r = new Recorder();
                recs.add(r);
                watches.add(store.watch("/m/" + i + "/", 0, r));
            }
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 20; i++) {
                    store.create("/m/" + i + "/" + round, b("x"));
                }
            }
            for (int i = 0; i < 20; i++) {
                assertThat(recs.get(i).take(3)).extracting(e -> e.kv().key())
                        .containsExactly("/m/" + i + "/0", "/m/" + i + "/1", "/m/" + i + "/2");
            }
            watches.forEach(Watch::close);
        }
    }

    @Nested
    @DisplayName("compaction")
    class Compaction {
        @Test
        @DisplayName("refuses reads and watches before the compact revision and keeps every live key")
        void compact() {
            KeyValue a = store.create("/a", b("a1"));
            KeyValue b1 = store.create("/b", b("b1"));
            a = store.update("/a", b("a2"), a.modRevision());
            store.create("/c", b("c1"));
            store.delete("/c", 0);
            long r = store.update("/b", b("b2"), b1.modRevision()).modRevision();
            KeyValue a3 = store.update("/a", b("a3"), a.modRevision());

            assertThat(store.compact(r)).isEqualTo(r);
            assertThat(store.compactRevision()).isEqualTo(r);

            assertThatThrownBy(() -> store.range("", null, r - 1, 0))
                    .isInstanceOfSatisfying(CompactedException.class, e -> assertThat(e.compactRevision()).isEqualTo(r));
            assertThatThrownBy(() -> store.watch("", r - 2, new Recorder())).isInstanceOf(CompactedException.class);

            RangeResult atR = store.range("", null, r, 0);
            assertThat(keys(atR)).containsExactly("/a", "/b");
            assertThat(values(atR)).containsExactly("a2", "b2");
            assertThat(values(store.range("", null, 0, 0))).containsExactly("a3", "b2");
            assertThat(store.get("/c")).isEmpty();
            assertThat(store.count("")).isEqualTo(2);

            Recorder rec = new Recorder();
            try (Watch w = store.watch("", r - 1, rec)) {
                List<Event> events = rec.take(2);
                assertThat(events).extracting(Event::revision).containsExactly(r, a3.modRevision());
                assertThat(s(events.get(0).prevKv().value())).isEqualTo("b1");
                assertThat(describe(events.get(1).kv())).isEqualTo(describe(a3));
            }
            // writes go on normally after compaction
            KeyValue a4 = store.update("/a", b("a4"), a3.modRevision());
            assertThat(a4.createRevision()).isEqualTo(a3.createRevision());
        }

        @Test
        @DisplayName("keeps a deletion at the compact revision visible to a watch that starts just before it")
        void deletionAtCompactRevision() {
            store.create("/a", b("1"));
            long r = store.delete("/a", 0).revision();
            store.compact(r);
            Recorder rec = new Recorder();
            try (Watch w = store.watch("", r - 1, rec)) {
                Event e = rec.takeOne();
                assertThat(e.type()).isEqualTo(Event.Type.DELETE);
                assertThat(e.revision()).isEqualTo(r);
                assertThat(s(e.prevKv().value())).isEqualTo("1");
            }
        }

        @Test
        @DisplayName("to an older revision than the current compaction changes nothing; to a future one fails")
        void bounds() {
            store.create("/a", b("1"));
            store.create("/b", b("1"));
            long r = store.currentRevision();
            store.compact(r);
            assertThat(store.compact(r - 1)).isEqualTo(r);
            assertThat(store.compactRevision()).isEqualTo(r);
            assertThatThrownBy(() -> store.compact(r + 1)).isInstanceOf(FutureRevisionException.class);
            assertThat(store.compactRevision()).isEqualTo(r);
        }

        @Test
        @DisplayName("of everything keeps the current revision and the newest values")
        void all() {
            KeyValue a = store.create("/a", b("1"));
            for (int i = 2; i <= 20; i++) {
                a = store.update("/a", b(Integer.toString(i)), a.modRevision());
            }
            store.create("/gone", b("x"));
            long rev = store.delete("/gone", 0).revision();
            store.compact(rev);
            assertThat(store.currentRevision()).isEqualTo(rev);
            assertThat(describe(store.get("/a").orElseThrow())).isEqualTo(describe(a));
            reopen();
            assertThat(store.currentRevision()).isEqualTo(rev);
            assertThat(store.compactRevision()).isEqualTo(rev);
            assertThat(describe(store.get("/a").orElseThrow())).isEqualTo(describe(a));
            assertThat(store.get("/gone")).isEmpty();
            assertThatThrownBy(() -> store.range("", null, rev - 1, 0)).isInstanceOf(CompactedException.class);
            assertThat(store.create("/next", b("1")).modRevision()).isEqualTo(rev + 1);
        }
    }

    @Nested
    @DisplayName("concurrent writers")
    class Concurrency {
        @Test
        @DisplayName("lose no update when each retries on RevisionConflictException")
        void optimisticCounter() throws Exception {
            store.create("/counter", b("0"));
            int threads = 8;
            int increments = 40;
            Set<Long> revisions = ConcurrentHashMap.newKeySet();
            AtomicInteger conflicts = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < increments; i++) {
                            while (true) {
                                KeyValue cur = store.get("/counter").orElseThrow();
                                int n = Integer.parseInt(s(cur.value()));
                                try {
                                    KeyValue next = store.update("/counter", b(Integer.toString(n + 1)),
                                            cur.modRevision());
                                    assertThat(revisions.add(next.modRevision())).isTrue();
                                    break;
                                } catch (RevisionConflictException e) {
                                    conflicts.incrementAndGet();
                                }
                            }
                        }
                    }));
                }
                for (Future<?> f : futures) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(s(store.get("/counter").orElseThrow().value())).isEqualTo(Integer.toString(threads * increments));
            assertThat(revisions).hasSize(threads * increments);
        }

        @Test
        @DisplayName("creating the same key: exactly one wins")
        void sameKey() throws Exception {
            int threads = 16;
            AtomicInteger won = new AtomicInteger();
            AtomicInteger lost = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int n = t;
                ts.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                        store.create("/one", b("by " + n));
                        won.incrementAndGet();
                    } catch (KeyExistsException e) {
                        lost.incrementAndGet();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            go.countDown();
            for (Thread t : ts) {
                t.join();
            }
            assertThat(won.get()).isEqualTo(1);
            assertThat(lost.get()).isEqualTo(threads - 1);
            assertThat(store.currentRevision()).isEqualTo(1);
        }

        @Test
        @DisplayName("creating distinct keys: every write gets its own revision and none is lost")
        void distinctKeys() throws Exception {
            int threads = 8;
            int each = 50;
            Set<Long> revisions = ConcurrentHashMap.newKeySet();
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int n = t;
                ts.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < each; i++) {
                        revisions.add(store.create("/d/" + n + "/" + i, b("x")).modRevision());
                    }
                }));
            }
            for (Thread t : ts) {
                t.join();
            }
            assertThat(revisions).hasSize(threads * each);
            assertThat(store.currentRevision()).isEqualTo(threads * each);
            assertThat(store.count("/d/")).isEqualTo(threads * each);
            assertThat(Collections.max(revisions)).isEqualTo(threads * each);
        }
    }

    @Nested
    @DisplayName("reopening")
    class Reopen {
        @Test
        @DisplayName("keeps values, revisions, history and preconditions")
        void reopenKeepsEverything() {
            KeyValue a = store.create("/a", b("1"));
            long r1 = store.currentRevision();
            KeyValue a2 = store.update("/a", b("2"), a.modRevision());
            store.create("/b", b("1"));
            store.delete("/b", 0);
            long rev = store.currentRevision();

            reopen();
            assertThat(store.currentRevision()).isEqualTo(rev);
            assertThat(describe(store.get("/a").orElseThrow())).isEqualTo(describe(a2));
            assertThat(store.get("/b")).isEmpty();
            assertThat(store.count("")).isEqualTo(1);
            assertThat(values(store.range("", null, r1, 0))).containsExactly("1");
            assertThatThrownBy(() -> store.create("/a", b("x"))).isInstanceOf(KeyExistsException.class);
            assertThatThrownBy(() -> store.update("/a", b("x"), a.modRevision()))
                    .isInstanceOf(RevisionConflictException.class);
            assertThatThrownBy(() -> store.delete("/b", 0)).isInstanceOf(KeyNotFoundException.class);

            Recorder rec = new Recorder();
            try (Watch w = store.watch("", 0, rec)) {
                assertThat(rec.take(4)).extracting(Event::revision).containsExactly(rev - 3, rev - 2, rev - 1, rev);
                KeyValue c = store.create("/b", b("again"));
                assertThat(c.modRevision()).isEqualTo(rev + 1);
                assertThat(rec.takeOne().revision()).isEqualTo(rev + 1);
            }
        }

        @Test
        @DisplayName("closing while writers run: every write either succeeds and is kept, or fails; none hangs")
        void closeUnderLoad() throws Exception {
            Set<String> acknowledged = ConcurrentHashMap.newKeySet();
            List<Throwable> unexpected = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch started = new CountDownLatch(50);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int n = t;
                ts.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; ; i++) {
                        String key = "/load/" + n + "/" + i;
                        try {
                            store.create(key, b("x"));
                            acknowledged.add(key);
                            started.countDown();
                        } catch (StoreException e) {
                            return; // the store closed under us
                        } catch (Throwable e) {
                            unexpected.add(e);
                            return;
                        }
                    }
                }));
            }
            assertThat(started.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            store.close();
            for (Thread t : ts) {
                t.join(WAIT.toMillis());
                assertThat(t.isAlive()).as("writer still blocked after close").isFalse();
            }
            assertThat(unexpected).isEmpty();
            reopen();
            assertThat(store.count("/load/")).isGreaterThanOrEqualTo(acknowledged.size());
            for (String key : acknowledged) {
                assertThat(store.get(key)).as(key).isPresent();
            }
        }

        @Test
        @DisplayName("refuses writes after close with StoreException")
        void closed() {
            store.close();
            assertThatThrownBy(() -> store.create("/a", b("1"))).isInstanceOf(StoreException.class);
            store.close(); // idempotent
        }
    }

    /** For subclasses: the value of {@code key}, as text. */
    protected Optional<String> valueOf(String key) {
        return store.get(key).map(kv -> s(kv.value()));
    }
}
