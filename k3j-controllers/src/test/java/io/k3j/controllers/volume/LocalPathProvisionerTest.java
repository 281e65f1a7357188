package io.k3j.controllers.volume;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.controllers.testing.TestCluster;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The local-path StorageClass and provisioner through kube's WaitForFirstConsumer flow, with the test playing the scheduler. */
class LocalPathProvisionerTest {
    static final Duration WAIT = Duration.ofSeconds(15);
    static TestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(List.of(PersistentVolumeController::new, LocalPathProvisioner::new));
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    static ObjectNode claim(String name) {
        return cluster.get("", "v1", "persistentvolumeclaims", "default", name);
    }

    static String phase(JsonNode obj) {
        return obj == null ? "" : Json.text(obj.get("status"), "phase");
    }

    static boolean hasEvent(String object, String reason, String message) {
        return cluster.list("", "v1", "events", "default").stream().anyMatch(e -> Json.text(e.get("involvedObject"), "name").equals(object)
                && Json.text(e, "reason").equals(reason) && (message == null || Json.text(e, "message").equals(message)));
    }

    /** What the scheduler does once it has placed a pod that uses the claim. */
    static void selectNode(String claim, String node) {
        cluster.api().modify(cluster.type("", "v1", "persistentvolumeclaims"), "default", claim, "", c -> {
            Json.obj(Json.obj(c, "metadata"), "annotations").put("volume.kubernetes.io/selected-node", node);
            return c;
        });
    }

    @Test
    @DisplayName("local-path is the default class, as k3s ships it")
    void defaultClass() {
        cluster.await("local-path", WAIT, () -> cluster.get("storage.k8s.io", "v1", "storageclasses", "", "local-path") != null);
        ObjectNode sc = cluster.get("storage.k8s.io", "v1", "storageclasses", "", "local-path");
        assertThat(Json.text(sc, "provisioner")).isEqualTo("rancher.io/local-path");
        assertThat(Json.text(sc, "volumeBindingMode")).isEqualTo("WaitForFirstConsumer");
        assertThat(Json.text(sc, "reclaimPolicy")).isEqualTo("Delete");
        assertThat(Json.text(sc.path("metadata").path("annotations"), "storageclass.kubernetes.io/is-default-class")).isEqualTo("true");
    }

    @Test
    @DisplayName("a claim without a class waits for its first consumer, then gets a hostPath volume on the chosen node; deleting it deletes the volume and its directory")
    void waitForFirstConsumer() throws Exception {
        cluster.create("""
                apiVersion: v1
                kind: PersistentVolumeClaim
                metadata: {name: data, namespace: default}
                spec:
                  accessModes: [ReadWriteOnce]
                  resources: {requests: {storage: 2Gi}}
                """);
        cluster.await("WaitForFirstConsumer event", WAIT,
                () -> hasEvent("data", "WaitForFirstConsumer", "waiting for first consumer to be created before binding"));
        ObjectNode c = claim("data");
        assertThat(Json.text(c.get("spec"), "storageClassName")).isEqualTo("local-path"); // the default, given retroactively
        assertThat(phase(c)).isEqualTo("Pending");
        String uid = c.path("metadata").path("uid").asText();
        assertThat(cluster.get("", "v1", "persistentvolumes", "", "pvc-" + uid)).isNull();

        selectNode("data", "node-a");
        cluster.await("data bound", WAIT, () -> "Bound".equals(phase(claim("data"))));
        ObjectNode pv = cluster.get("", "v1", "persistentvolumes", "", "pvc-" + uid);
        assertThat(pv).isNotNull();
        assertThat(Json.text(claim("data").get("spec"), "volumeName")).isEqualTo("pvc-" + uid);
        Path dir = cluster.dataDir().resolve("storage").toAbsolutePath().normalize().resolve("pvc-" + uid + "_default_data");
        assertThat(pv.path("spec").path("hostPath").path("path").asText()).isEqualTo(dir.toString());
        assertThat(pv.path("spec").path("hostPath").path("type").asText()).isEqualTo("DirectoryOrCreate");
        JsonNode expr = pv.path("spec").path("nodeAffinity").path("required").path("nodeSelectorTerms").get(0).path("matchExpressions").get(0);
        assertThat(Json.text(expr, "key")).isEqualTo("kubernetes.io/hostname");
        assertThat(Json.text(expr, "operator")).isEqualTo("In");
        assertThat(expr.path("values").get(0).asText()).isEqualTo("node-a");
        assertThat(pv.path("spec").path("capacity").path("storage").asText()).isEqualTo("2Gi");
        assertThat(Json.text(pv.get("spec"), "persistentVolumeReclaimPolicy")).isEqualTo("Delete");
        assertThat(Json.text(pv.get("spec"), "storageClassName")).isEqualTo("local-path");
        JsonNode pvAnn = pv.path("metadata").path("annotations");
        assertThat(Json.text(pvAnn, "pv.kubernetes.io/provisioned-by")).isEqualTo("rancher.io/local-path");
        assertThat(Json.text(pvAnn, "local.path.provisioner/selected-node")).isEqualTo("node-a");
        JsonNode ann = claim("data").path("metadata").path("annotations");
        assertThat(Json.text(ann, "volume.kubernetes.io/storage-provisioner")).isEqualTo("rancher.io/local-path");
        assertThat(Json.text(ann, "volume.beta.kubernetes.io/storage-provisioner")).isEqualTo("rancher.io/local-path");
        assertThat(Json.text(ann, "pv.kubernetes.io/bind-completed")).isEqualTo("yes");
        cluster.await("ProvisioningSucceeded", WAIT, () -> hasEvent("data", "ProvisioningSucceeded", "Successfully provisioned volume pvc-" + uid));
        cluster.await("pv Bound", WAIT, () -> "Bound".equals(phase(cluster.get("", "v1", "persistentvolumes", "", "pvc-" + uid))));

        // as if the kubelet had created the directory on this server
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub/file.txt"), "data");
        Path outside = cluster.dataDir().resolve("keep.txt");
        Files.writeString(outside, "not a volume");
        Files.createSymbolicLink(dir.resolve("link"), outside);

        cluster.api().delete(cluster.type("", "v1", "persistentvolumeclaims"), "default", "data", DeleteOptions.DEFAULT);
        cluster.await("the volume deleted", WAIT, () -> cluster.get("", "v1", "persistentvolumes", "", "pvc-" + uid) == null);
        assertThat(dir).doesNotExist();
        assertThat(outside).hasContent("not a volume"); // the link went, not what it pointed at
    }

    @Test
    @DisplayName("kubectl get pvc,pv,sc shows local-path as the default class and the bound claim")
    void kubectl() throws Exception {
        cluster.create("""
                apiVersion: v1
                kind: PersistentVolumeClaim
                metadata: {name: shown, namespace: default}
                spec:
                  storageClassName: local-path
                  accessModes: [ReadWriteOnce]
                  resources: {requests: {storage: 1Gi}}
                """);
        cluster.await("WaitForFirstConsumer", WAIT, () -> hasEvent("shown", "WaitForFirstConsumer", null));
        selectNode("shown", "node-b");
        cluster.await("shown bound", WAIT, () -> "Bound".equals(phase(claim("shown"))));
        String out = kubectl("get", "pvc,pv,sc");
        assertThat(out).contains("local-path (default)").contains("rancher.io/local-path").contains("WaitForFirstConsumer");
        String uid = claim("shown").path("metadata").path("uid").asText();
        assertThat(out).containsPattern("persistentvolumeclaim/shown\\s+Bound\\s+pvc-" + uid + "\\s+1Gi\\s+RWO\\s+local-path");
        assertThat(out).containsPattern("persistentvolume/pvc-" + uid + "\\s+1Gi\\s+RWO\\s+Delete\\s+Bound\\s+default/shown\\s+local-path");
    }

    @Test
    @DisplayName("--disable local-storage leaves out the class")
    void disabled() throws Exception {
        try (TestCluster other = TestCluster.start(List.of(PersistentVolumeController::new, LocalPathProvisioner::new),
                c -> c.withDisabled(Set.of("local-storage")))) {
            Thread.sleep(500);
            assertThat(other.get("storage.k8s.io", "v1", "storageclasses", "", "local-path")).isNull();
        }
    }

    static String kubectl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/kubectl", "--kubeconfig", cluster.kubeconfig().toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                p.getInputStream().transferTo(out);
            } catch (java.io.IOException e) {
                // the process ended
            }
        });
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("kubectl timed out");
        }
        reader.join(5000);
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(text).isZero();
        return text;
    }
}
