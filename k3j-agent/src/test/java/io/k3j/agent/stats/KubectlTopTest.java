package io.k3j.agent.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.kubelet.KubeletServer;
import io.k3j.agent.kubelet.StreamingRuntime;
import io.k3j.api.Json;
import io.k3j.apiserver.pki.CertAndKey;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.testing.Kubectl;
import io.k3j.controllers.testing.TestCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kubectl top against a real in-process API server serving metrics.k8s.io, which scrapes a {@link KubeletServer} on
 * loopback: node-1's figures are this machine's (/proc and the root memory cgroup), its pods' come from a small
 * fake runtime whose containers burn a fixed share of a core; node-2 is Ready but its kubelet unreachable.
 */
class KubectlTopTest {
    private static final Instant START = Instant.now();
    private static TestCluster cluster;
    private static KubeletServer kubelet;
    private static Path dataDir;

    /** web-1 burns 50 millicores and holds 20 MiB; coredns 10 millicores, 12 MiB. */
    private static List<Stats.Pod> pods() {
        Instant now = Instant.now();
        long elapsed = Duration.between(START, now).toNanos();
        return List.of(
                new Stats.Pod("default", "web-1", "uid-web", START, null, null, List.of(
                        new Stats.Container("web", START, new Stats.Cpu(now, 1_000_000_000L + elapsed / 20, null),
                                new Stats.Memory(now, 20L << 20, null, null, null, null, null), null))),
                new Stats.Pod("kube-system", "coredns-1", "uid-dns", START, null, null, List.of(
                        new Stats.Container("coredns", START, new Stats.Cpu(now, elapsed / 100, null),
                                new Stats.Memory(now, 12L << 20, null, null, null, null, null), null))));
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(List.of());
        dataDir = Files.createTempDirectory("k3j-top");
        var pki = cluster.controlPlane().pki();
        CertAndKey serving = pki.issueServingCert("node-1", List.of("127.0.0.1", "node-1"), Duration.ofDays(1));
        StreamingRuntime none = new StreamingRuntime() {
            @Override
            public URI exec(String id, List<String> command, boolean tty, boolean stdin, boolean stdout, boolean stderr) {
                throw new UnsupportedOperationException();
            }

            @Override
            public URI attach(String id, boolean tty, boolean stdin, boolean stdout, boolean stderr) {
                throw new UnsupportedOperationException();
            }

            @Override
            public URI portForward(String sandboxId, List<Integer> ports) {
                throw new UnsupportedOperationException();
            }
        };
        StatsProvider stats = new StatsProvider("node-1", NodeStatsSource.host(dataDir), KubectlTopTest::pods);
        kubelet = KubeletServer.start(new KubeletServer.Config(new InetSocketAddress("127.0.0.1", 0), serving.certificatePem(),
                serving.privateKeyPem(), pki.clientCaPem(), none, (ns, name) -> Optional.empty(), stats));
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        node("node-1", kubelet.port());
        node("node-2", closedPort);
        pod("default", "web-1", "web", "app: web");
        pod("default", "other", "c", "app: other");
        pod("kube-system", "coredns-1", "coredns", "k8s-app: kube-dns");
    }

    private static void node(String name, int port) {
        ResourceType nodes = cluster.type("", "v1", "nodes");
        cluster.create("""
                apiVersion: v1
                kind: Node
                metadata: {name: %s, labels: {role: %s}}
                """.formatted(name, name.equals("node-1") ? "top" : "other"));
        cluster.api().modify(nodes, null, name, "status", n -> {
            n.set("status", Json.parseObject("""
                    {"capacity":{"cpu":"2","memory":"8Gi","pods":"110"},"allocatable":{"cpu":"2","memory":"8Gi","pods":"110"},
                     "conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"ok",
                                    "lastHeartbeatTime":"2026-01-01T00:00:00Z","lastTransitionTime":"2026-01-01T00:00:00Z"}],
                     "addresses":[{"type":"InternalIP","address":"127.0.0.1"},{"type":"Hostname","address":"%s"}],
                     "daemonEndpoints":{"kubeletEndpoint":{"Port":%d}}}""".formatted(name, port).getBytes(StandardCharsets.UTF_8)));
            return n;
        });
    }

    private static void pod(String ns, String name, String container, String labels) {
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: %s, namespace: %s, labels: {%s}}
                spec: {nodeName: node-1, containers: [{name: %s, image: busybox}]}
                """.formatted(name, ns, labels, container));
    }

    @AfterAll
    static void stop() throws IOException {
        if (kubelet != null) kubelet.close();
        if (cluster != null) cluster.close();
        if (dataDir != null) Files.deleteIfExists(dataDir);
    }

    private static String kubectl(String... args) {
        Kubectl.Result r = Kubectl.run(cluster.kubeconfig(), args);
        assertEquals(0, r.exit(), "kubectl " + String.join(" ", args) + ": " + r.out());
        return r.out();
    }

    @Test
    @DisplayName("kubectl top node prints the node with its kubelet's non-zero CPU and memory; an unreachable kubelet's node is <unknown>")
    void topNode() {
        String out = kubectl("top", "node");
        String[] lines = out.strip().split("\n");
        assertTrue(lines[0].matches("NAME\\s+CPU\\(cores\\)\\s+CPU(\\(%\\)|%)\\s+MEMORY\\(bytes\\)\\s+MEMORY(\\(%\\)|%)\\s*"), lines[0]);
        Matcher m = Pattern.compile("node-1\\s+(\\d+)m\\s+(\\d+)%\\s+(\\d+)Mi\\s+(\\d+)%").matcher(lines[1].strip());
        assertTrue(m.matches(), lines[1]);
        assertNotEquals(0, Integer.parseInt(m.group(1)), "CPU");
        assertNotEquals(0, Integer.parseInt(m.group(3)), "memory");
        assertTrue(out.contains("node-2") && out.contains("<unknown>"), out);

        String selected = kubectl("top", "node", "-l", "role=top", "--no-headers");
        assertTrue(selected.startsWith("node-1") && !selected.contains("node-2"), selected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    @DisplayName("older and newer kubectl minors find the API and print the same figures")
    void otherKubectlVersions(String version) throws Exception {
        Path binary = Path.of("/usr/lib/google-cloud-sdk/bin/kubectl." + version);
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(binary), binary + " is not installed");
        Path out = Files.createTempFile("kubectl", ".out");
        try {
            Process p = new ProcessBuilder(binary.toString(), "--kubeconfig", cluster.kubeconfig().toString(), "top", "pod", "-A", "--no-headers")
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(90, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("kubectl " + version + " top pod hung");
            }
            String text = Files.readString(out);
            assertEquals(0, p.exitValue(), text);
            assertTrue(Pattern.compile("(?m)^default\\s+web-1\\s+(4\\d|5\\d)m\\s+20Mi\\s*$").matcher(text).find(), text);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @Test
    @DisplayName("kubectl top pod -A prints each pod's CPU and memory; selectors and --containers work")
    void topPod() {
        String all = kubectl("top", "pod", "-A");
        assertTrue(Pattern.compile("(?m)^default\\s+web-1\\s+(4\\d|5\\d)m\\s+20Mi\\s*$").matcher(all).find(), all);
        assertTrue(Pattern.compile("(?m)^kube-system\\s+coredns-1\\s+(9|1\\d)m\\s+12Mi\\s*$").matcher(all).find(), all);
        assertTrue(!all.contains("other"), "a pod the runtime doesn't report has no metrics");

        String web = kubectl("top", "pod", "-l", "app=web", "--containers");
        assertTrue(Pattern.compile("(?m)^web-1\\s+web\\s+\\d+m\\s+20Mi\\s*$").matcher(web).find(), web);
        Kubectl.Result missing = Kubectl.run(cluster.kubeconfig(), "top", "pod", "other");
        assertNotEquals(0, missing.exit(), missing.out());
    }

    @Test
    @DisplayName("metrics.k8s.io objects as metrics-server writes them, and the kubelet's own /stats/summary through nodes/proxy")
    void rawObjects() {
        JsonNode node = Json.parse(kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes/node-1").getBytes(StandardCharsets.UTF_8));
        assertEquals("NodeMetrics", node.path("kind").asText());
        assertEquals("metrics.k8s.io/v1beta1", node.path("apiVersion").asText());
        assertEquals("top", node.path("metadata").path("labels").path("role").asText());
        assertTrue(node.path("usage").path("cpu").asText().matches("\\d+n"), node.toString());
        assertTrue(node.path("usage").path("memory").asText().matches("\\d+(Ki|Mi|Gi)?"), node.toString());
        assertTrue(node.path("window").asText().endsWith("s"), node.toString());
        Instant.parse(node.path("timestamp").asText());

        JsonNode pods = Json.parse(kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dweb")
                .getBytes(StandardCharsets.UTF_8));
        assertEquals("PodMetricsList", pods.path("kind").asText());
        assertEquals(1, pods.path("items").size());
        JsonNode web = pods.path("items").get(0);
        assertEquals("web-1", web.path("metadata").path("name").asText());
        assertEquals("default", web.path("metadata").path("namespace").asText());
        assertEquals("web", web.path("containers").get(0).path("name").asText());
        assertEquals("20Mi", web.path("containers").get(0).path("usage").path("memory").asText());

        JsonNode summary = Json.parse(kubectl("get", "--raw", "/api/v1/nodes/node-1/proxy/stats/summary").getBytes(StandardCharsets.UTF_8));
        assertEquals("node-1", summary.path("node").path("nodeName").asText());
        assertTrue(summary.path("node").path("cpu").path("usageCoreNanoSeconds").asLong() > 0, summary.toString());
        assertTrue(summary.path("node").path("memory").path("workingSetBytes").asLong() > 0);
        assertEquals(2, summary.path("pods").size());
        assertTrue(summary.path("node").has("fs"));
        JsonNode slim = Json.parse(kubectl("get", "--raw", "/api/v1/nodes/node-1/proxy/stats/summary?only_cpu_and_memory=true")
                .getBytes(StandardCharsets.UTF_8));
        assertTrue(slim.path("node").has("cpu") && !slim.path("node").has("fs"), slim.toString());
        String resource = kubectl("get", "--raw", "/api/v1/nodes/node-1/proxy/metrics/resource");
        assertTrue(resource.contains("\nnode_cpu_usage_seconds_total "), resource);
        assertTrue(resource.contains("container_memory_working_set_bytes{container=\"web\",namespace=\"default\",pod=\"web-1\"} 20971520 "), resource);

        Kubectl.Result unknown = Kubectl.run(cluster.kubeconfig(), "get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes/node-2");
        assertNotEquals(0, unknown.exit());
        assertTrue(unknown.out().contains("NotFound") || unknown.out().contains("not found"), unknown.out());

        String resources = kubectl("api-resources", "--api-group=metrics.k8s.io");
        assertTrue(resources.contains("NodeMetrics") && resources.contains("PodMetrics"), resources);
    }

    @Test
    @DisplayName("the view role reads pod metrics in its namespace only; watch is not served")
    void rbac() {
        ResourceType bindings = cluster.type("rbac.authorization.k8s.io", "v1", "rolebindings");
        cluster.api().create(bindings, "default", (ObjectNode) Json.parseYamlOrJson("""
                {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"jane-view","namespace":"default"},
                 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},
                 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"jane"}]}""".getBytes(StandardCharsets.UTF_8)));
        cluster.await("jane may list pod metrics", Duration.ofSeconds(20), () ->
                Kubectl.run(cluster.kubeconfig(), "auth", "can-i", "list", "pods.metrics.k8s.io", "-n", "default", "--as=jane").out().strip().equals("yes"));
        String out = kubectl("top", "pod", "--as=jane");
        assertTrue(out.contains("web-1"), out);
        Kubectl.Result denied = Kubectl.run(cluster.kubeconfig(), "top", "pod", "-n", "kube-system", "--as=jane");
        assertNotEquals(0, denied.exit());
        assertTrue(denied.out().contains("forbidden"), denied.out());
        Kubectl.Result watch = Kubectl.run(cluster.kubeconfig(), "get", "--raw", "/apis/metrics.k8s.io/v1beta1/pods?watch=true");
        assertNotEquals(0, watch.exit());
        assertTrue(watch.out().contains("MethodNotAllowed") || watch.out().contains("does not allow"), watch.out());
    }
}
