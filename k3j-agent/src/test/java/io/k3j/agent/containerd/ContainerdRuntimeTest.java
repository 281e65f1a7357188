package io.k3j.agent.containerd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.k3j.agent.cri.CriClient;
import io.k3j.agent.cri.CriException;
import io.k3j.agent.cri.v1.*;
import io.k3j.agent.host.Packages;
import io.k3j.agent.host.Processes;
import io.k3j.agent.image.Images;
import io.k3j.agent.image.OciArchive;
import io.k3j.agent.image.TestImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A real containerd (own root, state, socket, CNI bridge and IPAM dir under a temp dir) driven through the CRI client:
 * images imported from archives, a pod with a busybox container, logs, exec, and the supervisor restarting a
 * SIGKILLed containerd while the pod keeps running. Needs root (CI runs as root).
 */
class ContainerdRuntimeTest {

    private Path dir;
    private String bridge;
    private String cgroupParent;
    private Containerd containerd;
    private final BlockingQueue<String> events = new LinkedBlockingQueue<>();

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(Packages.isRoot(), "needs root: containerd, network namespaces and cgroups");
        Packages.ensure("containerd", "runc", "containernetworking-plugins", "busybox-static", "iptables");
        // short: the socket path (plus ".ttrpc") must stay below the unix socket limit
        dir = Files.createTempDirectory(Path.of("/tmp"), "k3jt");
        String rand = HexFormat.of().formatHex(UUID.randomUUID().toString().getBytes(), 0, 3);
        bridge = "k3jt" + rand.substring(0, 6);
        cgroupParent = "/k3jtest/" + UUID.randomUUID();
        int subnet = ThreadLocalRandom.current().nextInt(1, 250);
        Path cni = Files.createDirectories(dir.resolve("cni/net.d"));
        Files.writeString(cni.resolve("10-k3jtest.conflist"), """
                {"cniVersion": "1.0.0", "name": "k3jtest", "plugins": [
                  {"type": "bridge", "bridge": "%s", "isGateway": true, "ipMasq": false, "hairpinMode": true,
                   "ipam": {"type": "host-local", "dataDir": "%s", "ranges": [[{"subnet": "10.199.%d.0/24"}]]}}
                ]}
                """.formatted(bridge, dir.resolve("ipam"), subnet));
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
                assertThat(Processes.alive(containerd.pid())).isEmpty();
            }
        } finally {
            // leftovers of a failed run: shims and pause processes mention our socket or dir; kill them by PID
            for (long pid : processesMentioning(dir.toString())) Processes.kill(pid);
            Processes.run(Duration.ofSeconds(10), "ip", "link", "del", bridge);
            for (String mount : mountsUnder(dir)) Processes.run(Duration.ofSeconds(10), "umount", "-l", mount);
            removeCgroups(cgroupParent);
            Processes.run(Duration.ofSeconds(30), "rm", "-rf", "--one-file-system", dir.toString());
        }
    }

    @Test
    @DisplayName("a pod runs on a supervised containerd: logs, exec, and it survives containerd being SIGKILLed")
    void podSurvivesContainerdRestart() throws Exception {
        long t0 = System.nanoTime();
        containerd = Containerd.start(ContainerdConfig.under(dir), new Containerd.Listener() {
            @Override
            public void exited(long pid, int exitCode) {
                events.add("exited " + pid + " " + exitCode);
            }

            @Override
            public void restarted(long pid) {
                events.add("restarted " + pid);
            }
        });
        long readyMs = ms(t0);
        CriClient cri = containerd.cri().withTimeout(Duration.ofSeconds(30));
        assertThat(cri.version(VersionRequest.newBuilder().setVersion("v1").build()).getRuntimeApiVersion()).isEqualTo("v1");

        long t1 = System.nanoTime();
        Path images = Files.createDirectories(dir.resolve("images"));
        OciArchive.Written pause = TestImages.pause(images);
        OciArchive.Written busybox = TestImages.busybox(images);
        long buildMs = ms(t1);
        long t2 = System.nanoTime();
        Images.ensure(cri, containerd.config().socket(), pause);
        Images.ensure(cri, containerd.config().socket(), busybox);
        long importMs = ms(t2);
        List<String> tags = cri.listImages(ListImagesRequest.getDefaultInstance()).getImagesList().stream()
                .flatMap(i -> i.getRepoTagsList().stream()).toList();
        assertThat(tags).contains(TestImages.PAUSE, TestImages.BUSYBOX);

        Path logs = dir.resolve("logs/default_web_uid1");
        PodSandboxConfig sandboxConfig = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName("web").setNamespace("default").setUid("uid1"))
                .setHostname("web")
                .setLogDirectory(logs.toString())
                .setLinux(LinuxPodSandboxConfig.newBuilder()
                        .setCgroupParent(cgroupParent)
                        .setSecurityContext(LinuxSandboxSecurityContext.newBuilder()
                                .setNamespaceOptions(NamespaceOption.newBuilder().setPid(NamespaceMode.CONTAINER))))
                .build();
        long t3 = System.nanoTime();
        String sandbox = cri.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(sandboxConfig).build()).getPodSandboxId();
        long sandboxMs = ms(t3);
        long t4 = System.nanoTime();
        String container = cri.createContainer(CreateContainerRequest.newBuilder()
                .setPodSandboxId(sandbox)
                .setSandboxConfig(sandboxConfig)
                .setConfig(ContainerConfig.newBuilder()
                        .setMetadata(ContainerMetadata.newBuilder().setName("main"))
                        .setImage(ImageSpec.newBuilder().setImage(TestImages.BUSYBOX))
                        .addCommand("sh").addArgs("-c").addArgs("echo hello-from-k3j; exec sleep 3600")
                        .setLogPath("main/0.log")
                        .setLinux(LinuxContainerConfig.newBuilder()
                                .setResources(LinuxContainerResources.newBuilder().setMemoryLimitInBytes(64 << 20))))
                .build()).getContainerId();
        cri.startContainer(StartContainerRequest.newBuilder().setContainerId(container).build());
        long containerMs = ms(t4);

        ContainerStatus status = status(cri, container);
        assertThat(status.getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
        assertThat(status.getStartedAt()).isPositive();
        assertThat(status.getLogPath()).isEqualTo(logs.resolve("main/0.log").toString());
        Path log = logs.resolve("main/0.log");
        await("the container's line in its CRI log", Duration.ofSeconds(10), () -> read(log).contains(" stdout F hello-from-k3j"));

        PodSandboxStatus sandboxStatus = cri.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(sandbox).build()).getStatus();
        assertThat(sandboxStatus.getState()).isEqualTo(PodSandboxState.SANDBOX_READY);
        assertThat(sandboxStatus.getNetwork().getIp()).startsWith("10.199.");

        ExecSyncResponse exec = cri.execSync(ExecSyncRequest.newBuilder().setContainerId(container)
                .addCmd("sh").addCmd("-c").addCmd("echo out-$((6*7)); echo err >&2; exit 3").setTimeout(10).build());
        assertThat(exec.getStdout().toStringUtf8()).isEqualTo("out-42\n");
        assertThat(exec.getStderr().toStringUtf8()).isEqualTo("err\n");
        assertThat(exec.getExitCode()).isEqualTo(3);

        String url = cri.exec(ExecRequest.newBuilder().setContainerId(container).addCmd("sh").setStdout(true).build()).getUrl();
        assertThat(url).startsWith("http://127.0.0.1:").doesNotStartWith("http://127.0.0.1:0/");

        PodSandboxStatsResponse stats = cri.podSandboxStats(PodSandboxStatsRequest.newBuilder().setPodSandboxId(sandbox).build());
        assertThat(stats.getStats().getLinux().getMemory().getWorkingSetBytes().getValue()).isPositive();

        long rssKb = rssKb(containerd.pid());

        // containerd dies hard: the supervisor starts a new one, the pod never noticed
        long oldPid = containerd.pid();
        long t5 = System.nanoTime();
        Processes.kill(oldPid);
        assertThat(events.poll(10, TimeUnit.SECONDS)).startsWith("exited " + oldPid);
        String restarted = events.poll(30, TimeUnit.SECONDS);
        long restartMs = ms(t5);
        assertThat(restarted).isEqualTo("restarted " + containerd.pid());
        assertThat(containerd.pid()).isNotEqualTo(oldPid);
        assertThat(status(cri, container).getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
        assertThat(cri.execSync(ExecSyncRequest.newBuilder().setContainerId(container).addCmd("echo").addCmd("still").setTimeout(10).build())
                .getStdout().toStringUtf8()).isEqualTo("still\n");

        cri.stopContainer(StopContainerRequest.newBuilder().setContainerId(container).setTimeout(0).build());
        ContainerStatus stopped = status(cri, container);
        assertThat(stopped.getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
        assertThat(stopped.getFinishedAt()).isPositive();
        assertThat(stopped.getExitCode()).isEqualTo(137);
        cri.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(container).build());
        try {
            cri.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(container).build());
            throw new AssertionError("removed container still has a status");
        } catch (CriException e) {
            assertThat(e.notFound()).as(e.getMessage()).isTrue();
        }
        // the pause process (the sandbox's PID 1) ends on SIGTERM too, not only on SIGKILL
        String info = cri.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(sandbox).setVerbose(true).build())
                .getInfoOrDefault("info", "");
        java.util.regex.Matcher pidMatch = java.util.regex.Pattern.compile("\"pid\":\\s*(\\d+)").matcher(info);
        assertThat(pidMatch.find()).as(info).isTrue();
        ProcessHandle pauseProcess = ProcessHandle.of(Long.parseLong(pidMatch.group(1))).orElseThrow();
        long t7 = System.nanoTime();
        pauseProcess.destroy();
        pauseProcess.onExit().get(3, TimeUnit.SECONDS);
        long pauseTermMs = ms(t7);

        long t6 = System.nanoTime();
        cri.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(sandbox).build());
        long stopSandboxMs = ms(t6);
        cri.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(sandbox).build());
        assertThat(cri.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();

        System.out.printf("containerd ready %d ms; build images %d ms; import %d ms; RunPodSandbox %d ms; create+start %d ms;"
                        + " SIGKILL -> restarted and answering %d ms; containerd RSS %d KiB (1 pod); StopPodSandbox %d ms;"
                        + " pause exits on SIGTERM in %d ms%n",
                readyMs, buildMs, importMs, sandboxMs, containerMs, restartMs, rssKb, stopSandboxMs, pauseTermMs);
    }

    @Test
    @DisplayName("a second start on the same directories adopts the running containerd instead of starting another")
    void adoptsRunningContainerd() throws Exception {
        long t0 = System.nanoTime();
        Containerd first = Containerd.start(ContainerdConfig.under(dir));
        System.out.printf("containerd start -> CRI Version answered: %d ms%n", ms(t0));
        long pid = first.pid();
        containerd = first;
        // an agent that goes away without stopping containerd
        first.detach();
        assertThat(Processes.alive(pid)).isPresent();
        Containerd second = Containerd.start(ContainerdConfig.under(dir), new Containerd.Listener() {
            @Override
            public void restarted(long newPid) {
                events.add("restarted " + newPid);
            }
        });
        containerd = second;
        assertThat(second.adopted()).isTrue();
        assertThat(second.pid()).isEqualTo(pid);
        assertThat(second.cri().version(VersionRequest.getDefaultInstance()).getRuntimeName()).isEqualTo("containerd");
        // the adopted one is supervised too
        Processes.kill(pid);
        assertThat(events.poll(30, TimeUnit.SECONDS)).isEqualTo("restarted " + second.pid());
        assertThat(second.pid()).isNotEqualTo(pid);
        assertThat(second.cri().withTimeout(Duration.ofSeconds(10)).version(VersionRequest.getDefaultInstance()).getRuntimeName()).isEqualTo("containerd");
        second.close();
        containerd = null;
        assertThat(Processes.alive(second.pid())).isEmpty();
    }

    private static ContainerStatus status(CriClient cri, String id) {
        return cri.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(id).build()).getStatus();
    }

    private static long ms(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(20);
        }
    }

    private static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return -1;
    }

    private static List<Long> processesMentioning(String text) {
        List<Long> pids = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        ProcessHandle.allProcesses().forEach(p -> {
            if (p.pid() != self && Processes.commandLine(p.pid()).contains(text)) pids.add(p.pid());
        });
        return pids;
    }

    private static List<String> mountsUnder(Path dir) throws IOException {
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
            String[] f = line.split(" ");
            if (f.length > 1 && f[1].startsWith(dir.toString())) mounts.add(f[1]);
        }
        mounts.sort((a, b) -> b.length() - a.length());
        return mounts;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Removes the test's cgroup parent (and the shared /k3jtest when empty) in every v1 hierarchy (or v2). */
    private static void removeCgroups(String parent) throws IOException {
        Path root = Path.of("/sys/fs/cgroup");
        List<Path> hierarchies = new ArrayList<>();
        if (Files.exists(root.resolve("cgroup.controllers"))) hierarchies.add(root);
        else try (Stream<Path> s = Files.list(root)) {
            s.filter(Files::isDirectory).filter(p -> !Files.isSymbolicLink(p)).forEach(hierarchies::add);
        }
        for (Path h : hierarchies) {
            Path cg = h.resolve(parent.substring(1));
            if (Files.isDirectory(cg)) {
                // children first (containerd leaves none once sandboxes are removed; a failed run might)
                try (Stream<Path> walk = Files.walk(cg)) {
                    for (Path p : walk.filter(Files::isDirectory).sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                        // a killed container's last process may take a moment to leave its cgroup
                        for (int attempt = 0; attempt < 30 && Files.exists(p); attempt++) {
                            try {
                                Files.delete(p);
                            } catch (IOException busy) {
                                sleep(100);
                            }
                        }
                    }
                }
            }
            // the runtime may still be removing a pod cgroup below it: retry for a moment
            Path shared = h.resolve("k3jtest");
            for (int attempt = 0; attempt < 30 && Files.exists(shared); attempt++) {
                try {
                    Files.delete(shared);
                } catch (IOException busy) {
                    sleep(100);
                }
            }
        }
    }
}
