package io.k3j.controllers.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.controllers.ControllerConfig;
import io.k3j.controllers.ControllerManager;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.testing.FakeKubelet;
import io.k3j.controllers.testing.FakeNodes;
import io.k3j.controllers.testing.TestCluster;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RuntimeTest {
    static TestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(List.of());
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    @DisplayName("a pod bound to a fake node is started by the fake kubelet and removed for good when deleted")
    void fakeKubelet() {
        try (FakeNodes nodes = new FakeNodes(cluster.api()); FakeKubelet kubelet = new FakeKubelet(cluster.api()).manage("n1")) {
            nodes.add("n1");
            cluster.create("""
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: p1, namespace: default}
                    spec: {nodeName: n1, containers: [{name: c, image: busybox}]}
                    """);
            cluster.await("p1 running", Duration.ofSeconds(10), () -> {
                ObjectNode p = cluster.get("", "v1", "pods", "default", "p1");
                return p != null && Json.text(p.get("status"), "phase").equals("Running");
            });
            cluster.api().delete(cluster.type("", "v1", "pods"), "default", "p1", io.k3j.apiserver.registry.DeleteOptions.DEFAULT);
            cluster.await("p1 gone", Duration.ofSeconds(10), () -> cluster.get("", "v1", "pods", "default", "p1") == null);
            assertThat(cluster.get("coordination.k8s.io", "v1", "leases", "kube-node-lease", "n1")).isNotNull();
        }
    }

    @Test
    @DisplayName("pods/binding through the in-process client sets the node and PodScheduled")
    void bind() {
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: tobind, namespace: default}
                spec: {containers: [{name: c, image: busybox}]}
                """);
        ObjectNode p = cluster.get("", "v1", "pods", "default", "tobind");
        cluster.api().bind("default", "tobind", io.k3j.apiserver.registry.Meta.uid(p), "somewhere");
        ObjectNode bound = cluster.get("", "v1", "pods", "default", "tobind");
        assertThat(Json.text(bound.get("spec"), "nodeName")).isEqualTo("somewhere");
        assertThat(bound.path("status").path("conditions").get(0).path("type").asText()).isEqualTo("PodScheduled");
    }

    @Test
    @DisplayName("of two controller managers exactly one leads, and the other takes over when the leader goes")
    void leaderElection() {
        AtomicInteger running = new AtomicInteger();
        ManagedController.Factory counting = ctx -> new ManagedController() {
            @Override
            public void start() {
                running.incrementAndGet();
            }

            @Override
            public void close() {
                running.decrementAndGet();
            }
        };
        ApiClient api = cluster.api();
        ControllerManager a = new ControllerManager("test-election", api, ControllerConfig.defaults("a"), List.of(counting)).start();
        cluster.await("a leads", Duration.ofSeconds(10), a::isLeader);
        ControllerManager b = new ControllerManager("test-election", api, ControllerConfig.defaults("b"), List.of(counting)).start();
        try {
            sleep(3000);
            assertThat(b.isLeader()).isFalse();
            assertThat(running.get()).isEqualTo(1);
            a.close();
            long t0 = System.nanoTime();
            cluster.await("b takes over", Duration.ofSeconds(10), b::isLeader);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
            cluster.await("b's controllers run", Duration.ofSeconds(5), () -> running.get() == 1);
            ObjectNode lease = cluster.get("coordination.k8s.io", "v1", "leases", "kube-system", "test-election");
            assertThat(Json.text(lease.get("spec"), "holderIdentity")).isEqualTo("b");
        } finally {
            a.close();
            b.close();
        }
        assertThat(running.get()).isZero();
    }

    @Test
    @DisplayName("an informer's listing never loses an object while an update of it is being indexed")
    void listingKeepsUpdatedObjects() throws Exception {
        var type = cluster.type("", "v1", "configmaps");
        cluster.create("""
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: steady, namespace: default}
                data: {n: "0"}
                """);
        try (InformerFactory f = new InformerFactory(cluster.api().objects().cache(), Duration.ZERO)) {
            SharedInformer inf = f.informer(type);
            // a slow indexer widens the moment between taking an updated object out of its index entries and
            // putting it back, which a controller's listing used to fall into (one pod too few: one created too many)
            inf.addIndexer("slow", o -> {
                sleep(2);
                return List.of(Json.text(o.get("data"), "n"));
            });
            f.start();
            f.waitForSync(Duration.ofSeconds(10));
            AtomicInteger misses = new AtomicInteger();
            AtomicInteger looks = new AtomicInteger();
            var done = new java.util.concurrent.atomic.AtomicBoolean();
            Thread reader = Thread.ofPlatform().start(() -> {
                while (!done.get()) {
                    looks.incrementAndGet();
                    if (inf.list("default").stream().noneMatch(o -> io.k3j.apiserver.registry.Meta.name(o).equals("steady"))) misses.incrementAndGet();
                }
            });
            for (int i = 1; i <= 50; i++) {
                String n = Integer.toString(i);
                cluster.api().modify(type, "default", "steady", "", cm -> {
                    ((ObjectNode) cm.get("data")).put("n", n);
                    return cm;
                });
            }
            cluster.await("the informer sees the last update", Duration.ofSeconds(10),
                    () -> inf.byIndex("slow", "50").size() == 1);
            done.set(true);
            reader.join();
            assertThat(looks.get()).isPositive();
            assertThat(misses.get()).as("listings without the object").isZero();
            assertThat(inf.byIndex("slow", "49")).isEmpty();
        }
    }

    @Test
    @DisplayName("a work queue hands a key to one worker at a time and backs failed keys off exponentially")
    void workQueue() throws Exception {
        WorkQueue q = new WorkQueue(java.time.Clock.systemUTC());
        q.add("a");
        q.add("a");
        assertThat(q.length()).isEqualTo(1);
        assertThat(q.take()).isEqualTo("a");
        q.add("a"); // while processing: comes back after done
        assertThat(q.length()).isZero();
        q.done("a");
        assertThat(q.take()).isEqualTo("a");
        q.done("a");
        for (int i = 0; i < 5; i++) q.addRateLimited("b");
        assertThat(q.failures("b")).isEqualTo(5);
        long t0 = System.nanoTime();
        assertThat(q.take()).isEqualTo("b");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
        q.shutDown();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
