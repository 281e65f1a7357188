package io.k3j.store.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.k3j.store.Event;
import io.k3j.store.StoreException;
import io.k3j.store.Watch;
import io.k3j.store.testing.EtcdServer;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A 3-member etcd cluster: the store fails over when its member dies, and EtcdCluster manages members. */
class EtcdClusterTest {
    @TempDir static Path dir;
    private static List<EtcdServer> members;

    @BeforeAll
    static void start() {
        EtcdServer.ensureInstalled();
        members = EtcdServer.startCluster(dir, 3);
    }

    @AfterAll
    static void stop() {
        if (members != null) members.forEach(EtcdServer::close);
    }

    private static List<URI> clientUrls() {
        return members.stream().map(EtcdServer::clientUrl).toList();
    }

    /** The members' client URLs with the leader's first, so the store talks to the leader. */
    private static List<URI> leaderFirst() {
        List<URI> urls = new ArrayList<>(clientUrls());
        for (URI u : clientUrls()) {
            if (EtcdCluster.status(u, null).isLeader()) {
                urls.remove(u);
                urls.addFirst(u);
                return urls;
            }
        }
        throw new AssertionError("no leader among " + urls);
    }

    @Test
    @DisplayName("kill -9 of the leader the store talks to: writes succeed again within seconds, nothing acknowledged is lost, the watch goes on without a gap")
    void failover() throws Exception {
        List<URI> urls = leaderFirst();
        EtcdServer victim = members.stream().filter(m -> m.clientUrl().equals(urls.getFirst())).findFirst().orElseThrow();
        try (EtcdStore store = EtcdStore.open(urls, null)) {
            assertThat(store.cluster().status().endpoint()).isEqualTo(victim.clientUrl());
            LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
            Set<String> acknowledged = ConcurrentHashMap.newKeySet();
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicLong lastSuccess = new AtomicLong();
            AtomicBoolean writing = new AtomicBoolean(true);
            try (Watch w = store.watch("/f/", store.currentRevision(), events::addAll)) {
                Thread writer = Thread.ofPlatform().start(() -> {
                    for (int i = 0; writing.get(); i++) {
                        try {
                            store.create("/f/" + i, "x".getBytes(UTF_8));
                            acknowledged.add("/f/" + i);
                            lastSuccess.set(System.nanoTime());
                        } catch (StoreException e) {
                            failures.add(e);
                            try {
                                Thread.sleep(20);
                            } catch (InterruptedException ie) {
                                return;
                            }
                        }
                    }
                });
                while (acknowledged.size() < 50) Thread.sleep(10);
                long killedAt = System.nanoTime();
                victim.kill();
                long deadline = killedAt + TimeUnit.SECONDS.toNanos(15);
                while (lastSuccess.get() < killedAt && System.nanoTime() < deadline) Thread.sleep(5);
                long recovered = lastSuccess.get();
                assertThat(recovered).as("a write succeeded after the kill").isGreaterThan(killedAt);
                Duration outage = Duration.ofNanos(recovered - killedAt);
                System.out.printf("etcd failover: first successful write %d ms after kill -9 of the leader (%d failed writes meanwhile: %s)%n",
                        outage.toMillis(), failures.size(), failures.stream().map(Throwable::getMessage).toList());
                assertThat(outage).isLessThan(Duration.ofSeconds(5));
                int before = acknowledged.size();
                while (acknowledged.size() < before + 50) Thread.sleep(10);
                writing.set(false);
                writer.join();

                assertThat(store.cluster().status().endpoint()).isNotEqualTo(victim.clientUrl());
                for (String key : acknowledged) assertThat(store.get(key)).as(key).isPresent();
                // the watch resumed on another member: every acknowledged create arrives once, in revision order
                Set<String> seen = new java.util.HashSet<>();
                long lastRevision = 0;
                long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!seen.containsAll(acknowledged) && System.nanoTime() < waitUntil) {
                    Event e = events.poll(100, TimeUnit.MILLISECONDS);
                    if (e == null) continue;
                    assertThat(e.revision()).isGreaterThan(lastRevision);
                    lastRevision = e.revision();
                    assertThat(seen.add(e.kv().key())).as("once: " + e.kv().key()).isTrue();
                }
                assertThat(seen).containsAll(acknowledged);
            }
        } finally {
            victim.restart();
        }
    }

    @Test
    @DisplayName("a watch on a member that hangs (SIGSTOP, the connection stays open) moves to another member once the keepalive ping goes unanswered")
    void hungMember() throws Exception {
        EtcdServer frozen = members.get(2);
        List<URI> others = clientUrls().stream().filter(u -> !u.equals(frozen.clientUrl())).toList();
        List<URI> frozenFirst = new ArrayList<>(List.of(frozen.clientUrl()));
        frozenFirst.addAll(others);
        try (EtcdStore watching = EtcdStore.open(frozenFirst, null);
             EtcdStore writing = EtcdStore.open(others, null)) {
            LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
            try (Watch w = watching.watch("/hung/", watching.currentRevision(), events::addAll)) {
                assertThat(watching.cluster().status().endpoint()).isEqualTo(frozen.clientUrl());
                writing.create("/hung/before", "x".getBytes(UTF_8));
                assertThat(events.poll(10, TimeUnit.SECONDS)).isNotNull();
                signal(frozen, "STOP");
                Process ps = new ProcessBuilder("ps", "-o", "stat=", "-p", Long.toString(frozen.pid())).start();
                assertThat(new String(ps.getInputStream().readAllBytes(), UTF_8).trim()).as("process state").startsWith("T");
                try {
                    long t0 = System.nanoTime();
                    long rev = 0;
                    while (rev == 0) {
                        try {
                            rev = writing.create("/hung/after", "x".getBytes(UTF_8)).modRevision();
                        } catch (StoreException e) {
                            Thread.sleep(100); // a new leader may be elected if the frozen member led
                        }
                    }
                    Event e = events.poll(40, TimeUnit.SECONDS);
                    assertThat(e).as("the event after the freeze").isNotNull();
                    assertThat(e.revision()).isEqualTo(rev);
                    System.out.printf("etcd hung member: watch delivered again %d ms after SIGSTOP%n",
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
                } finally {
                    signal(frozen, "CONT");
                }
            }
        }
    }

    private static void signal(EtcdServer member, String signal) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(member.pid())).inheritIO().start();
        assertThat(p.waitFor()).isZero();
    }

    @Test
    @DisplayName("EtcdCluster lists the members, adds one as a learner that then starts, promotes it, and removes it")
    void members() throws Exception {
        try (EtcdCluster cluster = EtcdCluster.open(clientUrls(), null)) {
            List<EtcdMember> initial = cluster.members();
            assertThat(initial).extracting(EtcdMember::name).containsExactlyInAnyOrder("m0", "m1", "m2");
            assertThat(initial).allMatch(EtcdMember::started).noneMatch(EtcdMember::learner);
            assertThat(initial).flatExtracting(EtcdMember::clientUrls).containsExactlyInAnyOrderElementsOf(clientUrls());
            long leader = cluster.status().leaderId();
            assertThat(initial).extracting(EtcdMember::id).contains(leader);

            int peerPort = EtcdServer.freePort();
            URI peer = URI.create("http://127.0.0.1:" + peerPort);
            // etcd refuses reconfiguration for a few seconds after a member (re)joined ("unhealthy cluster")
            EtcdMember added = null;
            long addDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (added == null) {
                try {
                    added = cluster.add(List.of(peer), true);
                } catch (StoreException e) {
                    if (System.nanoTime() > addDeadline || !e.getMessage().contains("unhealthy cluster")) throw e;
                    Thread.sleep(250);
                }
            }
            long addedId = added.id();
            assertThat(added.started()).isFalse();
            assertThat(added.learner()).isTrue();
            assertThat(cluster.members()).hasSize(4);

            StringBuilder initialCluster = new StringBuilder();
            for (EtcdServer m : members) initialCluster.append(m.name()).append('=').append(m.peerUrl()).append(',');
            initialCluster.append("m3=").append(peer);
            try (EtcdServer m3 = EtcdServer.builder(dir.resolve("m3")).name("m3").peerPort(peerPort)
                    .initialCluster(initialCluster.toString(), true).start()) {
                assertThat(cluster.members()).filteredOn(m -> m.id() == addedId).singleElement()
                        .satisfies(m -> assertThat(m.name()).isEqualTo("m3"));
                // a learner is promoted once it caught up with the leader
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (true) {
                    try {
                        cluster.promote(addedId);
                        break;
                    } catch (StoreException e) {
                        if (System.nanoTime() > deadline) throw e;
                        Thread.sleep(200);
                    }
                }
                assertThat(cluster.members()).filteredOn(m -> m.id() == addedId).singleElement()
                        .satisfies(m -> assertThat(m.learner()).isFalse());
                EtcdStatus s3 = EtcdCluster.status(m3.clientUrl(), null);
                assertThat(s3.memberId()).isEqualTo(addedId);
                assertThat(s3.leaderId()).isEqualTo(cluster.status().leaderId());

                List<EtcdMember> left = cluster.remove(addedId);
                assertThat(left).extracting(EtcdMember::name).containsExactlyInAnyOrder("m0", "m1", "m2");
                assertThat(cluster.members()).hasSize(3);
            }
        }
    }
}
