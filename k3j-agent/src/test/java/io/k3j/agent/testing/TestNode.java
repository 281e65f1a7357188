package io.k3j.agent.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.Agent;
import io.k3j.agent.AgentConfig;
import io.k3j.agent.image.Images;
import io.k3j.agent.image.TestImages;
import io.k3j.apiserver.endpoints.VersionInfo;
import io.k3j.controllers.Controllers;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.testing.TestCluster;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * A real node for end-to-end tests: an {@link Agent} with its own containerd, data dir, run dir, CNI bridge and
 * cgroup subtree, joined to a {@link TestCluster} over loopback with the cluster's token, with the busybox test image
 * imported. {@link #close()} removes every pod, stops containerd, deletes the bridge, cgroups and directories, and
 * fails if anything of this node is left on the host (processes, mounts, bridge). Needs root.
 */
public final class TestNode implements AutoCloseable {
    private final TestCluster cluster;
    private final Agent agent;
    private final Path dir;
    private final String name;
    private final String bridge;
    private boolean closed;

    private TestNode(TestCluster cluster, Agent agent, Path dir, String name, String bridge) {
        this.cluster = cluster;
        this.agent = agent;
        this.dir = dir;
        this.name = name;
        this.bridge = bridge;
    }

    /**
     * A control plane with every controller {@code k3j server} runs plus the scheduler, its pod network a random
     * 10.{100-199}.0.0/16 so that its bridge's routes don't collide with a real k3j (10.42.0.0/16) on this host.
     */
    public static TestCluster startCluster() throws IOException {
        List<ManagedController.Factory> controllers = new ArrayList<>(Controllers.controllerManagerControllers());
        controllers.addAll(Controllers.schedulerControllers());
        String cidr = "10." + ThreadLocalRandom.current().nextInt(100, 200) + ".0.0/16";
        return TestCluster.start(controllers, c -> c.withCidrs(cidr, c.serviceCidr()),
                s -> new io.k3j.apiserver.ServerConfig(s.dataDir(), s.bindAddress(), s.httpsPort(), s.advertiseAddress(), s.tlsSans(),
                        s.writeKubeconfig(), s.writeKubeconfigMode(), s.token(), s.datastoreEndpoint(), cidr, s.serviceCidr(), s.clusterDns(),
                        s.clusterDomain(), s.nodeName(), s.nodeIps()));
    }

    /**
     * A test node's network services: all of them, with a resolv.conf without
     * nameservers so that the cluster DNS never forwards to a real upstream (tests talk only to what they made).
     */
    public static AgentConfig.NodeServices testServices(Path dir) throws IOException {
        Path resolv = dir.resolve("resolv.conf");
        Files.writeString(resolv, "# k3j tests: no upstream resolvers\n");
        return AgentConfig.NodeServices.DEFAULTS.withResolvConf(resolv);
    }

    /** Starts a node joined to {@code cluster} and waits (up to 60 s) until its Node is Ready. */
    public static TestNode start(TestCluster cluster) throws IOException {
        return start(cluster, io.k3j.agent.eviction.Thresholds.DEFAULTS);
    }

    /** A node with the given hard eviction thresholds (kubelet's {@code --eviction-hard}). */
    public static TestNode start(TestCluster cluster, io.k3j.agent.eviction.Thresholds evictionHard) throws IOException {
        return start(cluster, evictionHard, c -> c);
    }

    /** A node whose configuration {@code tune} adjusts (e.g. an API load balancer on an ephemeral port). */
    public static TestNode start(TestCluster cluster, io.k3j.agent.eviction.Thresholds evictionHard,
                                 java.util.function.UnaryOperator<AgentConfig> tune) throws IOException {
        String hex = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt(1 << 24)).substring(2);
        String name = "k3jt-" + hex;
        String bridge = "k3jt" + hex;
        // short paths: containerd's socket (under the run dir) must stay below the 108-byte unix socket limit
        Path dir = Path.of("/tmp", "k3jt-" + hex);
        Files.createDirectories(dir);
        AgentConfig config = new AgentConfig(URI.create("https://127.0.0.1:" + cluster.controlPlane().port()),
                cluster.controlPlane().token().token().encoded(), dir.resolve("data"), dir.resolve("run"), name, List.of("127.0.0.1"),
                Map.of(), List.of(), false, "10.43.0.10", "cluster.local", 0, AgentConfig.DEFAULT_PAUSE_IMAGE, false,
                VersionInfo.KUBERNETES_VERSION, bridge, AgentConfig.DEFAULT_PRIVATE_REGISTRY, evictionHard)
                .withServices(testServices(dir));
        config = tune.apply(config);
        Agent agent;
        try {
            agent = Agent.start(config);
        } catch (IOException | RuntimeException e) {
            deleteTree(dir);
            throw e;
        }
        TestNode node = new TestNode(cluster, agent, dir, name, bridge);
        try {
            Images.ensure(agent.containerd().cri(), agent.containerd().config().socket(), TestImages.busybox(dir.resolve("images")));
            cluster.await("node " + name + " to be Ready", Duration.ofSeconds(60), node::ready);
        } catch (RuntimeException | Error e) {
            try {
                node.close();
            } catch (RuntimeException | Error suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return node;
    }

    public String name() {
        return name;
    }

    public Agent agent() {
        return agent;
    }

    public String bridge() {
        return bridge;
    }

    /** The node's own directory (data dir and run dir are below it). */
    public Path dir() {
        return dir;
    }

    /** The Node object as the server has it. */
    public ObjectNode nodeObject() {
        return cluster.get("", "v1", "nodes", null, name);
    }

    private boolean ready() {
        ObjectNode n = nodeObject();
        if (n == null) return false;
        for (JsonNode c : n.path("status").path("conditions")) {
            if ("Ready".equals(c.path("type").asText())) return "True".equals(c.path("status").asText());
        }
        return false;
    }

    /** Pids of the processes that belong to this node: its containerd, the shims serving its socket, anything in its cgroups. */
    public List<Long> processes() {
        return HostScan.processes("/k3j/" + name, agent.containerd().config().socket().toString(), dir.toString());
    }

    /** Mount points under this node's directory. */
    public List<String> mounts() {
        return HostScan.mountsUnder(dir);
    }

    public boolean bridgeExists() {
        return Files.exists(Path.of("/sys/class/net", bridge));
    }

    /**
     * Removes all pods and stops the node ({@link Agent#killAll()}), then checks nothing of it is left and deletes its
     * directories. Deletes the Node object so that the cluster doesn't keep scheduling to it.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        List<String> problems = new ArrayList<>();
        List<Long> before = processes();
        agent.killAll();
        // shims exit shortly after their last container is removed
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        List<Long> left = processes();
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            sleep(100);
            left = processes();
        }
        if (!left.isEmpty()) {
            problems.add("processes left: " + left.stream().map(TestNode::describe).toList() + " (before killAll: " + before + ")");
            left.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
        if (bridgeExists()) problems.add("bridge " + bridge + " left");
        List<String> mounts = mounts();
        if (!mounts.isEmpty()) {
            problems.add("mounts left: " + mounts);
            for (String m : mounts.reversed()) run("umount", "-l", m);
        }
        if (Files.exists(Path.of("/sys/fs/cgroup/memory/k3j", name))) {
            problems.add("cgroup /k3j/" + name + " left");
            removeCgroups();
        }
        try {
            cluster.api().deleteIfExists(cluster.type("", "v1", "nodes"), null, name, null, null);
        } catch (RuntimeException e) {
            // the cluster may be closed already
        }
        deleteTree(dir);
        if (Files.exists(dir)) problems.add("directory " + dir + " could not be deleted");
        if (!problems.isEmpty()) throw new AssertionError("node " + name + " was not cleaned up: " + String.join("; ", problems));
    }

    /** rmdir of this node's cgroup subtree in every v1 hierarchy, deepest first (after a failed killAll). */
    private void removeCgroups() {
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : (Iterable<Path>) hierarchies::iterator) {
                Path d = h.resolve("k3j").resolve(name);
                if (Files.isSymbolicLink(h) || !Files.isDirectory(d)) continue;
                try (Stream<Path> tree = Files.walk(d)) {
                    tree.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
                }
            }
        } catch (IOException e) {
            // best effort: the failure is reported anyway
        }
    }

    private static String describe(long pid) {
        try {
            return pid + ":" + new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"))).replace('\0', ' ').strip();
        } catch (IOException e) {
            return Long.toString(pid);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void run(String... command) {
        try {
            new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        } catch (IOException e) {
            // best effort
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort; the caller checks what is left
        }
    }
}
