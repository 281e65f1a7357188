package io.k3j.controllers.apps;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.controllers.common.Owners;
import io.k3j.controllers.testing.FakeKubelet;
import io.k3j.controllers.testing.FakeNodes;
import io.k3j.controllers.testing.TestCluster;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ReplicaSetControllerTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    static TestCluster cluster;
    static FakeNodes nodes;
    static FakeKubelet kubelet;
    static TestBinder binder;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(List.of(ReplicaSetController::replicaSets));
        nodes = new FakeNodes(cluster.api());
        for (String n : List.of("n1", "n2")) nodes.add(n);
        kubelet = new FakeKubelet(cluster.api()).manage("n1", "n2");
        binder = new TestBinder(cluster.api(), List.of("n1", "n2"));
    }

    @AfterAll
    static void stop() {
        binder.close();
        kubelet.close();
        nodes.close();
        cluster.close();
    }

    static String replicaSet(String name, int replicas, int minReadySeconds) {
        return """
                apiVersion: apps/v1
                kind: ReplicaSet
                metadata: {name: %1$s, namespace: default}
                spec:
                  replicas: %2$d
                  minReadySeconds: %3$d
                  selector: {matchLabels: {app: %1$s}}
                  template:
                    metadata: {labels: {app: %1$s}}
                    spec: {containers: [{name: c, image: nginx}]}
                """.formatted(name, replicas, minReadySeconds);
    }

    static List<ObjectNode> podsOf(String app) {
        return cluster.list("", "v1", "pods", "default").stream()
                .filter(p -> p.path("metadata").path("labels").path("app").asText().equals(app)).toList();
    }

    static ObjectNode rs(String name) {
        return cluster.get("apps", "v1", "replicasets", "default", name);
    }

    static long events(String reason, String prefix) {
        return cluster.list("", "v1", "events", "default").stream()
                .filter(e -> e.path("reason").asText().equals(reason) && e.path("message").asText().startsWith(prefix)).count();
    }

    @Test
    @DisplayName("10 replicas are created once each (slow-start batches, expectations), named <rs>-xxxxx, with SuccessfulCreate events")
    void createsExactly() throws Exception {
        cluster.create(replicaSet("ten", 10, 0));
        cluster.await("10 available", WAIT, () -> rs("ten").path("status").path("availableReplicas").asInt() == 10);
        Thread.sleep(1000);
        assertThat(podsOf("ten")).hasSize(10).allMatch(p -> Meta.name(p).matches("ten-[a-z0-9]{5}"))
                .allMatch(p -> Owners.controlledBy(p, rs("ten")));
        cluster.await("10 events", Duration.ofSeconds(20), () -> events("SuccessfulCreate", "Created pod: ten-") >= 10);
        assertThat(events("SuccessfulCreate", "Created pod: ten-")).isEqualTo(10);
        assertThat(events("SuccessfulDelete", "Deleted pod: ten-")).isZero();
        JsonNode st = rs("ten").path("status");
        assertThat(st.path("replicas").asInt()).isEqualTo(10);
        assertThat(st.path("fullyLabeledReplicas").asInt()).isEqualTo(10);
        assertThat(st.path("readyReplicas").asInt()).isEqualTo(10);
        assertThat(st.path("observedGeneration").asLong()).isEqualTo(rs("ten").path("metadata").path("generation").asLong());
    }

    @Test
    @DisplayName("a matching orphan is adopted; a pod relabelled out of the selector is released and replaced")
    void adoptAndRelease() throws Exception {
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: early, namespace: default, labels: {app: adopt}}
                spec: {containers: [{name: c, image: nginx}]}
                """);
        cluster.create(replicaSet("adopt", 2, 0));
        cluster.await("2 pods, the orphan adopted", WAIT, () -> podsOf("adopt").size() == 2
                && Owners.controlledBy(cluster.get("", "v1", "pods", "default", "early"), rs("adopt"))
                && rs("adopt").path("status").path("readyReplicas").asInt() == 2);
        assertThat(events("SuccessfulCreate", "Created pod: adopt-")).isEqualTo(1);
        cluster.api().modify(cluster.type("", "v1", "pods"), "default", "early", "", p -> {
            Json.obj(Json.obj(p, "metadata"), "labels").put("app", "gone");
            return p;
        });
        cluster.await("released and replaced", WAIT, () -> {
            ObjectNode early = cluster.get("", "v1", "pods", "default", "early");
            return Owners.controllerRef(early) == null && podsOf("adopt").size() == 2
                    && podsOf("adopt").stream().allMatch(p -> Owners.controlledBy(p, rs("adopt")));
        });
    }

    @Test
    @DisplayName("with minReadySeconds a ready pod counts as available only once it has been ready that long")
    void minReadySeconds() {
        cluster.create(replicaSet("slow", 2, 3));
        cluster.await("2 ready", WAIT, () -> rs("slow").path("status").path("readyReplicas").asInt() == 2);
        assertThat(rs("slow").path("status").path("availableReplicas").asInt()).isZero();
        cluster.await("2 available without any further pod event", Duration.ofSeconds(15),
                () -> rs("slow").path("status").path("availableReplicas").asInt() == 2);
    }

    @Test
    @DisplayName("scaling down deletes the surplus, with SuccessfulDelete events")
    void scaleDown() {
        cluster.create(replicaSet("down", 4, 0));
        cluster.await("4 ready", WAIT, () -> rs("down").path("status").path("readyReplicas").asInt() == 4);
        cluster.api().modify(cluster.type("apps", "v1", "replicasets"), "default", "down", "", r -> {
            Json.obj(r, "spec").put("replicas", 1);
            return r;
        });
        cluster.await("1 left", WAIT, () -> podsOf("down").size() == 1 && rs("down").path("status").path("replicas").asInt() == 1);
        cluster.await("3 delete events", WAIT, () -> events("SuccessfulDelete", "Deleted pod: down-") == 3);
    }

    static ObjectNode pod(String name, String node, String phase, boolean ready, String created, String readySince) {
        String json = """
                {"metadata": {"name": "%s", "creationTimestamp": "%s"}, "spec": {"nodeName": "%s"},
                 "status": {"phase": "%s", "conditions": [{"type": "Ready", "status": "%s", "lastTransitionTime": "%s"}]}}
                """.formatted(name, created, node, phase, ready ? "True" : "False", readySince);
        return Json.parseObject(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    @DisplayName("surplus pods go in kube's order: unscheduled, pending, not ready, doubled-up, ready for less time, newer")
    void ranking() {
        String t0 = "2026-01-01T00:00:00Z";
        String t1 = "2026-01-01T00:01:00Z";
        List<ObjectNode> pods = List.of(
                pod("old-ready-alone", "n1", "Running", true, t0, t0),
                pod("new-ready-alone", "n4", "Running", true, t1, t0),
                pod("ready-recently", "n5", "Running", true, t0, t1),
                pod("doubled", "n2", "Running", true, t0, t0),
                pod("doubled-too", "n2", "Running", true, t0, t0),
                pod("not-ready", "n3", "Running", false, t0, t0),
                pod("pending", "n3", "Pending", false, t0, t0),
                pod("unscheduled", "", "Pending", false, t0, t0));
        Map<String, Integer> perNode = Map.of("n1", 1, "n2", 2, "n3", 2, "n4", 1, "n5", 1);
        List<String> order = PodRanking.sorted(pods, perNode).stream().map(Meta::name).toList();
        assertThat(order.subList(0, 3)).containsExactly("unscheduled", "pending", "not-ready");
        assertThat(order.subList(3, 5)).containsExactlyInAnyOrder("doubled", "doubled-too");
        assertThat(order.subList(5, 8)).containsExactly("ready-recently", "new-ready-alone", "old-ready-alone");
    }

    @Test
    @DisplayName("the pod-template-hash is FNV-32a rendered in the safe alphabet, ignores the hash label, and changes with the collision count")
    void templateHash() {
        ObjectNode t = Json.parseObject("""
                {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
                """.getBytes(StandardCharsets.UTF_8));
        ObjectNode withLabel = t.deepCopy();
        ((ObjectNode) withLabel.path("metadata").path("labels")).put("pod-template-hash", "abc");
        String h = Rollouts.templateHash(t, 0, false);
        assertThat(h).matches("[bcdfghjkmnpqrstvwxz2456789]{1,10}");
        assertThat(Rollouts.templateHash(withLabel, 0, false)).isEqualTo(h);
        assertThat(Rollouts.templateHash(t, 1, true)).isNotEqualTo(h);
        ObjectNode other = t.deepCopy();
        ((ObjectNode) other.path("spec").path("containers").path(0)).put("image", "nginx:2");
        assertThat(Rollouts.templateHash(other, 0, false)).isNotEqualTo(h);
        assertThat(Rollouts.resolve(Json.NODES.textNode("25%"), 5, true, 0)).isEqualTo(2);
        assertThat(Rollouts.resolve(Json.NODES.textNode("25%"), 5, false, 0)).isEqualTo(1);
        assertThat(Rollouts.resolve(Json.NODES.numberNode(3), 5, false, 0)).isEqualTo(3);
    }
}
