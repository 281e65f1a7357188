package io.k3j.agent.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.k3j.agent.containerd.Containerd;
import io.k3j.agent.containerd.ContainerdConfig;
import io.k3j.agent.cri.CriClient;
import io.k3j.agent.cri.v1.*;
import io.k3j.agent.host.Packages;
import io.k3j.agent.host.Processes;
import io.k3j.agent.image.Images;
import io.k3j.agent.image.TestImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@link CriPodStats} against a real containerd 1.6 (own root, state, socket, CNI bridge, cgroup parent under a temp
 * dir): a pod whose container spins under a 20% CPU quota. Needs root.
 */
class CriPodStatsTest {
    private Path dir;
    private String bridge;
    private String cgroupParent;
    private Containerd containerd;

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(Packages.isRoot(), "needs root: containerd and cgroups");
        Packages.ensure("containerd", "runc", "containernetworking-plugins", "busybox-static", "iptables");
        dir = Files.createTempDirectory(Path.of("/tmp"), "k3js");
        bridge = "k3js" + UUID.randomUUID().toString().substring(0, 6);
        cgroupParent = "/k3jstats/" + UUID.randomUUID();
        Path cni = Files.createDirectories(dir.resolve("cni/net.d"));
        Files.writeString(cni.resolve("10-stats.conflist"), """
                {"cniVersion": "1.0.0", "name": "k3jstats", "plugins": [
                  {"type": "bridge", "bridge": "%s", "isGateway": true, "ipMasq": false,
                   "ipam": {"type": "host-local", "dataDir": "%s", "ranges": [[{"subnet": "10.198.%d.0/24"}]]}}
                ]}
                """.formatted(bridge, dir.resolve("ipam"), ThreadLocalRandom.current().nextInt(1, 250)));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (dir == null) return;
        try {
            if (containerd != null) {
                CriClient cri = containerd.cri().withTimeout(Duration.ofSeconds(20));
                try {
                    for (PodSandbox s : cri.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
                        cri.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(s.getId()).build());
                        cri.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(s.getId()).build());
                    }
                } finally {
                    containerd.close();
                }
            }
        } finally {
            // what a failed run may leave: shims naming our dir, the bridge, mounts, cgroups
            long self = ProcessHandle.current().pid();
            ProcessHandle.allProcesses().filter(p -> p.pid() != self && Processes.commandLine(p.pid()).contains(dir.toString()))
                    .forEach(p -> Processes.kill(p.pid()));
            Processes.run(Duration.ofSeconds(10), "ip", "link", "del", bridge);
            List<String> mounts = new ArrayList<>();
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 1 && f[1].startsWith(dir.toString())) mounts.add(f[1]);
            }
            mounts.sort((a, b) -> b.length() - a.length());
            for (String m : mounts) Processes.run(Duration.ofSeconds(10), "umount", "-l", m);
            removeCgroups();
            Processes.run(Duration.ofSeconds(30), "rm", "-rf", "--one-file-system", dir.toString());
        }
    }

    private void removeCgroups() throws IOException {
        try (Stream<Path> hs = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : hs.filter(Files::isDirectory).filter(p -> !Files.isSymbolicLink(p)).toList()) {
                Path cg = h.resolve(cgroupParent.substring(1));
                if (Files.isDirectory(cg)) {
                    try (Stream<Path> walk = Files.walk(cg)) {
                        for (Path p : walk.filter(Files::isDirectory).sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                            Files.deleteIfExists(p);
                        }
                    } catch (IOException ignored) {
                        // still busy
                    }
                }
                try {
                    Files.deleteIfExists(h.resolve("k3jstats"));
                } catch (IOException ignored) {
                    // another run's cgroup is still there
                }
            }
        }
    }

    @Test
    @DisplayName("a running pod's container reports cumulative CPU, a CPU rate and its working set through CRI")
    void podStatsFromContainerd() throws Exception {
        containerd = Containerd.start(ContainerdConfig.under(dir));
        CriClient cri = containerd.cri().withTimeout(Duration.ofSeconds(30));
        Path images = Files.createDirectories(dir.resolve("images"));
        Images.ensure(cri, containerd.config().socket(), TestImages.pause(images));
        Images.ensure(cri, containerd.config().socket(), TestImages.busybox(images));
        PodSandboxConfig sandboxConfig = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName("spin").setNamespace("default").setUid("uid-spin"))
                .setHostname("spin")
                .setLogDirectory(dir.resolve("logs").toString())
                .setLinux(LinuxPodSandboxConfig.newBuilder().setCgroupParent(cgroupParent))
                .build();
        String sandbox = cri.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(sandboxConfig).build()).getPodSandboxId();
        String container = cri.createContainer(CreateContainerRequest.newBuilder()
                .setPodSandboxId(sandbox)
                .setSandboxConfig(sandboxConfig)
                .setConfig(ContainerConfig.newBuilder()
                        .setMetadata(ContainerMetadata.newBuilder().setName("burn"))
                        .setImage(ImageSpec.newBuilder().setImage(TestImages.BUSYBOX))
                        .addCommand("sh").addArgs("-c").addArgs("while :; do :; done")
                        .setLogPath("burn/0.log")
                        .setLinux(LinuxContainerConfig.newBuilder().setResources(LinuxContainerResources.newBuilder()
                                .setCpuPeriod(100_000).setCpuQuota(20_000).setMemoryLimitInBytes(32 << 20))))
                .build()).getContainerId();
        cri.startContainer(StartContainerRequest.newBuilder().setContainerId(container).build());

        CriPodStats source = new CriPodStats(cri);
        StatsProvider provider = new StatsProvider("node-1", NodeStatsSource.host(dir), source, Clock.systemUTC(), Duration.ofSeconds(2));
        Stats.Summary s = provider.summary();
        assertEquals(1, s.pods().size(), s.toString());
        Stats.Pod pod = s.pods().get(0);
        assertEquals("default", pod.namespace());
        assertEquals("spin", pod.name());
        assertEquals("uid-spin", pod.uid());
        assertEquals(1, pod.containers().size());
        Stats.Container c = pod.containers().get(0);
        assertEquals("burn", c.name());
        assertTrue(c.cpu().usageCoreNanoSeconds() > 0, c.toString());
        assertNotNull(c.cpu().usageNanoCores(), "a rate from the runtime or from two readings");
        // 20% quota: somewhere between a trickle and the quota (plus slack for a loaded machine's accounting)
        assertTrue(c.cpu().usageNanoCores() > 10_000_000L && c.cpu().usageNanoCores() < 400_000_000L, c.toString());
        assertTrue(c.memory().workingSetBytes() > 0, c.toString());
        assertNotNull(pod.cpu());
        assertTrue(pod.cpu().usageCoreNanoSeconds() >= c.cpu().usageCoreNanoSeconds() / 2, pod.toString());
        assertTrue(pod.memory().workingSetBytes() > 0, pod.toString());

        // what containerd itself answers (kubelet's question: does the runtime compute usage_nano_cores?)
        ContainerStats raw = cri.listContainerStats(ListContainerStatsRequest.getDefaultInstance()).getStats(0);
        System.out.printf("containerd usage_nano_cores present=%s value=%d; ours=%d%n", raw.getCpu().hasUsageNanoCores(),
                raw.getCpu().getUsageNanoCores().getValue(), c.cpu().usageNanoCores());
    }
}
