package io.k3j.controllers.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.controllers.Controllers;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.common.Pods;
import io.k3j.controllers.testing.FakeClock;
import io.k3j.controllers.testing.FakeKubelet;
import io.k3j.controllers.testing.FakeNodes;
import io.k3j.controllers.testing.Kubectl;
import io.k3j.controllers.testing.TestCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Every controller of {@code k3j server} and the scheduler together, driven by the real kubectl against fake
 * nodes: the story a user sees, from {@code kubectl create deployment} to a node that loses its uplink.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterScenarioTest {
    static TestCluster cluster;
    static FakeClock clock;
    static FakeNodes nodes;
    static FakeKubelet kubelet;

    @BeforeAll
    static void start() throws Exception {
        clock = new FakeClock();
        List<ManagedController.Factory> all = new ArrayList<>(Controllers.controllerManagerControllers());
        all.addAll(Controllers.schedulerControllers());
        cluster = TestCluster.start(all, c -> c.withClock(clock));
        nodes = new FakeNodes(cluster.api(), clock, 200);
        kubelet = new FakeKubelet(cluster.api());
        for (String n : List.of("node-1", "node-2", "node-3")) {
            nodes.add(n, "4", "8Gi", Map.of("topology.kubernetes.io/zone", "zone-a"));
            kubelet.manage(n);
        }
    }

    @AfterAll
    static void stop() {
        kubelet.close();
        nodes.close();
        cluster.close();
    }

    static Kubectl.Result kubectl(String... args) {
        Kubectl.Result r = Kubectl.run(cluster.kubeconfig(), args);
        assertThat(r.exit()).as("kubectl %s: %s", String.join(" ", args), r.out()).isZero();
        return r;
    }

    static List<ObjectNode> pods(String selector) {
        String[] kv = selector.split("=");
        return cluster.list("", "v1", "pods", "default").stream()
                .filter(p -> kv[1].equals(p.path("metadata").path("labels").path(kv[0]).asText())).toList();
    }

    static boolean allBoundAndReady(String selector, int n) {
        List<ObjectNode> ps = pods(selector).stream().filter(Pods::active).toList();
        return ps.size() == n && ps.stream().allMatch(p -> !Json.text(p.get("spec"), "nodeName").isEmpty() && Pods.ready(p));
    }

    static Set<String> images(String selector) {
        return pods(selector).stream().filter(Pods::active).map(p -> p.path("spec").path("containers").get(0).path("image").asText())
                .collect(Collectors.toSet());
    }

    @Test
    @Order(1)
    @DisplayName("kubectl create deployment: three pods bound to the nodes and ready; rollout status succeeds")
    void createDeployment() {
        kubectl("create", "deployment", "web", "--image=nginx:1.25", "--replicas=3");
        cluster.await("3 bound, ready pods", Duration.ofSeconds(30), () -> allBoundAndReady("app=web", 3));
        Kubectl.Result status = kubectl("rollout", "status", "deployment/web", "--timeout=60s");
        assertThat(status.out()).contains("successfully rolled out");
        String get = kubectl("get", "deployment", "web").out();
        assertThat(get).containsPattern("web\\s+3/3\\s+3\\s+3");
        Set<String> used = pods("app=web").stream().map(p -> Json.text(p.get("spec"), "nodeName")).collect(Collectors.toSet());
        assertThat(used).hasSize(3); // spread over the three nodes
    }

    @Test
    @Order(2)
    @DisplayName("kubectl set image rolls out, rollout history lists two revisions, rollout undo goes back")
    void rolloutAndUndo() {
        kubectl("set", "image", "deployment/web", "nginx=nginx:1.26");
        kubectl("rollout", "status", "deployment/web", "--timeout=60s");
        cluster.await("all pods on 1.26", Duration.ofSeconds(30), () -> images("app=web").equals(Set.of("nginx:1.26"))
                && allBoundAndReady("app=web", 3));
        assertThat(kubectl("rollout", "history", "deployment/web").out()).contains("1 ").contains("2 ");
        kubectl("rollout", "undo", "deployment/web");
        kubectl("rollout", "status", "deployment/web", "--timeout=60s");
        cluster.await("all pods back on 1.25", Duration.ofSeconds(30), () -> images("app=web").equals(Set.of("nginx:1.25"))
                && allBoundAndReady("app=web", 3));
    }

    @Test
    @Order(3)
    @DisplayName("kubectl scale up and down")
    void scale() {
        kubectl("scale", "deployment/web", "--replicas=5");
        cluster.await("5 ready", Duration.ofSeconds(30), () -> allBoundAndReady("app=web", 5));
        kubectl("scale", "deployment/web", "--replicas=2");
        cluster.await("2 left", Duration.ofSeconds(30), () -> pods("app=web").size() == 2 && allBoundAndReady("app=web", 2));
    }

    @Test
    @Order(4)
    @DisplayName("a pod nothing fits shows kube-scheduler's message in kubectl describe")
    void unschedulable() {
        cluster.create("""
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"huge","namespace":"default"},
                 "spec":{"containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"64"}}}]}}
                """);
        cluster.await("FailedScheduling", Duration.ofSeconds(20), () -> {
            JsonNode c = Pods.condition(cluster.get("", "v1", "pods", "default", "huge"), "PodScheduled");
            return c != null && c.path("status").asText().equals("False");
        });
        String out = kubectl("describe", "pod", "huge").out();
        assertThat(out).contains("FailedScheduling").contains("0/3 nodes are available: 3 Insufficient cpu.");
        kubectl("delete", "pod", "huge");
    }

    @Test
    @Order(5)
    @DisplayName("a node that stops heartbeating is tainted, its pods evicted after their tolerationSeconds and replaced elsewhere")
    void nodeLost() {
        kubectl("scale", "deployment/web", "--replicas=3");
        cluster.await("3 ready", Duration.ofSeconds(30), () -> allBoundAndReady("app=web", 3));
        String victim = Json.text(pods("app=web").get(0).get("spec"), "nodeName");
        nodes.stopHeartbeat(victim);
        clock.advance(Duration.ofSeconds(45));
        cluster.await("the node is Unknown and tainted unreachable", Duration.ofSeconds(20), () -> {
            ObjectNode n = cluster.get("", "v1", "nodes", "", victim);
            boolean tainted = false;
            for (JsonNode t : n.path("spec").path("taints")) {
                if (t.path("key").asText().equals("node.kubernetes.io/unreachable") && t.path("effect").asText().equals("NoExecute")) tainted = true;
            }
            return tainted;
        });
        String nodeStatus = kubectl("get", "node", victim).out();
        assertThat(nodeStatus).contains("NotReady");
        clock.advance(Duration.ofSeconds(301));
        cluster.await("pods replaced on the healthy nodes", Duration.ofSeconds(30), () -> {
            List<ObjectNode> ps = pods("app=web").stream().filter(Pods::active).toList();
            return ps.size() == 3 && ps.stream().allMatch(p -> Pods.ready(p) && !Json.text(p.get("spec"), "nodeName").equals(victim)
                    && !Json.text(p.get("spec"), "nodeName").isEmpty());
        });
        nodes.startHeartbeat(victim);
        nodes.setReady(victim, "True");
    }

    @Test
    @Order(6)
    @DisplayName("kubectl delete deployment removes its ReplicaSets and pods")
    void deleteDeployment() {
        kubectl("delete", "deployment", "web");
        cluster.await("no pods, no replicasets", Duration.ofSeconds(30), () -> pods("app=web").isEmpty()
                && cluster.list("apps", "v1", "replicasets", "default").isEmpty());
    }
}
