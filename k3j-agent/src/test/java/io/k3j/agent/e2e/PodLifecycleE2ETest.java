package io.k3j.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.cri.v1.ContainerFilter;
import io.k3j.agent.cri.v1.ListContainersRequest;
import io.k3j.agent.cri.v1.ListPodSandboxRequest;
import io.k3j.agent.cri.v1.PodSandboxFilter;
import io.k3j.agent.host.Packages;
import io.k3j.agent.testing.Kubectls;
import io.k3j.agent.testing.TestNode;
import io.k3j.controllers.testing.TestCluster;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Pod lifecycle on a real node: restarts with back-off, probes, OOM kills, configMap updates, Deployments, and
 * graceful deletion. The slow pods (crash loop, liveness, OOM, configMap) are created up front so their waits overlap.
 */
class PodLifecycleE2ETest {
    private static final String BUSYBOX = "docker.io/library/busybox:1.35";
    private static TestCluster cluster;
    private static TestNode node;
    private static Kubectls kubectl;
    /** restartCount → the crasher's container status when first seen with it (the back-off timeline). */
    private static final Map<Integer, JsonNode> crasherStatuses = new ConcurrentHashMap<>();
    private static volatile Thread crasherWatch;
    private static Instant configMapUpdated;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Packages.isRoot(), "needs root");
        cluster = TestNode.startCluster();
        node = TestNode.start(cluster);
        kubectl = new Kubectls(Kubectls.DEFAULT, cluster.kubeconfig());
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: crasher}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                  - {name: main, image: %s, command: [sh, -c, 'echo crashing; sleep 1; exit 2']}
                """.formatted(BUSYBOX));
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: unhealthy}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: main
                    image: %s
                    command: [sh, -c, 'touch /tmp/healthy; sleep 4; rm /tmp/healthy; exec sleep 3600']
                    livenessProbe: {exec: {command: [cat, /tmp/healthy]}, periodSeconds: 1, failureThreshold: 2}
                """.formatted(BUSYBOX));
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: hog}
                spec:
                  restartPolicy: Never
                  containers:
                  - name: main
                    image: %s
                    command: [sh, -c, 'echo eating; tail /dev/zero']
                    resources: {limits: {memory: 16Mi}}
                """.formatted(BUSYBOX));
        cluster.create("""
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings}
                data: {greeting: hello}
                """);
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: configured}
                spec:
                  terminationGracePeriodSeconds: 1
                  volumes: [{name: cfg, configMap: {name: settings}}]
                  containers:
                  - name: main
                    image: %s
                    command: [sleep, '3600']
                    volumeMounts: [{name: cfg, mountPath: /etc/cfg}]
                """.formatted(BUSYBOX));
        crasherWatch = Thread.ofVirtual().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                ObjectNode p = cluster.get("", "v1", "pods", "default", "crasher");
                JsonNode cs = p == null ? null : p.path("status").path("containerStatuses").path(0);
                if (cs != null && (cs.path("state").has("running") || cs.path("state").has("terminated"))) crasherStatuses.putIfAbsent(cs.path("restartCount").asInt(), cs.deepCopy());
                if (cs != null && cs.path("restartCount").asInt() >= 1 && cs.path("state").path("waiting").path("reason").asText().equals("CrashLoopBackOff")) {
                    crasherStatuses.putIfAbsent(-2, cs.deepCopy());
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        kubectl.run("wait", "--for=condition=Ready", "pod/configured", "--timeout=60s").ok();
        assertEquals("hello", kubectl.run("exec", "configured", "--", "cat", "/etc/cfg/greeting").ok());
        // updated now, checked by configMapUpdate(): the kubelet's refresh period overlaps the other tests
        kubectl.run("patch", "configmap", "settings", "-p", "{\"data\":{\"greeting\":\"updated\"}}").ok();
        configMapUpdated = Instant.now();
    }

    @AfterAll
    static void stop() {
        if (crasherWatch != null) crasherWatch.interrupt();
        try {
            if (node != null) node.close();
        } finally {
            if (cluster != null) cluster.close();
        }
    }

    private static ObjectNode pod(String name) {
        return cluster.get("", "v1", "pods", "default", name);
    }

    private static JsonNode container(String pod) {
        return pod(pod).path("status").path("containerStatuses").path(0);
    }

    private static List<JsonNode> events(String involved) {
        List<JsonNode> out = new ArrayList<>();
        for (ObjectNode e : cluster.list("", "v1", "events", "default")) {
            if (involved.equals(e.path("involvedObject").path("name").asText())) out.add(e);
        }
        return out;
    }

    private static boolean hasEvent(String involved, String reason, String messagePart) {
        return events(involved).stream().anyMatch(e -> reason.equals(e.path("reason").asText()) && e.path("message").asText().contains(messagePart));
    }

    @Test
    @DisplayName("a crashing container goes into CrashLoopBackOff: restarted at once, then after 10 s, then 20 s; lastState and a BackOff event")
    void crashLoopBackOff() {
        cluster.await("crasher's third restart", Duration.ofSeconds(75), () -> crasherStatuses.containsKey(3) && crasherStatuses.containsKey(-2));
        JsonNode waiting = crasherStatuses.get(-2);
        assertEquals("CrashLoopBackOff", waiting.path("state").path("waiting").path("reason").asText(), waiting.toString());
        assertTrue(waiting.path("state").path("waiting").path("message").asText().contains("back-off"), waiting.toString());
        JsonNode last = waiting.path("lastState").path("terminated");
        assertEquals(2, last.path("exitCode").asInt(), waiting.toString());
        assertEquals("Error", last.path("reason").asText(), waiting.toString());

        // attempt n's start minus attempt n-1's finish: kubelet restarts the first crash at once, then doubles from 10 s
        long delay1 = gap(crasherStatuses.get(1));
        long delay2 = gap(crasherStatuses.get(2));
        long delay3 = gap(crasherStatuses.get(3));
        assertTrue(delay1 <= 4, "first restart after " + delay1 + " s: " + crasherStatuses.get(1));
        assertTrue(delay2 >= 9 && delay2 <= 14, "first back-off " + delay2 + " s: " + crasherStatuses.get(2));
        assertTrue(delay3 >= 19 && delay3 <= 25, "second back-off " + delay3 + " s: " + crasherStatuses.get(3));
        assertTrue(hasEvent("crasher", "BackOff", "Back-off restarting failed container main"), events("crasher").toString());
        String describe = kubectl.run("describe", "pod", "crasher").ok();
        assertTrue(describe.matches("(?s).*Restart Count:\\s+[34]\\s.*"), describe);
    }

    /** Seconds between the previous attempt's finish and this attempt's start (running or already terminated). */
    private static long gap(JsonNode status) {
        Instant finished = Instant.parse(status.path("lastState").path("terminated").path("finishedAt").asText());
        JsonNode s = status.path("state");
        String started = s.has("running") ? s.path("running").path("startedAt").asText() : s.path("terminated").path("startedAt").asText();
        assertTrue(!started.isEmpty(), status.toString());
        return Duration.between(finished, Instant.parse(started)).toSeconds();
    }

    @Test
    @DisplayName("a failing liveness probe restarts the container, with Unhealthy and Killing events")
    void livenessRestarts() {
        cluster.await("unhealthy to be restarted", Duration.ofSeconds(40), () -> container("unhealthy").path("restartCount").asInt() >= 1);
        assertEquals(137, container("unhealthy").path("lastState").path("terminated").path("exitCode").asInt(), container("unhealthy").toString());
        assertTrue(hasEvent("unhealthy", "Unhealthy", "Liveness probe failed"), events("unhealthy").toString());
        assertTrue(hasEvent("unhealthy", "Killing", "failed liveness probe, will be restarted"), events("unhealthy").toString());
    }

    @Test
    @DisplayName("a readiness probe gates Ready: Running 0/1 until the file exists, then 1/1")
    void readinessGates() {
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: gated}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: main
                    image: %s
                    command: [sleep, '3600']
                    readinessProbe: {exec: {command: [cat, /tmp/ready]}, periodSeconds: 1}
                """.formatted(BUSYBOX));
        cluster.await("gated to run", Duration.ofSeconds(30), () -> container("gated").path("state").has("running"));
        sleep(3000);
        String notReady = kubectl.run("get", "pod", "gated", "--no-headers").ok();
        assertTrue(notReady.matches("(?s)gated\\s+0/1\\s+Running.*"), notReady);
        assertEquals("False", condition(pod("gated"), "Ready"));
        kubectl.run("exec", "gated", "--", "touch", "/tmp/ready").ok();
        cluster.await("gated to be Ready", Duration.ofSeconds(15), () -> "True".equals(condition(pod("gated"), "Ready")));
        String ready = kubectl.run("get", "pod", "gated", "--no-headers").ok();
        assertTrue(ready.matches("(?s)gated\\s+1/1\\s+Running.*"), ready);
        assertEquals(0, container("gated").path("restartCount").asInt());
    }

    private static String condition(JsonNode pod, String type) {
        for (JsonNode c : pod.path("status").path("conditions")) {
            if (type.equals(c.path("type").asText())) return c.path("status").asText();
        }
        return "";
    }

    @Test
    @DisplayName("a container over its 16Mi memory limit is OOMKilled, as kubectl describe shows")
    void oomKilled() {
        cluster.await("hog to be killed", Duration.ofSeconds(60), () -> container("hog").path("state").has("terminated"));
        JsonNode t = container("hog").path("state").path("terminated");
        assertEquals("OOMKilled", t.path("reason").asText(), t.toString());
        assertEquals(137, t.path("exitCode").asInt(), t.toString());
        assertEquals("Failed", pod("hog").path("status").path("phase").asText());
        String describe = kubectl.run("describe", "pod", "hog").ok();
        assertTrue(describe.matches("(?s).*State:\\s+Terminated\\s+Reason:\\s+OOMKilled\\s+Exit Code:\\s+137.*"), describe);
    }

    @Test
    @DisplayName("a changed ConfigMap shows in the pod's mounted configMap volume within the kubelet's sync period")
    void configMapUpdate() {
        long deadline = System.nanoTime() + Duration.ofSeconds(100).toNanos();
        String content;
        while (!(content = kubectl.run("exec", "configured", "--", "cat", "/etc/cfg/greeting").ok()).equals("updated")) {
            if (System.nanoTime() > deadline) throw new AssertionError("still " + content + " 100 s after the update");
            sleep(1000);
        }
        System.out.println("configMap update visible after " + Duration.between(configMapUpdated, Instant.now()).toMillis() + " ms");
    }

    @Test
    @DisplayName("a Deployment's pods run on the node; it scales to 3; deleting it removes the pods from the API and containerd")
    void deployment() {
        String manifest = kubectl.run("create", "deployment", "sleeper", "--image=" + BUSYBOX, "--dry-run=client", "-o", "json",
                "--", "sleep", "3600").ok();
        // a short grace period, so that scaling down and deleting don't wait 30 s for sleep (PID 1 ignores TERM)
        ObjectNode d = (ObjectNode) io.k3j.api.Json.parse(manifest.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        ((ObjectNode) d.path("spec").path("template").path("spec")).put("terminationGracePeriodSeconds", 1);
        kubectl.run(io.k3j.api.Json.bytes(d), Duration.ofSeconds(60), "create", "-f", "-").ok();
        kubectl.run("rollout", "status", "deployment/sleeper", "--timeout=60s").ok();
        kubectl.run("scale", "deployment/sleeper", "--replicas=3").ok();
        kubectl.run("rollout", "status", "deployment/sleeper", "--timeout=60s").ok();
        String pods = kubectl.run("get", "pods", "-l", "app=sleeper", "-o", "wide", "--no-headers").ok();
        assertEquals(3, pods.lines().filter(l -> l.contains("Running") && l.contains(node.name())).count(), pods);
        cluster.await("3 sleeper sandboxes ready in containerd", Duration.ofSeconds(30), () -> runningSandboxes("app", "sleeper") == 3);

        kubectl.run("delete", "deployment", "sleeper").ok();
        cluster.await("sleeper pods to be gone from the API", Duration.ofSeconds(60),
                () -> cluster.list("", "v1", "pods", "default").stream().noneMatch(p -> p.path("metadata").path("name").asText().startsWith("sleeper-")));
        cluster.await("sleeper sandboxes to be gone from containerd", Duration.ofSeconds(30), () -> sandboxes("app", "sleeper") == 0);
    }

    private static int sandboxes(String label, String value) {
        return node.agent().containerd().cri().listPodSandbox(ListPodSandboxRequest.newBuilder()
                .setFilter(PodSandboxFilter.newBuilder().putLabelSelector(label, value)).build()).getItemsCount();
    }

    private static long runningSandboxes(String label, String value) {
        return node.agent().containerd().cri().listPodSandbox(ListPodSandboxRequest.newBuilder()
                .setFilter(PodSandboxFilter.newBuilder().putLabelSelector(label, value)).build()).getItemsList().stream()
                .filter(s -> s.getState() == io.k3j.agent.cri.v1.PodSandboxState.SANDBOX_READY).count();
    }

    private static long runningContainers(String pod) {
        return node.agent().containerd().cri().listContainers(ListContainersRequest.newBuilder()
                .setFilter(ContainerFilter.newBuilder().putLabelSelector("io.kubernetes.pod.name", pod)).build()).getContainersList().stream()
                .filter(c -> c.getState() == io.k3j.agent.cri.v1.ContainerState.CONTAINER_RUNNING).count();
    }

    private static int containers(String pod) {
        return node.agent().containerd().cri().listContainers(ListContainersRequest.newBuilder()
                .setFilter(ContainerFilter.newBuilder().putLabelSelector("io.kubernetes.pod.name", pod)).build()).getContainersCount();
    }

    @Test
    @DisplayName("deletion honours the grace period: a container trapping TERM exits at once, one ignoring it is killed at the grace period")
    void gracePeriod() {
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: trapper}
                spec:
                  terminationGracePeriodSeconds: 30
                  containers:
                  - {name: main, image: %s, command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 0.2; done']}
                """.formatted(BUSYBOX));
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: ignorer}
                spec:
                  terminationGracePeriodSeconds: 6
                  containers:
                  - {name: main, image: %s, command: [sleep, '3600']}
                """.formatted(BUSYBOX));
        kubectl.run("wait", "--for=condition=Ready", "pod/trapper", "pod/ignorer", "--timeout=60s").ok();
        assertEquals(1, containers("trapper"));

        long t0 = System.nanoTime();
        kubectl.run("delete", "pod", "trapper").ok();
        long trapper = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(trapper < 8000, "trapper took " + trapper + " ms to delete");
        assertEquals(0, runningContainers("trapper"), "the container is stopped when the pod is gone");
        cluster.await("trapper's container to be removed from containerd", Duration.ofSeconds(10), () -> containers("trapper") == 0);

        t0 = System.nanoTime();
        kubectl.run("delete", "pod", "ignorer").ok();
        long ignorer = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ignorer >= 5500 && ignorer < 14000, "ignorer took " + ignorer + " ms to delete (grace period 6 s)");
        assertEquals(0, runningContainers("ignorer"), "the container is stopped when the pod is gone");
        cluster.await("ignorer's container to be removed from containerd", Duration.ofSeconds(10), () -> containers("ignorer") == 0);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
