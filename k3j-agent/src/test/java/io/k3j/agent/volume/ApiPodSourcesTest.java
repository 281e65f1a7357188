package io.k3j.agent.volume;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.api.Quantity;
import io.k3j.controllers.testing.TestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The volumes and env of a pod the real server admitted, with everything read from that server. */
class ApiPodSourcesTest {

    @Test
    @DisplayName("the server-injected kube-api-access volume gets a bound token the server accepts, its CA and the namespace")
    void kubeApiAccessFromServer() throws Exception {
        Path pods = Files.createTempDirectory("k3j-volume-api-test");
        try (TestCluster cluster = TestCluster.start(List.of())) {
            cluster.create("""
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: cfg, namespace: default}
                    data: {greeting: hello}
                    """);
            ObjectNode pod = cluster.create("""
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: web, namespace: default}
                    spec:
                      containers:
                      - name: c
                        image: busybox
                        env: [{name: GREETING, valueFrom: {configMapKeyRef: {name: cfg, key: greeting}}}]
                    """);
            cluster.await("kube-root-ca.crt in default", Duration.ofSeconds(20),
                    () -> cluster.get("", "v1", "configmaps", "default", "kube-root-ca.crt") != null);
            cluster.await("the default service account", Duration.ofSeconds(20),
                    () -> cluster.get("", "v1", "serviceaccounts", "default", "default") != null);

            KubectlClient client = new KubectlClient(cluster.kubeconfig());
            ApiPodSources sources = new ApiPodSources(client, Clock.systemUTC());
            NodeFacts node = new NodeFacts("n1", List.of("127.0.0.1"), Map.of("cpu", Quantity.parse("1")));
            VolumeManager volumes = new VolumeManager(pods, sources, node);
            PreparedVolumes prepared = volumes.prepare(pod);

            String volumeName = pod.path("spec").path("volumes").get(0).path("name").asText();
            assertThat(volumeName).startsWith("kube-api-access-");
            Path dir = prepared.volume(volumeName).orElseThrow().hostPath();
            String token = Files.readString(dir.resolve("token"));
            assertThat(token.split("\\.")).hasSize(3);
            assertThat(Files.readString(dir.resolve("namespace"))).isEqualTo("default");
            assertThat(Files.readString(dir.resolve("ca.crt"))).isEqualTo(clusterCa(cluster.kubeconfig()));

            ObjectNode review = Json.object();
            review.put("apiVersion", "authentication.k8s.io/v1").put("kind", "TokenReview");
            review.putObject("spec").put("token", token);
            JsonNode status = client.create("/apis/authentication.k8s.io/v1/tokenreviews", review).path("status");
            assertThat(status.path("authenticated").asBoolean()).isTrue();
            assertThat(status.path("user").path("username").asText()).isEqualTo("system:serviceaccount:default:default");
            assertThat(status.path("user").path("extra").path("authentication.kubernetes.io/pod-name").get(0).asText()).isEqualTo("web");

            Map<String, String> env = new HashMap<>();
            new EnvResolver(sources, node).resolve(pod, (ObjectNode) pod.path("spec").path("containers").get(0), List.of("10.42.0.9"), null)
                    .forEach(e -> env.put(e.getKey(), e.getValue()));
            assertThat(env).containsEntry("GREETING", "hello").containsKey("KUBERNETES_SERVICE_HOST")
                    .containsEntry("KUBERNETES_SERVICE_PORT", "443");
            volumes.cleanup(pod.path("metadata").path("uid").asText());
        } finally {
            AtomicWriter.deleteTree(pods);
        }
    }

    private static String clusterCa(Path kubeconfig) throws Exception {
        JsonNode cfg = Json.parseYamlOrJson(Files.readAllBytes(kubeconfig));
        String data = cfg.path("clusters").get(0).path("cluster").path("certificate-authority-data").asText();
        return new String(Base64.getDecoder().decode(data), StandardCharsets.UTF_8);
    }
}
