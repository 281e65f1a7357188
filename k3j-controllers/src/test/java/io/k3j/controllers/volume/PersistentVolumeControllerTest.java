package io.k3j.controllers.volume;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.controllers.testing.TestCluster;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Static binding and reclaiming, against a real control plane running the binder (and the local-path provisioner beside it). */
class PersistentVolumeControllerTest {
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

    static void pv(String name, String cls, String size, String modes, String policy, String extra) {
        cluster.create("""
                apiVersion: v1
                kind: PersistentVolume
                metadata: {name: %s, labels: {size: "%s"}}
                spec:
                  storageClassName: "%s"
                  capacity: {storage: %s}
                  accessModes: [%s]
                  persistentVolumeReclaimPolicy: %s
                  hostPath: {path: /tmp/%s}
                %s
                """.formatted(name, size, cls, size, modes, policy, name, extra));
    }

    static void pvc(String name, String cls, String size, String extra) {
        cluster.create("""
                apiVersion: v1
                kind: PersistentVolumeClaim
                metadata: {name: %s, namespace: default}
                spec:
                  storageClassName: "%s"
                  accessModes: [ReadWriteOnce]
                  resources: {requests: {storage: %s}}
                %s
                """.formatted(name, cls, size, extra));
    }

    static ObjectNode claim(String name) {
        return cluster.get("", "v1", "persistentvolumeclaims", "default", name);
    }

    static ObjectNode volume(String name) {
        return cluster.get("", "v1", "persistentvolumes", "", name);
    }

    static String phase(JsonNode obj) {
        return obj == null ? "" : Json.text(obj.get("status"), "phase");
    }

    static void awaitBound(String claimName) {
        cluster.await(claimName + " bound", WAIT, () -> "Bound".equals(phase(claim(claimName))));
    }

    static boolean hasEvent(String object, String reason, String message) {
        return cluster.list("", "v1", "events", "default").stream().anyMatch(e -> Json.text(e.get("involvedObject"), "name").equals(object)
                && Json.text(e, "reason").equals(reason) && (message == null || Json.text(e, "message").equals(message)));
    }

    static void deleteClaim(String name) {
        cluster.api().delete(cluster.type("", "v1", "persistentvolumeclaims"), "default", name, DeleteOptions.DEFAULT);
    }

    @Test
    @DisplayName("a claim binds to the smallest Available volume of its class that fits, and both sides record it")
    void smallestFitting() {
        pv("fit-1g", "fast", "1Gi", "ReadWriteOnce", "Retain", "");
        pv("fit-10g", "fast", "10Gi", "ReadWriteOnce", "Retain", "");
        pv("fit-5g", "fast", "5Gi", "ReadWriteOnce", "Retain", "");
        pv("fit-3g-slow", "slow", "3Gi", "ReadWriteOnce", "Retain", "");
        pv("fit-3g-rox", "fast", "3Gi", "ReadOnlyMany", "Retain", "");
        pv("fit-4g-block", "fast", "4Gi", "ReadWriteOnce", "Retain", "  volumeMode: Block");
        cluster.await("volumes Available", WAIT, () -> "Available".equals(phase(volume("fit-10g"))));
        pvc("fit-claim", "fast", "2Gi", "");
        awaitBound("fit-claim");

        ObjectNode c = claim("fit-claim");
        assertThat(Json.text(c.get("spec"), "volumeName")).isEqualTo("fit-5g");
        assertThat(Json.text(c.path("metadata").path("annotations"), "pv.kubernetes.io/bind-completed")).isEqualTo("yes");
        assertThat(Json.text(c.path("metadata").path("annotations"), "pv.kubernetes.io/bound-by-controller")).isEqualTo("yes");
        assertThat(c.path("status").path("capacity").path("storage").asText()).isEqualTo("5Gi");
        assertThat(c.path("status").path("accessModes").get(0).asText()).isEqualTo("ReadWriteOnce");
        cluster.await("fit-5g Bound", WAIT, () -> "Bound".equals(phase(volume("fit-5g"))));
        ObjectNode v = volume("fit-5g");
        assertThat(Json.text(v.path("spec").path("claimRef"), "name")).isEqualTo("fit-claim");
        assertThat(Json.text(v.path("spec").path("claimRef"), "uid")).isEqualTo(c.path("metadata").path("uid").asText());
        assertThat(Json.text(v.path("metadata").path("annotations"), "pv.kubernetes.io/bound-by-controller")).isEqualTo("yes");
        assertThat(phase(volume("fit-1g"))).isEqualTo("Available");
        assertThat(phase(volume("fit-3g-slow"))).isEqualTo("Available");
        assertThat(phase(volume("fit-4g-block"))).isEqualTo("Available");

        // a selector narrows the choice: the only 10Gi one
        pvc("fit-selected", "fast", "1Gi", "  selector: {matchLabels: {size: 10Gi}}");
        awaitBound("fit-selected");
        assertThat(Json.text(claim("fit-selected").get("spec"), "volumeName")).isEqualTo("fit-10g");
    }

    @Test
    @DisplayName("a claim naming a volume (spec.volumeName) gets that one, and a volume naming a claim (claimRef) waits for it")
    void preBound() {
        pv("pre-small", "pre", "1Gi", "ReadWriteOnce", "Retain", "");
        pv("pre-named", "pre", "8Gi", "ReadWriteOnce", "Retain", "");
        pv("pre-ref", "pre", "9Gi", "ReadWriteOnce", "Retain", "  claimRef: {namespace: default, name: pre-claim-b}");
        cluster.await("pre-ref Available", WAIT, () -> "Available".equals(phase(volume("pre-ref"))));
        pvc("pre-claim-a", "pre", "1Gi", "  volumeName: pre-named");
        awaitBound("pre-claim-a");
        ObjectNode a = claim("pre-claim-a");
        assertThat(Json.text(a.get("spec"), "volumeName")).isEqualTo("pre-named");
        // the user named the volume: the controller didn't choose it
        assertThat(a.path("metadata").path("annotations").has("pv.kubernetes.io/bound-by-controller")).isFalse();
        assertThat(Json.text(volume("pre-named").path("spec").path("claimRef"), "name")).isEqualTo("pre-claim-a");

        // an unrelated claim may not take the volume reserved for pre-claim-b, even though it would fit
        pvc("pre-other", "pre", "9Gi", "");
        cluster.await("a FailedBinding-free Pending claim", WAIT, () -> "Pending".equals(phase(claim("pre-other"))));
        pvc("pre-claim-b", "pre", "1Gi", "");
        awaitBound("pre-claim-b");
        assertThat(Json.text(claim("pre-claim-b").get("spec"), "volumeName")).isEqualTo("pre-ref");
        assertThat(Json.text(volume("pre-ref").path("spec").path("claimRef"), "uid")).isEqualTo(claim("pre-claim-b").path("metadata").path("uid").asText());
        assertThat(phase(claim("pre-other"))).isEqualTo("Pending");
        assertThat(phase(volume("pre-small"))).isEqualTo("Available");
    }

    @Test
    @DisplayName("Retain leaves a volume Released when its claim goes; Delete deletes it")
    void reclaim() {
        pv("keep-me", "reclaim-retain", "1Gi", "ReadWriteOnce", "Retain", "");
        pv("drop-me", "reclaim-delete", "1Gi", "ReadWriteOnce", "Delete", "");
        pvc("keep-claim", "reclaim-retain", "1Gi", "");
        pvc("drop-claim", "reclaim-delete", "1Gi", "");
        awaitBound("keep-claim");
        awaitBound("drop-claim");
        deleteClaim("keep-claim");
        deleteClaim("drop-claim");
        cluster.await("keep-me Released", WAIT, () -> "Released".equals(phase(volume("keep-me"))));
        cluster.await("drop-me deleted", WAIT, () -> volume("drop-me") == null);
        // a Released volume keeps its claimRef and is not given to a new claim of the same name
        pvc("keep-claim", "reclaim-retain", "1Gi", "");
        cluster.await("the new claim Pending", WAIT, () -> "Pending".equals(phase(claim("keep-claim"))));
        sleep(500);
        assertThat(phase(claim("keep-claim"))).isEqualTo("Pending");
        assertThat(phase(volume("keep-me"))).isEqualTo("Released");
    }

    @Test
    @DisplayName("a claim with no class and no volume stays Pending with kube's FailedBinding event")
    void noClass() {
        pvc("lonely", "", "1Gi", "");
        cluster.await("FailedBinding event", WAIT, () -> hasEvent("lonely", "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set"));
        assertThat(phase(claim("lonely"))).isEqualTo("Pending");
        // a volume without a class arriving later is found at once
        pv("classless", "", "2Gi", "ReadWriteOnce", "Retain", "");
        awaitBound("lonely");
        assertThat(Json.text(claim("lonely").get("spec"), "volumeName")).isEqualTo("classless");
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
