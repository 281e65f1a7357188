package io.k3j.agent.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.cri.CriClient;
import io.k3j.agent.cri.v1.Container;
import io.k3j.agent.cri.v1.ContainerFilter;
import io.k3j.agent.cri.v1.ContainerState;
import io.k3j.agent.cri.v1.ContainerStateValue;
import io.k3j.agent.cri.v1.ExecSyncRequest;
import io.k3j.agent.cri.v1.ExecSyncResponse;
import io.k3j.agent.cri.v1.ListContainersRequest;
import io.k3j.agent.cri.v1.ListPodSandboxRequest;
import io.k3j.agent.cri.v1.PodSandbox;
import io.k3j.agent.cri.v1.RemovePodSandboxRequest;
import io.k3j.agent.cri.v1.StopPodSandboxRequest;
import io.k3j.agent.host.NetworkNamespace;
import io.k3j.agent.host.Processes;
import io.k3j.agent.image.TestImages;
import io.k3j.agent.network.PodNetwork;
import io.k3j.apiserver.ServerConfig;
import io.k3j.controllers.Controllers;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.testing.TestCluster;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A multi-node cluster on one machine, as {@code k3j cluster} builds it: a {@link TestCluster} whose API server
 * listens on a test bridge in the host namespace ({@code 10.2xx.yyy.1/24}), and agents that each run in a JVM of
 * their own inside a network namespace with an address on that bridge, their own containerd, data and run dirs, and
 * the busybox test image imported. Every node is Ready when {@link #start} returns. Nodes reach each other over the
 * bridge exactly as machines on one L2 segment do, so the pod network, service proxy, DNS and ingress are tested
 * across real node boundaries.
 *
 * <p>{@link #close()} stops every agent through its {@code killall} (pods removed through CRI, containerd stopped,
 * pod network removed), deletes namespaces, veths, the bridge, cgroups and directories, and fails if anything of the
 * fixture is left. Needs root.
 */
public final class NetnsNodes implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final String id;
    private final String hostBridge;
    private final String hostNet;
    private final String backend;
    private final Path base;
    private final Path busybox;
    private final List<Node> nodes = new CopyOnWriteArrayList<>();
    private TestCluster cluster;
    private Path kubeconfig;
    private int nextIndex;
    private boolean closed;

    private NetnsNodes(String backend) throws IOException {
        this.id = hex(3);
        this.hostBridge = "k3jh" + id;
        this.backend = backend;
        String net = null;
        for (int attempt = 0; attempt < 20 && net == null; attempt++) {
            String candidate = "10." + ThreadLocalRandom.current().nextInt(200, 255) + "." + ThreadLocalRandom.current().nextInt(256);
            // another fixture running on this host may have taken it
            if (Processes.run(Duration.ofSeconds(10), "ip", "route", "show", candidate + ".0/24").output().isBlank()) net = candidate;
        }
        if (net == null) throw new IllegalStateException("no free 10.2xx.yyy.0/24 for the test bridge");
        this.hostNet = net;
        this.base = Path.of("/tmp", "k3jn-" + id);
        Files.createDirectories(base);
        this.busybox = TestImages.busybox(base.resolve("build")).archive();
    }

    /** {@code count} nodes on the host-gw backend. */
    public static NetnsNodes start(int count) throws IOException {
        return start(count, "host-gw");
    }

    /** {@code count} nodes with {@code --network-backend backend} (host-gw or vxlan), each Ready. */
    public static NetnsNodes start(int count, String backend) throws IOException {
        NetnsNodes f = new NetnsNodes(backend);
        try {
            NetworkNamespace.bridge(f.hostBridge, f.hostAddress() + "/24");
            List<ManagedController.Factory> controllers = new ArrayList<>(Controllers.controllerManagerControllers());
            controllers.addAll(Controllers.schedulerControllers());
            String podNet = "10." + ThreadLocalRandom.current().nextInt(100, 200) + ".0.0/16";
            String host = f.hostAddress();
            f.cluster = TestCluster.start(controllers, c -> c.withCidrs(podNet, c.serviceCidr()),
                    s -> new ServerConfig(s.dataDir(), host, 0, host, List.of(host), s.writeKubeconfig(), s.writeKubeconfigMode(), s.token(),
                            s.datastoreEndpoint(), podNet, s.serviceCidr(), s.clusterDns(), s.clusterDomain(), s.nodeName(), s.nodeIps()));
            f.kubeconfig = f.base.resolve("kubeconfig.yaml");
            // the server wrote one for 127.0.0.1, where it does not listen
            Files.writeString(f.kubeconfig, Files.readString(f.cluster.kubeconfig())
                    .replace("https://127.0.0.1:" + f.cluster.controlPlane().port(), f.serverUrl()));
            f.addNodes(count);
            return f;
        } catch (IOException | RuntimeException | Error e) {
            try {
                f.close();
            } catch (RuntimeException | Error suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    public TestCluster cluster() {
        return cluster;
    }

    public List<Node> nodes() {
        return List.copyOf(nodes);
    }

    public Node node(int i) {
        return nodes.get(i);
    }

    /** The host end of the test network: the API server listens here; tests' own servers can too. */
    public String hostAddress() {
        return hostNet + ".1";
    }

    public String hostBridge() {
        return hostBridge;
    }

    public String serverUrl() {
        return "https://" + hostAddress() + ":" + cluster.controlPlane().port();
    }

    /** An admin kubeconfig for this cluster (pointing at the bridge address). */
    public Path kubeconfig() {
        return kubeconfig;
    }

    public Kubectls kubectl() {
        return new Kubectls(Kubectls.DEFAULT, kubeconfig);
    }

    /** Adds one node and waits until it is Ready. */
    public Node addNode() throws IOException {
        return addNodes(1).getFirst();
    }

    /** Adds nodes (their agents start in parallel) and waits until each is Ready. */
    public List<Node> addNodes(int count) throws IOException {
        List<Node> added = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Node n = new Node(nextIndex++);
            nodes.add(n);
            added.add(n);
        }
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> starts = new ArrayList<>();
            for (Node n : added) starts.add(pool.submit(() -> {
                n.start();
                return null;
            }));
            for (Future<?> f : starts) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof IOException io) throw io;
                    if (e.getCause() instanceof RuntimeException re) throw re;
                    if (e.getCause() instanceof Error err) throw err;
                    throw new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted starting nodes");
                }
            }
        }
        return added;
    }

    /** Stops a node, removes everything of it (see {@link Node#close()}) and deletes its Node object. */
    public void removeNode(Node node) {
        nodes.remove(node);
        node.close();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        List<String> problems = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> stops = new ArrayList<>();
            for (Node n : nodes) stops.add(pool.submit(n::close));
            for (Future<?> f : stops) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    problems.add(String.valueOf(e.getCause().getMessage()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        nodes.clear();
        if (cluster != null) cluster.close();
        try {
            NetworkNamespace.deleteLink(hostBridge);
        } catch (RuntimeException e) {
            problems.add(e.getMessage());
        }
        if (NetworkNamespace.linkExists(hostBridge)) problems.add("bridge " + hostBridge + " left");
        deleteTree(base);
        if (Files.exists(base)) problems.add("directory " + base + " left");
        if (!problems.isEmpty()) throw new AssertionError("the netns cluster was not cleaned up: " + String.join("; ", problems));
    }

    /** One node: a network namespace, an agent JVM inside it, its containerd and pods. */
    public final class Node implements AutoCloseable {
        private final String hex;
        private final String name;
        private final String ip;
        private final String hostVeth;
        private final String bridge;
        private final Path dir;
        private final Path dataDir;
        private final Path runDir;
        private NetworkNamespace netns;
        private Process agent;
        private OutputStream agentStdin;
        private boolean closed;

        private Node(int index) {
            this.hex = hex(3);
            this.name = "k3jn-" + hex;
            this.ip = hostNet + "." + (10 + index);
            this.hostVeth = "k3jv" + hex;
            this.bridge = "k3jc" + hex;
            // short paths: containerd's socket lives under the run dir (108-byte limit)
            this.dir = base.resolve(hex);
            this.dataDir = dir.resolve("d");
            this.runDir = dir.resolve("r");
        }

        private void start() throws IOException, InterruptedException {
            Files.createDirectories(dataDir.resolve("images"));
            // the agent imports its air-gap folder at start, before any pod
            Files.copy(busybox, dataDir.resolve("images/busybox.tar"));
            netns = NetworkNamespace.create(name);
            netns.attach(hostBridge, hostAddress() + "/24", hostVeth, ip + "/24");
            Path ready = dir.resolve("ready");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            ProcessBuilder pb = new ProcessBuilder(netns.command(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                    "-cp", System.getProperty("java.class.path"),
                    "-Djava.util.logging.SimpleFormatter.format=%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n",
                    NetnsAgentMain.class.getName(), "server=" + serverUrl(), "token=" + cluster.controlPlane().token().token().encoded(),
                    "data=" + dataDir, "run=" + runDir, "node=" + name, "ip=" + ip, "bridge=" + bridge, "backend=" + backend,
                    "ready=" + ready))
                    .redirectErrorStream(true).redirectOutput(log().toFile());
            long t0 = System.nanoTime();
            agent = pb.start();
            agentStdin = agent.getOutputStream();
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (!Files.exists(ready)) {
                if (!agent.isAlive()) throw new AssertionError("agent of " + name + " exited with " + agent.exitValue() + ":\n" + logTail());
                if (System.nanoTime() > deadline) throw new AssertionError("agent of " + name + " not started within " + START_TIMEOUT + ":\n" + logTail());
                Thread.sleep(50);
            }
            long started = System.nanoTime();
            cluster.await("node " + name + " to be Ready", START_TIMEOUT, this::ready);
            System.err.printf("NetnsNodes: %s (%s) agent started in %d ms, Ready %d ms later%n", name, ip, (started - t0) / 1_000_000,
                    (System.nanoTime() - started) / 1_000_000);
        }

        public String name() {
            return name;
        }

        /** The node's IP (its InternalIP), on the host bridge. */
        public String ip() {
            return ip;
        }

        public NetworkNamespace netns() {
            return netns;
        }

        /** The pod bridge inside the node. */
        public String bridge() {
            return bridge;
        }

        /** The pod network's nftables table inside the node (AgentConfig's name for a bridge that is not cni0). */
        public String table() {
            return "k3j-net-" + bridge;
        }

        public String vxlanDevice() {
            return PodNetwork.DEFAULT_VXLAN_DEVICE;
        }

        public Path dataDir() {
            return dataDir;
        }

        public Path socket() {
            return runDir.resolve("containerd/containerd.sock");
        }

        /** The agent's output. */
        public Path log() {
            return dir.resolve("agent.log");
        }

        public ObjectNode nodeObject() {
            return cluster.get("", "v1", "nodes", null, name);
        }

        public String podCidr() {
            return nodeObject().path("spec").path("podCIDR").asText();
        }

        /** Runs a command inside the node's network namespace. */
        public Processes.Result run(String... argv) {
            return Processes.run(Duration.ofSeconds(30), netns.command(argv));
        }

        /** Output of a successful command inside the node's network namespace. */
        public String check(String... argv) {
            Processes.Result r = run(argv);
            if (!r.ok()) throw new AssertionError(String.join(" ", argv) + " in " + name + " exited " + r.exitCode() + ": " + r.output());
            return r.output();
        }

        /** The output and exit code of a command run in a pod's (first running) container, through this node's CRI. */
        public record ExecResult(int exitCode, String stdout, String stderr) { }

        public ExecResult exec(String namespace, String pod, Duration timeout, String... cmd) {
            try (CriClient cri = CriClient.connect(socket(), timeout.plusSeconds(10))) {
                List<Container> cs = cri.listContainers(ListContainersRequest.newBuilder().setFilter(ContainerFilter.newBuilder()
                        .putLabelSelector("io.kubernetes.pod.namespace", namespace).putLabelSelector("io.kubernetes.pod.name", pod)
                        .setState(ContainerStateValue.newBuilder().setState(ContainerState.CONTAINER_RUNNING))).build()).getContainersList();
                if (cs.isEmpty()) throw new AssertionError("no running container of pod " + namespace + "/" + pod + " on " + name);
                ExecSyncResponse r = cri.execSync(ExecSyncRequest.newBuilder().setContainerId(cs.getFirst().getId()).addAllCmd(List.of(cmd))
                        .setTimeout(timeout.toSeconds()).build());
                return new ExecResult(r.getExitCode(), r.getStdout().toString(StandardCharsets.UTF_8), r.getStderr().toString(StandardCharsets.UTF_8));
            }
        }

        private boolean ready() {
            ObjectNode n = nodeObject();
            if (n == null) return false;
            for (JsonNode c : n.path("status").path("conditions")) {
                if ("Ready".equals(c.path("type").asText())) return "True".equals(c.path("status").asText());
            }
            return false;
        }

        /**
         * Stops the agent with {@code killall} (pods, containerd, cgroups, pod network), deletes the namespace and
         * veth, the Node object and the node's directory, and fails if anything was left behind.
         */
        @Override
        public void close() {
            if (closed) return;
            closed = true;
            List<String> problems = new ArrayList<>();
            if (agent != null) {
                try {
                    if (agent.isAlive()) {
                        agentStdin.write("killall\n".getBytes(StandardCharsets.UTF_8));
                        agentStdin.flush();
                    }
                } catch (IOException e) {
                    // it died meanwhile: the checks below tell
                }
                try {
                    if (!agent.waitFor(60, TimeUnit.SECONDS)) {
                        problems.add("agent did not exit within 60 s of killall");
                        agent.destroyForcibly();
                        agent.waitFor(10, TimeUnit.SECONDS);
                    } else if (agent.exitValue() != 0) {
                        problems.add("agent killall exited " + agent.exitValue() + ": " + logTail());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (!problems.isEmpty()) forceRemovePods();
            if (netns != null && NetworkNamespace.exists(name)) {
                // what PodNetwork.remove and killAll should have taken away (the namespace's end would hide a leak)
                if (run("ip", "link", "show", "dev", bridge).ok()) problems.add("pod bridge " + bridge + " left");
                if (run("ip", "link", "show", "dev", vxlanDevice()).ok()) problems.add("vxlan device left");
                if (run("nft", "list", "table", "ip", table()).ok()) problems.add("nft table " + table() + " left");
                String routes = run("ip", "route", "show", "proto", Integer.toString(PodNetwork.ROUTE_PROTOCOL)).output().strip();
                if (!routes.isEmpty()) problems.add("pod network routes left: " + routes);
            }
            List<Long> left = waitForProcesses();
            if (!left.isEmpty()) {
                problems.add("processes left: " + left.stream().map(p -> p + ":" + Processes.commandLine(p)).toList());
                left.forEach(Processes::kill);
            }
            List<String> mounts = mounts();
            if (!mounts.isEmpty()) {
                problems.add("mounts left: " + mounts);
                for (String m : mounts.reversed()) Processes.run(Duration.ofSeconds(10), "umount", "-l", m);
            }
            if (netns != null) {
                try {
                    netns.delete(hostVeth);
                } catch (RuntimeException e) {
                    problems.add(e.getMessage());
                }
            }
            if (NetworkNamespace.exists(name)) problems.add("netns " + name + " left");
            if (NetworkNamespace.linkExists(hostVeth)) problems.add("veth " + hostVeth + " left");
            if (removeCgroups()) problems.add("cgroup /k3j/" + name + " left");
            try {
                cluster.api().deleteIfExists(cluster.type("", "v1", "nodes"), null, name, null, null);
            } catch (RuntimeException e) {
                // the cluster is gone already
            }
            keepLog();
            deleteTree(dir);
            if (Files.exists(dir)) problems.add("directory " + dir + " left");
            if (!problems.isEmpty()) throw new AssertionError("node " + name + " was not cleaned up: " + String.join("; ", problems));
        }

        /** After a failed killall: every sandbox through CRI, then containerd by its pid file. */
        private void forceRemovePods() {
            if (Files.exists(socket())) {
                try (CriClient cri = CriClient.connect(socket(), Duration.ofSeconds(20))) {
                    for (PodSandbox s : cri.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
                        cri.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(s.getId()).build());
                        cri.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(s.getId()).build());
                    }
                } catch (RuntimeException e) {
                    // containerd is gone; processes are killed below
                }
            }
            try {
                long pid = Long.parseLong(Files.readString(runDir.resolve("containerd/k3j-containerd.pid")).strip());
                if (Processes.commandLine(pid).contains(dataDir.toString())) Processes.kill(pid);
            } catch (IOException | NumberFormatException e) {
                // no pid file
            }
        }

        /** This node's processes (command line naming its directory, or in its cgroups), after up to 10 s for shims to exit. */
        private List<Long> waitForProcesses() {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            List<Long> left = processes();
            while (!left.isEmpty() && System.nanoTime() < deadline) {
                sleep(100);
                left = processes();
            }
            return left;
        }

        private List<Long> processes() {
            return HostScan.processes("/k3j/" + name, dir.toString());
        }

        private List<String> mounts() {
            return HostScan.mountsUnder(dir);
        }

        /** rmdir of the node's cgroup subtree in every v1 hierarchy; true when one existed (killall should have removed it). */
        private boolean removeCgroups() {
            boolean found = false;
            try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
                for (Path h : (Iterable<Path>) hierarchies::iterator) {
                    Path d = h.resolve("k3j").resolve(name);
                    if (Files.isSymbolicLink(h) || !Files.isDirectory(d)) continue;
                    found = true;
                    try (Stream<Path> tree = Files.walk(d)) {
                        tree.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
                    }
                }
            } catch (IOException e) {
                // reported through the return value
            }
            return found;
        }

        /** With {@code K3J_TEST_LOGS=DIR} in the environment the agent's log is kept there (the node's directory is deleted). */
        private void keepLog() {
            String keep = System.getenv("K3J_TEST_LOGS");
            if (keep == null || !Files.exists(log())) return;
            try {
                Files.createDirectories(Path.of(keep));
                Files.copy(log(), Path.of(keep, name + ".log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                System.err.println("cannot keep " + log() + ": " + e);
            }
        }

        private String logTail() {
            try {
                List<String> lines = Files.readAllLines(log());
                return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
            } catch (IOException e) {
                return "(no log: " + e.getMessage() + ")";
            }
        }

        @Override
        public String toString() {
            return name + "@" + ip;
        }
    }

    private static String hex(int bytes) {
        byte[] b = new byte[bytes];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // the caller checks what is left
        }
    }
}
