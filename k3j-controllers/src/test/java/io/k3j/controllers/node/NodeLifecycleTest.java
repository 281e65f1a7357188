package io.k3j.controllers.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.controllers.common.Pods;
import io.k3j.controllers.testing.FakeClock;
import io.k3j.controllers.testing.FakeKubelet;
import io.k3j.controllers.testing.FakeNodes;
import io.k3j.controllers.testing.TestCluster;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class NodeLifecycleTest {
    TestCluster cluster;
    FakeClock clock;
    FakeNodes nodes;

    static String condition(ObjectNode node, String type, String field) {
        for (JsonNode c : node.path("status").path("conditions")) if (type.equals(Json.text(c, "type"))) return Json.text(c, field);
        return "";
    }

    static List<String> taints(ObjectNode node) {
        List<String> out = new ArrayList<>();
        for (JsonNode t : node.path("spec").path("taints")) out.add(Json.text(t, "key") + ":" + Json.text(t, "effect"));
        return out;
    }

    ObjectNode node(String name) {
        return cluster.get("", "v1", "nodes", "", name);
    }

    ObjectNode pod(String name) {
        return cluster.get("", "v1", "pods", "default", name);
    }

    /**
     * Moves the fake clock on in steps the grace period would not notice, letting {@code healthy} heartbeat at
     * each step (its lease renewed at the new time) before the next.
     */
    void advance(Duration total, String healthy) throws InterruptedException {
        Duration left = total;
        while (!left.isZero()) {
            Duration step = left.compareTo(Duration.ofSeconds(15)) > 0 ? Duration.ofSeconds(15) : left;
            clock.advance(step);
            left = left.minus(step);
            Instant now = clock.instant();
            cluster.await(healthy + " to heartbeat", Duration.ofSeconds(10), () -> {
                ObjectNode lease = cluster.get("coordination.k8s.io", "v1", "leases", "kube-node-lease", healthy);
                Instant renew = Pods.time(Json.text(lease.get("spec"), "renewTime"));
                return renew != null && !renew.isBefore(now);
            });
            Thread.sleep(150);
        }
    }

    void pod(String name, String node, String tolerations) {
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: %s, namespace: default}
                spec:
                  nodeName: %s
                  tolerations: %s
                  containers: [{name: c, image: nginx}]
                """.formatted(name, node, tolerations));
    }

    boolean hasEvent(String reason, String message) {
        return cluster.list("", "v1", "events", "default").stream()
                .anyMatch(e -> Json.text(e, "reason").equals(reason) && Json.text(e, "message").equals(message));
    }

    @Test
    @DisplayName("a silent node turns Unknown and unreachable-tainted, its pods are evicted after their tolerationSeconds, and it recovers")
    void silentNode() throws Exception {
        clock = new FakeClock();
        cluster = TestCluster.start(List.of(NodeControllers.lifecycle(), NodeControllers.taintEviction(), NodeControllers.podGc()),
                cfg -> cfg.withClock(clock));
        nodes = new FakeNodes(cluster.api(), clock, 100);
        try (FakeKubelet kubelet = new FakeKubelet(cluster.api()).manage("n1", "n2")) {
            nodes.add("n1");
            nodes.add("n2");
            pod("short", "n1", "[{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}]");
            pod("default", "n1", "[]");
            pod("forever", "n1", "[{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}]");
            pod("elsewhere", "n2", "[]");
            for (String p : List.of("short", "default", "forever", "elsewhere")) {
                cluster.await(p + " ready", Duration.ofSeconds(10), () -> pod(p) != null && Pods.ready(pod(p)));
            }
            assertThat(pod("default").path("spec").path("tolerations").toString()).contains("\"tolerationSeconds\":300");

            nodes.stopHeartbeat("n1");
            advance(Duration.ofSeconds(30), "n2");
            assertThat(condition(node("n1"), "Ready", "status")).isEqualTo("True");
            advance(Duration.ofSeconds(15), "n2");
            cluster.await("n1 Unknown", Duration.ofSeconds(10), () -> condition(node("n1"), "Ready", "status").equals("Unknown"));
            ObjectNode n1 = node("n1");
            assertThat(condition(n1, "Ready", "reason")).isEqualTo("NodeStatusUnknown");
            assertThat(condition(n1, "Ready", "message")).isEqualTo("Kubelet stopped posting node status.");
            assertThat(condition(n1, "MemoryPressure", "status")).isEqualTo("Unknown");
            cluster.await("n1 unreachable taints", Duration.ofSeconds(10), () -> taints(node("n1"))
                    .containsAll(List.of("node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule")));
            assertThat(condition(node("n2"), "Ready", "status")).isEqualTo("True");
            assertThat(taints(node("n2"))).isEmpty();
            cluster.await("n1's pods not ready", Duration.ofSeconds(10), () -> !Pods.ready(pod("default")) && !Pods.ready(pod("forever")));
            assertThat(Pods.ready(pod("elsewhere"))).isTrue();

            Thread.sleep(500);
            assertThat(pod("short")).isNotNull();
            assertThat(Meta.deleting(pod("short"))).isFalse();
            advance(Duration.ofSeconds(3), "n2");
            cluster.await("short evicted", Duration.ofSeconds(10), () -> pod("short") == null || Meta.deleting(pod("short")));
            cluster.await("the eviction event", Duration.ofSeconds(10), () -> hasEvent("TaintManagerEviction", "Marking for deletion Pod default/short"));
            assertThat(Meta.deleting(pod("default"))).isFalse();

            advance(Duration.ofSeconds(290), "n2");
            assertThat(Meta.deleting(pod("default"))).isFalse();
            advance(Duration.ofSeconds(10), "n2");
            cluster.await("default evicted after 300 s", Duration.ofSeconds(10), () -> pod("default") == null || Meta.deleting(pod("default")));
            assertThat(pod("forever")).isNotNull();
            assertThat(Meta.deleting(pod("forever"))).isFalse();
            assertThat(pod("elsewhere")).isNotNull();

            // the kubelet is back: its lease renews and it posts Ready again
            nodes.startHeartbeat("n1");
            nodes.setReady("n1", "True");
            cluster.await("n1's taints gone", Duration.ofSeconds(10), () -> taints(node("n1")).isEmpty());

            // a kubelet that reports NotReady gets the not-ready taints; cordoning adds unschedulable
            nodes.setReady("n2", "False");
            cluster.await("n2 not-ready taints", Duration.ofSeconds(10), () -> taints(node("n2"))
                    .containsAll(List.of("node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/not-ready:NoSchedule")));
            // elsewhere tolerates not-ready for the injected 300 s: it stays
            Thread.sleep(300);
            assertThat(Meta.deleting(pod("elsewhere"))).isFalse();
            nodes.setReady("n2", "True");
            cluster.await("n2's taints gone", Duration.ofSeconds(10), () -> taints(node("n2")).isEmpty());
            cluster.api().modify(cluster.type("", "v1", "nodes"), "", "n2", "", n -> {
                Json.obj(n, "spec").put("unschedulable", true);
                return n;
            });
            cluster.await("n2 cordoned taint", Duration.ofSeconds(10), () -> taints(node("n2")).equals(List.of("node.kubernetes.io/unschedulable:NoSchedule")));
        } finally {
            nodes.close();
            cluster.close();
        }
    }

    @Test
    @DisplayName("a single node that goes silent is marked Unknown but not NoExecute-tainted: every zone fully disrupted stops evictions")
    void allZonesDisrupted() throws Exception {
        cluster = TestCluster.start(List.of(NodeControllers.lifecycle(), NodeControllers.taintEviction()),
                cfg -> cfg.withNodeMonitorGracePeriod(Duration.ofSeconds(2)));
        nodes = new FakeNodes(cluster.api(), cluster.api().clock(), 200);
        try {
            nodes.add("solo");
            nodes.stopHeartbeat("solo");
            cluster.await("solo Unknown", Duration.ofSeconds(15), () -> condition(node("solo"), "Ready", "status").equals("Unknown"));
            cluster.await("solo unreachable NoSchedule", Duration.ofSeconds(10), () -> taints(node("solo")).contains("node.kubernetes.io/unreachable:NoSchedule"));
            Thread.sleep(500);
            assertThat(taints(node("solo"))).doesNotContain("node.kubernetes.io/unreachable:NoExecute");
        } finally {
            nodes.close();
            cluster.close();
        }
    }

    @Test
    @DisplayName("pods bound to a node that was deleted are force-deleted after the 40 s quarantine")
    void orphanedPods() throws Exception {
        clock = new FakeClock();
        cluster = TestCluster.start(List.of(NodeControllers.podGc()), cfg -> cfg.withClock(clock));
        nodes = new FakeNodes(cluster.api(), clock, 100);
        try {
            nodes.add("gone");
            pod("orphan", "gone", "[]");
            pod("ghost", "never-existed", "[]");
            nodes.delete("gone");
            Thread.sleep(500);
            assertThat(pod("orphan")).isNotNull();
            clock.advance(Duration.ofSeconds(41));
            // on a loaded machine the controller may see the node gone only after the clock moved, and its quarantine
            // then starts at the later time: the clock moves on each second until the orphans are gone
            long[] moved = {System.nanoTime()};
            cluster.await("orphans force-deleted", Duration.ofSeconds(15), () -> {
                if (pod("orphan") == null && pod("ghost") == null) return true;
                if (System.nanoTime() - moved[0] > 1_000_000_000L) {
                    clock.advance(Duration.ofSeconds(41));
                    moved[0] = System.nanoTime();
                }
                return false;
            });
        } finally {
            nodes.close();
            cluster.close();
        }
    }
}
