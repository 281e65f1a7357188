package io.k3j.agent.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.join.Join;
import io.k3j.agent.kube.HttpKubeClient;
import io.k3j.agent.kube.KubeClient;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.pki.CertAndKey;
import io.k3j.controllers.testing.FakeClock;
import io.k3j.controllers.testing.Kubectl;
import io.k3j.controllers.testing.TestCluster;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class NodeAgentTest {
    static TestCluster cluster;
    static URI server;
    static HttpKubeClient admin;
    static String token;
    static String version;
    static Path dir;

    static final MachineFacts MACHINE = new MachineFacts(4, 8L << 30, "abc123", "uuid-1", "boot-1", "6.1.0-test",
            "Debian GNU/Linux 12 (bookworm)", "amd64");
    static final MachineFacts.Usage CALM = new MachineFacts.Usage(4L << 30, 50L << 30, 100L << 30, 50L << 30, 100L << 30,
            30000, 32768);

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(List.of());
        server = URI.create("https://127.0.0.1:" + cluster.controlPlane().port());
        CertAndKey a = cluster.controlPlane().pki().adminCredentials();
        admin = HttpKubeClient.withClientCertificate(server, cluster.controlPlane().pki().serverCaPem(),
                a.certificatePem(), a.privateKeyPem());
        token = cluster.controlPlane().token().token().encoded();
        version = admin.raw("GET", "/version", Map.of(), null, null).length > 0
                ? Json.text(Json.parseObject(admin.raw("GET", "/version", Map.of(), null, null)), "gitVersion") : "";
        dir = Files.createTempDirectory("k3j-node-agent-test");
    }

    @AfterAll
    static void stop() throws Exception {
        if (admin != null) admin.close();
        if (cluster != null) cluster.close();
        if (dir != null) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static JsonNode condition(ObjectNode node, String type) {
        for (JsonNode c : node.path("status").path("conditions")) {
            if (type.equals(c.path("type").asText())) return c;
        }
        throw new AssertionError("no " + type + " condition in " + node.path("status"));
    }

    @Test
    void registersReportsAndRenews() throws Exception {
        Path d = dir.resolve("a");
        Join.Joined j = Join.bootstrap(server, token, "node-a", List.of("10.1.2.3"), d);
        FakeClock clock = new FakeClock(Instant.parse("2026-01-01T00:00:00Z"));
        AtomicReference<Optional<String>> problem = new AtomicReference<>(Optional.of("container runtime is down"));
        AtomicReference<MachineFacts.Usage> usage = new AtomicReference<>(CALM);
        NodeAgent.Config cfg = NodeAgent.Config.of("node-a", List.of("10.1.2.3"), true, version, "containerd://1.6.20", d)
                .withLabels(Map.of("tier", "edge")).withTaints(List.of("dedicated=edge:NoSchedule"));
        try (KubeClient c = j.client()) {
            NodeAgent agent = new NodeAgent(c, cfg, MACHINE, usage::get, problem::get,
                    () -> List.of(image("docker.io/k3j/pause:3.10", 700_000)), clock);
            agent.syncOnce();
            ObjectNode node = admin.get("/api/v1/nodes/node-a");
            String uid = node.path("metadata").path("uid").asText();
            assertEquals("False", condition(node, "Ready").path("status").asText());
            assertEquals("KubeletNotReady", condition(node, "Ready").path("reason").asText());
            assertEquals("container runtime is down", condition(node, "Ready").path("message").asText());
            assertEquals("KubeletHasSufficientMemory", condition(node, "MemoryPressure").path("reason").asText());
            assertEquals("4", node.path("status").path("capacity").path("cpu").asText());
            assertEquals("8388608Ki", node.path("status").path("capacity").path("memory").asText());
            assertEquals("8286208Ki", node.path("status").path("allocatable").path("memory").asText());
            assertEquals("110", node.path("status").path("capacity").path("pods").asText());
            assertEquals("0", node.path("status").path("capacity").path("hugepages-2Mi").asText());
            assertEquals(10250, node.path("status").path("daemonEndpoints").path("kubeletEndpoint").path("Port").asInt());
            assertEquals("containerd://1.6.20", node.path("status").path("nodeInfo").path("containerRuntimeVersion").asText());
            assertEquals("10.1.2.3", node.path("status").path("addresses").get(0).path("address").asText());
            assertEquals("docker.io/k3j/pause:3.10", node.path("status").path("images").get(0).path("names").get(0).asText());
            assertEquals("edge", node.path("metadata").path("labels").path("tier").asText());
            assertEquals("true", node.path("metadata").path("labels").path("node-role.kubernetes.io/control-plane").asText());
            assertEquals("dedicated", node.path("spec").path("taints").get(0).path("key").asText());
            assertEquals("NoSchedule", node.path("spec").path("taints").get(0).path("effect").asText());

            ObjectNode lease = admin.get("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-a");
            assertEquals("node-a", lease.path("spec").path("holderIdentity").asText());
            assertEquals(40, lease.path("spec").path("leaseDurationSeconds").asInt());
            assertEquals("2026-01-01T00:00:00.000000Z", lease.path("spec").path("renewTime").asText());
            assertEquals(uid, lease.path("metadata").path("ownerReferences").get(0).path("uid").asText());

            // the runtime comes up: Ready flips, with a new transition time
            problem.set(Optional.empty());
            clock.advance(Duration.ofSeconds(10));
            agent.syncOnce();
            node = admin.get("/api/v1/nodes/node-a");
            assertEquals("True", condition(node, "Ready").path("status").asText());
            assertEquals("KubeletReady", condition(node, "Ready").path("reason").asText());
            assertEquals("kubelet is posting ready status", condition(node, "Ready").path("message").asText());
            assertEquals("2026-01-01T00:00:10Z", condition(node, "Ready").path("lastTransitionTime").asText());

            // nothing changed: the Lease is renewed, the Node is not written
            String rv = node.path("metadata").path("resourceVersion").asText();
            clock.advance(Duration.ofSeconds(10));
            agent.syncOnce();
            assertEquals(rv, admin.get("/api/v1/nodes/node-a").path("metadata").path("resourceVersion").asText());
            lease = admin.get("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-a");
            assertEquals("2026-01-01T00:00:20.000000Z", lease.path("spec").path("renewTime").asText());
            // ... until the 5-minute report is due
            clock.advance(Duration.ofMinutes(5));
            agent.syncOnce();
            assertNotEquals(rv, admin.get("/api/v1/nodes/node-a").path("metadata").path("resourceVersion").asText());

            // memory runs short: MemoryPressure
            usage.set(new MachineFacts.Usage(50L << 20, 50L << 30, 100L << 30, 50L << 30, 100L << 30, 30000, 32768));
            clock.advance(Duration.ofSeconds(10));
            agent.syncOnce();
            node = admin.get("/api/v1/nodes/node-a");
            assertEquals("True", condition(node, "MemoryPressure").path("status").asText());
            assertEquals("KubeletHasInsufficientMemory", condition(node, "MemoryPressure").path("reason").asText());
            usage.set(CALM);
            agent.syncOnce();

            // kubectl sees a Ready control-plane node at the server's version
            Kubectl.Result r = Kubectl.run(cluster.kubeconfig(), "get", "nodes", "node-a", "--no-headers");
            assertEquals(0, r.exit(), r.out());
            String[] cols = r.out().trim().split("\\s+");
            assertEquals("node-a", cols[0]);
            assertEquals("Ready", cols[1], r.out());
            assertEquals("control-plane,master", cols[2], r.out());
            assertEquals(version, cols[4], r.out());

            // a restarted agent adopts its node
            NodeAgent again = new NodeAgent(c, cfg, MACHINE, usage::get, problem::get, List::of, clock);
            again.syncOnce();
            assertEquals(uid, admin.get("/api/v1/nodes/node-a").path("metadata").path("uid").asText());

            // the node's own identity reads pods but cannot delete a namespace
            c.list("/api/v1/pods", Map.of("fieldSelector", "spec.nodeName=node-a"));
            ApiException denied = assertThrows(ApiException.class, () -> c.delete("/api/v1/namespaces/kube-public", null));
            assertEquals(403, denied.code());
        }
    }

    @Test
    void theLoopKeepsTheLeaseFresh() throws Exception {
        Path d = dir.resolve("b");
        Join.Joined j = Join.bootstrap(server, token, "node-b", List.of(), d);
        NodeAgent.Config cfg = NodeAgent.Config.of("node-b", List.of(), false, version, "containerd://1.6.20", d)
                .withSyncInterval(Duration.ofMillis(200));
        try (KubeClient c = j.client();
             NodeAgent agent = new NodeAgent(c, cfg, MACHINE, () -> CALM, Optional::empty, List::of, Clock.systemUTC()).start()) {
            String path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-b";
            await(() -> admin.find(path).isPresent());
            String first = admin.get(path).path("spec").path("renewTime").asText();
            await(() -> !admin.get(path).path("spec").path("renewTime").asText().equals(first));
            assertTrue(agent.registered());
            Kubectl.Result r = Kubectl.run(cluster.kubeconfig(), "get", "nodes", "node-b", "--no-headers");
            assertTrue(r.out().contains(" Ready ") && r.out().contains("<none>"), r.out());
        }
    }

    @Test
    void turnsReadyAsSoonAsTheRuntimeIsNotAtTheNextSyncPeriod() throws Exception {
        Path d = dir.resolve("d");
        Join.Joined j = Join.bootstrap(server, token, "node-d", List.of(), d);
        // a sync period far longer than the test waits: only kubelet's fast start-up loop can report Ready in time
        NodeAgent.Config cfg = NodeAgent.Config.of("node-d", List.of(), false, version, "containerd://1.6.20", d)
                .withSyncInterval(Duration.ofMinutes(5));
        AtomicReference<Optional<String>> problem = new AtomicReference<>(Optional.of("container runtime network not ready: cni config uninitialized"));
        try (KubeClient c = j.client();
             NodeAgent agent = new NodeAgent(c, cfg, MACHINE, () -> CALM, problem::get, List::of, Clock.systemUTC()).start()) {
            await(() -> admin.find("/api/v1/nodes/node-d").isPresent());
            assertEquals("False", condition(admin.get("/api/v1/nodes/node-d"), "Ready").path("status").asText());
            long t0 = System.nanoTime();
            problem.set(Optional.empty());
            await(() -> "True".equals(condition(admin.get("/api/v1/nodes/node-d"), "Ready").path("status").asText()));
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(millis < 3000, "Ready reported " + millis + " ms after the runtime turned ready");
            assertTrue(agent.registered());
        }
    }

    @Test
    void anUnreachableServerIsSurvived() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        CertAndKey a = cluster.controlPlane().pki().adminCredentials();
        NodeAgent.Config cfg = NodeAgent.Config.of("node-c", List.of(), false, version, "containerd://1.6.20", dir)
                .withSyncInterval(Duration.ofMillis(100));
        try (HttpKubeClient offline = HttpKubeClient.withClientCertificate(URI.create("https://127.0.0.1:" + port),
                cluster.controlPlane().pki().serverCaPem(), a.certificatePem(), a.privateKeyPem())) {
            NodeAgent agent = new NodeAgent(offline, cfg, MACHINE, () -> CALM, Optional::empty, List::of, Clock.systemUTC());
            assertThrows(KubeClient.Unreachable.class, agent::syncOnce);
            agent.start();
            Thread.sleep(500);
            assertFalse(agent.registered());
            agent.close();
        }
    }

    static ObjectNode image(String name, long size) {
        ObjectNode i = Json.object();
        i.putArray("names").add(name);
        i.put("sizeBytes", size);
        return i;
    }

    static void await(java.util.function.BooleanSupplier c) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("condition not met within 10 s");
            Thread.sleep(50);
        }
    }
}
