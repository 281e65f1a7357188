package io.k3j.agent.kubelet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.containerd.Containerd;
import io.k3j.agent.containerd.ContainerdConfig;
import io.k3j.agent.cri.CriClient;
import io.k3j.agent.cri.v1.ContainerConfig;
import io.k3j.agent.cri.v1.ContainerMetadata;
import io.k3j.agent.cri.v1.CreateContainerRequest;
import io.k3j.agent.cri.v1.ImageSpec;
import io.k3j.agent.cri.v1.LinuxPodSandboxConfig;
import io.k3j.agent.cri.v1.ListPodSandboxRequest;
import io.k3j.agent.cri.v1.PodSandbox;
import io.k3j.agent.cri.v1.PodSandboxConfig;
import io.k3j.agent.cri.v1.PodSandboxMetadata;
import io.k3j.agent.cri.v1.RemovePodSandboxRequest;
import io.k3j.agent.cri.v1.RunPodSandboxRequest;
import io.k3j.agent.cri.v1.StartContainerRequest;
import io.k3j.agent.cri.v1.StopPodSandboxRequest;
import io.k3j.agent.host.Packages;
import io.k3j.agent.host.Processes;
import io.k3j.agent.image.Images;
import io.k3j.agent.image.TestImages;
import io.k3j.api.Json;
import io.k3j.apiserver.pki.CertAndKey;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.testing.TestCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole path against a real containerd: kubectl → API server → {@link KubeletServer} → CRI Exec/PortForward
 * URL → containerd's streaming server → a busybox container. Needs root (CI runs as root).
 */
class ContainerdStreamingTest {
    private static final String SDK = "/usr/lib/google-cloud-sdk/bin/kubectl.";
    private static Path dir;
    private static String bridge;
    private static String cgroupParent;
    private static Containerd containerd;
    private static TestCluster cluster;
    private static KubeletServer kubelet;
    private static String containerId;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Packages.isRoot(), "needs root: containerd, network namespaces and cgroups");
        Packages.ensure("containerd", "runc", "containernetworking-plugins", "busybox-static", "iptables");
        dir = Files.createTempDirectory(Path.of("/tmp"), "k3jk");
        String rand = HexFormat.of().formatHex(UUID.randomUUID().toString().getBytes(), 0, 3);
        bridge = "k3jk" + rand.substring(0, 6);
        cgroupParent = "/k3jtest/" + UUID.randomUUID();
        Path cni = Files.createDirectories(dir.resolve("cni/net.d"));
        Files.writeString(cni.resolve("10-k3jtest.conflist"), """
                {"cniVersion": "1.0.0", "name": "k3jtest", "plugins": [
                  {"type": "bridge", "bridge": "%s", "isGateway": true, "ipMasq": false,
                   "ipam": {"type": "host-local", "dataDir": "%s", "ranges": [[{"subnet": "10.198.%d.0/24"}]]}}
                ]}
                """.formatted(bridge, dir.resolve("ipam"), ThreadLocalRandom.current().nextInt(1, 250)));
        containerd = Containerd.start(ContainerdConfig.under(dir));
        CriClient cri = containerd.cri().withTimeout(Duration.ofSeconds(30));
        Path images = Files.createDirectories(dir.resolve("images"));
        Images.ensure(cri, containerd.config().socket(), TestImages.pause(images));
        Images.ensure(cri, containerd.config().socket(), TestImages.busybox(images));

        cluster = TestCluster.start(List.of());
        ResourceType pods = cluster.type("", "v1", "pods");
        ObjectNode pod = cluster.api().create(pods, "default", Json.parseObject("""
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default"},
                 "spec":{"nodeName":"node-1","containers":[{"name":"main","image":"docker.io/library/busybox:1.35"}]}}
                """.getBytes(StandardCharsets.UTF_8)));
        String uid = pod.path("metadata").path("uid").asText();
        Path logs = dir.resolve("logs/default_web_" + uid);
        PodSandboxConfig sandboxConfig = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName("web").setNamespace("default").setUid(uid))
                .setHostname("web").setLogDirectory(logs.toString())
                .setLinux(LinuxPodSandboxConfig.newBuilder().setCgroupParent(cgroupParent)).build();
        String sandbox = cri.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(sandboxConfig).build()).getPodSandboxId();
        containerId = cri.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(sandbox).setSandboxConfig(sandboxConfig)
                .setConfig(ContainerConfig.newBuilder().setMetadata(ContainerMetadata.newBuilder().setName("main"))
                        .setImage(ImageSpec.newBuilder().setImage(TestImages.BUSYBOX))
                        .addCommand("sh").addArgs("-c")
                        .addArgs("mkdir -p /www; echo pong > /www/index.html; echo hello-from-busybox; exec httpd -f -p 8080 -h /www")
                        .setLogPath("main/0.log")).build()).getContainerId();
        cri.startContainer(StartContainerRequest.newBuilder().setContainerId(containerId).build());
        cluster.api().modify(pods, "default", "web", "status", p -> {
            p.set("status", Json.parseObject(("""
                    {"phase":"Running","containerStatuses":[{"name":"main","image":"busybox","imageID":"","ready":true,"started":true,
                     "restartCount":0,"containerID":"containerd://%s","state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}}]}
                    """).formatted(containerId).getBytes(StandardCharsets.UTF_8)));
            return p;
        });

        var pki = cluster.controlPlane().pki();
        CertAndKey serving = pki.issueServingCert("node-1", List.of("127.0.0.1"), Duration.ofDays(1));
        PodLookup.Pod running = new PodLookup.Pod(uid, sandbox, Map.of("main", new PodLookup.Container(containerId, logs.resolve("main"), 0, true)));
        kubelet = KubeletServer.start(new KubeletServer.Config(new InetSocketAddress("127.0.0.1", 0), serving.certificatePem(),
                serving.privateKeyPem(), pki.clientCaPem(), new CriStreamingRuntime(cri),
                (ns, name) -> ns.equals("default") && name.equals("web") ? Optional.of(running) : Optional.empty()));
        cluster.api().create(cluster.type("", "v1", "nodes"), null, Json.parseObject("""
                {"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1"},
                 "status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":%d}}}}
                """.formatted(kubelet.port()).getBytes(StandardCharsets.UTF_8)));
    }

    @AfterAll
    static void stop() throws Exception {
        if (dir == null) return;
        try {
            if (kubelet != null) kubelet.close();
            if (cluster != null) cluster.close();
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
            long self = ProcessHandle.current().pid();
            List<Long> leftovers = new ArrayList<>();
            ProcessHandle.allProcesses().forEach(p -> {
                if (p.pid() != self && Processes.commandLine(p.pid()).contains(dir.toString())) leftovers.add(p.pid());
            });
            for (long pid : leftovers) Processes.kill(pid);
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

    private static void removeCgroups() throws IOException {
        Path root = Path.of("/sys/fs/cgroup");
        List<Path> hierarchies = new ArrayList<>();
        if (Files.exists(root.resolve("cgroup.controllers"))) hierarchies.add(root);
        else try (Stream<Path> s = Files.list(root)) {
            s.filter(Files::isDirectory).filter(p -> !Files.isSymbolicLink(p)).forEach(hierarchies::add);
        }
        for (Path h : hierarchies) {
            Path cg = h.resolve(cgroupParent.substring(1));
            if (Files.isDirectory(cg)) {
                try (Stream<Path> walk = Files.walk(cg)) {
                    for (Path p : walk.filter(Files::isDirectory).sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                        deleteWhenEmpty(p);
                    }
                }
            }
            // the shared parent goes too once no other test's pod is below it
            deleteWhenEmpty(h.resolve("k3jtest"));
        }
    }

    /** rmdir, retried for a moment: a killed container's last process may take a while to leave its cgroup. */
    private static void deleteWhenEmpty(Path cgroup) {
        for (int attempt = 0; attempt < 30 && Files.exists(cgroup); attempt++) {
            try {
                Files.delete(cgroup);
            } catch (IOException busy) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    record Run(int exit, String out, String err) {
    }

    private static Run kubectl(String version, String stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(SDK + version, "--kubeconfig", cluster.kubeconfig().toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("kubectl", ".out");
        Path err = Files.createTempFile("kubectl", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            try (var in = p.getOutputStream()) {
                if (stdin != null) in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("kubectl " + String.join(" ", args) + " hung: " + Files.readString(out) + Files.readString(err));
            }
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.32", "1.33"})
    @DisplayName("kubectl logs, exec (stdout, stdin, exit code) and port-forward reach a busybox container on containerd")
    void streams(String version) throws Exception {
        Run logs = kubectl(version, null, "logs", "web");
        assertEquals("hello-from-busybox\n", logs.out(), logs.err());
        Run hi = kubectl(version, null, "exec", "web", "--", "echo", "hi");
        assertEquals(0, hi.exit(), hi.err());
        assertEquals("hi\n", hi.out());
        Run exit3 = kubectl(version, null, "exec", "web", "--", "sh", "-c", "echo out; echo err >&2; exit 3");
        assertEquals(3, exit3.exit(), exit3.err());
        assertEquals("out\n", exit3.out());
        assertTrue(exit3.err().contains("err"), exit3.err());
        Run cat = kubectl(version, "hello\nstdin\n", "exec", "-i", "web", "--", "cat");
        assertEquals("hello\nstdin\n", cat.out(), cat.err());
        // a real terminal for kubectl (script gives it a pty), so -it means a TTY in the container (stty answers its size)
        Process script = new ProcessBuilder("script", "-qec", SDK + version + " --kubeconfig " + cluster.kubeconfig()
                + " exec -it web -- sh -c 'tty; stty size'", "/dev/null").redirectErrorStream(true).start();
        script.getOutputStream().close();
        assertTrue(script.waitFor(60, TimeUnit.SECONDS));
        String ttyOut = new String(script.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(ttyOut.contains("/dev/pts/"), "exit " + script.exitValue() + ": [" + ttyOut + "]");
        assertEquals(0, script.exitValue(), ttyOut);

        Path out = Files.createTempFile("pf", ".out");
        Process pf = new ProcessBuilder(SDK + version, "--kubeconfig", cluster.kubeconfig().toString(), "port-forward", "pod/web", ":8080")
                .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            Pattern forwarding = Pattern.compile("Forwarding from 127\\.0\\.0\\.1:(\\d+) ->");
            cluster.await("kubectl port-forward to listen", Duration.ofSeconds(30), () -> {
                try {
                    return forwarding.matcher(Files.readString(out)).find();
                } catch (IOException e) {
                    return false;
                }
            });
            Matcher m = forwarding.matcher(Files.readString(out));
            assertTrue(m.find());
            for (int i = 0; i < 2; i++) {
                Process curl = new ProcessBuilder("curl", "-s", "--max-time", "20", "http://127.0.0.1:" + m.group(1) + "/").redirectErrorStream(true).start();
                assertTrue(curl.waitFor(30, TimeUnit.SECONDS));
                assertEquals("pong\n", new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
        } finally {
            pf.destroy();
            if (!pf.waitFor(5, TimeUnit.SECONDS)) pf.destroyForcibly();
            Files.deleteIfExists(out);
        }
    }
}
