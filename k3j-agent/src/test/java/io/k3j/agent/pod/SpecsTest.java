package io.k3j.agent.pod;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.cri.v1.ContainerConfig;
import io.k3j.agent.cri.v1.DNSConfig;
import io.k3j.agent.cri.v1.NamespaceMode;
import io.k3j.agent.cri.v1.PodSandboxConfig;
import io.k3j.agent.cri.v1.SecurityProfile;
import io.k3j.api.Json;
import io.k3j.controllers.testing.FakeClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How pods become CRI configs, QoS and cgroup values, and back-off times: kubelet's rules without a runtime. */
class SpecsTest {
    @TempDir
    Path dir;

    private PodConfig config() throws Exception {
        Path resolv = dir.resolve("resolv.conf");
        Files.writeString(resolv, "nameserver 192.0.2.53\nsearch corp.example\noptions timeout:2\n");
        return new PodConfig("n1", dir.resolve("agent"), List.of("192.0.2.10"), List.of("10.43.0.10"), "cluster.local", resolv,
                "/k3jpods", false, new FakeClock(), Duration.ofSeconds(1), 4L << 30);
    }

    private static ObjectNode pod(String spec) {
        return (ObjectNode) Json.parseYamlOrJson(("""
                {"metadata":{"name":"p","namespace":"ns","uid":"u-1","labels":{"app":"a"}},"spec":%s}""").formatted(spec)
                .getBytes(StandardCharsets.UTF_8));
    }

    @Test
    @DisplayName("QoS classes and the cgroup values of requests and limits")
    void resources() {
        ObjectNode best = pod("{\"containers\":[{\"name\":\"c\"}]}");
        ObjectNode guaranteed = pod("{\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":\"16Mi\"}}}]}");
        ObjectNode burstable = pod("{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"1Gi\"}}}]}");
        assertEquals("BestEffort", Resources.qosClass(best));
        assertEquals("Guaranteed", Resources.qosClass(guaranteed));
        assertEquals("Burstable", Resources.qosClass(burstable));
        var g = guaranteed.path("spec").path("containers").get(0);
        var b = burstable.path("spec").path("containers").get(0);
        assertEquals(512, Resources.cpuShares(g));
        assertEquals(50_000, Resources.cpuQuota(g));
        assertEquals(16L << 20, Resources.memoryLimit(g));
        assertEquals(256, Resources.cpuShares(b));
        assertEquals(0, Resources.cpuQuota(b));
        assertEquals(2, Resources.cpuShares(best.path("spec").path("containers").get(0)));
        assertEquals(-997, Resources.oomScoreAdj("Guaranteed", g, 4L << 30));
        assertEquals(750, Resources.oomScoreAdj("Burstable", b, 4L << 30));
        assertEquals(1000, Resources.oomScoreAdj("BestEffort", b, 4L << 30));
        assertEquals("/k3jpods/burstable/podu-1", Resources.cgroupParent("/k3jpods", "Burstable", "u-1"));
    }

    @Test
    @DisplayName("dnsPolicy: ClusterFirst searches the namespace, Default copies the host, None takes dnsConfig only")
    void dns() throws Exception {
        Specs specs = new Specs(config());
        DNSConfig cluster = specs.dns(pod("{\"containers\":[]}"));
        assertEquals(List.of("10.43.0.10"), cluster.getServersList());
        assertEquals(List.of("ns.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"), cluster.getSearchesList());
        assertEquals(List.of("ndots:5"), cluster.getOptionsList());
        DNSConfig host = specs.dns(pod("{\"hostNetwork\":true,\"containers\":[]}"));
        assertEquals(List.of("192.0.2.53"), host.getServersList());
        assertEquals(List.of("timeout:2"), host.getOptionsList());
        DNSConfig none = specs.dns(pod("""
                {"dnsPolicy":"None","dnsConfig":{"nameservers":["1.2.3.4"],"searches":["x.example"],"options":[{"name":"ndots","value":"2"},{"name":"edns0"}]},"containers":[]}"""));
        assertEquals(List.of("1.2.3.4"), none.getServersList());
        assertEquals(List.of("x.example"), none.getSearchesList());
        assertEquals(List.of("ndots:2", "edns0"), none.getOptionsList());
        DNSConfig merged = specs.dns(pod("{\"dnsConfig\":{\"options\":[{\"name\":\"ndots\",\"value\":\"1\"}]},\"containers\":[]}"));
        assertEquals(List.of("ndots:1"), merged.getOptionsList());
    }

    @Test
    @DisplayName("the sandbox: metadata, labels, log directory, host ports, cgroup parent and host namespaces")
    void sandbox() throws Exception {
        Specs specs = new Specs(config());
        PodSandboxConfig s = specs.sandbox(pod("""
                {"hostPID":true,"hostIPC":true,"containers":[{"name":"c","ports":[{"containerPort":80,"hostPort":8080},{"containerPort":53,"protocol":"UDP"}]}]}"""), 2);
        assertEquals("p", s.getMetadata().getName());
        assertEquals(2, s.getMetadata().getAttempt());
        assertEquals("p", s.getHostname());
        assertEquals(Map.of("app", "a", "io.kubernetes.pod.name", "p", "io.kubernetes.pod.namespace", "ns", "io.kubernetes.pod.uid", "u-1"), s.getLabelsMap());
        assertTrue(s.getLogDirectory().endsWith("logs/ns_p_u-1"), s.getLogDirectory());
        assertEquals(1, s.getPortMappingsCount());
        assertEquals(8080, s.getPortMappings(0).getHostPort());
        assertEquals("/k3jpods/besteffort/podu-1", s.getLinux().getCgroupParent());
        var ns = s.getLinux().getSecurityContext().getNamespaceOptions();
        assertEquals(NamespaceMode.POD, ns.getNetwork());
        assertEquals(NamespaceMode.NODE, ns.getPid());
        assertEquals(NamespaceMode.NODE, ns.getIpc());
    }

    @Test
    @DisplayName("a container: $(VAR) in args, log path per restart, resources, security context, adoption annotations")
    void container() throws Exception {
        Specs specs = new Specs(config());
        ObjectNode p = pod("""
                {"securityContext":{"runAsUser":1000,"supplementalGroups":[5]},"containers":[{"name":"c","image":"busybox:1.35",
                 "command":["sh","-c"],"args":["echo $(A) $$(A)"],
                 "resources":{"limits":{"cpu":"1","memory":"64Mi"}},
                 "securityContext":{"runAsGroup":3000,"readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false,
                  "capabilities":{"add":["NET_ADMIN"],"drop":["ALL"]},"seccompProfile":{"type":"RuntimeDefault"}}}]}""");
        var c = p.path("spec").path("containers").get(0);
        ContainerConfig cfg = specs.container(p, c, false, 3, List.of(new PodVolumes.Env("A", "x")), List.of(), dir.resolve("hosts"),
                dir.resolve("term"));
        assertEquals(List.of("echo x $(A)"), cfg.getArgsList());
        assertEquals("c/3.log", cfg.getLogPath());
        assertEquals(3, cfg.getMetadata().getAttempt());
        assertEquals("3", cfg.getAnnotationsMap().get("io.kubernetes.container.restartCount"));
        assertEquals(Specs.hash(c), cfg.getAnnotationsMap().get("io.kubernetes.container.hash"));
        var r = cfg.getLinux().getResources();
        assertEquals(100_000, r.getCpuQuota());
        assertEquals(1024, r.getCpuShares());
        assertEquals(64L << 20, r.getMemoryLimitInBytes());
        var sc = cfg.getLinux().getSecurityContext();
        assertEquals(1000, sc.getRunAsUser().getValue());
        assertEquals(3000, sc.getRunAsGroup().getValue());
        assertEquals(List.of(5L), sc.getSupplementalGroupsList());
        assertTrue(sc.getReadonlyRootfs() && sc.getNoNewPrivs());
        assertEquals(List.of("NET_ADMIN"), sc.getCapabilities().getAddCapabilitiesList());
        assertEquals(SecurityProfile.ProfileType.RuntimeDefault, sc.getSeccomp().getProfileType());
        assertFalse(sc.getMaskedPathsList().isEmpty());
        assertTrue(cfg.getMountsList().stream().anyMatch(m -> m.getContainerPath().equals("/etc/hosts")));
        assertTrue(cfg.getMountsList().stream().anyMatch(m -> m.getContainerPath().equals("/dev/termination-log")));
    }

    @Test
    @DisplayName("the container hash ignores field order")
    void hash() {
        assertEquals(Specs.hash(Json.parseYamlOrJson("{\"name\":\"c\",\"image\":\"i\"}".getBytes(StandardCharsets.UTF_8))),
                Specs.hash(Json.parseYamlOrJson("{\"image\":\"i\",\"name\":\"c\"}".getBytes(StandardCharsets.UTF_8))));
        assertFalse(Specs.hash(Json.parseYamlOrJson("{\"image\":\"i\"}".getBytes(StandardCharsets.UTF_8)))
                .equals(Specs.hash(Json.parseYamlOrJson("{\"image\":\"j\"}".getBytes(StandardCharsets.UTF_8)))));
    }

    @Test
    @DisplayName("back-off: 10 s doubling to 5 min, forgotten after 10 minutes without a restart")
    void backoff() {
        FakeClock clock = new FakeClock();
        Backoff b = new Backoff(clock);
        String k = "u/c";
        assertFalse(b.inBackoffSince(k, clock.instant()));
        b.next(k);
        assertEquals(Duration.ofSeconds(10), b.get(k));
        var exited = clock.instant();
        assertTrue(b.inBackoffSince(k, exited));
        clock.advance(Duration.ofSeconds(10));
        assertFalse(b.inBackoffSince(k, exited));
        for (int i = 0; i < 10; i++) b.next(k);
        assertEquals(Duration.ofSeconds(300), b.get(k));
        clock.advance(Duration.ofMinutes(11));
        b.next(k);
        assertEquals(Duration.ofSeconds(10), b.get(k));
        assertEquals("20s", Backoff.goString(Duration.ofSeconds(20)));
        assertEquals("1m20s", Backoff.goString(Duration.ofSeconds(80)));
        assertEquals("5m0s", Backoff.goString(Duration.ofSeconds(300)));
    }

    @Test
    @DisplayName("the log tail for FallbackToLogsOnError joins partial CRI lines")
    void logTail() throws Exception {
        Path log = dir.resolve("0.log");
        Files.writeString(log, "2026-01-01T00:00:00.000000000Z stdout F one\n2026-01-01T00:00:00.1Z stderr P tw\n"
                + "2026-01-01T00:00:00.2Z stderr F o\n2026-01-01T00:00:00.3Z stdout F three\n");
        assertEquals("one\ntwo\nthree\n", Logs.tail(log, 80, 2048));
        assertEquals("two\nthree\n", Logs.tail(log, 2, 2048));
        assertEquals("ree\n", Logs.tail(log, 80, 4));
    }
}
