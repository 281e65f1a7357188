package io.k3j.agent.pod;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.containerd.Containerd;
import io.k3j.agent.containerd.ContainerdConfig;
import io.k3j.agent.cri.CriClient;
import io.k3j.agent.cri.v1.ContainerFilter;
import io.k3j.agent.cri.v1.ExecSyncRequest;
import io.k3j.agent.cri.v1.ListContainersRequest;
import io.k3j.agent.cri.v1.ListPodSandboxRequest;
import io.k3j.agent.cri.v1.PodSandbox;
import io.k3j.agent.cri.v1.PodSandboxFilter;
import io.k3j.agent.cri.v1.RemovePodSandboxRequest;
import io.k3j.agent.cri.v1.StopPodSandboxRequest;
import io.k3j.agent.image.Images;
import io.k3j.agent.image.TestImages;
import io.k3j.agent.kube.HttpKubeClient;
import io.k3j.agent.kube.Informer;
import io.k3j.agent.kube.KubeClient;
import io.k3j.agent.volume.ApiPodSources;
import io.k3j.agent.volume.EnvResolver;
import io.k3j.agent.volume.NodeFacts;
import io.k3j.agent.volume.VolumeManager;
import io.k3j.api.Json;
import io.k3j.controllers.testing.FakeClock;
import io.k3j.controllers.testing.TestCluster;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Pods bound to a node run on a real containerd (own root, socket and CNI bridge) and are reported to a real
 * in-process control plane exactly as kubelet reports them. Needs root.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PodManagerTest {
    private static final String NODE = "pod-node";

    private Path dir;
    private String bridge;
    private String subnetPrefix;
    private Containerd containerd;
    private CriClient cri;
    private TestCluster cluster;
    private KubeClient kube;
    /** The PodManager's client: the tests can make the server unreachable for it. */
    private Flaky flaky;
    private FakeClock clock;
    private PodConfig config;
    private PodManager pods;
    private Informer informer;

    @BeforeAll
    void start() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root for containerd");
        dir = Files.createTempDirectory(Path.of("/tmp"), "k3jpod");
        int n = ThreadLocalRandom.current().nextInt(1, 250);
        bridge = "k3jt" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
        subnetPrefix = "10.249." + n + ".";
        ContainerdConfig cc = ContainerdConfig.under(dir.resolve("c"));
        Files.createDirectories(cc.cniConfDir());
        Files.writeString(cc.cniConfDir().resolve("10-k3jt.conflist"), """
                {"cniVersion":"0.4.0","name":"k3jt","plugins":[
                 {"type":"bridge","bridge":"%s","isGateway":true,"ipMasq":false,
                  "ipam":{"type":"host-local","ranges":[[{"subnet":"%s0/24"}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":"%s"}},
                 {"type":"portmap","capabilities":{"portMappings":true}}]}
                """.formatted(bridge, subnetPrefix, dir.resolve("ipam")));
        containerd = Containerd.start(cc);
        cri = containerd.cri();
        Images.ensure(cri, cc.socket(), TestImages.pause(dir.resolve("img")));
        Images.ensure(cri, cc.socket(), TestImages.busybox(dir.resolve("img")));

        cluster = TestCluster.start(List.of());
        cluster.create("""
                {"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","labels":{"kubernetes.io/hostname":"%s"}},
                 "status":{"conditions":[{"type":"Ready","status":"True"}],"addresses":[{"type":"InternalIP","address":"127.0.0.1"}]}}
                """.formatted(NODE, NODE));
        kube = client(cluster.kubeconfig());
        flaky = new Flaky(kube);
        clock = new FakeClock();
        config = new PodConfig(NODE, dir.resolve("agent"), List.of("127.0.0.1"), List.of("10.43.0.10"), "cluster.local",
                Path.of("/etc/resolv.conf"), "/k3jpods-test", false, clock, Duration.ofMillis(500), PodConfig.Machine.memoryBytes());
        pods = new PodManager(config, cri, cri, flaky, volumes()).start();
        informer = source(pods);
    }

    /** The volume package's real manager and env resolver, reading ConfigMaps and Secrets from the API. */
    private PodVolumes volumes() {
        ApiPodSources sources = new ApiPodSources(kube, clock);
        NodeFacts facts = new NodeFacts(NODE, config.hostIPs(), Map.of());
        return PodVolumes.of(new VolumeManager(config.dataDir().resolve("pods"), sources, facts), new EnvResolver(sources, facts),
                Duration.ofSeconds(1));
    }

    private Informer source(PodManager m) throws InterruptedException {
        Informer i = new Informer(kube, "/api/v1/pods", Map.of("fieldSelector", "spec.nodeName=" + NODE), null)
                .addHandler(m.informerHandler()).start();
        assertTrue(i.awaitSynced(Duration.ofSeconds(20)));
        m.sourceSynced();
        return i;
    }

    /** A client of the admin kubeconfig's user, over HTTPS like the agent's. */
    private static KubeClient client(Path kubeconfig) throws Exception {
        JsonNode kc = Json.parseYamlOrJson(Files.readAllBytes(kubeconfig));
        JsonNode c = kc.path("clusters").get(0).path("cluster");
        JsonNode u = kc.path("users").get(0).path("user");
        return HttpKubeClient.withClientCertificate(URI.create(c.path("server").asText()), pem(c, "certificate-authority-data"),
                pem(u, "client-certificate-data"), pem(u, "client-key-data"));
    }

    private static String pem(JsonNode n, String field) {
        return new String(Base64.getDecoder().decode(n.path(field).asText()), StandardCharsets.UTF_8);
    }

    @AfterAll
    void stop() throws Exception {
        if (dir == null) return;
        try {
            if (informer != null) informer.close();
            if (pods != null) pods.close();
            if (cri != null) {
                for (PodSandbox b : cri.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
                    cri.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(b.getId()).build());
                    cri.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(b.getId()).build());
                }
            }
        } finally {
            if (containerd != null) containerd.close();
            if (kube != null) kube.close();
            if (cluster != null) cluster.close();
            new ProcessBuilder("ip", "link", "del", bridge).redirectErrorStream(true).start().waitFor();
            new ProcessBuilder("sh", "-c", "for c in /sys/fs/cgroup/*/k3jpods-test; do find $c -depth -type d -exec rmdir {} \\; ; done")
                    .redirectErrorStream(true).start().waitFor();
            new ProcessBuilder("rm", "-rf", dir.toString()).start().waitFor();
        }
    }

    // -------------------------------------------------------------------------------------------------------------

    private ObjectNode create(String name, String spec) {
        return cluster.create("""
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"default"},
                 "spec":%s}
                """.formatted(name, spec.replace("NODE", NODE)));
    }

    private ObjectNode pod(String name) {
        return cluster.get("", "v1", "pods", "default", name);
    }

    private ObjectNode await(String name, String what, Duration timeout, Predicate<JsonNode> cond) {
        ObjectNode[] last = new ObjectNode[1];
        try {
            cluster.await(name + ": " + what, timeout, () -> {
                last[0] = pod(name);
                return last[0] != null && cond.test(last[0]);
            });
        } catch (AssertionError e) {
            StringBuilder ev = new StringBuilder();
            for (JsonNode x : events(name)) ev.append("\n  ").append(x.path("reason").asText()).append(": ").append(x.path("message").asText())
                    .append(" x").append(x.path("count").asInt());
            String log = read(containerd.config().logFile());

            throw new AssertionError(e.getMessage() + "; last seen: " + (last[0] == null ? null : Json.string(last[0].path("status")))
                    + "\nevents:" + ev + "\ncontainerd log tail:\n" + log.substring(Math.max(0, log.length() - 3000)), e);
        }
        return last[0];
    }

    private static JsonNode cs(JsonNode pod, int i) {
        return pod.path("status").path("containerStatuses").path(i);
    }

    private static String condition(JsonNode pod, String type) {
        for (JsonNode c : pod.path("status").path("conditions")) if (c.path("type").asText().equals(type)) return c.path("status").asText();
        return "";
    }

    private List<JsonNode> events(String pod) {
        ObjectNode list = kube.list("/api/v1/namespaces/default/events", Map.of());
        List<JsonNode> out = new java.util.ArrayList<>();
        for (JsonNode e : list.path("items")) if (e.path("involvedObject").path("name").asText().equals(pod)) out.add(e);
        return out;
    }

    private boolean hasEvent(String pod, String reason, String message) {
        return events(pod).stream().anyMatch(e -> e.path("reason").asText().equals(reason)
                && (message == null || e.path("message").asText().equals(message)));
    }

    private void delete(String name) {
        kube.delete("/api/v1/namespaces/default/pods/" + name, null);
    }

    private static final String SLEEPER = """
            {"nodeName":"NODE","terminationGracePeriodSeconds":5,"containers":[{"name":"c","image":"docker.io/library/busybox:1.35",
             "command":["sh","-c","trap 'exit 0' TERM; echo hello; while true; do sleep 1; done"]}]}""";

    // -------------------------------------------------------------------------------------------------------------

    @Test
    @DisplayName("a busybox pod runs: Running and Ready with a pod IP, container and image IDs, kubelet's conditions and events")
    void runs() {
        ObjectNode created = create("web", SLEEPER);
        String uid = created.path("metadata").path("uid").asText();
        ObjectNode p = await("web", "Running and Ready", Duration.ofSeconds(30),
                x -> x.path("status").path("phase").asText().equals("Running") && condition(x, "Ready").equals("True"));
        JsonNode st = p.path("status");
        assertTrue(st.path("podIP").asText().startsWith(subnetPrefix), st.toString());
        assertEquals(st.path("podIP").asText(), st.path("podIPs").path(0).path("ip").asText());
        assertEquals("127.0.0.1", st.path("hostIP").asText());
        assertEquals("BestEffort", st.path("qosClass").asText());
        assertFalse(st.path("startTime").asText().isEmpty());
        for (String t : List.of("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")) {
            assertEquals("True", condition(p, t), t + " in " + st);
        }
        JsonNode c = cs(p, 0);
        assertEquals("c", c.path("name").asText());
        assertTrue(c.path("containerID").asText().startsWith("containerd://"), c.toString());
        assertEquals("docker.io/library/busybox:1.35", c.path("image").asText());
        assertFalse(c.path("imageID").asText().isEmpty(), c.toString());
        assertTrue(c.path("ready").asBoolean() && c.path("started").asBoolean(), c.toString());
        assertEquals(0, c.path("restartCount").asInt());
        assertTrue(c.path("state").path("running").has("startedAt"), c.toString());
        // the CRI view: a sandbox labelled with the pod, its logs where kubelet puts them
        List<PodSandbox> boxes = cri.listPodSandbox(ListPodSandboxRequest.newBuilder().setFilter(PodSandboxFilter.newBuilder()
                .putLabelSelector("io.kubernetes.pod.uid", uid)).build()).getItemsList();
        assertEquals(1, boxes.size());
        assertEquals("web", boxes.get(0).getMetadata().getName());
        Path log = config.dataDir().resolve("logs/default_web_" + uid + "/c/0.log");
        cluster.await("the container's log", Duration.ofSeconds(10), () -> Files.exists(log) && read(log).contains("stdout F hello"));
        cluster.await("events", Duration.ofSeconds(10), () -> hasEvent("web", "Started", "Started container c")
                && hasEvent("web", "Pulled", "Container image \"docker.io/library/busybox:1.35\" already present on machine")
                && hasEvent("web", "Created", "Created container: c"));
        // /etc/hosts names the pod, resolv.conf points at the cluster DNS
        String hosts = exec(c.path("containerID").asText().substring(13), "cat", "/etc/hosts");
        assertTrue(hosts.contains(st.path("podIP").asText() + "\tweb"), hosts);
        String resolv = exec(c.path("containerID").asText().substring(13), "cat", "/etc/resolv.conf");
        assertTrue(resolv.contains("nameserver 10.43.0.10") && resolv.contains("search default.svc.cluster.local svc.cluster.local cluster.local")
                && resolv.contains("ndots:5"), resolv);
        // what kubectl makes of it
        var get = io.k3j.controllers.testing.Kubectl.run(cluster.kubeconfig(), "get", "pod", "web", "-o", "wide", "--no-headers");
        assertEquals(0, get.exit(), get.out());
        assertTrue(get.out().matches("(?s)web\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+" + java.util.regex.Pattern.quote(st.path("podIP").asText())
                + "\\s+" + NODE + ".*"), get.out());
        var describe = io.k3j.controllers.testing.Kubectl.run(cluster.kubeconfig(), "describe", "pod", "web");
        assertTrue(describe.out().contains("Started container c") && describe.out().contains("QoS Class:") , describe.out());
        delete("web");
        cluster.await("web to be gone", Duration.ofSeconds(30), () -> pod("web") == null);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private String exec(String containerId, String... cmd) {
        return cri.execSync(ExecSyncRequest.newBuilder().setContainerId(containerId).addAllCmd(List.of(cmd)).setTimeout(5).build())
                .getStdout().toString(StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("a container that exits 1 under restartPolicy Always goes into CrashLoopBackOff with a doubling back-off")
    void crashLoop() {
        ObjectNode created = create("crash", """
                {"nodeName":"NODE","containers":[{"name":"c","image":"docker.io/library/busybox:1.35","command":["sh","-c","exit 1"]}]}""");
        String uid = created.path("metadata").path("uid").asText();
        ObjectNode p = await("crash", "CrashLoopBackOff after one restart", Duration.ofSeconds(30),
                x -> cs(x, 0).path("state").path("waiting").path("reason").asText().equals("CrashLoopBackOff"));
        JsonNode c = cs(p, 0);
        assertEquals(1, c.path("restartCount").asInt(), c.toString());
        assertEquals("back-off 10s restarting failed container=c pod=crash_default(" + uid + ")",
                c.path("state").path("waiting").path("message").asText());
        JsonNode last = c.path("lastState").path("terminated");
        assertEquals(1, last.path("exitCode").asInt());
        assertEquals("Error", last.path("reason").asText());
        assertEquals("Running", p.path("status").path("phase").asText());
        assertEquals("False", condition(p, "Ready"));
        cluster.await("a BackOff event", Duration.ofSeconds(10),
                () -> hasEvent("crash", "BackOff", "Back-off restarting failed container c in pod crash_default(" + uid + ")"));
        // nothing restarts while the back-off lasts; after it, the next one is twice as long
        clock.advance(Duration.ofSeconds(5));
        sleep(1500);
        assertEquals(1, cs(pod("crash"), 0).path("restartCount").asInt());
        clock.advance(Duration.ofSeconds(6));
        p = await("crash", "the second restart and a 20s back-off", Duration.ofSeconds(20),
                x -> cs(x, 0).path("restartCount").asInt() == 2
                        && cs(x, 0).path("state").path("waiting").path("message").asText().startsWith("back-off 20s "));
        delete("crash");
        cluster.await("crash to be gone", Duration.ofSeconds(30), () -> pod("crash") == null);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    @DisplayName("a failing liveness probe gets the container killed and restarted, with kubelet's events")
    void liveness() {
        create("live", """
                {"nodeName":"NODE","terminationGracePeriodSeconds":2,"containers":[{"name":"c","image":"docker.io/library/busybox:1.35",
                 "command":["sh","-c","trap 'exit 0' TERM; touch /tmp/healthy; sleep 2; rm /tmp/healthy; while true; do sleep 1; done"],
                 "livenessProbe":{"exec":{"command":["cat","/tmp/healthy"]},"periodSeconds":1,"failureThreshold":2}}]}""");
        ObjectNode p = await("live", "a restart", Duration.ofSeconds(40), x -> cs(x, 0).path("restartCount").asInt() >= 1);
        assertTrue(cs(p, 0).path("lastState").has("terminated"), cs(p, 0).toString());
        cluster.await("Killing and Unhealthy events", Duration.ofSeconds(10),
                () -> hasEvent("live", "Killing", "Container c failed liveness probe, will be restarted")
                        && events("live").stream().anyMatch(e -> e.path("reason").asText().equals("Unhealthy")
                        && e.path("message").asText().startsWith("Liveness probe failed: ")));
        delete("live");
        cluster.await("live to be gone", Duration.ofSeconds(30), () -> pod("live") == null);
    }

    @Test
    @DisplayName("a readiness probe gates Ready and ContainersReady")
    void readiness() {
        create("ready", """
                {"nodeName":"NODE","terminationGracePeriodSeconds":2,"containers":[{"name":"c","image":"docker.io/library/busybox:1.35",
                 "command":["sh","-c","trap 'exit 0' TERM; while true; do sleep 1; done"],
                 "readinessProbe":{"exec":{"command":["cat","/tmp/ready"]},"periodSeconds":1}}]}""");
        ObjectNode p = await("ready", "Running", Duration.ofSeconds(30), x -> cs(x, 0).path("state").has("running"));
        sleep(2500);
        p = pod("ready");
        assertEquals("False", condition(p, "Ready"), p.path("status").toString());
        assertEquals("False", condition(p, "ContainersReady"));
        assertFalse(cs(p, 0).path("ready").asBoolean());
        exec(cs(p, 0).path("containerID").asText().substring(13), "touch", "/tmp/ready");
        p = await("ready", "Ready", Duration.ofSeconds(15), x -> condition(x, "Ready").equals("True"));
        assertTrue(cs(p, 0).path("ready").asBoolean());
        delete("ready");
        cluster.await("ready to be gone", Duration.ofSeconds(30), () -> pod("ready") == null);
    }

    @Test
    @DisplayName("a container over its memory limit is OOMKilled; with restartPolicy Never the pod fails")
    void oomKilled() {
        create("oom", """
                {"nodeName":"NODE","restartPolicy":"Never","containers":[{"name":"c","image":"docker.io/library/busybox:1.35",
                 "command":["sh","-c","x=$(head -c 64m /dev/zero | tr '\\\\0' a); sleep 1"],
                 "resources":{"limits":{"memory":"16Mi","cpu":"500m"}}}]}""");
        ObjectNode p = await("oom", "Failed", Duration.ofSeconds(40), x -> x.path("status").path("phase").asText().equals("Failed"));
        JsonNode t = cs(p, 0).path("state").path("terminated");
        assertEquals("OOMKilled", t.path("reason").asText(), p.path("status").toString());
        assertEquals(137, t.path("exitCode").asInt());
        assertEquals("Guaranteed", p.path("status").path("qosClass").asText());
        assertEquals("PodCompleted", p.path("status").path("conditions").findValues("reason").stream()
                .map(JsonNode::asText).filter("PodCompleted"::equals).findFirst().orElse(""));
        delete("oom");
        cluster.await("oom to be gone", Duration.ofSeconds(30), () -> pod("oom") == null);
    }

    @Test
    @DisplayName("init containers run first; a termination message is reported; a missing image with policy Never waits")
    void initAndImages() {
        create("init", """
                {"nodeName":"NODE","restartPolicy":"Never","initContainers":[{"name":"i","image":"docker.io/library/busybox:1.35",
                  "command":["sh","-c","echo prepared > /dev/termination-log"]}],
                 "containers":[{"name":"c","image":"docker.io/library/busybox:1.35","command":["sh","-c","exit 0"]}]}""");
        ObjectNode p = await("init", "Succeeded", Duration.ofSeconds(30), x -> x.path("status").path("phase").asText().equals("Succeeded"));
        JsonNode i = p.path("status").path("initContainerStatuses").path(0);
        assertEquals("Completed", i.path("state").path("terminated").path("reason").asText(), i.toString());
        assertEquals("prepared\n", i.path("state").path("terminated").path("message").asText());
        assertEquals("Completed", cs(p, 0).path("state").path("terminated").path("reason").asText());
        create("never", """
                {"nodeName":"NODE","containers":[{"name":"c","image":"docker.io/library/nothere:1.0","imagePullPolicy":"Never"}]}""");
        p = await("never", "ErrImageNeverPull", Duration.ofSeconds(30),
                x -> cs(x, 0).path("state").path("waiting").path("reason").asText().equals("ErrImageNeverPull"));
        assertEquals("Container image \"docker.io/library/nothere:1.0\" is not present with pull policy of Never",
                cs(p, 0).path("state").path("waiting").path("message").asText());
        assertEquals("Pending", p.path("status").path("phase").asText());
        ObjectNode root = create("nonroot", """
                {"nodeName":"NODE","securityContext":{"runAsNonRoot":true},
                 "containers":[{"name":"c","image":"docker.io/library/busybox:1.35","command":["sleep","3600"]}]}""");
        p = await("nonroot", "CreateContainerConfigError", Duration.ofSeconds(30),
                x -> cs(x, 0).path("state").path("waiting").path("reason").asText().equals("CreateContainerConfigError"));
        assertEquals("container has runAsNonRoot and image will run as root (pod: \"nonroot_default(" + root.path("metadata").path("uid").asText()
                + ")\", container: c)", cs(p, 0).path("state").path("waiting").path("message").asText());
        delete("init");
        delete("never");
        delete("nonroot");
        cluster.await("all to be gone", Duration.ofSeconds(30), () -> pod("init") == null && pod("never") == null && pod("nonroot") == null);
    }

    @Test
    @DisplayName("a configMap volume, env from a configMap key and hostAliases reach the container; a missing configMap is a FailedMount")
    void volumesAndEnv() {
        cluster.create("""
                {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"default"},"data":{"greeting":"hello"}}""");
        create("vol", """
                {"nodeName":"NODE","terminationGracePeriodSeconds":2,"hostAliases":[{"ip":"10.1.2.3","hostnames":["foo.local","bar.local"]}],
                 "volumes":[{"name":"cfg","configMap":{"name":"cfg"}},{"name":"scratch","emptyDir":{}}],
                 "containers":[{"name":"c","image":"docker.io/library/busybox:1.35",
                  "command":["sh","-c","echo \\"$GREETING $(cat /cfg/greeting)\\" > /scratch/out; trap 'exit 0' TERM; while true; do sleep 1; done"],
                  "env":[{"name":"GREETING","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"greeting"}}}],
                  "volumeMounts":[{"name":"cfg","mountPath":"/cfg"},{"name":"scratch","mountPath":"/scratch"}]}]}""");
        ObjectNode p = await("vol", "Running", Duration.ofSeconds(30), x -> cs(x, 0).path("state").has("running"));
        JsonNode mounts = cs(p, 0).path("volumeMounts");
        assertEquals("cfg", mounts.path(0).path("name").asText(), cs(p, 0).toString());
        assertEquals("/scratch", mounts.path(1).path("mountPath").asText());
        String id = cs(p, 0).path("containerID").asText().substring(13);
        cluster.await("the container's output", Duration.ofSeconds(10), () -> exec(id, "cat", "/scratch/out").equals("hello hello\n"));
        String hosts = exec(id, "cat", "/etc/hosts");
        assertTrue(hosts.contains("# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n"), hosts);
        create("novol", """
                {"nodeName":"NODE","volumes":[{"name":"cfg","configMap":{"name":"missing"}}],
                 "containers":[{"name":"c","image":"docker.io/library/busybox:1.35","volumeMounts":[{"name":"cfg","mountPath":"/cfg"}]}]}""");
        cluster.await("a FailedMount event", Duration.ofSeconds(20), () -> events("novol").stream()
                .anyMatch(e -> e.path("reason").asText().equals("FailedMount") && e.path("message").asText().contains("\"missing\" not found")));
        // the status follows the event (kubelet's status manager writes it on its own): a loaded machine saw it later
        p = await("novol", "waiting in ContainerCreating", Duration.ofSeconds(10),
                x -> cs(x, 0).path("state").path("waiting").path("reason").asText().equals("ContainerCreating"));
        assertEquals("Pending", p.path("status").path("phase").asText());
        delete("vol");
        delete("novol");
        cluster.await("both to be gone", Duration.ofSeconds(30), () -> pod("vol") == null && pod("novol") == null);
    }

    @Test
    @DisplayName("httpGet and tcpSocket probes reach the pod IP, named ports resolve, a postStart hook runs, a 404 is Unhealthy")
    void httpProbes() {
        create("http", """
                {"nodeName":"NODE","terminationGracePeriodSeconds":1,"containers":[{"name":"web","image":"docker.io/library/busybox:1.35",
                 "command":["sh","-c","echo ok > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"],
                 "ports":[{"name":"http","containerPort":8080}],
                 "lifecycle":{"postStart":{"exec":{"command":["sh","-c","echo post > /tmp/post"]}}},
                 "readinessProbe":{"httpGet":{"path":"/index.html","port":"http","httpHeaders":[{"name":"X-Test","value":"1"}]},"periodSeconds":1},
                 "livenessProbe":{"tcpSocket":{"port":8080},"periodSeconds":1}}]}""");
        ObjectNode p = await("http", "Ready", Duration.ofSeconds(30), x -> condition(x, "Ready").equals("True"));
        assertEquals("post\n", exec(cs(p, 0).path("containerID").asText().substring(13), "cat", "/tmp/post"));
        create("http404", """
                {"nodeName":"NODE","terminationGracePeriodSeconds":1,"containers":[{"name":"web","image":"docker.io/library/busybox:1.35",
                 "command":["sh","-c","echo ok > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"],
                 "readinessProbe":{"httpGet":{"path":"/nope","port":8080},"periodSeconds":1}}]}""");
        cluster.await("an Unhealthy event", Duration.ofSeconds(20),
                () -> hasEvent("http404", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 404"));
        assertEquals("False", condition(pod("http404"), "Ready"));
        assertEquals(0, cs(pod("http"), 0).path("restartCount").asInt());
        delete("http");
        delete("http404");
        cluster.await("both to be gone", Duration.ofSeconds(30), () -> pod("http") == null && pod("http404") == null);
    }

    @Test
    @DisplayName("statuses computed while the server is unreachable are sent when it answers again")
    void unreachable() {
        flaky.offline = true;
        try {
            create("off", SLEEPER);
            sleep(3000);
            JsonNode st = pod("off").path("status");
            assertFalse(st.has("containerStatuses"), st.toString());
        } finally {
            flaky.offline = false;
        }
        await("off", "Running and Ready", Duration.ofSeconds(20), x -> condition(x, "Ready").equals("True"));
        delete("off");
        cluster.await("off to be gone", Duration.ofSeconds(30), () -> pod("off") == null);
    }

    @Test
    @DisplayName("a sandbox of a pod the source does not know is removed once the source has synced")
    void orphans() {
        String sid = cri.runPodSandbox(io.k3j.agent.cri.v1.RunPodSandboxRequest.newBuilder().setConfig(
                io.k3j.agent.cri.v1.PodSandboxConfig.newBuilder()
                        .setMetadata(io.k3j.agent.cri.v1.PodSandboxMetadata.newBuilder().setName("orphan").setNamespace("default")
                                .setUid("0rphan-uid").setAttempt(0))
                        .putLabels("io.kubernetes.pod.uid", "0rphan-uid")
                        .setLinux(io.k3j.agent.cri.v1.LinuxPodSandboxConfig.newBuilder().setCgroupParent("/k3jpods-test/besteffort/pod0rphan")))
                .build()).getPodSandboxId();
        cluster.await("the orphan sandbox to be removed", Duration.ofSeconds(20), () -> cri.listPodSandbox(ListPodSandboxRequest.newBuilder()
                .setFilter(PodSandboxFilter.newBuilder().setId(sid)).build()).getItemsCount() == 0);
    }

    /** Delegates to the real client, or fails as an unreachable server does. */
    private static final class Flaky implements KubeClient {
        private final KubeClient real;
        volatile boolean offline;

        Flaky(KubeClient real) {
            this.real = real;
        }

        private void check() {
            if (offline) throw new KubeClient.Unreachable("connection refused (test)", null);
        }

        @Override
        public ObjectNode get(String path) {
            check();
            return real.get(path);
        }

        @Override
        public ObjectNode list(String collectionPath, Map<String, String> query) {
            check();
            return real.list(collectionPath, query);
        }

        @Override
        public ObjectNode create(String collectionPath, ObjectNode obj) {
            check();
            return real.create(collectionPath, obj);
        }

        @Override
        public ObjectNode update(String path, ObjectNode obj) {
            check();
            return real.update(path, obj);
        }

        @Override
        public ObjectNode patch(String path, String contentType, String body) {
            check();
            return real.patch(path, contentType, body);
        }

        @Override
        public void delete(String path, ObjectNode options) {
            check();
            real.delete(path, options);
        }

        @Override
        public Watch watch(String collectionPath, Map<String, String> query, java.util.function.Consumer<WatchEvent> events,
                           java.util.function.Consumer<Throwable> onClose) {
            return real.watch(collectionPath, query, events, onClose);
        }

        @Override
        public void close() {
        }
    }

    @Test
    @DisplayName("a pod past its activeDeadlineSeconds is killed and fails with reason DeadlineExceeded")
    void activeDeadline() {
        create("deadline", SLEEPER.replace("\"nodeName\"", "\"activeDeadlineSeconds\":30,\"nodeName\""));
        await("deadline", "Running", Duration.ofSeconds(30), x -> cs(x, 0).path("state").has("running"));
        clock.advance(Duration.ofSeconds(31));
        ObjectNode p = await("deadline", "Failed", Duration.ofSeconds(20), x -> x.path("status").path("phase").asText().equals("Failed"));
        assertEquals("DeadlineExceeded", p.path("status").path("reason").asText());
        assertEquals("Pod was active on the node longer than the specified deadline", p.path("status").path("message").asText());
        assertTrue(cs(p, 0).path("state").has("terminated"), cs(p, 0).toString());
        delete("deadline");
        cluster.await("deadline to be gone", Duration.ofSeconds(30), () -> pod("deadline") == null);
    }

    @Test
    @DisplayName("a sidecar (init container with restartPolicy Always) starts before the app container and keeps running beside it")
    void sidecar() {
        create("side", """
                {"nodeName":"NODE","terminationGracePeriodSeconds":2,
                 "initContainers":[{"name":"proxy","image":"docker.io/library/busybox:1.35","restartPolicy":"Always",
                   "command":["sh","-c","trap 'exit 0' TERM; touch /tmp/up; while true; do sleep 1; done"]}],
                 "containers":[{"name":"app","image":"docker.io/library/busybox:1.35",
                   "command":["sh","-c","trap 'exit 0' TERM; while true; do sleep 1; done"]}]}""");
        ObjectNode p = await("side", "Ready", Duration.ofSeconds(30), x -> condition(x, "Ready").equals("True"));
        assertEquals("Always", p.path("spec").path("initContainers").path(0).path("restartPolicy").asText(), "the server kept restartPolicy");
        JsonNode proxy = p.path("status").path("initContainerStatuses").path(0);
        assertTrue(proxy.path("state").has("running"), proxy.toString());
        assertTrue(proxy.path("started").asBoolean() && proxy.path("ready").asBoolean(), proxy.toString());
        assertEquals("True", condition(p, "Initialized"));
        assertTrue(cs(p, 0).path("state").has("running"));
        String proxyStarted = proxy.path("state").path("running").path("startedAt").asText();
        String appStarted = cs(p, 0).path("state").path("running").path("startedAt").asText();
        assertTrue(proxyStarted.compareTo(appStarted) <= 0, proxyStarted + " > " + appStarted);
        delete("side");
        cluster.await("side to be gone", Duration.ofSeconds(30), () -> pod("side") == null);
    }

    @Test
    @DisplayName("a deleted pod is stopped within its grace period, then finalized and gone from the API and the runtime")
    void deletion() {
        ObjectNode created = create("del", """
                {"nodeName":"NODE","terminationGracePeriodSeconds":3,"containers":[{"name":"c","image":"docker.io/library/busybox:1.35",
                 "command":["sh","-c","while true; do sleep 1; done"]}]}""");
        String uid = created.path("metadata").path("uid").asText();
        await("del", "Running", Duration.ofSeconds(30), x -> cs(x, 0).path("state").has("running"));
        long t0 = System.nanoTime();
        delete("del");
        // sh as PID 1 ignores SIGTERM: the runtime kills it when the 3 s are up
        cluster.await("del to be gone", Duration.ofSeconds(30), () -> pod("del") == null);
        long took = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(took >= 2500, "took " + took + " ms");
        // kubelet's order: containers stopped, status sent, the API object deleted, then the runtime's leftovers removed
        cluster.await("the sandbox and containers to be removed", Duration.ofSeconds(10), () ->
                cri.listPodSandbox(ListPodSandboxRequest.newBuilder().setFilter(PodSandboxFilter.newBuilder()
                        .putLabelSelector("io.kubernetes.pod.uid", uid)).build()).getItemsCount() == 0
                && cri.listContainers(ListContainersRequest.newBuilder().setFilter(ContainerFilter.newBuilder()
                        .putLabelSelector("io.kubernetes.pod.uid", uid)).build()).getContainersCount() == 0
                && !Files.exists(config.dataDir().resolve("pods").resolve(uid)));
        cluster.await("a Killing event", Duration.ofSeconds(10), () -> hasEvent("del", "Killing", "Stopping container c"));
        // preStop runs before the container is signalled
        Path hostDir = dir.resolve("hostpath");
        create("hook", """
                {"nodeName":"NODE","terminationGracePeriodSeconds":10,
                 "volumes":[{"name":"out","hostPath":{"path":"%s","type":"DirectoryOrCreate"}}],
                 "containers":[{"name":"c","image":"docker.io/library/busybox:1.35","volumeMounts":[{"name":"out","mountPath":"/out"}],
                  "command":["sh","-c","trap 'echo term >> /out/log; exit 0' TERM; while true; do sleep 1; done"],
                  "lifecycle":{"preStop":{"exec":{"command":["sh","-c","echo prestop >> /out/log"]}}}}]}""".formatted(hostDir));
        await("hook", "Running", Duration.ofSeconds(30), x -> cs(x, 0).path("state").has("running"));
        delete("hook");
        cluster.await("hook to be gone", Duration.ofSeconds(30), () -> pod("hook") == null);
        assertEquals("prestop\nterm\n", read(hostDir.resolve("log")));
        // a force deletion (grace 0) removes the object at once; the node still stops the pod, within 2 s + kill
        String forced = create("forced", """
                {"nodeName":"NODE","terminationGracePeriodSeconds":60,"containers":[{"name":"c","image":"docker.io/library/busybox:1.35",
                 "command":["sh","-c","while true; do sleep 1; done"]}]}""").path("metadata").path("uid").asText();
        await("forced", "Running", Duration.ofSeconds(30), x -> cs(x, 0).path("state").has("running"));
        kube.delete("/api/v1/namespaces/default/pods/forced", (ObjectNode) Json.parseYamlOrJson("{\"gracePeriodSeconds\":0}".getBytes(StandardCharsets.UTF_8)));
        cluster.await("the forced pod's sandbox to be removed", Duration.ofSeconds(15), () ->
                cri.listPodSandbox(ListPodSandboxRequest.newBuilder().setFilter(PodSandboxFilter.newBuilder()
                        .putLabelSelector("io.kubernetes.pod.uid", forced)).build()).getItemsCount() == 0);
    }

    @Test
    @DisplayName("a restarted PodManager adopts the running container: same container ID, restart count unchanged")
    void adoption() throws Exception {
        create("adopt", SLEEPER);
        ObjectNode before = await("adopt", "Ready", Duration.ofSeconds(30), x -> condition(x, "Ready").equals("True"));
        String id = cs(before, 0).path("containerID").asText();
        String started = cs(before, 0).path("state").path("running").path("startedAt").asText();
        informer.close();
        pods.close();
        pods = new PodManager(config, cri, cri, flaky, volumes()).start();
        informer = source(pods);
        sleep(3000);
        ObjectNode after = await("adopt", "Ready again", Duration.ofSeconds(20), x -> condition(x, "Ready").equals("True"));
        assertEquals(id, cs(after, 0).path("containerID").asText());
        assertEquals(0, cs(after, 0).path("restartCount").asInt());
        assertEquals(started, cs(after, 0).path("state").path("running").path("startedAt").asText());
        assertEquals(1, cri.listContainers(ListContainersRequest.newBuilder().setFilter(ContainerFilter.newBuilder()
                .putLabelSelector("io.kubernetes.pod.uid", before.path("metadata").path("uid").asText())).build()).getContainersCount());
        delete("adopt");
        cluster.await("adopt to be gone", Duration.ofSeconds(30), () -> pod("adopt") == null);
    }
}
