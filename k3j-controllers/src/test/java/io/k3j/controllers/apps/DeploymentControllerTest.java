package io.k3j.controllers.apps;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.controllers.common.Owners;
import io.k3j.controllers.testing.FakeKubelet;
import io.k3j.controllers.testing.FakeNodes;
import io.k3j.controllers.testing.TestCluster;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class DeploymentControllerTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    static TestCluster cluster;
    static FakeNodes nodes;
    static FakeKubelet kubelet;
    static TestBinder binder;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(List.of(DeploymentController::new, ReplicaSetController::replicaSets,
                ReplicaSetController::replicationControllers));
        nodes = new FakeNodes(cluster.api());
        for (String n : List.of("n1", "n2", "n3")) nodes.add(n);
        kubelet = new FakeKubelet(cluster.api()).manage("n1", "n2", "n3")
                .behavior(p -> p.path("metadata").path("labels").path("app").asText().equals("stuck")
                        || p.path("metadata").path("labels").has("hold") ? FakeKubelet.Outcome.STAY_PENDING : FakeKubelet.Outcome.RUN);
        binder = new TestBinder(cluster.api(), List.of("n1", "n2", "n3"));
    }

    @AfterAll
    static void stop() {
        binder.close();
        kubelet.close();
        nodes.close();
        cluster.close();
    }

    static String deployment(String name, int replicas, String image, String strategy) {
        return """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: %1$s, namespace: default}
                spec:
                  replicas: %2$d
                  selector: {matchLabels: {app: %1$s}}
                  strategy: %4$s
                  template:
                    metadata: {labels: {app: %1$s}}
                    spec: {containers: [{name: c, image: "%3$s"}]}
                """.formatted(name, replicas, image, strategy);
    }

    static ObjectNode get(String name) {
        return cluster.get("apps", "v1", "deployments", "default", name);
    }

    static List<ObjectNode> podsOf(String app) {
        return cluster.list("", "v1", "pods", "default").stream()
                .filter(p -> p.path("metadata").path("labels").path("app").asText().equals(app)).toList();
    }

    static List<ObjectNode> replicaSetsOf(String app) {
        return cluster.list("apps", "v1", "replicasets", "default").stream()
                .filter(p -> p.path("metadata").path("labels").path("app").asText().equals(app)).toList();
    }

    static boolean rolledOut(String name, int replicas) {
        ObjectNode d = get(name);
        if (d == null) return false;
        JsonNode st = d.path("status");
        return st.path("observedGeneration").asLong() >= d.path("metadata").path("generation").asLong()
                && st.path("updatedReplicas").asInt() == replicas && st.path("replicas").asInt() == replicas
                && st.path("availableReplicas").asInt() == replicas && podsOf(name).size() == replicas;
    }

    static Kubectl.Result kubectl(String... args) throws Exception {
        return Kubectl.run(cluster.kubeconfig(), 90, args);
    }

    static String image(JsonNode pod) {
        return pod.path("spec").path("containers").path(0).path("image").asText();
    }

    static List<String> events(String reason) {
        return cluster.list("", "v1", "events", "default").stream().filter(e -> e.path("reason").asText().equals(reason))
                .map(e -> e.path("message").asText()).toList();
    }

    @Test
    @DisplayName("a 3-replica Deployment becomes 3 bound, ready pods through ReplicaSet web-<hash>, and kubectl rollout status says so")
    void becomesAvailable() throws Exception {
        cluster.create(deployment("web", 3, "nginx:1.25", "{}"));
        await("web rolled out", WAIT, () -> rolledOut("web", 3));
        ObjectNode d = get("web");
        assertThat(d.path("status").path("readyReplicas").asInt()).isEqualTo(3);
        assertThat(d.path("status").path("unavailableReplicas").asInt()).isZero();
        assertThat(Rollouts.condition(d.path("status"), "Available").path("reason").asText()).isEqualTo("MinimumReplicasAvailable");
        assertThat(Rollouts.condition(d.path("status"), "Available").path("message").asText()).isEqualTo("Deployment has minimum availability.");
        await("Progressing NewReplicaSetAvailable", WAIT,
                () -> Rollouts.condition(get("web").path("status"), "Progressing").path("reason").asText().equals("NewReplicaSetAvailable"));
        List<ObjectNode> rss = replicaSetsOf("web");
        assertThat(rss).hasSize(1);
        ObjectNode rs = rss.get(0);
        String hash = rs.path("metadata").path("labels").path("pod-template-hash").asText();
        assertThat(hash).matches("[bcdfghjkmnpqrstvwxz2456789]+");
        assertThat(Meta.name(rs)).isEqualTo("web-" + hash);
        assertThat(Rollouts.annotation(rs, Rollouts.REVISION)).isEqualTo("1");
        assertThat(Rollouts.annotation(rs, Rollouts.DESIRED_REPLICAS)).isEqualTo("3");
        assertThat(Rollouts.annotation(rs, Rollouts.MAX_REPLICAS)).isEqualTo("4");
        assertThat(Rollouts.annotation(get("web"), Rollouts.REVISION)).isEqualTo("1");
        assertThat(Rollouts.condition(get("web").path("status"), "Progressing").path("message").asText())
                .isEqualTo("ReplicaSet \"web-" + hash + "\" has successfully progressed.");
        for (ObjectNode p : podsOf("web")) {
            assertThat(Meta.name(p)).startsWith("web-" + hash + "-");
            assertThat(p.path("spec").path("nodeName").asText()).isNotEmpty();
            assertThat(Owners.controlledBy(p, rs)).isTrue();
        }
        await("events", WAIT, () -> events("ScalingReplicaSet").contains("Scaled up replica set web-" + hash + " from 0 to 3")
                && events("SuccessfulCreate").stream().filter(m -> m.startsWith("Created pod: web-" + hash + "-")).count() == 3);
        Kubectl.Result r = kubectl("rollout", "status", "deployment/web", "--timeout=60s");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("successfully rolled out");
    }

    @Test
    @DisplayName("kubectl set image rolls out with maxSurge=1/maxUnavailable=0 within bounds; history shows 1 and 2; undo brings the old image back as revision 3")
    void rollingUpdateHistoryUndo() throws Exception {
        cluster.create(deployment("roll", 3, "nginx:1.25", "{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}"));
        await("roll rolled out", WAIT, () -> rolledOut("roll", 3));
        try (PodRecorder rec = new PodRecorder(cluster.api(), p -> p.path("metadata").path("labels").path("app").asText().equals("roll"))) {
            Kubectl.Result set = kubectl("set", "image", "deployment/roll", "c=nginx:1.26");
            assertThat(set.exit()).as(set.out()).isZero();
            Kubectl.Result ann = kubectl("annotate", "deployment/roll", "kubernetes.io/change-cause=image 1.26");
            assertThat(ann.exit()).as(ann.out()).isZero();
            Kubectl.Result st = kubectl("rollout", "status", "deployment/roll", "--timeout=60s");
            assertThat(st.exit()).as(st.out()).isZero();
            assertThat(st.out()).contains("successfully rolled out");
            await("only new pods", WAIT, () -> rolledOut("roll", 3)
                    && podsOf("roll").stream().allMatch(p -> image(p).equals("nginx:1.26")));
            assertBounds(rec.moments(), 4, 3);
            assertThat(rec.moments().stream().anyMatch(m -> m.images().contains("nginx:1.26"))).isTrue();
        }
        Kubectl.Result h = kubectl("rollout", "history", "deployment/roll");
        assertThat(h.exit()).as(h.out()).isZero();
        assertThat(h.out()).containsPattern("(?m)^1\\s").containsPattern("(?m)^2\\s+image 1.26");
        Kubectl.Result undo = kubectl("rollout", "undo", "deployment/roll");
        assertThat(undo.exit()).as(undo.out()).isZero();
        await("old image back", WAIT, () -> rolledOut("roll", 3)
                && podsOf("roll").stream().allMatch(p -> image(p).equals("nginx:1.25")));
        assertThat(replicaSetsOf("roll")).hasSize(2);
        ObjectNode current = replicaSetsOf("roll").stream()
                .filter(rs -> rs.path("spec").path("template").path("spec").path("containers").path(0).path("image").asText().equals("nginx:1.25"))
                .findFirst().orElseThrow();
        assertThat(Rollouts.annotation(current, Rollouts.REVISION)).isEqualTo("3");
        assertThat(Rollouts.annotation(current, Rollouts.REVISION_HISTORY)).isEqualTo("1");
        await("deployment revision 3", WAIT, () -> "3".equals(Rollouts.annotation(get("roll"), Rollouts.REVISION)));
    }

    @Test
    @DisplayName("a 25%/25% rollout of 4 replicas never has more than 5 pods nor fewer than 3 ready")
    void percentBounds() throws Exception {
        cluster.create(deployment("pct", 4, "nginx:1.25", "{type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}"));
        await("pct rolled out", WAIT, () -> rolledOut("pct", 4));
        try (PodRecorder rec = new PodRecorder(cluster.api(), p -> p.path("metadata").path("labels").path("app").asText().equals("pct"))) {
            assertThat(kubectl("set", "image", "deployment/pct", "c=nginx:1.26").exit()).isZero();
            await("new pods", WAIT, () -> rolledOut("pct", 4) && podsOf("pct").stream().allMatch(p -> image(p).equals("nginx:1.26")));
            assertBounds(rec.moments(), 5, 3);
        }
    }

    @Test
    @DisplayName("scaling a Deployment in the middle of a stuck rollout spreads the new replicas over both ReplicaSets in proportion")
    void proportionalScaling() throws Exception {
        cluster.create(deployment("prop", 10, "nginx:1.25", "{type: RollingUpdate, rollingUpdate: {maxSurge: 3, maxUnavailable: 2}}"));
        await("prop rolled out", WAIT, () -> rolledOut("prop", 10));
        // the new pods never start: the rollout stops at old 8 + new 5 (13 = 10 + maxSurge, 8 = 10 - maxUnavailable available)
        cluster.api().modify(cluster.type("apps", "v1", "deployments"), "default", "prop", "", d -> {
            ObjectNode t = (ObjectNode) d.path("spec").path("template");
            Json.obj(Json.obj(t, "metadata"), "labels").put("hold", "true");
            ((ObjectNode) t.path("spec").path("containers").path(0)).put("image", "nginx:1.26");
            return d;
        });
        await("stuck at 8 + 5", WAIT, () -> sizes("prop").equals(List.of(8, 5)));
        Thread.sleep(1000);
        assertThat(sizes("prop")).containsExactly(8, 5);
        assertThat(kubectl("scale", "deployment/prop", "--replicas=20").exit()).isZero();
        // 23 allowed, 10 to add: round(8*23/13)-8 = 6 to the old, the remaining 4 to the new
        await("scaled in proportion", WAIT, () -> sizes("prop").equals(List.of(14, 9)));
        ObjectNode newRs = replicaSetsOf("prop").stream().filter(r -> Rollouts.revision(r) == 2).findFirst().orElseThrow();
        assertThat(Rollouts.annotation(newRs, Rollouts.DESIRED_REPLICAS)).isEqualTo("20");
        assertThat(Rollouts.annotation(newRs, Rollouts.MAX_REPLICAS)).isEqualTo("23");
        cluster.api().delete(cluster.type("apps", "v1", "deployments"), "default", "prop", DeleteOptions.DEFAULT);
    }

    /** spec.replicas of a Deployment's ReplicaSets, oldest revision first. */
    static List<Integer> sizes(String app) {
        return replicaSetsOf(app).stream().sorted(java.util.Comparator.comparingLong(Rollouts::revision))
                .map(r -> r.path("spec").path("replicas").asInt()).toList();
    }

    static void assertBounds(List<PodRecorder.Moment> moments, int maxPods, int minReady) {
        assertThat(moments).isNotEmpty();
        for (PodRecorder.Moment m : moments) {
            assertThat(m.active()).as("pods after %s", m).isLessThanOrEqualTo(maxPods);
            assertThat(m.ready()).as("ready pods after %s", m).isGreaterThanOrEqualTo(minReady);
        }
    }

    @Test
    @DisplayName("kubectl scale --replicas=5 then 1")
    void scale() throws Exception {
        cluster.create(deployment("sc", 2, "nginx:1.25", "{}"));
        await("sc rolled out", WAIT, () -> rolledOut("sc", 2));
        assertThat(kubectl("scale", "deployment/sc", "--replicas=5").exit()).isZero();
        await("5 replicas", WAIT, () -> rolledOut("sc", 5));
        assertThat(kubectl("scale", "deployment/sc", "--replicas=1").exit()).isZero();
        await("1 replica", WAIT, () -> rolledOut("sc", 1));
        assertThat(replicaSetsOf("sc")).hasSize(1);
        String rs = Meta.name(replicaSetsOf("sc").get(0));
        // the scale-up may be seen in one step or two (a slow machine can show the RS between 2 and 5), the rest is exact
        try {
            cluster.await("scale events", WAIT, () -> events("ScalingReplicaSet").stream().anyMatch(m -> m.matches("Scaled up replica set " + rs + " from [234] to 5"))
                    && events("ScalingReplicaSet").contains("Scaled down replica set " + rs + " from 5 to 1")
                    && events("SuccessfulDelete").stream().filter(m -> m.startsWith("Deleted pod: " + rs + "-")).count() == 4);
        } catch (AssertionError e) {
            // the shared namespace holds every test's events: name just this Deployment's, so a failure says what was seen
            List<String> seen = cluster.list("", "v1", "events", "default").stream()
                    .filter(ev -> ev.path("message").asText().contains(rs) || ev.path("involvedObject").path("name").asText().startsWith("sc"))
                    .map(ev -> ev.path("involvedObject").path("name").asText() + " " + ev.path("reason").asText() + " x"
                            + ev.path("count").asInt(1) + ": " + ev.path("message").asText()).toList();
            throw new AssertionError(e.getMessage() + "; events of " + rs + ": " + String.join(" | ", seen), e);
        }
    }

    @Test
    @DisplayName("a paused Deployment does not roll out a new template, resuming does")
    void pauseResume() throws Exception {
        cluster.create(deployment("pz", 2, "nginx:1.25", "{}").replace("spec:\n  replicas", "spec:\n  progressDeadlineSeconds: 600\n  replicas"));
        await("pz rolled out", WAIT, () -> rolledOut("pz", 2));
        assertThat(kubectl("rollout", "pause", "deployment/pz").exit()).isZero();
        assertThat(kubectl("set", "image", "deployment/pz", "c=nginx:1.26").exit()).isZero();
        await("paused condition", WAIT, () -> {
            ObjectNode d = get("pz");
            JsonNode c = Rollouts.condition(d.path("status"), "Progressing");
            return d.path("status").path("observedGeneration").asLong() == d.path("metadata").path("generation").asLong()
                    && c != null && c.path("reason").asText().equals("DeploymentPaused");
        });
        Thread.sleep(1500);
        assertThat(replicaSetsOf("pz")).hasSize(1);
        assertThat(podsOf("pz")).allMatch(p -> image(p).equals("nginx:1.25"));
        assertThat(kubectl("rollout", "resume", "deployment/pz").exit()).isZero();
        await("rolled out after resume", WAIT, () -> rolledOut("pz", 2)
                && podsOf("pz").stream().allMatch(p -> image(p).equals("nginx:1.26")));
        assertThat(replicaSetsOf("pz")).hasSize(2);
    }

    @Test
    @DisplayName("kubectl rollout restart replaces every pod through a new ReplicaSet")
    void restart() throws Exception {
        cluster.create(deployment("rs", 2, "nginx:1.25", "{}"));
        await("rs rolled out", WAIT, () -> rolledOut("rs", 2));
        List<String> before = podsOf("rs").stream().map(Meta::name).toList();
        Kubectl.Result r = kubectl("rollout", "restart", "deployment/rs");
        assertThat(r.exit()).as(r.out()).isZero();
        await("new pods", WAIT, () -> rolledOut("rs", 2) && podsOf("rs").stream().noneMatch(p -> before.contains(Meta.name(p))));
        assertThat(podsOf("rs")).allMatch(p -> p.path("metadata").path("annotations").has("kubectl.kubernetes.io/restartedAt"));
        assertThat(replicaSetsOf("rs")).hasSize(2);
    }

    @Test
    @DisplayName("Recreate deletes every old pod before it creates a new one")
    void recreate() throws Exception {
        cluster.create(deployment("rc8", 3, "nginx:1.25", "{type: Recreate}"));
        await("rc8 rolled out", WAIT, () -> rolledOut("rc8", 3));
        try (PodRecorder rec = new PodRecorder(cluster.api(), p -> p.path("metadata").path("labels").path("app").asText().equals("rc8"))) {
            assertThat(kubectl("set", "image", "deployment/rc8", "c=nginx:1.26").exit()).isZero();
            await("new pods", WAIT, () -> rolledOut("rc8", 3) && podsOf("rc8").stream().allMatch(p -> image(p).equals("nginx:1.26")));
            for (PodRecorder.Moment m : rec.moments()) {
                assertThat(m.images().contains("nginx:1.25") && m.images().contains("nginx:1.26")).as("old and new together at %s", m).isFalse();
            }
            assertThat(rec.moments().stream().anyMatch(m -> m.images().isEmpty())).isTrue();
        }
    }

    @Test
    @DisplayName("deleting a Deployment in the foreground or the background removes its ReplicaSets and pods")
    void deletion() throws Exception {
        for (String policy : List.of("Foreground", "Background")) {
            String name = "del-" + policy.toLowerCase();
            cluster.create(deployment(name, 2, "nginx:1.25", "{}"));
            await(name + " rolled out", WAIT, () -> rolledOut(name, 2));
            cluster.api().delete(cluster.type("apps", "v1", "deployments"), "default", name, new DeleteOptions(null, policy, null, null, false));
            await(name + " gone with its ReplicaSets and pods", WAIT,
                    () -> get(name) == null && replicaSetsOf(name).isEmpty() && podsOf(name).isEmpty());
        }
    }

    @Test
    @DisplayName("pods that never get ready make the rollout exceed its progress deadline, and kubectl rollout status fails")
    void progressDeadline() throws Exception {
        cluster.create(deployment("stuck", 2, "nginx:1.25", "{}").replace("spec:\n  replicas", "spec:\n  progressDeadlineSeconds: 3\n  replicas"));
        await("ProgressDeadlineExceeded", WAIT, () -> {
            JsonNode c = Rollouts.condition(get("stuck").path("status"), "Progressing");
            return c != null && c.path("reason").asText().equals("ProgressDeadlineExceeded");
        });
        ObjectNode d = get("stuck");
        JsonNode c = Rollouts.condition(d.path("status"), "Progressing");
        assertThat(c.path("status").asText()).isEqualTo("False");
        assertThat(c.path("message").asText()).matches("ReplicaSet \"stuck-[a-z0-9]+\" has timed out progressing\\.");
        JsonNode a = Rollouts.condition(d.path("status"), "Available");
        assertThat(a.path("reason").asText()).isEqualTo("MinimumReplicasUnavailable");
        assertThat(a.path("message").asText()).isEqualTo("Deployment does not have minimum availability.");
        assertThat(d.path("status").path("unavailableReplicas").asInt()).isEqualTo(2);
        Kubectl.Result r = kubectl("rollout", "status", "deployment/stuck", "--timeout=30s");
        assertThat(r.exit()).isNotZero();
        assertThat(r.out()).contains("exceeded its progress deadline");
    }

    @Test
    @DisplayName("a ReplicationController keeps 2 pods, replaces a deleted one, and adopts a matching orphan")
    void replicationController() throws Exception {
        cluster.create("""
                apiVersion: v1
                kind: ReplicationController
                metadata: {name: legacy, namespace: default}
                spec:
                  replicas: 2
                  selector: {app: legacy}
                  template:
                    metadata: {labels: {app: legacy}}
                    spec: {containers: [{name: c, image: nginx}]}
                """);
        await("2 ready", WAIT, () -> {
            ObjectNode rc = cluster.get("", "v1", "replicationcontrollers", "default", "legacy");
            return rc.path("status").path("readyReplicas").asInt() == 2 && rc.path("status").path("availableReplicas").asInt() == 2
                    && rc.path("status").path("fullyLabeledReplicas").asInt() == 2 && podsOf("legacy").size() == 2;
        });
        assertThat(podsOf("legacy")).allMatch(p -> Meta.name(p).startsWith("legacy-"));
        ObjectNode victim = podsOf("legacy").get(0);
        cluster.api().delete(cluster.type("", "v1", "pods"), "default", Meta.name(victim), DeleteOptions.DEFAULT);
        await("replaced", WAIT, () -> podsOf("legacy").size() == 2
                && podsOf("legacy").stream().noneMatch(p -> Meta.uid(p).equals(Meta.uid(victim))));
        // an orphan with the labels is adopted and then is one too many: one pod goes
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: orphan, namespace: default, labels: {app: legacy}}
                spec: {containers: [{name: c, image: nginx}]}
                """);
        await("back to 2 with the orphan adopted or deleted", WAIT, () -> {
            List<ObjectNode> ps = podsOf("legacy").stream().filter(p -> !Meta.deleting(p)).toList();
            ObjectNode rc = cluster.get("", "v1", "replicationcontrollers", "default", "legacy");
            return ps.size() == 2 && ps.stream().allMatch(p -> Owners.controlledBy(p, rc));
        });
        Thread.sleep(1000);
        // two at the start and one replacement: adopting the orphan made one pod too many, nothing was created for it.
        // Pods are counted by name: the event recorder retries a write that failed, which may have been stored.
        List<String> created = events("SuccessfulCreate");
        assertThat(created.stream().filter(m -> m.startsWith("Created pod: legacy-")).distinct().count()).as("%s", created).isEqualTo(3);
        List<String> deleted = events("SuccessfulDelete");
        assertThat(deleted.stream().filter(m -> m.startsWith("Deleted pod: ")).filter(m -> m.contains("legacy-") || m.contains("orphan")).distinct().count())
                .as("%s", deleted).isEqualTo(1);
    }

    /** Waits, and on a timeout shows what the cluster looks like so the failure can be read. */
    static void await(String what, Duration timeout, java.util.function.BooleanSupplier cond) {
        try {
            cluster.await(what, timeout, cond);
        } catch (AssertionError e) {
            StringBuilder sb = new StringBuilder(e.getMessage()).append('\n');
            for (String plural : List.of("deployments", "replicasets")) {
                for (ObjectNode o : cluster.list("apps", "v1", plural, "default")) {
                    sb.append(plural).append(' ').append(Meta.name(o)).append(" gen=").append(o.path("metadata").path("generation"))
                            .append(" ann=").append(o.path("metadata").path("annotations")).append(" spec.replicas=")
                            .append(o.path("spec").path("replicas")).append(" status=").append(o.path("status")).append('\n');
                }
            }
            for (ObjectNode p : cluster.list("", "v1", "pods", "default")) {
                sb.append("pod ").append(Meta.name(p)).append(" node=").append(p.path("spec").path("nodeName")).append(" phase=")
                        .append(p.path("status").path("phase")).append(" deleting=").append(Meta.deleting(p)).append('\n');
            }
            for (ObjectNode ev : cluster.list("", "v1", "events", "default")) {
                sb.append("event ").append(ev.path("reason")).append(' ').append(ev.path("message")).append('\n');
            }
            throw new AssertionError(sb.toString(), e);
        }
    }

    static String names(List<ObjectNode> l) {
        return l.stream().map(Meta::name).collect(Collectors.joining(","));
    }
}
