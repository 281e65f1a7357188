package io.k3j.controllers.apps;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.testing.FakeKubelet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class StatefulSetControllerTest {
    private AppsFixture f;
    private ResourceType sts;
    private ResourceType podType;

    @BeforeEach
    void start() throws Exception {
        f = new AppsFixture(StatefulSetController::new);
        sts = f.cluster.type("apps", "v1", "statefulsets");
        podType = f.cluster.type("", "v1", "pods");
        f.addNode("n1");
        f.addNode("n2");
    }

    @AfterEach
    void stop() {
        f.close();
    }

    private static String web(int replicas, String extraSpec) {
        return """
                apiVersion: apps/v1
                kind: StatefulSet
                metadata: {name: web, namespace: default}
                spec:
                  serviceName: nginx
                  replicas: %d
                  selector: {matchLabels: {app: web}}
                %s
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers: [{name: nginx, image: "nginx:1", volumeMounts: [{name: www, mountPath: /usr/share/nginx/html}]}]
                  volumeClaimTemplates:
                  - metadata: {name: www}
                    spec:
                      accessModes: [ReadWriteOnce]
                      resources: {requests: {storage: 1Gi}}
                """.formatted(replicas, extraSpec.indent(2));
    }

    private int index(String event) {
        return f.podEvents.indexOf(event);
    }

    private int firstIndex(String... events) {
        int best = Integer.MAX_VALUE;
        for (String e : events) {
            int i = f.podEvents.indexOf(e);
            if (i >= 0) best = Math.min(best, i);
        }
        return best;
    }

    private boolean allRunning(int n) {
        for (int i = 0; i < n; i++) if (!AppsFixture.running(f.pod("web-" + i))) return false;
        return true;
    }

    private JsonNode status() {
        return f.cluster.get("apps", "v1", "statefulsets", "default", "web").path("status");
    }

    private void setImage(String image) {
        f.cluster.api().modify(sts, "default", "web", "", s -> {
            ((ObjectNode) s.path("spec").path("template").path("spec").path("containers").get(0)).put("image", image);
            return s;
        });
    }

    private static String image(JsonNode pod) {
        return pod.path("spec").path("containers").get(0).path("image").asText();
    }

    /** What a kubelet reports once the containers run and pass their readiness probe. */
    private void markRunningAndReady(String pod) {
        f.cluster.api().modify(podType, "default", pod, "status", p -> {
            ObjectNode s = Json.obj(p, "status");
            s.put("phase", "Running");
            String now = Meta.timestamp(f.cluster.api().clock().instant());
            var conds = s.putArray("conditions");
            for (String t : List.of("Initialized", "Ready", "ContainersReady", "PodScheduled")) {
                conds.addObject().put("type", t).put("status", "True").put("lastTransitionTime", now);
            }
            return p;
        });
    }

    @Test
    @DisplayName("OrderedReady creates web-0, web-1, web-2 one at a time, each Ready first, with claims and stable identity; scales down from the top")
    void orderedReady() throws Exception {
        f.kubelet.behavior(p -> Meta.name(p).equals("web-0") ? FakeKubelet.Outcome.STAY_PENDING : FakeKubelet.Outcome.RUN);
        f.cluster.create(web(3, ""));
        f.await("web-0 created", () -> f.pod("web-0") != null && !Json.text(f.pod("web-0").get("spec"), "nodeName").isEmpty());
        Thread.sleep(1500);
        assertThat(f.pod("web-1")).as("web-1 while web-0 is not Ready").isNull();
        markRunningAndReady("web-0");
        f.await("web-0..2 running", () -> allRunning(3));
        f.await("status ready 3", () -> status().path("readyReplicas").asInt() == 3 && status().path("replicas").asInt() == 3
                && status().path("availableReplicas").asInt() == 3 && status().path("currentReplicas").asInt() == 3
                && status().path("updatedReplicas").asInt() == 3);
        assertThat(index("READY web-0")).isGreaterThanOrEqualTo(0).isLessThan(index("ADDED web-1"));
        assertThat(index("READY web-1")).isGreaterThanOrEqualTo(0).isLessThan(index("ADDED web-2"));

        JsonNode st = status();
        assertThat(st.path("observedGeneration").asLong()).isEqualTo(1);
        assertThat(st.path("currentRevision").asText()).startsWith("web-").isEqualTo(st.path("updateRevision").asText());
        assertThat(st.path("collisionCount").asInt()).isZero();
        for (int i = 0; i < 3; i++) {
            ObjectNode pod = f.pod("web-" + i);
            assertThat(pod.path("metadata").path("labels").path("statefulset.kubernetes.io/pod-name").asText()).isEqualTo("web-" + i);
            assertThat(pod.path("metadata").path("labels").path("apps.kubernetes.io/pod-index").asText()).isEqualTo(Integer.toString(i));
            assertThat(pod.path("metadata").path("labels").path("controller-revision-hash").asText()).isEqualTo(st.path("updateRevision").asText());
            assertThat(Json.text(pod.get("spec"), "hostname")).isEqualTo("web-" + i);
            assertThat(Json.text(pod.get("spec"), "subdomain")).isEqualTo("nginx");
            JsonNode volume = pod.path("spec").path("volumes").get(0);
            assertThat(volume.path("name").asText()).isEqualTo("www");
            assertThat(volume.path("persistentVolumeClaim").path("claimName").asText()).isEqualTo("www-web-" + i);
            ObjectNode claim = f.cluster.get("", "v1", "persistentvolumeclaims", "default", "www-web-" + i);
            assertThat(claim).as("claim www-web-" + i).isNotNull();
            assertThat(claim.path("metadata").path("labels").path("app").asText()).isEqualTo("web");
            assertThat(claim.path("spec").path("resources").path("requests").path("storage").asText()).isEqualTo("1Gi");
        }
        AppsFixture.Result rollout = f.kubectl("rollout", "status", "statefulset/web", "--timeout=30s");
        assertThat(rollout.exit()).as(rollout.output()).isZero();
        // the defaulted partition (0) makes kubectl report a partitioned rollout, as it does against kube
        assertThat(rollout.output()).contains("partitioned roll out complete: 3 new pods have been updated");

        f.cluster.api().modify(sts, "default", "web", "", s -> {
            ((ObjectNode) s.get("spec")).put("replicas", 1);
            return s;
        });
        f.await("scaled to 1", () -> f.pod("web-1") == null && f.pod("web-2") == null && AppsFixture.running(f.pod("web-0")));
        assertThat(index("DELETED web-2")).isGreaterThanOrEqualTo(0).isLessThan(firstIndex("DELETING web-1", "DELETED web-1"));
        // claims outlive their pods unless the retention policy says otherwise
        for (int i = 0; i < 3; i++) assertThat(f.cluster.get("", "v1", "persistentvolumeclaims", "default", "www-web-" + i)).isNotNull();
        f.await("status 1", () -> status().path("replicas").asInt() == 1 && status().path("readyReplicas").asInt() == 1);
        List<ObjectNode> events = f.cluster.list("", "v1", "events", "default");
        assertThat(events).anyMatch(e -> e.path("reason").asText().equals("SuccessfulCreate")
                && e.path("message").asText().equals("create Pod web-1 in StatefulSet web successful"));
        assertThat(events).anyMatch(e -> e.path("reason").asText().equals("SuccessfulCreate")
                && e.path("message").asText().equals("create Claim www-web-1 Pod web-1 in StatefulSet web success"));
        assertThat(events).anyMatch(e -> e.path("reason").asText().equals("SuccessfulDelete")
                && e.path("message").asText().equals("delete Pod web-2 in StatefulSet web successful"));
    }

    @Test
    @DisplayName("Parallel creates and removes all pods at once, Ready or not")
    void parallel() {
        f.kubelet.behavior(p -> FakeKubelet.Outcome.STAY_PENDING);
        f.cluster.create(web(3, "podManagementPolicy: Parallel"));
        f.await("3 pods", () -> f.pod("web-0") != null && f.pod("web-1") != null && f.pod("web-2") != null);
        for (int i = 0; i < 3; i++) assertThat(f.cluster.get("", "v1", "persistentvolumeclaims", "default", "www-web-" + i)).isNotNull();
        assertThat(status().path("readyReplicas").asInt()).isZero();
        f.cluster.api().modify(sts, "default", "web", "", s -> {
            ((ObjectNode) s.get("spec")).put("replicas", 0);
            return s;
        });
        f.await("all gone", () -> f.pod("web-0") == null && f.pod("web-1") == null && f.pod("web-2") == null);
    }

    @Test
    @DisplayName("spec.ordinals.start numbers the pods and their claims from the start ordinal")
    void ordinalsStart() {
        f.cluster.create(web(2, "ordinals: {start: 3}"));
        f.await("web-3 and web-4 running", () -> AppsFixture.running(f.pod("web-3")) && AppsFixture.running(f.pod("web-4")));
        assertThat(f.pod("web-0")).isNull();
        assertThat(f.pod("web-3").at("/metadata/labels/apps.kubernetes.io~1pod-index").asText()).isEqualTo("3");
        assertThat(f.cluster.get("", "v1", "persistentvolumeclaims", "default", "www-web-4")).isNotNull();
        f.await("status", () -> status().path("readyReplicas").asInt() == 2 && status().path("updatedReplicas").asInt() == 2);
    }

    @Test
    @DisplayName("a partitioned rolling update replaces only ordinals at or above the partition, then the rest from the highest down")
    void partitionedRollingUpdate() throws Exception {
        f.cluster.create(web(3, "updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}"));
        f.await("3 running", () -> allRunning(3) && status().path("readyReplicas").asInt() == 3);
        String rev1 = status().path("currentRevision").asText();
        Map<Integer, String> uids = new java.util.HashMap<>();
        for (int i = 0; i < 3; i++) uids.put(i, Meta.uid(f.pod("web-" + i)));
        setImage("nginx:2");
        f.await("web-2 at nginx:2", () -> AppsFixture.running(f.pod("web-2")) && image(f.pod("web-2")).equals("nginx:2"));
        f.await("status: 1 updated", () -> status().path("updatedReplicas").asInt() == 1 && status().path("readyReplicas").asInt() == 3
                && status().path("observedGeneration").asLong() == 2);
        Thread.sleep(500);
        assertThat(Meta.uid(f.pod("web-0"))).isEqualTo(uids.get(0));
        assertThat(Meta.uid(f.pod("web-1"))).isEqualTo(uids.get(1));
        assertThat(image(f.pod("web-1"))).isEqualTo("nginx:1");
        JsonNode st = status();
        String rev2 = st.path("updateRevision").asText();
        assertThat(rev2).isNotEqualTo(rev1);
        assertThat(st.path("currentRevision").asText()).isEqualTo(rev1);
        assertThat(st.path("currentReplicas").asInt()).isEqualTo(2);
        assertThat(f.pod("web-2").path("metadata").path("labels").path("controller-revision-hash").asText()).isEqualTo(rev2);
        AppsFixture.Result partitioned = f.kubectl("rollout", "status", "statefulset/web", "--timeout=30s");
        assertThat(partitioned.exit()).as(partitioned.output()).isZero();
        assertThat(partitioned.output()).contains("partitioned roll out complete: 1 new pods have been updated");

        // a pod below the partition that is deleted comes back at the current revision
        f.cluster.api().delete(podType, "default", "web-0", DeleteOptions.DEFAULT);
        f.await("web-0 recreated", () -> AppsFixture.running(f.pod("web-0")) && !Meta.uid(f.pod("web-0")).equals(uids.get(0)));
        assertThat(image(f.pod("web-0"))).isEqualTo("nginx:1");
        assertThat(f.pod("web-0").path("metadata").path("labels").path("controller-revision-hash").asText()).isEqualTo(rev1);

        int before = f.podEvents.size();
        f.cluster.api().modify(sts, "default", "web", "", s -> {
            ((ObjectNode) s.path("spec").path("updateStrategy").path("rollingUpdate")).put("partition", 0);
            return s;
        });
        f.await("all at nginx:2", () -> allRunning(3) && image(f.pod("web-0")).equals("nginx:2") && image(f.pod("web-1")).equals("nginx:2"));
        f.await("rollout complete", () -> status().path("currentRevision").asText().equals(rev2) && status().path("updatedReplicas").asInt() == 3
                && status().path("currentReplicas").asInt() == 3);
        List<String> later = new ArrayList<>(f.podEvents.subList(before, f.podEvents.size()));
        int web1Gone = later.indexOf("DELETED web-1");
        int web0Goes = Math.min(later.indexOf("DELETING web-0") < 0 ? Integer.MAX_VALUE : later.indexOf("DELETING web-0"),
                later.indexOf("DELETED web-0") < 0 ? Integer.MAX_VALUE : later.indexOf("DELETED web-0"));
        int web1Ready = later.indexOf("READY web-1");
        assertThat(web1Gone).isGreaterThanOrEqualTo(0).isLessThan(web1Ready);
        assertThat(web1Ready).as(later.toString()).isLessThan(web0Goes);
        AppsFixture.Result done = f.kubectl("rollout", "status", "statefulset/web", "--timeout=30s");
        assertThat(done.exit()).as(done.output()).isZero();
        assertThat(done.output()).contains("partitioned roll out complete: 3 new pods have been updated");
        AppsFixture.Result history = f.kubectl("rollout", "history", "statefulset/web");
        assertThat(history.exit()).as(history.output()).isZero();
        assertThat(history.output()).containsPattern("(?m)^1\\s").containsPattern("(?m)^2\\s");
        List<String> revisions = f.cluster.list("apps", "v1", "controllerrevisions", "default").stream().map(Meta::name).toList();
        assertThat(revisions).containsExactlyInAnyOrder(rev1, rev2);

        AppsFixture.Result undo = f.kubectl("rollout", "undo", "statefulset/web");
        assertThat(undo.exit()).as(undo.output()).isZero();
        f.await("rolled back to nginx:1 at the first revision", () -> allRunning(3) && status().path("updateRevision").asText().equals(rev1)
                && status().path("currentRevision").asText().equals(rev1) && status().path("updatedReplicas").asInt() == 3
                && image(f.pod("web-0")).equals("nginx:1") && image(f.pod("web-2")).equals("nginx:1"));
        assertThat(f.cluster.get("apps", "v1", "controllerrevisions", "default", rev1).path("revision").asLong()).isEqualTo(3);
    }

    @Test
    @DisplayName("a failed pod is replaced under the same name; OnDelete updates a pod only when it is deleted")
    void recreateAndOnDelete() {
        f.cluster.create(web(2, "updateStrategy: {type: OnDelete}"));
        f.await("2 running", () -> allRunning(2));
        String uid0 = Meta.uid(f.pod("web-0"));
        f.cluster.api().modify(podType, "default", "web-0", "status", p -> {
            Json.obj(p, "status").put("phase", "Failed");
            return p;
        });
        f.await("web-0 replaced", () -> AppsFixture.running(f.pod("web-0")) && !Meta.uid(f.pod("web-0")).equals(uid0));

        setImage("nginx:2");
        f.await("observed", () -> status().path("observedGeneration").asLong() == 2);
        String uid1 = Meta.uid(f.pod("web-1"));
        f.await("status: 0 updated", () -> status().path("updatedReplicas").asInt() == 0 && status().path("currentReplicas").asInt() == 2);
        assertThat(Meta.uid(f.pod("web-1"))).isEqualTo(uid1);
        f.cluster.api().delete(podType, "default", "web-1", DeleteOptions.DEFAULT);
        f.await("web-1 at nginx:2", () -> AppsFixture.running(f.pod("web-1")) && image(f.pod("web-1")).equals("nginx:2"));
        assertThat(image(f.pod("web-0"))).isEqualTo("nginx:1");
        f.await("status: 1 updated", () -> status().path("updatedReplicas").asInt() == 1);
    }

    @Test
    @DisplayName("persistentVolumeClaimRetentionPolicy whenScaled: Delete removes the claims of ordinals scaled away")
    void claimRetention() {
        f.cluster.create(web(3, "persistentVolumeClaimRetentionPolicy: {whenScaled: Delete, whenDeleted: Retain}"));
        f.await("3 running", () -> allRunning(3));
        f.cluster.api().modify(sts, "default", "web", "", s -> {
            ((ObjectNode) s.get("spec")).put("replicas", 1);
            return s;
        });
        f.await("claims of web-1 and web-2 gone", () -> f.cluster.get("", "v1", "persistentvolumeclaims", "default", "www-web-1") == null
                && f.cluster.get("", "v1", "persistentvolumeclaims", "default", "www-web-2") == null);
        assertThat(f.cluster.get("", "v1", "persistentvolumeclaims", "default", "www-web-0")).isNotNull();
        assertThat(f.cluster.list("", "v1", "pods", "default")).extracting(Meta::name).isEqualTo(List.of("web-0"));
        assertThat(f.cluster.get("", "v1", "persistentvolumeclaims", "default", "www-web-0").path("metadata").has("ownerReferences")).isFalse();
        // switching whenDeleted to Delete hands the remaining claim to the set
        f.cluster.api().modify(sts, "default", "web", "", s -> {
            ((ObjectNode) s.path("spec").path("persistentVolumeClaimRetentionPolicy")).put("whenDeleted", "Delete");
            return s;
        });
        f.await("www-web-0 owned by the set", () -> f.cluster.get("", "v1", "persistentvolumeclaims", "default", "www-web-0")
                .path("metadata").path("ownerReferences").path(0).path("name").asText().equals("web"));
    }

    @Test
    @DisplayName("a pod named and labelled like one of the set's is adopted rather than duplicated; deleting the set with whenDeleted: Delete gives its claims to the garbage collector")
    void adoptionAndClaimOwnership() {
        ObjectNode orphan = f.cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: web-0, namespace: default, labels: {app: web}}
                spec: {nodeName: n1, containers: [{name: nginx, image: "nginx:1"}]}
                """);
        java.util.Set<String> adopted = java.util.concurrent.ConcurrentHashMap.newKeySet();
        f.onEveryPodEvent(inf -> {
            ObjectNode p = inf.get("default", "web-0");
            if (p != null && io.k3j.controllers.common.Owners.controllerRef(p) != null) adopted.add(Meta.uid(p));
        });
        f.await("orphan running", () -> AppsFixture.running(f.pod("web-0")));
        f.cluster.create(web(2, "persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Retain}"));
        f.await("the orphan adopted", () -> adopted.contains(Meta.uid(orphan)));
        f.await("2 running at the set's revision", () -> allRunning(2) && status().path("updatedReplicas").asInt() == 2);
        ObjectNode claim = f.cluster.get("", "v1", "persistentvolumeclaims", "default", "www-web-1");
        JsonNode ref = claim.path("metadata").path("ownerReferences").get(0);
        assertThat(ref.path("kind").asText()).isEqualTo("StatefulSet");
        assertThat(ref.path("name").asText()).isEqualTo("web");
        assertThat(ref.path("controller").asBoolean(false)).isFalse();
        f.cluster.api().delete(sts, "default", "web", new DeleteOptions(null, "Background", null, null, false));
        f.await("the garbage collector removes the claims with the set", () -> f.cluster.get("", "v1", "persistentvolumeclaims", "default", "www-web-0") == null
                && f.cluster.get("", "v1", "persistentvolumeclaims", "default", "www-web-1") == null);
    }
}
