package io.k3j.controllers.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.controllers.testing.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The auto-deploy folder against a real control plane: files are written before and after the controller starts. */
class ManifestDeployerTest {
    static final Duration WAIT = Duration.ofSeconds(20);
    static TestCluster cluster;
    static Path dir;

    static final String APP = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings, namespace: shop}
            data: {color: %s}
            ---
            # a comment-only document in between is fine
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: shop}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: web, image: nginx}]}
            %s
            """;

    static final String EXTRA = """
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: extra, namespace: shop}
            data: {a: b}
            """;

    @BeforeAll
    static void start() throws Exception {
        // the file is there before the server starts, as k3s's packaged manifests are
        Path pre = Files.createTempDirectory("k3j-manifests");
        dir = pre.resolve("manifests");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("app.yaml"), APP.formatted("blue", EXTRA));
        Files.writeString(dir.resolve("nameless.yml"), """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: defaulted}
                data: {ns: default}
                """);
        cluster = TestCluster.start(List.of(ManifestDeployer::new), c -> c.withManifestsDir(dir));
    }

    @AfterAll
    static void stop() throws Exception {
        cluster.close();
        try (var s = Files.walk(dir.getParent())) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static ObjectNode configMap(String ns, String name) {
        return cluster.get("", "v1", "configmaps", ns, name);
    }

    static ObjectNode record(String name) {
        return configMap("kube-system", "k3j-addon-" + name);
    }

    static boolean hasEvent(String object, String reason) {
        return cluster.list("", "v1", "events", "kube-system").stream()
                .anyMatch(e -> Json.text(e.get("involvedObject"), "name").equals(object) && Json.text(e, "reason").equals(reason));
    }

    @Test
    @DisplayName("a file present at start is applied (Namespace, ConfigMap, Deployment), edits update it and removed documents are deleted")
    void applyUpdatePrune() throws Exception {
        cluster.await("the Deployment", WAIT, () -> cluster.get("apps", "v1", "deployments", "shop", "web") != null);
        assertThat(cluster.get("", "v1", "namespaces", "", "shop")).isNotNull();
        assertThat(Json.text(configMap("shop", "settings").get("data"), "color")).isEqualTo("blue");
        assertThat(configMap("shop", "extra")).isNotNull();
        ObjectNode deployment = cluster.get("apps", "v1", "deployments", "shop", "web");
        assertThat(deployment.path("metadata").path("managedFields").get(0).path("manager").asText()).isEqualTo("k3j-deploy");
        assertThat(deployment.path("metadata").path("managedFields").get(0).path("operation").asText()).isEqualTo("Apply");
        cluster.await("the record", WAIT, () -> record("app") != null && !Json.text(record("app").get("data"), "checksum").isEmpty());
        assertThat(Json.text(record("app").get("data"), "objects")).contains("\"settings\"").contains("\"web\"");
        cluster.await("AppliedManifest event", WAIT, () -> hasEvent("k3j-addon-app", "AppliedManifest"));

        // namespaced kinds without a namespace land in default
        cluster.await("defaulted", WAIT, () -> configMap("default", "defaulted") != null);

        // editing the file updates the object
        Files.writeString(dir.resolve("app.yaml"), APP.formatted("green", EXTRA));
        cluster.await("the edit applied", WAIT, () -> "green".equals(Json.text(configMap("shop", "settings").get("data"), "color")));

        // the extra ConfigMap leaves the file: it leaves the cluster
        Files.writeString(dir.resolve("app.yaml"), APP.formatted("green", ""));
        cluster.await("extra deleted", WAIT, () -> configMap("shop", "extra") == null);
        assertThat(configMap("shop", "settings")).isNotNull();
        assertThat(cluster.get("apps", "v1", "deployments", "shop", "web")).isNotNull();
        cluster.await("extra gone from the record", WAIT, () -> !Json.text(record("app").get("data"), "objects").contains("\"extra\""));
    }

    @Test
    @DisplayName("a malformed file is reported on its record and in events, and the other files are still applied")
    void malformed() throws Exception {
        Files.writeString(dir.resolve("broken.yaml"), """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: broken
                  data: [
                """);
        Files.writeString(dir.resolve("unknown.yaml"), """
                apiVersion: example.com/v1
                kind: Widget
                metadata: {name: w1}
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: beside-the-widget}
                """);
        Files.writeString(dir.resolve("fine.json"), """
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fine", "namespace": "default"}, "data": {"k": "v"}}
                """);
        cluster.await("fine applied", WAIT, () -> configMap("default", "fine") != null);
        cluster.await("broken reported", WAIT, () -> record("broken") != null && !Json.text(record("broken").get("data"), "error").isEmpty());
        assertThat(Json.text(record("broken").get("data"), "error")).startsWith("parsing:");
        cluster.await("ApplyManifestFailed event", WAIT, () -> hasEvent("k3j-addon-broken", "ApplyManifestFailed"));
        // an unknown kind fails alone: the rest of its file is applied, and the error names the kind
        cluster.await("beside-the-widget", WAIT, () -> configMap("default", "beside-the-widget") != null);
        cluster.await("unknown reported", WAIT, () -> record("unknown") != null
                && Json.text(record("unknown").get("data"), "error").contains("no matches for kind \"Widget\" in version \"example.com/v1\""));

        // fixing the file clears the error
        Files.writeString(dir.resolve("broken.yaml"), """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: broken}
                """);
        cluster.await("broken fixed", WAIT, () -> configMap("default", "broken") != null);
        cluster.await("error cleared", WAIT, () -> Json.text(record("broken").get("data"), "error").isEmpty());
    }

    @Test
    @DisplayName("foo.yaml.skip disables foo.yaml")
    void skip() throws Exception {
        Files.writeString(dir.resolve("skipped.yaml.skip"), "");
        Files.writeString(dir.resolve("skipped.yaml"), """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: skipped, namespace: default}
                """);
        Files.writeString(dir.resolve("marker.yaml"), """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: marker, namespace: default}
                """);
        cluster.await("marker applied", WAIT, () -> configMap("default", "marker") != null);
        Thread.sleep(2 * ManifestDeployer.POLL.toMillis() + 500);
        assertThat(configMap("default", "skipped")).isNull();
        assertThat(record("skipped")).isNull();
        Files.delete(dir.resolve("skipped.yaml.skip"));
        cluster.await("applied once the skip file is gone", WAIT, () -> configMap("default", "skipped") != null);
    }

    @Test
    @DisplayName("deleting a file keeps its objects (as k3s does); deleting its record then deletes them")
    void deletedFile() throws Exception {
        Files.writeString(dir.resolve("gone.yaml"), """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: gone-cm, namespace: default}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: gone-secret, namespace: default}
                stringData: {k: v}
                """);
        cluster.await("applied", WAIT, () -> cluster.get("", "v1", "secrets", "default", "gone-secret") != null
                && record("gone") != null && Json.text(record("gone").get("data"), "objects").contains("gone-secret"));
        Files.delete(dir.resolve("gone.yaml"));
        Thread.sleep(2 * ManifestDeployer.POLL.toMillis() + 500);
        assertThat(configMap("default", "gone-cm")).isNotNull();
        cluster.api().delete(cluster.type("", "v1", "configmaps"), "kube-system", "k3j-addon-gone", DeleteOptions.DEFAULT);
        cluster.await("objects deleted with the record", WAIT, () -> configMap("default", "gone-cm") == null
                && cluster.get("", "v1", "secrets", "default", "gone-secret") == null);
    }
}
