package io.k3j.controllers.apps;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.common.Pods;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class DaemonSetControllerTest {
    private AppsFixture f;

    @BeforeEach
    void start() throws Exception {
        f = new AppsFixture(DaemonSetController::new);
    }

    @AfterEach
    void stop() {
        f.close();
    }

    private static String ds(String name, String image, String extraSpec) {
        return """
                apiVersion: apps/v1
                kind: DaemonSet
                metadata: {name: %s, namespace: default}
                spec:
                  selector: {matchLabels: {app: %s}}
                  template:
                    metadata: {labels: {app: %s}}
                    spec:
                      containers: [{name: c, image: %s}]
                %s
                """.formatted(name, name, name, image, extraSpec.indent(6));
    }

    private List<ObjectNode> live(String app) {
        List<ObjectNode> out = new ArrayList<>();
        for (ObjectNode p : f.pods("app", app)) if (!Meta.deleting(p)) out.add(p);
        return out;
    }

    private Set<String> runningNodes(String app) {
        Set<String> out = new HashSet<>();
        for (ObjectNode p : live(app)) if (AppsFixture.running(p)) out.add(Json.text(p.get("spec"), "nodeName"));
        return out;
    }

    private ObjectNode status(String name) {
        ObjectNode ds = f.cluster.get("apps", "v1", "daemonsets", "default", name);
        return ds == null ? null : (ObjectNode) ds.path("status");
    }

    private void modifyNode(String name, java.util.function.UnaryOperator<ObjectNode> change) {
        ResourceType nodes = f.cluster.type("", "v1", "nodes");
        f.cluster.api().modify(nodes, "", name, "", change);
    }

    @Test
    @DisplayName("a DaemonSet runs one pod per node and follows nodes as they come, go, and get tainted")
    void followsNodes() {
        for (String n : List.of("n1", "n2", "n3")) f.addNode(n);
        f.cluster.create(ds("agent", "busybox:1", ""));
        f.await("3 agent pods running on n1..n3", () -> runningNodes("agent").equals(Set.of("n1", "n2", "n3")) && live("agent").size() == 3);
        f.await("status counts 3", () -> status("agent").path("numberReady").asInt() == 3
                && status("agent").path("desiredNumberScheduled").asInt() == 3 && status("agent").path("numberAvailable").asInt() == 3
                && status("agent").path("updatedNumberScheduled").asInt() == 3 && status("agent").path("currentNumberScheduled").asInt() == 3);
        ObjectNode st = status("agent");
        assertThat(st.path("observedGeneration").asLong()).isEqualTo(1);
        assertThat(st.has("numberUnavailable")).isFalse();
        assertThat(st.path("numberMisscheduled").asInt()).isZero();

        // each pod is pinned through the scheduler, not bound by the controller, and tolerates what daemons tolerate
        ObjectNode pod = live("agent").get(0);
        JsonNode term = pod.path("spec").path("affinity").path("nodeAffinity").path("requiredDuringSchedulingIgnoredDuringExecution")
                .path("nodeSelectorTerms");
        assertThat(term.size()).isEqualTo(1);
        assertThat(term.get(0).path("matchFields").get(0).path("key").asText()).isEqualTo("metadata.name");
        assertThat(term.get(0).path("matchFields").get(0).path("values").get(0).asText()).isEqualTo(Json.text(pod.get("spec"), "nodeName"));
        List<String> tolerated = new ArrayList<>();
        pod.path("spec").path("tolerations").forEach(t -> tolerated.add(t.path("key").asText() + ":" + t.path("effect").asText()));
        assertThat(tolerated).contains("node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute",
                "node.kubernetes.io/disk-pressure:NoSchedule", "node.kubernetes.io/memory-pressure:NoSchedule",
                "node.kubernetes.io/pid-pressure:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule")
                .doesNotContain("node.kubernetes.io/network-unavailable:NoSchedule");
        assertThat(pod.path("spec").path("tolerations").get(0).has("tolerationSeconds")).isFalse();
        assertThat(pod.path("metadata").path("labels").path("controller-revision-hash").asText()).isNotEmpty();
        assertThat(Meta.name(pod)).startsWith("agent-");

        f.addNode("n4");
        f.await("a pod on n4", () -> runningNodes("agent").equals(Set.of("n1", "n2", "n3", "n4")));

        f.nodes.delete("n2");
        f.await("n2's pod gone", () -> live("agent").size() == 3 && runningNodes("agent").equals(Set.of("n1", "n3", "n4")));
        f.await("status counts 3 again", () -> status("agent").path("desiredNumberScheduled").asInt() == 3
                && status("agent").path("numberReady").asInt() == 3);

        // a node tainted NoSchedule from birth gets no pod; one tainted NoExecute later loses its pod; a cordoned node keeps it
        f.kubelet.manage("n5");
        ObjectNode n5 = Json.object();
        n5.putObject("metadata").put("name", "n5");
        n5.putObject("spec").putArray("taints").addObject().put("key", "dedicated").put("value", "db").put("effect", "NoSchedule");
        f.cluster.api().create(f.cluster.type("", "v1", "nodes"), "", n5);
        modifyNode("n3", n -> {
            Json.obj(n, "spec").put("unschedulable", true).putArray("taints").addObject()
                    .put("key", "node.kubernetes.io/unschedulable").put("effect", "NoSchedule");
            return n;
        });
        modifyNode("n4", n -> {
            Json.obj(n, "spec").putArray("taints").addObject().put("key", "evict").put("effect", "NoExecute");
            return n;
        });
        f.await("n4's pod evicted", () -> runningNodes("agent").equals(Set.of("n1", "n3")) && live("agent").size() == 2);
        f.await("status: 2 desired", () -> status("agent").path("desiredNumberScheduled").asInt() == 2);
        sleep(1000);
        assertThat(live("agent")).hasSize(2);
        assertThat(live("agent")).noneMatch(p -> DaemonPods.targetNode(p).equals("n5"));

        // a pod that tolerates the taint runs there
        f.cluster.create(ds("db", "busybox:1", """
                tolerations: [{key: dedicated, operator: Equal, value: db, effect: NoSchedule}]
                """).replace("      tolerations", "      tolerations"));
        f.await("db on n1, n3, n5", () -> live("db").stream().map(DaemonPods::targetNode).collect(java.util.stream.Collectors.toSet())
                .equals(Set.of("n1", "n3", "n5")));

        List<ObjectNode> events = f.cluster.list("", "v1", "events", "default");
        assertThat(events).anyMatch(e -> e.path("reason").asText().equals("SuccessfulCreate")
                && e.path("message").asText().startsWith("Created pod: agent-")
                && e.path("involvedObject").path("kind").asText().equals("DaemonSet"));
        assertThat(events).anyMatch(e -> e.path("reason").asText().equals("SuccessfulDelete")
                && e.path("message").asText().startsWith("Deleted pod: agent-"));
    }

    @Test
    @DisplayName("nodeSelector and required node affinity choose the nodes, and relabelling a node adds or removes its pod")
    void nodeSelector() {
        f.addNode("a", Map.of("disk", "ssd"));
        f.addNode("b", Map.of("disk", "hdd"));
        f.addNode("c", Map.of("disk", "ssd", "zone", "z1"));
        f.cluster.create(ds("ssd", "busybox:1", "nodeSelector: {disk: ssd}"));
        f.cluster.create(ds("zoned", "busybox:1", """
                affinity:
                  nodeAffinity:
                    requiredDuringSchedulingIgnoredDuringExecution:
                      nodeSelectorTerms:
                      - matchExpressions: [{key: zone, operator: Exists}]
                      - matchFields: [{key: metadata.name, operator: In, values: [b]}]
                """));
        f.await("ssd on a and c", () -> runningNodes("ssd").equals(Set.of("a", "c")) && live("ssd").size() == 2);
        f.await("zoned on b and c", () -> runningNodes("zoned").equals(Set.of("b", "c")) && live("zoned").size() == 2);
        modifyNode("b", n -> {
            Json.obj(Json.obj(n, "metadata"), "labels").put("disk", "ssd");
            return n;
        });
        modifyNode("a", n -> {
            Json.obj(Json.obj(n, "metadata"), "labels").put("disk", "hdd");
            return n;
        });
        f.await("ssd moves from a to b", () -> runningNodes("ssd").equals(Set.of("b", "c")) && live("ssd").size() == 2);
        f.await("status", () -> status("ssd").path("desiredNumberScheduled").asInt() == 2 && status("ssd").path("numberMisscheduled").asInt() == 0
                && status("ssd").path("numberReady").asInt() == 2);
    }

    @Test
    @DisplayName("a rolling update replaces pods node by node, never more than maxUnavailable at once; kubectl sees the rollout and its history")
    void rollingUpdate() throws Exception {
        for (String n : List.of("n1", "n2", "n3")) f.addNode(n);
        f.cluster.create(ds("x", "busybox:1", ""));
        f.await("3 running", () -> runningNodes("x").size() == 3 && status("x").path("numberAvailable").asInt() == 3);
        AtomicInteger minAvailable = new AtomicInteger(3);
        AtomicInteger maxPods = new AtomicInteger(0);
        f.onEveryPodEvent(inf -> {
            int ready = 0, all = 0;
            for (ObjectNode p : inf.list()) {
                if (!p.path("metadata").path("labels").path("app").asText().equals("x")) continue;
                all++;
                if (Pods.ready(p) && !Meta.deleting(p)) ready++;
            }
            minAvailable.accumulateAndGet(ready, Math::min);
            maxPods.accumulateAndGet(all, Math::max);
        });
        String oldHash = Meta.labels(live("x").get(0)).path("controller-revision-hash").asText();
        ResourceType dsType = f.cluster.type("apps", "v1", "daemonsets");
        f.cluster.api().modify(dsType, "default", "x", "", d -> {
            ((ObjectNode) d.path("spec").path("template").path("spec").path("containers").get(0)).put("image", "busybox:2");
            return d;
        });
        f.await("all 3 pods at busybox:2", () -> live("x").size() == 3 && runningNodes("x").size() == 3
                && live("x").stream().allMatch(p -> p.path("spec").path("containers").get(0).path("image").asText().equals("busybox:2")));
        f.await("status updated", () -> status("x").path("updatedNumberScheduled").asInt() == 3 && status("x").path("numberAvailable").asInt() == 3
                && status("x").path("observedGeneration").asLong() == 2);
        String newHash = Meta.labels(live("x").get(0)).path("controller-revision-hash").asText();
        assertThat(newHash).isNotEqualTo(oldHash);
        assertThat(minAvailable.get()).as("ready pods during the rollout").isGreaterThanOrEqualTo(2);
        assertThat(maxPods.get()).as("pods at once (no surge)").isLessThanOrEqualTo(3);

        List<ObjectNode> revisions = f.cluster.list("apps", "v1", "controllerrevisions", "default");
        assertThat(revisions).extracting(Meta::name).containsExactlyInAnyOrder("x-" + oldHash, "x-" + newHash);
        ObjectNode rev2 = revisions.stream().filter(r -> Meta.name(r).equals("x-" + newHash)).findFirst().orElseThrow();
        assertThat(rev2.path("revision").asLong()).isEqualTo(2);
        assertThat(rev2.path("data").path("spec").path("template").path("$patch").asText()).isEqualTo("replace");
        assertThat(rev2.path("metadata").path("labels").path("app").asText()).isEqualTo("x");

        AppsFixture.Result status = f.kubectl("rollout", "status", "daemonset/x", "--timeout=30s");
        assertThat(status.exit()).as(status.output()).isZero();
        assertThat(status.output()).contains("daemon set \"x\" successfully rolled out");
        AppsFixture.Result history = f.kubectl("rollout", "history", "daemonset/x");
        assertThat(history.exit()).as(history.output()).isZero();
        assertThat(history.output()).contains("REVISION").containsPattern("(?m)^1\\s").containsPattern("(?m)^2\\s");
        AppsFixture.Result rev = f.kubectl("rollout", "history", "daemonset/x", "--revision=1");
        assertThat(rev.exit()).as(rev.output()).isZero();
        assertThat(rev.output()).contains("busybox:1");

        // going back to the first template reuses its revision, renumbered as the newest
        f.cluster.api().modify(dsType, "default", "x", "", d -> {
            ((ObjectNode) d.path("spec").path("template").path("spec").path("containers").get(0)).put("image", "busybox:1");
            return d;
        });
        f.await("back at busybox:1 under the old hash", () -> live("x").size() == 3 && runningNodes("x").size() == 3
                && live("x").stream().allMatch(p -> p.path("metadata").path("labels").path("controller-revision-hash").asText().equals(oldHash)));
        f.await("revision renumbered", () -> f.cluster.get("apps", "v1", "controllerrevisions", "default", "x-" + oldHash)
                .path("revision").asLong() == 3);

        // kubectl rollout undo patches the previous revision's data back into the template
        AppsFixture.Result undo = f.kubectl("rollout", "undo", "daemonset/x");
        assertThat(undo.exit()).as(undo.output()).isZero();
        assertThat(undo.output()).contains("daemonset.apps/x rolled back");
        f.await("back at busybox:2 under its hash", () -> live("x").size() == 3 && runningNodes("x").size() == 3
                && live("x").stream().allMatch(p -> p.path("metadata").path("labels").path("controller-revision-hash").asText().equals(newHash)
                        && p.path("spec").path("containers").get(0).path("image").asText().equals("busybox:2")));
    }

    @Test
    @DisplayName("maxSurge starts the new pod on a node before the old one goes")
    void surge() {
        for (String n : List.of("n1", "n2")) f.addNode(n);
        f.cluster.create(ds("s", "busybox:1", "").replace("  template:", "  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}\n  template:"));
        f.await("2 running", () -> runningNodes("s").size() == 2 && status("s").path("numberAvailable").asInt() == 2);
        AtomicInteger minReady = new AtomicInteger(2);
        AtomicInteger maxPods = new AtomicInteger(0);
        f.onEveryPodEvent(inf -> {
            int ready = 0, all = 0;
            for (ObjectNode p : inf.list()) {
                if (!p.path("metadata").path("labels").path("app").asText().equals("s")) continue;
                if (!Meta.deleting(p)) all++; // a replaced pod may still be terminating: kube surges on regardless
                if (Pods.ready(p) && !Meta.deleting(p)) ready++;
            }
            minReady.accumulateAndGet(ready, Math::min);
            maxPods.accumulateAndGet(all, Math::max);
        });
        f.cluster.api().modify(f.cluster.type("apps", "v1", "daemonsets"), "default", "s", "", d -> {
            ((ObjectNode) d.path("spec").path("template").path("spec").path("containers").get(0)).put("image", "busybox:2");
            return d;
        });
        f.await("both at busybox:2", () -> live("s").size() == 2 && runningNodes("s").size() == 2
                && live("s").stream().allMatch(p -> p.path("spec").path("containers").get(0).path("image").asText().equals("busybox:2")));
        assertThat(minReady.get()).as("ready pods during a surge rollout").isEqualTo(2);
        assertThat(maxPods.get()).as("live pods at once").isEqualTo(3);
    }

    @Test
    @DisplayName("OnDelete keeps old pods until they are deleted; revisionHistoryLimit trims unused revisions")
    void onDeleteAndHistoryLimit() {
        f.addNode("n1");
        f.cluster.create(ds("od", "busybox:1", "").replace("  template:", "  updateStrategy: {type: OnDelete}\n  revisionHistoryLimit: 1\n  template:"));
        f.await("running", () -> runningNodes("od").size() == 1);
        ObjectNode first = live("od").get(0);
        ResourceType dsType = f.cluster.type("apps", "v1", "daemonsets");
        for (String image : List.of("busybox:2", "busybox:3", "busybox:4")) {
            f.cluster.api().modify(dsType, "default", "od", "", d -> {
                ((ObjectNode) d.path("spec").path("template").path("spec").path("containers").get(0)).put("image", image);
                return d;
            });
            f.await("observed " + image, () -> status("od").path("observedGeneration").asLong() == f.cluster.get("apps", "v1", "daemonsets", "default", "od")
                    .path("metadata").path("generation").asLong());
        }
        sleep(500);
        assertThat(live("od")).extracting(Meta::uid).containsExactly(Meta.uid(first));
        assertThat(status("od").path("updatedNumberScheduled").asInt()).isZero();
        // the first revision is still in use by the pod, the newest is current, and one more is allowed
        f.await("history trimmed to 3", () -> f.cluster.list("apps", "v1", "controllerrevisions", "default").size() == 3);
        f.cluster.api().delete(f.cluster.type("", "v1", "pods"), "default", Meta.name(first), io.k3j.apiserver.registry.DeleteOptions.DEFAULT);
        f.await("replaced at busybox:4", () -> live("od").size() == 1 && AppsFixture.running(live("od").get(0))
                && live("od").get(0).path("spec").path("containers").get(0).path("image").asText().equals("busybox:4"));
        f.await("history trimmed to 2", () -> f.cluster.list("apps", "v1", "controllerrevisions", "default").size() == 2);
    }

    @Test
    @DisplayName("a failed daemon pod is replaced (with a FailedDaemonPod warning), and an orphan pod matching the selector is adopted")
    void failedAndOrphanPods() {
        f.addNode("n1");
        f.addNode("n2");
        ObjectNode orphan = f.cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: stray, namespace: default, labels: {app: fd}}
                spec: {nodeName: n2, containers: [{name: c, image: "busybox:1"}]}
                """);
        java.util.Set<String> adoptedUids = java.util.concurrent.ConcurrentHashMap.newKeySet();
        f.onEveryPodEvent(inf -> {
            ObjectNode p = inf.get("default", "stray");
            if (p != null && io.k3j.controllers.common.Owners.controllerRef(p) != null) adoptedUids.add(Meta.uid(p));
        });
        f.cluster.create(ds("fd", "busybox:1", ""));
        f.await("the orphan adopted", () -> adoptedUids.contains(Meta.uid(orphan)));
        f.await("one pod per node", () -> runningNodes("fd").equals(Set.of("n1", "n2")) && live("fd").size() == 2);
        ObjectNode onN1 = live("fd").stream().filter(p -> Json.text(p.get("spec"), "nodeName").equals("n1")).findFirst().orElseThrow();
        f.cluster.api().modify(f.cluster.type("", "v1", "pods"), "default", Meta.name(onN1), "status", p -> {
            Json.obj(p, "status").put("phase", "Failed");
            return p;
        });
        f.await("the failed pod replaced", () -> live("fd").stream().anyMatch(p -> Json.text(p.get("spec"), "nodeName").equals("n1")
                && AppsFixture.running(p) && !Meta.uid(p).equals(Meta.uid(onN1))));
        assertThat(f.cluster.list("", "v1", "events", "default")).anyMatch(e -> e.path("reason").asText().equals("FailedDaemonPod")
                && e.path("type").asText().equals("Warning") && e.path("message").asText().contains("on node n1"));
    }

    @Test
    @DisplayName("with the real scheduler, each daemon pod lands on the node its matchFields affinity names, a cordoned node included")
    void realScheduler() throws Exception {
        f.close();
        f = new AppsFixture(List.of(DaemonSetController::new, io.k3j.controllers.scheduler.SchedulerController::new), false);
        f.addNode("n1");
        f.addNode("n2");
        f.addNode("n3");
        modifyNode("n2", n -> {
            Json.obj(n, "spec").put("unschedulable", true).putArray("taints").addObject()
                    .put("key", "node.kubernetes.io/unschedulable").put("effect", "NoSchedule");
            return n;
        });
        f.cluster.create(ds("sched", "busybox:1", ""));
        f.await("a pod running on every node", () -> runningNodes("sched").equals(Set.of("n1", "n2", "n3")) && live("sched").size() == 3);
        for (ObjectNode p : live("sched")) {
            JsonNode pinned = p.at("/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchFields/0/values/0");
            assertThat(Json.text(p.get("spec"), "nodeName")).isEqualTo(pinned.asText());
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
