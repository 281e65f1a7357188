package io.k3j.agent.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.cri.CriClient;
import io.k3j.agent.cri.CriException;
import io.k3j.agent.cri.v1.Container;
import io.k3j.agent.cri.v1.ContainerState;
import io.k3j.agent.cri.v1.ExecSyncRequest;
import io.k3j.agent.cri.v1.ExecSyncResponse;
import io.k3j.agent.cri.v1.ListContainersRequest;
import io.k3j.agent.host.Packages;
import io.k3j.controllers.node.NodeControllers;
import io.k3j.controllers.testing.TestCluster;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Issue 4's "surviving failures": one real node (an agent process on its own containerd) joined to a real control
 * plane through a TCP proxy the test can cut. The tests run in order on the same pods and each failure builds on
 * the state the previous one left: the agent SIGKILLed, containerd SIGKILLed, the server gone for a while, and a
 * reboot of the node while the server is gone.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EdgeSurvivalTest {
    private static TestCluster cluster;
    private static TcpProxy proxy;
    private static EdgeNode node;
    private static Path trigger;
    /** Longer than the agent's 10 s lease renewal (as the default 40 s is), shorter than a test should wait. */
    private static final Duration GRACE = Duration.ofSeconds(16);

    /** The agent's log when a test fails: what it did is the only explanation. */
    @RegisterExtension
    static final TestWatcher LOGS = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (node != null) System.err.println("==== agent logs of " + node.name + "\n" + node.logs());
        }
    };

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Packages.isRoot(), "needs root (containerd, cgroups, network namespaces)");
        int b = ThreadLocalRandom.current().nextInt(100, 200);
        cluster = TestCluster.start(List.of(NodeControllers.ipam(), NodeControllers.lifecycle(), NodeControllers.taintEviction()),
                // a short grace: outages longer than it make the node Unknown and its pods NotReady, as in production
                cfg -> cfg.withCidrs("10." + b + ".0.0/16", "10.43.0.0/16").withNodeMonitorGracePeriod(GRACE));
        proxy = new TcpProxy(new InetSocketAddress("127.0.0.1", cluster.controlPlane().port()));
        node = new EdgeNode("https://127.0.0.1:" + proxy.port(), cluster.controlPlane().token().token().encoded());
        trigger = node.base.resolve("trigger");
        Files.createDirectories(trigger);
        node.startAgent(Duration.ofSeconds(60));
        cluster.create("""
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings, namespace: default}
                data: {mode: offline-ready, greeting: hello}
                """);
        cluster.create("""
                apiVersion: v1
                kind: Secret
                metadata: {name: creds, namespace: default}
                stringData: {password: s3cret}
                """);
        pod("web", "automountServiceAccountToken: false", "", "");
        // exits with 3 whenever the test drops a file into its hostPath folder
        pod("flaky", "automountServiceAccountToken: false",
                "volumes: [{name: t, hostPath: {path: " + trigger + ", type: Directory}}]",
                "volumeMounts: [{name: t, mountPath: /trigger}]",
                "while [ ! -f /trigger/exit ]; do sleep 0.2; done; rm /trigger/exit; exit 3");
        pod("conf", "", "volumes: [{name: s, secret: {secretName: creds}}, {name: c, configMap: {name: settings}}]",
                "volumeMounts: [{name: s, mountPath: /etc/creds}, {name: c, mountPath: /etc/settings}]\n"
                        + "      env: [{name: MODE, valueFrom: {configMapKeyRef: {name: settings, key: mode}}}]");
        for (String p : List.of("web", "flaky", "conf")) awaitRunning(p, Duration.ofSeconds(60));
    }

    private static void pod(String name, String podExtra, String volumes, String mounts) {
        pod(name, podExtra, volumes, mounts, "trap 'exit 0' TERM; while true; do sleep 1; done");
    }

    private static void pod(String name, String podExtra, String volumes, String mounts, String script) {
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: %s, namespace: default}
                spec:
                  nodeName: %s
                  terminationGracePeriodSeconds: 2
                  %s
                  %s
                  containers:
                    - name: main
                      image: docker.io/library/busybox:1.35
                      imagePullPolicy: Never
                      command: [sh, -c, "%s"]
                      %s
                """.formatted(name, node.name, podExtra, volumes, script, mounts));
    }

    @AfterAll
    static void stop() throws Exception {
        if (node != null) node.close();
        if (proxy != null) proxy.close();
        if (cluster != null) cluster.close();
    }

    // ---- the failures ------------------------------------------------------------------------------------------

    @Test
    @Order(1)
    @DisplayName("agent SIGKILLed and restarted: containers adopted (same IDs, no restarts), containerd adopted, status catches up")
    void agentKilled() throws Exception {
        Map<String, Snapshot> before = snapshots("web", "flaky", "conf");
        long containerd = node.containerdPid().orElseThrow();
        node.killAgent();
        // while no agent watches, flaky's container exits: the next agent must notice and report it
        Files.writeString(trigger.resolve("exit"), "");
        await("flaky's container to exit with no agent", Duration.ofSeconds(10), () -> !Files.exists(trigger.resolve("exit")));
        node.startAgent(Duration.ofSeconds(60));
        assertEquals(containerd, node.containerdPid().orElseThrow(), "the restarted agent adopts the running containerd");
        awaitStatus("flaky", Duration.ofSeconds(40), s -> s.restartCount == 1 && s.running && !s.containerId.equals(before.get("flaky").containerId));
        ObjectNode flaky = podObject("flaky");
        assertEquals(3, container(flaky).path("lastState").path("terminated").path("exitCode").asInt(-1), flaky.toPrettyString());
        assertUnchanged(before, "web", "conf");
        holdUnchanged(Duration.ofSeconds(3), "web", "conf");
        awaitReady("web", "flaky", "conf");
    }

    @Test
    @Order(2)
    @DisplayName("containerd SIGKILLed: the agent restarts it, pods keep running (same containers, no restarts), new pods start")
    void containerdKilled() throws Exception {
        Map<String, Snapshot> before = snapshots("web", "flaky", "conf");
        long old = node.killContainerd();
        await("a new containerd", Duration.ofSeconds(30), () -> node.containerdPid().filter(p -> p != old).isPresent());
        // the new containerd finds the running pods again (their shims lived on)
        await("the new containerd to report the pods running", Duration.ofSeconds(20),
                () -> runtimeRunning().keySet().containsAll(List.of("web", "flaky", "conf")), () -> runtimeRunning().toString());
        for (String p : List.of("web", "flaky", "conf")) {
            assertEquals("containerd://" + runtimeRunning().get(p), before.get(p).containerId, p + "'s container survived");
        }
        pod("late", "automountServiceAccountToken: false", "", "");
        awaitRunning("late", Duration.ofSeconds(40));
        assertUnchanged(before, "web", "flaky", "conf");
        holdUnchanged(Duration.ofSeconds(2), "web", "flaky", "conf");
    }

    @Test
    @Order(3)
    @DisplayName("server unreachable: pods keep running, a container that exits meanwhile is restarted locally and reported when the server returns")
    void serverUnreachable() throws Exception {
        Map<String, Snapshot> before = snapshots("web", "flaky", "conf", "late");
        proxy.cut();
        Thread.sleep(2000);
        Map<String, String> runtimeBefore = runtimeRunning();
        Files.writeString(trigger.resolve("exit"), "");
        await("flaky to be restarted by the agent while the server is away", Duration.ofSeconds(30),
                () -> {
                    String now = runtimeRunning().get("flaky");
                    return now != null && !now.equals(runtimeBefore.get("flaky"));
                });
        // longer than the grace period: the node lifecycle controller marks the node Unknown and its pods NotReady
        await("the server to mark the pods NotReady", GRACE.plusSeconds(20), () -> !ready(podObject("web")),
                () -> cluster.get("", "v1", "nodes", null, node.name).path("status").path("conditions").toPrettyString()
                        + "\n" + podObject("web").path("status").toPrettyString());
        Map<String, String> runtimeAfter = runtimeRunning();
        for (String p : List.of("web", "conf", "late")) assertEquals(runtimeBefore.get(p), runtimeAfter.get(p), p + " kept running");
        // the server still shows the old state: nothing reached it
        assertEquals(before.get("flaky").containerId, Snapshot.of(podObject("flaky")).containerId);
        proxy.restore();
        awaitStatus("flaky", Duration.ofSeconds(40), s -> s.restartCount == 2 && s.running
                && s.containerId.equals("containerd://" + runtimeAfter.get("flaky")));
        assertUnchanged(before, "web", "conf", "late");
        // the node's own view wins again: Ready, as its probes (none: running = ready) say
        awaitReady("web", "flaky", "conf", "late");
        awaitNodeReady();
    }

    @Test
    @Order(4)
    @DisplayName("agent SIGKILLed and restarted while the server is unreachable: cached pods adopted as they run, nothing restarted")
    void agentRestartedOffline() throws Exception {
        List<String> all = List.of("web", "flaky", "conf", "late");
        Map<String, Snapshot> before = snapshots(all.toArray(String[]::new));
        Map<String, String> runtimeBefore = runtimeRunning();
        proxy.cut();
        node.killAgent();
        node.startAgent(Duration.ofSeconds(60));
        // long enough for the workers to sync every pod and for a relist round (orphans are never removed offline)
        Thread.sleep(4000);
        assertEquals(runtimeBefore, runtimeRunning(), "the same containers run");
        proxy.restore();
        awaitNodeReady();
        awaitReady(all.toArray(String[]::new));
        assertUnchanged(before, all.toArray(String[]::new));
        assertEquals(runtimeBefore, runtimeRunning(), "the same containers run");
    }

    @Test
    @Order(5)
    @DisplayName("node rebooted while the server is unreachable: pods come back from the local cache; same pod UIDs, new containers, restartCount+1")
    void rebootOffline() throws Exception {
        List<String> all = List.of("web", "flaky", "conf", "late");
        Map<String, Snapshot> before = snapshots(all.toArray(String[]::new));
        proxy.cut();
        // 4 pause processes and 4 containers, at least: the crash below really finds the node's processes
        assertTrue(node.containerPids().size() >= 8, "processes in the node's cgroups: " + node.containerPids());
        assertEquals(4, node.shimPids().size(), "one shim per sandbox: " + node.shimPids());
        node.crash();
        assertTrue(node.containerPids().isEmpty(), "nothing of the node survives the reboot");
        // deleted on the server while the node is down: the agent learns it only when the server returns
        cluster.api().delete(cluster.type("", "v1", "pods"), "default", "late", io.k3j.apiserver.registry.DeleteOptions.DEFAULT);
        node.startAgent(Duration.ofSeconds(60));
        await("the cached pods to run again without the server", Duration.ofSeconds(60), () -> runtimeRunning().keySet().containsAll(all));
        Map<String, String> rebooted = runtimeRunning();
        // the configmap, secret and token the cache kept
        assertEquals("s3cret", exec(rebooted.get("conf"), "cat", "/etc/creds/password"));
        assertEquals("hello", exec(rebooted.get("conf"), "cat", "/etc/settings/greeting"));
        assertEquals("offline-ready", exec(rebooted.get("conf"), "sh", "-c", "echo $MODE"));
        assertTrue(exec(rebooted.get("conf"), "cat", "/var/run/secrets/kubernetes.io/serviceaccount/token").startsWith("ey"));
        proxy.restore();
        await("late, deleted while the node was away, to be stopped and gone", Duration.ofSeconds(60),
                () -> cluster.get("", "v1", "pods", "default", "late") == null && !runtimeRunning().containsKey("late"));
        for (String p : List.of("web", "flaky", "conf")) {
            Snapshot was = before.get(p);
            awaitStatus(p, Duration.ofSeconds(60), s -> s.running && s.containerId.equals("containerd://" + rebooted.get(p)));
            Snapshot now = Snapshot.of(podObject(p));
            assertEquals(was.uid, now.uid, p + " is the same pod");
            assertNotEquals(was.containerId, now.containerId, p + " runs a new container after the reboot");
            assertEquals(was.restartCount + 1, now.restartCount, p + "'s restartCount after a reboot (kubelet counts from its log dir)");
            assertTrue(podObject(p).path("metadata").path("deletionTimestamp").isMissingNode(), p + " is not being deleted");
        }
        awaitReady("web", "flaky", "conf");
        awaitNodeReady();
        // the sandboxes from before the reboot are torn down (CNI DEL gives their addresses back): one per pod is left
        await("one sandbox per pod and one address each", Duration.ofSeconds(30), () -> sandboxes() == 3 && leasedAddresses() == 3,
                () -> sandboxes() + " sandboxes, " + leasedAddresses() + " addresses leased");
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    record Snapshot(String uid, String containerId, int restartCount, boolean running, String phase) {
        static Snapshot of(ObjectNode pod) {
            JsonNode c = container(pod);
            return new Snapshot(pod.path("metadata").path("uid").asText(), c.path("containerID").asText(), c.path("restartCount").asInt(),
                    c.path("state").has("running"), pod.path("status").path("phase").asText());
        }
    }

    private static JsonNode container(ObjectNode pod) {
        for (JsonNode c : pod.path("status").path("containerStatuses")) if (c.path("name").asText().equals("main")) return c;
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    private static ObjectNode podObject(String name) {
        ObjectNode p = cluster.get("", "v1", "pods", "default", name);
        if (p == null) throw new AssertionError("pod " + name + " is gone");
        return p;
    }

    private static Map<String, Snapshot> snapshots(String... names) {
        Map<String, Snapshot> out = new HashMap<>();
        for (String n : names) out.put(n, Snapshot.of(podObject(n)));
        return out;
    }

    private static void assertUnchanged(Map<String, Snapshot> before, String... names) {
        for (String n : names) {
            Snapshot now = Snapshot.of(podObject(n));
            assertEquals(before.get(n), now, n + " unchanged");
            assertTrue(now.running, n + " running");
        }
    }

    private static void holdUnchanged(Duration d, String... names) throws InterruptedException {
        Map<String, Snapshot> before = snapshots(names);
        Map<String, String> runtime = runtimeRunning();
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < end) {
            Thread.sleep(250);
            assertUnchanged(before, names);
            Map<String, String> now = runtimeRunning();
            for (String n : names) assertEquals(runtime.get(n), now.get(n), n + "'s container in the runtime");
        }
    }

    private static boolean ready(ObjectNode pod) {
        for (JsonNode c : pod.path("status").path("conditions")) {
            if (c.path("type").asText().equals("Ready")) return c.path("status").asText().equals("True");
        }
        return false;
    }

    private static void awaitNodeReady() {
        await("the node to be Ready on the server", Duration.ofSeconds(30), () -> {
            ObjectNode n = cluster.get("", "v1", "nodes", null, node.name);
            for (JsonNode c : n.path("status").path("conditions")) {
                if (c.path("type").asText().equals("Ready")) return c.path("status").asText().equals("True");
            }
            return false;
        }, () -> cluster.get("", "v1", "nodes", null, node.name).path("status").path("conditions").toPrettyString());
    }

    private static void awaitReady(String... names) {
        for (String n : names) {
            await(n + " to be Ready on the server", Duration.ofSeconds(30), () -> ready(podObject(n)), () -> podObject(n).toPrettyString());
        }
    }

    private static void awaitRunning(String name, Duration timeout) {
        awaitStatus(name, timeout, s -> s.running && s.phase.equals("Running"));
    }

    private static void awaitStatus(String name, Duration timeout, java.util.function.Predicate<Snapshot> ok) {
        await(name + "'s status", timeout, () -> ok.test(Snapshot.of(podObject(name))), () -> podObject(name).toPrettyString());
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) {
        await(what, timeout, condition, () -> "");
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition, java.util.function.Supplier<String> detail) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout + " waiting for " + what + "\n" + detail.get());
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }

    /** Running containers in the node's runtime: pod name → container ID (empty while containerd does not answer). */
    private static Map<String, String> runtimeRunning() {
        Map<String, String> out = new HashMap<>();
        try (CriClient cri = node.cri()) {
            for (Container c : cri.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()) {
                if (c.getState() == ContainerState.CONTAINER_RUNNING && c.getLabelsOrDefault("io.kubernetes.pod.namespace", "").equals("default")) {
                    out.put(c.getLabelsOrDefault("io.kubernetes.pod.name", ""), c.getId());
                }
            }
        } catch (CriException e) {
            // containerd is restarting
        }
        return out;
    }

    private static int sandboxes() {
        try (CriClient cri = node.cri()) {
            return cri.listPodSandbox(io.k3j.agent.cri.v1.ListPodSandboxRequest.getDefaultInstance()).getItemsCount();
        }
    }

    /** host-local IPAM keeps one file per leased address, named by the address. */
    private static long leasedAddresses() {
        try (var files = Files.list(node.dataDir.resolve("cni/networks/k3j-pod-network"))) {
            return files.filter(f -> f.getFileName().toString().matches("[0-9.]+")).count();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    private static String exec(String containerId, String... cmd) {
        try (CriClient cri = node.cri()) {
            ExecSyncResponse r = cri.execSync(ExecSyncRequest.newBuilder().setContainerId(containerId).addAllCmd(List.of(cmd)).setTimeout(10).build());
            assertEquals(0, r.getExitCode(), String.join(" ", cmd) + ": " + r.getStderr().toStringUtf8());
            return r.getStdout().toStringUtf8().strip();
        }
    }
}
