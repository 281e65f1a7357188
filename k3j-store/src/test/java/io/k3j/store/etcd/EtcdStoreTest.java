package io.k3j.store.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3j.store.CompactedException;
import io.k3j.store.Event;
import io.k3j.store.KeyValue;
import io.k3j.store.Store;
import io.k3j.store.StoreConformanceTest;
import io.k3j.store.StoreException;
import io.k3j.store.Watch;
import io.k3j.store.testing.EtcdServer;
import java.net.URI;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The etcd store against a private etcd 3.4. The contract wants a fresh store at revision 0 for every test, and
 * etcd's revisions never go back, so each test gets its own etcd member (about half a second to start); reopening
 * the test's directory reaches the same member.
 */
class EtcdStoreTest extends StoreConformanceTest {
    private final Map<Path, EtcdServer> servers = new HashMap<>();

    @BeforeAll
    static void etcdInstalled() {
        EtcdServer.ensureInstalled();
    }

    @Override
    protected Store openStore(Path dir) {
        EtcdServer etcd = servers.computeIfAbsent(dir, d -> EtcdServer.start(d.resolve("etcd")));
        return EtcdStore.open(List.of(etcd.clientUrl()), null);
    }

    /** Runs before the suite's own @AfterEach: close the store first (closing twice is harmless), then etcd. */
    @AfterEach
    void stopEtcd() {
        store.close();
        servers.values().forEach(EtcdServer::close);
        servers.clear();
    }

    private EtcdServer etcd() {
        return servers.get(dir);
    }

    @Test
    @DisplayName("keys are etcd's own keys and revisions etcd's minus one")
    void nativeKeys() {
        KeyValue kv = store.create("/registry/configmaps/default/a", b("x"));
        try (EtcdCluster cluster = EtcdCluster.open(List.of(etcd().clientUrl()), null)) {
            EtcdStatus status = cluster.status();
            assertThat(status.revision()).isEqualTo(kv.modRevision() + 1);
            assertThat(status.isLeader()).isTrue();
            assertThat(status.version()).startsWith("3.");
        }
    }

    @Test
    @DisplayName("a compaction by another client is found when the store opens, and when a read hits it")
    void foreignCompaction() {
        KeyValue a = store.create("/a", b("1"));
        for (int i = 0; i < 10; i++) a = store.update("/a", b("v" + i), a.modRevision());
        long r = a.modRevision() - 3;
        try (EtcdStore other = EtcdStore.open(List.of(etcd().clientUrl()), null)) {
            other.compact(r);
        }
        // this store has not heard of it: the read at an old revision fails and teaches it the compact revision
        assertThatThrownBy(() -> store.range("", null, r - 2, 0))
                .isInstanceOfSatisfying(CompactedException.class, e -> assertThat(e.compactRevision()).isEqualTo(r));
        assertThat(store.compactRevision()).isEqualTo(r);
        try (EtcdStore fresh = EtcdStore.open(List.of(etcd().clientUrl()), null)) {
            assertThat(fresh.compactRevision()).isEqualTo(r);
        }
    }

    @Test
    @DisplayName("a watch from a revision another client compacted away ends with CompactedException carrying etcd's compact revision")
    void watchCompactedByAnother() throws Exception {
        KeyValue a = store.create("/a", b("1"));
        for (int i = 0; i < 5; i++) a = store.update("/a", b("v" + i), a.modRevision());
        long r = a.modRevision() - 1;
        try (EtcdStore other = EtcdStore.open(List.of(etcd().clientUrl()), null)) {
            other.compact(r);
        }
        assertThat(store.compactRevision()).as("not heard of yet").isZero();
        java.util.concurrent.CompletableFuture<Throwable> error = new java.util.concurrent.CompletableFuture<>();
        try (Watch w = store.watch("", r - 3, new io.k3j.store.WatchListener() {
            @Override
            public void onEvents(List<Event> events) {
                error.completeExceptionally(new AssertionError("events from a compacted revision: " + events));
            }

            @Override
            public void onError(Throwable t) {
                error.complete(t);
            }
        })) {
            assertThat(error.get(10, TimeUnit.SECONDS))
                    .isInstanceOfSatisfying(CompactedException.class, e -> assertThat(e.compactRevision()).isEqualTo(r));
        }
        assertThat(store.compactRevision()).isEqualTo(r);
    }

    @Test
    @DisplayName("a watch survives the etcd member restarting: it resumes where it stopped")
    void watchResumes() throws Exception {
        LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
        try (Watch w = store.watch("/w/", store.currentRevision(), events::addAll)) {
            store.create("/w/1", b("1"));
            assertThat(events.poll(10, TimeUnit.SECONDS).kv().key()).isEqualTo("/w/1");
            etcd().kill();
            etcd().restart();
            KeyValue two = null;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (two == null) {
                try {
                    two = store.create("/w/2", b("2"));
                } catch (StoreException e) {
                    if (System.nanoTime() > deadline) throw e;
                    Thread.sleep(50);
                }
            }
            Event e = events.poll(10, TimeUnit.SECONDS);
            assertThat(e).isNotNull();
            assertThat(e.kv().key()).isEqualTo("/w/2");
            assertThat(e.revision()).isEqualTo(two.modRevision());
            assertThat(events.poll(200, TimeUnit.MILLISECONDS)).isNull();
        }
    }

    @Test
    @DisplayName("--datastore-endpoint lists parse as k3s has them, and bad ones are named")
    void endpoints() {
        assertThat(EtcdStore.parseEndpoints("https://10.0.0.1:2379,https://10.0.0.2:2380"))
                .containsExactly(URI.create("https://10.0.0.1:2379"), URI.create("https://10.0.0.2:2380"));
        assertThat(EtcdStore.parseEndpoints("http://etcd")).containsExactly(URI.create("http://etcd:2379"));
        assertThatThrownBy(() -> EtcdStore.parseEndpoints("https://a:2379,etcd://b:2379"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("etcd://b:2379").hasMessageContaining("https://HOST:PORT");
    }
}
