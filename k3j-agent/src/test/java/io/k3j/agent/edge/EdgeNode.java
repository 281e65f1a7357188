package io.k3j.agent.edge;

import io.k3j.agent.cri.CriClient;
import io.k3j.agent.cri.CriException;
import io.k3j.agent.cri.v1.ListPodSandboxRequest;
import io.k3j.agent.cri.v1.PodSandbox;
import io.k3j.agent.cri.v1.RemovePodSandboxRequest;
import io.k3j.agent.cri.v1.StopPodSandboxRequest;
import io.k3j.agent.image.TestImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * One node whose agent runs in a child JVM ({@link AgentProcess}), so it can be killed for real. Owns the node's
 * directories, and knows every process of the node by PID: the agent it started, containerd (its pid file), the
 * shims (their command line names this node's containerd socket) and the containers (the node's cgroup tree).
 */
final class EdgeNode implements AutoCloseable {
    final String name;
    final String bridge;
    final Path base;
    final Path dataDir;
    final Path runDir;
    final Path socket;
    private final String server;
    private final String token;
    private Process agent;
    private int starts;

    EdgeNode(String server, String token) throws IOException {
        String id = HexFormat.of().toHexDigits(new java.security.SecureRandom().nextInt()).substring(2);
        this.name = "k3jt-" + id;
        this.bridge = "k3jt" + id;
        this.base = Files.createTempDirectory(Path.of("/tmp"), "k3jt");
        this.dataDir = base.resolve("d");
        this.runDir = base.resolve("r");
        this.socket = runDir.resolve("containerd/containerd.sock");
        this.server = server;
        this.token = token;
        Path images = dataDir.resolve("images");
        Files.createDirectories(images);
        // the agent imports the air-gap folder on every start, as a node without a registry does
        Files.copy(TestImages.busybox(base.resolve("build")).archive(), images.resolve("busybox.tar"));
    }

    Path agentLog() {
        return base.resolve("agent-" + starts + ".log");
    }

    /** Starts the agent process and waits until {@code Agent.start} returned. */
    void startAgent(Duration timeout) throws IOException, InterruptedException {
        starts++;
        Path ready = base.resolve("ready");
        Files.deleteIfExists(ready);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Djava.util.logging.SimpleFormatter.format=%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n",
                AgentProcess.class.getName(), "server=" + server, "token=" + token, "data=" + dataDir, "run=" + runDir, "node=" + name,
                "bridge=" + bridge, "ready=" + ready)
                .redirectErrorStream(true).redirectOutput(agentLog().toFile());
        agent = pb.start();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(ready)) {
            if (!agent.isAlive()) throw new AssertionError("agent exited with " + agent.exitValue() + ":\n" + logs());
            if (System.nanoTime() > deadline) throw new AssertionError("agent not started within " + timeout + ":\n" + logs());
            Thread.sleep(50);
        }
    }

    /** SIGKILL for the agent process. */
    void killAgent() throws InterruptedException {
        if (agent == null) return;
        agent.destroyForcibly();
        agent.waitFor();
        agent = null;
    }

    Optional<Long> containerdPid() {
        try {
            long pid = Long.parseLong(Files.readString(runDir.resolve("containerd/k3j-containerd.pid")).strip());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(ProcessHandle::pid)
                    .filter(p -> commandLine(p).contains(dataDir.toString()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** SIGKILL for containerd (found through its pid file). */
    long killContainerd() {
        long pid = containerdPid().orElseThrow(() -> new AssertionError("no containerd running for " + name));
        kill(pid);
        return pid;
    }

    CriClient cri() {
        return CriClient.connect(socket, Duration.ofSeconds(10));
    }

    /**
     * Every containerd of this node, not only the pid file's: one started beside another (a bug) or one whose pid
     * file was overwritten. Found by this node's own config path in the command line.
     */
    List<Long> containerdPids() {
        String config = dataDir.resolve("etc/containerd/config.toml").toString();
        return processes(cmd -> cmd.startsWith("containerd ") && cmd.contains(config));
    }

    /** The shims of this node: runc shims whose command line names this node's containerd socket. */
    List<Long> shimPids() {
        return processes(cmd -> cmd.contains("containerd-shim") && cmd.contains(socket.toString()));
    }

    private static List<Long> processes(java.util.function.Predicate<String> commandLine) {
        List<Long> out = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String f = p.getFileName().toString();
                if (!f.chars().allMatch(Character::isDigit)) continue;
                long pid = Long.parseLong(f);
                if (pid != ProcessHandle.current().pid() && commandLine.test(commandLine(pid))) out.add(pid);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** Processes in the node's cgroup tree (every v1 hierarchy that has it). */
    Set<Long> containerPids() {
        Set<Long> pids = new TreeSet<>();
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : (Iterable<Path>) hierarchies::iterator) {
                Path dir = h.resolve("k3j").resolve(name);
                if (Files.isSymbolicLink(h) || !Files.isDirectory(dir)) continue;
                try (Stream<Path> tree = Files.walk(dir)) {
                    for (Path procs : (Iterable<Path>) tree.filter(f -> f.getFileName().toString().equals("cgroup.procs"))::iterator) {
                        for (String line : Files.readAllLines(procs)) if (!line.isBlank()) pids.add(Long.parseLong(line.strip()));
                    }
                } catch (IOException e) {
                    // a cgroup removed while walking
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return pids;
    }

    /**
     * A power cut: every process of the node killed (agent, containerd, shims, containers), then what a reboot clears
     * (mounts, network namespaces, the bridge, cgroups, the run dir, the shims' sockets). The data dir stays.
     */
    void crash() throws InterruptedException, IOException {
        killAgent();
        Set<Long> containers = containerPids();
        List<Path> netns = netnsOf(containers);
        List<Path> shimSockets = new ArrayList<>();
        List<Long> shims = shimPids();
        for (long shim : shims) shimSockets.add(shimSocket(shim));
        containerdPid().ifPresent(EdgeNode::kill);
        for (long pid : containerdPids()) kill(pid);
        for (long shim : shims) kill(shim);
        for (long pid : containers) kill(pid);
        for (long pid : containerPids()) kill(pid);
        waitGone(containers);
        unmountUnder(List.of(runDir, dataDir));
        for (Path ns : netns) {
            run("umount", "-l", ns.toString());
            Files.deleteIfExists(ns);
        }
        for (Path s : shimSockets) if (s != null) Files.deleteIfExists(s);
        run("ip", "link", "delete", bridge);
        // a reboot empties the kernel's tables too (names as AgentConfig.nftTable gives them to a test bridge)
        run("nft", "delete", "table", "ip", "k3j-net-" + bridge);
        run("nft", "delete", "table", "ip", "k3j-proxy-" + bridge);
        run("nft", "delete", "table", "inet", "k3j-netpol-" + bridge);
        removeCgroups();
        deleteTree(runDir);
    }

    /** Stops the node for good: pods removed through CRI (CNI DEL frees their addresses and netns), then a crash. */
    @Override
    public void close() throws Exception {
        killAgent();
        // containerd may be restarting (a test failed mid-way): give it a moment to answer
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (containerdPid().isPresent() && System.nanoTime() < deadline) {
            try (CriClient cri = cri()) {
                for (PodSandbox s : cri.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
                    try {
                        cri.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(s.getId()).build());
                        cri.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(s.getId()).build());
                    } catch (CriException e) {
                        // the crash below kills what is left
                    }
                }
                break;
            } catch (CriException e) {
                Thread.sleep(200);
            }
        }
        crash();
        removeCniResults();
        deleteTree(base);
    }

    /**
     * The CNI result cache (containerd's fixed /var/lib/cni/results) of sandboxes on this node's bridge that were
     * never torn down through CNI: removed so that nothing of the node is left.
     */
    private void removeCniResults() throws IOException {
        Path dir = Path.of("/var/lib/cni/results");
        if (!Files.isDirectory(dir)) return;
        String prefix = "k3j-pod-network-";
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String n = f.getFileName().toString();
                if (!n.startsWith(prefix) || !n.endsWith("-eth0")) continue;
                String content;
                try {
                    content = Files.readString(f);
                } catch (IOException e) {
                    continue;
                }
                if (!content.contains("\"" + bridge + "\"")) continue;
                String id = n.substring(prefix.length(), n.length() - "-eth0".length());
                Files.deleteIfExists(f);
                Files.deleteIfExists(dir.resolve("cni-loopback-" + id + "-lo"));
            }
        }
    }

    String logs() {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= starts; i++) {
            Path log = base.resolve("agent-" + i + ".log");
            try {
                String s = Files.readString(log);
                if (s.length() > 20000) s = "...\n" + s.substring(s.length() - 20000);
                sb.append("---- ").append(log).append('\n').append(s);
            } catch (IOException e) {
                sb.append("---- ").append(log).append(": ").append(e).append('\n');
            }
        }
        return sb.toString();
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    static void kill(long pid) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    private static void waitGone(Set<Long> pids) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline && pids.stream().anyMatch(p -> ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false))) {
            Thread.sleep(20);
        }
    }

    static String commandLine(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    /** The netns files (under /run/netns) that the given processes live in. */
    private static List<Path> netnsOf(Set<Long> pids) throws IOException {
        Set<Object> inodes = new java.util.HashSet<>();
        for (long pid : pids) {
            try {
                inodes.add(Files.getAttribute(Path.of("/proc", Long.toString(pid), "ns/net"), "unix:ino"));
            } catch (IOException e) {
                // gone
            }
        }
        List<Path> out = new ArrayList<>();
        Path dir = Path.of("/run/netns");
        if (!Files.isDirectory(dir)) return out;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                try {
                    if (inodes.contains(Files.getAttribute(f, "unix:ino"))) out.add(f);
                } catch (IOException e) {
                    // not a namespace
                }
            }
        }
        return out;
    }

    /** containerd 1.6 puts a shim's socket at /run/containerd/s/sha256(address/namespace/id). */
    private static Path shimSocket(long pid) {
        String[] args = commandLine(pid).split(" ");
        String address = null;
        String ns = null;
        String id = null;
        for (int i = 0; i + 1 < args.length; i++) {
            switch (args[i]) {
                case "-address" -> address = args[i + 1];
                case "-namespace" -> ns = args[i + 1];
                case "-id" -> id = args[i + 1];
                default -> { }
            }
        }
        if (address == null || ns == null || id == null) return null;
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((address + "/" + ns + "/" + id).getBytes(StandardCharsets.UTF_8));
            return Path.of("/run/containerd/s", HexFormat.of().formatHex(d));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void unmountUnder(List<Path> dirs) throws IOException {
        List<String> points = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String point = unescape(line.split(" ")[4]);
            for (Path d : dirs) if (point.equals(d.toString()) || point.startsWith(d + "/")) points.add(point);
        }
        points.sort(Comparator.comparingInt(String::length).reversed());
        for (String p : points) run("umount", "-l", p);
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    private void removeCgroups() {
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : (Iterable<Path>) hierarchies::iterator) {
                Path dir = h.resolve("k3j").resolve(name);
                if (Files.isSymbolicLink(h) || !Files.isDirectory(dir)) continue;
                try (Stream<Path> tree = Files.walk(dir)) {
                    tree.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).forEach(d -> d.toFile().delete());
                }
            }
        } catch (IOException e) {
            // best effort
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static void run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
