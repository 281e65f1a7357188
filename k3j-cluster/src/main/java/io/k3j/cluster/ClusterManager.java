package io.k3j.cluster;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.k3j.agent.host.NetworkNamespace;
import io.k3j.agent.host.Processes;
import io.k3j.agent.image.Images;
import io.k3j.agent.kube.HttpKubeClient;
import io.k3j.cluster.spec.ClusterSpec;
import io.k3j.cluster.spec.NodeFilter;
import io.k3j.cluster.spec.NodeRef;
import io.k3j.cluster.spec.NodeRole;
import io.k3j.cluster.spec.NodeSetting;
import io.k3j.cluster.spec.PortMapping;
import io.k3j.cluster.spec.VolumeMount;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * {@code k3j cluster}'s verbs: create, start, stop, delete and list clusters, add and remove nodes, kubeconfig and
 * image import. Every verb works from the state on disk ({@link ClusterState}), so it works from any shell.
 *
 * <p>A failure while creating rolls back everything made so far (unless the spec says not to): the state is written
 * before each thing it names is made, and the rollback is {@link #delete}.
 */
public final class ClusterManager {
    private static final Pattern DNS1123 = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final ClusterStore store;
    private final NodeLauncher launcher;
    private final LoadBalancers loadBalancers;
    private final Consumer<String> progress;
    private long t0 = System.nanoTime();
    private volatile boolean verbose;

    /**
     * @param root          where clusters live ({@link #defaultRoot()})
     * @param launcher      how node processes start
     * @param loadBalancers the load balancer seam ({@link LoadBalancers#direct()} without one)
     * @param progress      receives one line per step
     */
    public ClusterManager(Path root, NodeLauncher launcher, LoadBalancers loadBalancers, Consumer<String> progress) {
        this.store = new ClusterStore(requireNonNull(root, "root"));
        this.launcher = requireNonNull(launcher, "launcher");
        this.loadBalancers = requireNonNull(loadBalancers, "loadBalancers");
        this.progress = requireNonNull(progress, "progress");
    }

    /** {@code --verbose}: progress also names each started node's process, command and log file. */
    public ClusterManager verbose(boolean on) {
        verbose = on;
        return this;
    }

    /** {@code $K3J_CLUSTER_DIR}, else /var/lib/k3j/clusters. */
    public static Path defaultRoot() {
        String env = System.getenv("K3J_CLUSTER_DIR");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of("/var/lib/k3j/clusters");
    }

    /** A cluster with the number of its nodes running, for {@code cluster list}. */
    public record ClusterInfo(ClusterState state, int serversRunning, int agentsRunning, boolean loadBalancerRunning) {
    }

    /** A node with its cluster and whether its process runs, for {@code node list}. */
    public record NodeInfo(String cluster, ClusterState.NodeState node, boolean running) {
    }

    public Optional<ClusterState> get(String name) {
        return store.read(name);
    }

    public List<ClusterInfo> list() {
        List<ClusterInfo> out = new ArrayList<>();
        for (ClusterState c : store.list()) {
            int s = 0;
            int a = 0;
            for (ClusterState.NodeState n : c.nodes()) {
                if (!node(c, n).running()) continue;
                if (n.role() == NodeRole.SERVER) s++;
                else a++;
            }
            out.add(new ClusterInfo(c, s, a, c.loadBalancer() && loadBalancers.running(c)));
        }
        return out;
    }

    public List<NodeInfo> nodes() {
        List<NodeInfo> out = new ArrayList<>();
        for (ClusterState c : store.list()) {
            for (ClusterState.NodeState n : c.nodes()) out.add(new NodeInfo(c.name(), n, node(c, n).running()));
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------------- create

    /**
     * Creates and starts a cluster; with {@code spec.waitForReady()} returns once every node is Ready.
     *
     * @throws IllegalArgumentException for bad input, before anything is created
     * @throws IllegalStateException    when a step fails (after the rollback, unless the spec disables it)
     */
    public ClusterState create(ClusterSpec spec) {
        t0 = System.nanoTime();
        validate(spec);
        Deadline deadline = Deadline.of(spec.timeout());
        ClusterState state = store.locked(() -> {
            if (store.exists(spec.name())) {
                throw new IllegalArgumentException("cluster " + spec.name() + " already exists: choose another name, or delete it first (k3j cluster delete "
                        + spec.name() + ")");
            }
            List<String> taken = store.list().stream().map(ClusterState::subnet).toList();
            String subnet;
            if (spec.subnet() != null) {
                subnet = Subnets.validate(spec.subnet());
                for (String t : taken) {
                    if (Subnets.overlap(t, subnet)) throw new IllegalArgumentException("subnet " + subnet + " overlaps another cluster's (" + t + ")");
                }
            } else {
                subnet = Subnets.pickFree(taken);
            }
            String apiHost = spec.apiHost() == null || spec.apiHost().isBlank() ? "0.0.0.0" : spec.apiHost();
            // without a load balancer the API port is published only when asked for (k3d maps it on server-0 then);
            // otherwise the kubeconfig points at server-0's address on the bridge
            int apiPort = spec.apiPort() != 0 ? spec.apiPort() : spec.loadBalancer() ? freePort(apiHost) : 0;
            String token = spec.token() != null && !spec.token().isBlank() ? spec.token() : HexFormat.of().formatHex(random(16));
            List<PortMapping> ports = new ArrayList<>();
            for (PortMapping p : spec.ports()) ports.add(choosePort(p));
            ClusterState s = new ClusterState(spec.name(), bridgeName(spec.name()), subnet, token, apiHost, apiPort, spec.loadBalancer(),
                    List.of(), List.of(), List.of(), ports);
            for (int i = 0; i < spec.servers(); i++) s = s.withNode(plan(spec, s, NodeRole.SERVER, i, "server-" + i));
            for (int i = 0; i < spec.agents(); i++) s = s.withNode(plan(spec, s, NodeRole.AGENT, i, "agent-" + i));
            store.write(s);
            return s;
        });
        step("creating cluster " + spec.name() + ": bridge " + state.bridge() + " " + state.subnet() + ", " + spec.servers() + " server(s), "
                + spec.agents() + " agent(s), " + (spec.loadBalancer() ? "a load balancer" : "no load balancer (--no-lb)"));
        try {
            // the load balancer (a JVM of its own) starts while the nodes do; validate() found its ports free
            ClusterState planned = state;
            java.util.concurrent.CompletableFuture<Void> lb = java.util.concurrent.CompletableFuture.runAsync(() -> startLoadBalancer(planned),
                    r -> Thread.ofVirtual().name("start-lb").start(r));
            java.time.Instant since;
            try {
                state = createVolumeDestinations(state);
                NetworkNamespace.bridge(state.bridge(), Subnets.host(state.subnet(), 1) + state.subnet().substring(state.subnet().indexOf('/')));
                since = java.time.Instant.now();
                startNodes(state, state.nodes(), deadline);
            } finally {
                awaitQuietly(lb);
            }
            try {
                lb.join();
            } catch (java.util.concurrent.CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
            state = writeKubeconfig(state, spec.updateDefaultKubeconfig(), spec.switchContext());
            if (spec.waitForReady()) {
                step("waiting for " + state.nodes().size() + " node(s) to be Ready");
                waitReady(state, state.nodes(), since, deadline);
            } else {
                step("not waiting for the nodes to be Ready (--wait=false): kubectl get nodes --watch shows them join");
            }
            step("cluster " + spec.name() + " created" + (spec.waitForReady() ? ", every node Ready" : "") + ": "
                    + (spec.updateDefaultKubeconfig()
                    ? (spec.switchContext() ? "kubectl cluster-info" : "kubectl --context " + Kubeconfigs.contextName(spec.name()) + " cluster-info")
                    : "k3j kubeconfig merge " + spec.name() + " --kubeconfig-switch-context, then kubectl cluster-info"));
            return state;
        } catch (RuntimeException e) {
            if (!spec.rollback()) {
                step("creating cluster " + spec.name() + " failed; left as it is for inspection (--no-rollback): " + e.getMessage());
                // failed before its kubeconfig was merged: say how to get one after the start
                boolean noKubeconfig = spec.updateDefaultKubeconfig() && store.read(spec.name()).map(c -> c.kubeconfigs().isEmpty()).orElse(true);
                throw withMessage(e, e.getMessage() + "\ncluster " + spec.name() + " is left as it is (--no-rollback): node logs are in "
                        + store.clusterDir(spec.name()).resolve("nodes") + "/*/node.log; k3j cluster start " + spec.name() + " finishes it"
                        + (noKubeconfig ? " (then k3j kubeconfig merge " + spec.name() + " for kubectl)" : "")
                        + ", k3j cluster delete " + spec.name() + " removes it");
            }
            step("creating cluster " + spec.name() + " failed, rolling back: " + e.getMessage());
            try {
                deleteCluster(spec.name());
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw withMessage(e, e.getMessage() + "\ncluster " + spec.name() + " was rolled back: nothing of it is left"
                    + " (--no-rollback keeps a failed cluster for inspection)");
        }
    }

    /** The same kind of exception (so callers can tell bad input from a failure) with a longer message. */
    private static RuntimeException withMessage(RuntimeException e, String message) {
        RuntimeException out = e instanceof IllegalArgumentException ? new IllegalArgumentException(message, e) : new IllegalStateException(message, e);
        for (Throwable s : e.getSuppressed()) out.addSuppressed(s);
        return out;
    }

    /** Starts the cluster's load balancer and port forwarder if it has one (see {@link LoadBalancers#start}). */
    private void startLoadBalancer(ClusterState state) {
        loadBalancers.start(state);
        if (!loadBalancers.running(state)) return;
        if (state.loadBalancer()) {
            step("load balancer: API on " + loadBalancers.apiServer(state) + portsText(state));
        } else {
            step("port forwarder (no load balancer): " + (state.apiPort() != 0 ? "API on " + loadBalancers.apiServer(state) + portsText(state)
                    : portsText(state).substring(", ".length())));
        }
    }

    private static void validate(ClusterSpec spec) {
        requireNonNull(spec, "spec");
        checkName(spec.name());
        if (spec.servers() < 1) throw new IllegalArgumentException("servers : " + spec.servers() + " (expected: at least 1)");
        if (spec.agents() < 0) throw new IllegalArgumentException("agents : " + spec.agents() + " (expected: 0 or more)");
        for (VolumeMount v : spec.volumes()) {
            if (!Files.exists(v.source())) throw new IllegalArgumentException("volume source " + v.source() + " does not exist: create it or fix -v");
            if (!v.destination().isAbsolute()) throw new IllegalArgumentException("volume destination " + v.destination() + " must be an absolute path");
        }
        for (PortMapping p : spec.ports()) {
            if (!spec.loadBalancer() && !p.direct()) throw noLoadBalancer(p, "--no-lb is set");
            checkPortMapping(p);
            if (p.direct()) {
                List<NodeRef> nodes = new ArrayList<>();
                for (int i = 0; i < spec.servers(); i++) nodes.add(new NodeRef(NodeRole.SERVER, i));
                for (int i = 0; i < spec.agents(); i++) nodes.add(new NodeRef(NodeRole.AGENT, i));
                checkDirect(p, nodes);
            }
            // TCP only (the usual case): answers before the load balancer's JVM is up; its bind is the final word
            if (p.hostPort() != 0 && !"udp".equalsIgnoreCase(p.protocol())) {
                checkPortFree(p.hostIp() == null || p.hostIp().isBlank() ? "0.0.0.0" : p.hostIp(), p.hostPort(), "choose another host port in --port");
            }
        }
        if (spec.apiPort() != 0) {
            checkPortFree(spec.apiHost() == null || spec.apiHost().isBlank() ? "0.0.0.0" : spec.apiHost(), spec.apiPort(), "choose another --api-port");
        }
    }

    static void checkName(String name) {
        if (name == null || name.isEmpty() || name.length() > 32 || !DNS1123.matcher(name).matches()) {
            throw new IllegalArgumentException("cluster name " + name + " is not valid: expected at most 32 lower case letters, digits and '-',"
                    + " starting and ending with a letter or digit");
        }
    }

    /** A bridge name of at most 15 characters (Linux's limit), unique per cluster name. */
    static String bridgeName(String cluster) {
        String plain = "k3j-" + cluster;
        if (plain.length() <= 15) return plain;
        return "k3j-" + cluster.substring(0, 6) + "-" + sha(cluster).substring(0, 4);
    }

    private ClusterState.NodeState plan(ClusterSpec spec, ClusterState s, NodeRole role, int index, String suffix) {
        NodeRef ref = new NodeRef(role, index);
        String name = "k3j-" + spec.name() + "-" + suffix;
        List<String> args = new ArrayList<>(haArgs(s, role, index, spec.servers() > 1));
        for (NodeSetting a : spec.args()) if (selects(a.filters(), ref)) args.add(a.value());
        for (NodeSetting l : spec.nodeLabels()) if (selects(l.filters(), ref)) args.addAll(List.of("--node-label", l.value()));
        Map<String, String> env = new LinkedHashMap<>();
        for (NodeSetting e : spec.env()) {
            if (!selects(e.filters(), ref)) continue;
            int eq = e.value().indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("env " + e.value() + " is not valid: expected KEY=VALUE");
            env.put(e.value().substring(0, eq), e.value().substring(eq + 1));
        }
        List<ClusterState.Bind> binds = new ArrayList<>();
        for (VolumeMount v : spec.volumes()) {
            if (selects(v.filters(), ref)) binds.add(new ClusterState.Bind(v.source().toAbsolutePath().normalize().toString(), v.destination().toString(), v.readOnly()));
        }
        return new ClusterState.NodeState(name, role, index, nextIp(s), "k3jv" + sha(name).substring(0, 8), args, env, binds);
    }

    /**
     * As k3d: several servers make an HA cluster on embedded etcd, server-0 starting it ({@code --cluster-init}) and
     * every other server joining server-0. Kept in the node's stored arguments, so a restart keeps the roles.
     */
    private static List<String> haArgs(ClusterState s, NodeRole role, int index, boolean ha) {
        if (role != NodeRole.SERVER || !ha) return List.of();
        if (index == 0) return List.of("--cluster-init");
        return List.of("--server", "https://" + s.firstServer().ip() + ":6443");
    }

    private static boolean isHa(ClusterState s) {
        return s.firstServer().args().contains("--cluster-init");
    }

    private static boolean selects(List<NodeFilter> filters, NodeRef ref) {
        return filters.isEmpty() || filters.stream().anyMatch(f -> f.matches(ref));
    }

    private static String nextIp(ClusterState s) {
        Set<String> used = new HashSet<>();
        for (ClusterState.NodeState n : s.nodes()) used.add(n.ip());
        for (int i = 2; i < Subnets.size(s.subnet()) - 1; i++) {
            String ip = Subnets.host(s.subnet(), i);
            if (!used.contains(ip)) return ip;
        }
        throw new IllegalStateException("subnet " + s.subnet() + " of cluster " + s.name() + " has no free address left");
    }

    /** Volume destinations that don't exist on the host are made (the bind mount needs them) and removed on delete. */
    private ClusterState createVolumeDestinations(ClusterState state) {
        for (ClusterState.NodeState n : state.nodes()) {
            for (ClusterState.Bind b : n.binds()) {
                Path dest = Path.of(b.destination());
                if (Files.exists(dest)) continue;
                Path top = dest;
                while (top.getParent() != null && !Files.exists(top.getParent())) top = top.getParent();
                state = state.withCreatedPath(top.toString());
                store.write(state);
                try {
                    if (Files.isDirectory(Path.of(b.source()))) {
                        Files.createDirectories(dest);
                    } else {
                        Files.createDirectories(dest.getParent());
                        Files.createFile(dest);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException("creating the volume destination " + dest + ": " + e.getMessage(), e);
                }
            }
        }
        return state;
    }

    // ---------------------------------------------------------------------------------------------------- start / stop

    /** Starts a stopped cluster: same IPs, same data; returns once every node is Ready (within {@code timeout}). */
    public void start(String name, boolean wait, Duration timeout) {
        t0 = System.nanoTime();
        ClusterState state = require(name);
        Deadline deadline = Deadline.of(timeout);
        NetworkNamespace.bridge(state.bridge(), Subnets.host(state.subnet(), 1) + state.subnet().substring(state.subnet().indexOf('/')));
        step("starting cluster " + name);
        startLoadBalancer(state);
        java.time.Instant since = java.time.Instant.now();
        startNodes(state, state.nodes(), deadline);
        if (wait) {
            step("waiting for " + state.nodes().size() + " node(s) to be Ready");
            waitReady(state, state.nodes(), since, deadline);
        }
        step("cluster " + name + " started" + (wait ? ", every node Ready" : ""));
    }

    /** Stops every node (their pods end with them; data, addresses and namespaces stay for {@link #start}). */
    public void stop(String name) {
        t0 = System.nanoTime();
        ClusterState state = require(name);
        step("stopping cluster " + name);
        loadBalancers.stop(state);
        parallel(state.nodes(), n -> {
            NodeProcess p = node(state, n);
            if (p.running()) {
                step("stopping node " + n.name());
                if (!p.stop()) step("node " + n.name() + " did not stop within the grace period: killed");
            }
        });
        step("cluster " + name + " stopped");
    }

    /**
     * Starts nodes: the first server, then at once the rest (they join it, waiting until it serves), then waits for
     * the first server's API. Its admin kubeconfig is rewritten at each start, so its appearance says the API is serving.
     */
    private void startNodes(ClusterState state, List<ClusterState.NodeState> nodes, Deadline deadline) {
        ClusterState.NodeState first = state.firstServer();
        List<ClusterState.NodeState> rest = new ArrayList<>(nodes);
        NodeProcess firstProcess = node(state, first);
        if (rest.remove(first) || !firstProcess.running()) {
            firstProcess.ensureNetwork();
            if (!firstProcess.running()) {
                step("starting server " + first.name() + " (" + first.ip() + ")");
                try {
                    Files.deleteIfExists(firstProcess.kubeconfig());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                firstProcess.start();
                detail(firstProcess);
            }
        }
        // the other nodes start at once: they wait for the first server's API themselves, as k3s agents do
        parallel(rest, n -> {
            NodeProcess p = node(state, n);
            p.ensureNetwork();
            if (!p.running()) {
                step("starting " + n.role().word() + " " + n.name() + " (" + n.ip() + ")");
                p.start();
                detail(p);
            }
        });
        awaitApi(state, firstProcess, deadline);
    }

    /** Waits for {@code f} to finish however it ends (its failure is the caller's to report). */
    private static void awaitQuietly(java.util.concurrent.CompletableFuture<?> f) {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            // reported by the caller
        }
    }

    private void awaitApi(ClusterState state, NodeProcess server, Deadline deadline) {
        while (true) {
            if (!server.running()) {
                throw new IllegalStateException("server " + state.firstServer().name() + " exited; the end of its log (" + server.log() + "):\n" + server.logTail(30));
            }
            // the server writes its kubeconfig right after its HTTPS listener is up (and removed before the start)
            if (Files.exists(server.kubeconfig())) {
                try (java.net.Socket sock = new java.net.Socket()) {
                    sock.connect(new InetSocketAddress(state.firstServer().ip(), 6443), 1000);
                    step("API of " + state.name() + " is serving at https://" + state.firstServer().ip() + ":6443");
                    return;
                } catch (IOException e) {
                    // not listening (any more): ask again
                }
            }
            if (deadline.passed()) throw deadline.expired("the API server of " + state.firstServer().name() + " (its log: " + server.log() + ")");
            sleep(200);
        }
    }

    /** Waits until each of {@code nodes} is Ready. */
    private void waitReady(ClusterState state, List<ClusterState.NodeState> nodes, java.time.Instant since, Deadline deadline) {
        // a node stopped a moment ago still says Ready: only a heartbeat from after its start counts
        Set<String> waiting = new HashSet<>();
        nodes.forEach(n -> waiting.add(n.name()));
        try (HttpKubeClient c = client(state)) {
            while (!waiting.isEmpty()) {
                for (ClusterState.NodeState n : nodes) {
                    if (waiting.contains(n.name()) && !node(state, n).running()) {
                        NodeProcess p = node(state, n);
                        throw new IllegalStateException("node " + n.name() + " exited; the end of its log (" + p.log() + "):\n" + p.logTail(30));
                    }
                }
                try {
                    for (JsonNode item : c.list("/api/v1/nodes", Map.of()).path("items")) {
                        String name = item.path("metadata").path("name").asText();
                        for (JsonNode cond : item.path("status").path("conditions")) {
                            if ("Ready".equals(cond.path("type").asText()) && "True".equals(cond.path("status").asText())
                                    && heartbeatAfter(cond, since) && waiting.remove(name)) {
                                step("node " + name + " is Ready");
                            }
                        }
                    }
                } catch (RuntimeException e) {
                    // the API restarts or is busy: ask again
                }
                if (waiting.isEmpty()) return;
                if (deadline.passed()) {
                    throw deadline.expired("node(s) " + waiting + " to be Ready (logs: " + String.join(", ", nodes.stream()
                            .filter(n -> waiting.contains(n.name())).map(n -> node(state, n).log().toString()).toList()) + ")");
                }
                sleep(250);
            }
        }
    }

    private static boolean heartbeatAfter(JsonNode condition, java.time.Instant since) {
        try {
            return !java.time.Instant.parse(condition.path("lastHeartbeatTime").asText()).isBefore(since.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        } catch (java.time.format.DateTimeParseException e) {
            return false;
        }
    }

    /** An admin client straight to the first server (not through the load balancer). */
    private HttpKubeClient client(ClusterState state) {
        Path kc = node(state, state.firstServer()).kubeconfig();
        try {
            JsonNode doc = YAML.readTree(kc.toFile());
            return HttpKubeClient.withClientCertificate(java.net.URI.create("https://" + state.firstServer().ip() + ":6443"),
                    decode(doc.at("/clusters/0/cluster/certificate-authority-data")), decode(doc.at("/users/0/user/client-certificate-data")),
                    decode(doc.at("/users/0/user/client-key-data")));
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + kc + ": " + e.getMessage(), e);
        }
    }

    private static String decode(JsonNode n) {
        return new String(Base64.getDecoder().decode(n.asText()), StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------------------------------------------- delete

    /**
     * Deletes a cluster and everything of it: node processes (their pods removed through CRI first), leftover
     * processes, network namespaces, veths, the bridge, created volume destinations, kubeconfig entries and its
     * folder.
     *
     * @throws IllegalArgumentException when there is no such cluster
     * @throws IllegalStateException    naming what could not be removed (everything else is)
     */
    public void delete(String name) {
        t0 = System.nanoTime();
        deleteCluster(name);
    }

    private void deleteCluster(String name) {
        ClusterState state = require(name);
        step("deleting cluster " + name);
        List<String> problems = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.CompletableFuture<Void> lb = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                loadBalancers.stop(state);
            } catch (RuntimeException e) {
                problems.add("load balancer: " + e.getMessage());
            }
        }, r -> Thread.ofVirtual().name("stop-lb").start(r));
        parallel(state.nodes(), n -> problems.addAll(removeNode(state, n)));
        awaitQuietly(lb);
        try {
            NetworkNamespace.deleteLink(state.bridge());
        } catch (RuntimeException e) {
            problems.add(e.getMessage());
        }
        for (String kc : state.kubeconfigs()) {
            try {
                Kubeconfigs.remove(Path.of(kc), name);
            } catch (RuntimeException e) {
                problems.add(e.getMessage());
            }
        }
        for (String p : state.createdPaths().reversed()) {
            try {
                // only what is still empty: a user's files are never deleted
                removeEmptyTree(Path.of(p));
            } catch (IOException e) {
                problems.add("volume destination " + p + " k3j created is not empty (" + e.getMessage() + "): remove it yourself");
            }
        }
        try {
            store.delete(name);
        } catch (RuntimeException e) {
            problems.add(e.getMessage());
        }
        if (!problems.isEmpty()) throw new IllegalStateException("cluster " + name + " deleted, but: " + String.join("; ", problems));
        step("cluster " + name + " deleted");
    }

    /**
     * Ends a node at once and removes its processes, cgroups, namespaces, veth and folders; returns what could not be
     * removed. A deleted node's pods need no orderly stop: they die with it, as in {@code k3d cluster delete}.
     */
    private List<String> removeNode(ClusterState state, ClusterState.NodeState n) {
        List<String> problems = new ArrayList<>();
        NodeProcess p = node(state, n);
        try {
            if (p.running()) step("removing node " + n.name());
            List<Long> left = p.kill();
            if (!left.isEmpty()) problems.add("node " + n.name() + ": processes " + left.stream().map(ClusterManager::describeProcess).toList() + " did not end");
            p.deleteNetwork();
            ClusterStore.deleteTree(p.runDir());
            // /run/k3j itself when no other node (of any cluster, or a k3j on this host) uses it: rmdir only if empty
            p.runDir().getParent().toFile().delete();
            ClusterStore.deleteTree(p.dir());
        } catch (RuntimeException e) {
            problems.add("node " + n.name() + ": " + e.getMessage());
        }
        return problems;
    }

    private static String describeProcess(long pid) {
        try {
            return pid + " " + Files.readString(Path.of("/proc", Long.toString(pid), "comm")).strip();
        } catch (IOException gone) {
            return Long.toString(pid);
        }
    }

    private static void removeEmptyTree(Path top) throws IOException {
        if (!Files.exists(top, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        if (Files.isDirectory(top, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (var children = Files.list(top)) {
                for (Path c : children.toList()) removeEmptyTree(c);
            }
        } else if (Files.size(top) > 0) {
            throw new IOException(top + " has data");
        }
        Files.delete(top);
    }

    // ---------------------------------------------------------------------------------------------------- nodes

    /**
     * Adds {@code replicas} nodes {@code k3j-NAME-0..} to a running cluster and waits until they are Ready (rolled
     * back on failure).
     */
    public List<ClusterState.NodeState> createNodes(String cluster, String name, NodeRole role, int replicas, boolean wait, Duration timeout) {
        t0 = System.nanoTime();
        checkName(name);
        if (replicas < 1) throw new IllegalArgumentException("replicas : " + replicas + " (expected: at least 1)");
        Deadline deadline = Deadline.of(timeout);
        List<ClusterState.NodeState> added = new ArrayList<>();
        ClusterState state = store.locked(() -> {
            ClusterState s = require(cluster);
            if (role == NodeRole.SERVER && !isHa(s)) {
                throw new IllegalArgumentException("cluster " + cluster + " has a single server on SQLite: servers can only be added to an HA cluster"
                        + " (create it with --servers 3, or with --k3s-arg '--cluster-init@server:0')");
            }
            for (int i = 0; i < replicas; i++) {
                String nodeName = "k3j-" + name + "-" + i;
                if (store.list().stream().anyMatch(c -> c.node(nodeName) != null)) throw new IllegalArgumentException("node " + nodeName + " already exists");
                int index = (int) s.nodes().stream().filter(n -> n.role() == role).mapToInt(ClusterState.NodeState::index).map(x -> x + 1).max().orElse(0);
                ClusterState.NodeState n = new ClusterState.NodeState(nodeName, role, index, nextIp(s), "k3jv" + sha(nodeName).substring(0, 8),
                        haArgs(s, role, Math.max(index, 1), role == NodeRole.SERVER), Map.of(), List.of());
                s = s.withNode(n);
                added.add(n);
            }
            store.write(s);
            return s;
        });
        try {
            java.time.Instant since = java.time.Instant.now();
            startNodes(state, added, deadline);
            loadBalancers.reload(state);
            if (wait) {
                step("waiting for " + added.size() + " node(s) to be Ready");
                waitReady(state, added, since, deadline);
            }
            step(added.size() + " node(s) added to cluster " + cluster + (wait ? ", Ready" : ""));
            return added;
        } catch (RuntimeException e) {
            for (ClusterState.NodeState n : added) {
                try {
                    deleteNode(n.name());
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    public void startNode(String nodeName, boolean wait, Duration timeout) {
        t0 = System.nanoTime();
        ClusterState state = owner(nodeName);
        ClusterState.NodeState n = state.node(nodeName);
        Deadline deadline = Deadline.of(timeout);
        java.time.Instant since = java.time.Instant.now();
        startNodes(state, List.of(n), deadline);
        if (wait) {
            step("waiting for node " + nodeName + " to be Ready");
            waitReady(state, List.of(n), since, deadline);
        }
        step("node " + nodeName + " started");
    }

    public void stopNode(String nodeName) {
        t0 = System.nanoTime();
        ClusterState state = owner(nodeName);
        node(state, state.node(nodeName)).stop();
        step("node " + nodeName + " stopped");
    }

    /** Removes a node (its process, namespace and data) and its Node object. */
    public void deleteNode(String nodeName) {
        t0 = System.nanoTime();
        ClusterState state = owner(nodeName);
        ClusterState.NodeState n = state.node(nodeName);
        if (n.equals(state.firstServer())) throw new IllegalArgumentException("node " + nodeName + " is the cluster's first server: delete the cluster instead");
        List<String> problems = removeNode(state, n);
        try (HttpKubeClient c = client(state)) {
            c.delete("/api/v1/nodes/" + nodeName, null);
        } catch (RuntimeException e) {
            // the cluster is stopped or the Node never registered
        }
        NodeRef ref = new NodeRef(n.role(), n.index());
        ClusterState updated = store.locked(() -> {
            ClusterState s = require(state.name()).withoutNode(nodeName);
            // a :direct port belongs to its node (k3d removes it with the node's container)
            s = s.withPorts(s.ports().stream().filter(p -> !(p.direct() && selects(p.filters(), ref))).toList());
            store.write(s);
            return s;
        });
        loadBalancers.reload(updated);
        if (!problems.isEmpty()) throw new IllegalStateException(String.join("; ", problems));
        step("node " + nodeName + " deleted");
    }

    private ClusterState owner(String nodeName) {
        for (ClusterState c : store.list()) if (c.node(nodeName) != null) return c;
        throw new IllegalArgumentException("no node " + nodeName + " in any cluster (k3j node list shows them)");
    }

    // ---------------------------------------------------------------------------------------------------- ports

    /**
     * {@code cluster edit NAME --port-add/--port-delete}: changes the load balancer's mapped ports of a cluster and
     * applies them to its running load balancer (other listeners keep their connections). A port that can't be bound
     * fails the edit and the previous ports stay.
     *
     * @return the cluster's ports afterwards
     */
    public List<PortMapping> editPorts(String name, List<PortMapping> add, List<PortMapping> remove) {
        t0 = System.nanoTime();
        add.forEach(ClusterManager::checkPortMapping);
        ClusterState[] before = new ClusterState[1];
        ClusterState state = store.locked(() -> {
            ClusterState s = require(name);
            for (PortMapping a : add) {
                if (!s.loadBalancer() && !a.direct()) throw noLoadBalancer(a, "cluster " + name + " has none (created with --no-lb)");
                if (a.direct()) checkDirect(a, s.nodes().stream().map(n -> new NodeRef(n.role(), n.index())).toList());
            }
            before[0] = s;
            List<PortMapping> ports = new ArrayList<>(s.ports());
            for (PortMapping r : remove) {
                boolean gone = ports.removeIf(p -> samePort(p, r));
                if (!gone) throw new IllegalArgumentException("cluster " + name + " has no port " + portText(r) + " (k3j cluster list -o yaml shows them)");
            }
            for (PortMapping a : add) {
                PortMapping chosen = choosePort(a);
                if (ports.stream().anyMatch(p -> p.hostPort() == chosen.hostPort() && p.protocol().equalsIgnoreCase(chosen.protocol()))) {
                    throw new IllegalArgumentException("cluster " + name + " already maps host port " + chosen.hostPort() + "/" + chosen.protocol());
                }
                ports.add(chosen);
            }
            s = s.withPorts(ports);
            store.write(s);
            return s;
        });
        try {
            // a --no-lb cluster's forwarder starts with its first :direct port (and stops with its last)
            if (state.nodes().stream().anyMatch(n -> node(state, n).running())) loadBalancers.start(state);
            else loadBalancers.reload(state);
        } catch (RuntimeException e) {
            store.locked(() -> {
                store.write(require(name).withPorts(before[0].ports()));
                return null;
            });
            try {
                loadBalancers.reload(require(name));
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        step("cluster " + name + ": ports " + (state.ports().isEmpty() ? "none" : String.join(", ", state.ports().stream().map(ClusterManager::portText).toList())));
        return state.ports();
    }

    private static boolean samePort(PortMapping p, PortMapping r) {
        if (!p.protocol().equalsIgnoreCase(r.protocol())) return false;
        if (r.hostPort() != 0) return p.hostPort() == r.hostPort();
        return p.nodePort() == r.nodePort();
    }

    private static void checkPortMapping(PortMapping p) {
        if (p.nodePort() < 1 || p.nodePort() > 65535) throw new IllegalArgumentException("port " + portText(p) + ": the node port must be 1-65535");
        if (p.hostPort() < 0 || p.hostPort() > 65535) throw new IllegalArgumentException("port " + portText(p) + ": the host port must be 1-65535");
    }

    private static IllegalArgumentException noLoadBalancer(PortMapping p, String why) {
        return new IllegalArgumentException("port " + portText(p) + " is published by the load balancer, but " + why
                + ": publish it on one node with ':direct' (e.g. " + p.toFlag() + "@server:0:direct), or drop --no-lb");
    }

    /**
     * k3d's {@code :direct}: the port belongs to one node (k3d maps it on that node's container). Here it is a
     * listener of its own in the cluster's forwarder process with that node as its only backend, so it works
     * without a load balancer and carries no other node's traffic.
     */
    private static void checkDirect(PortMapping p, List<NodeRef> nodes) {
        long selected = nodes.stream().filter(n -> selects(p.filters(), n)).count();
        if (selected != 1) {
            throw new IllegalArgumentException("port " + portText(p) + ": ':direct' publishes a port of one node, but the filter selects " + selected
                    + ": name one server or agent, e.g. " + p.toFlag() + "@agent:0:direct");
        }
    }

    /** A mapping with its host address defaulted and a free host port chosen when it says 0 (then kept in the state). */
    private static PortMapping choosePort(PortMapping p) {
        String host = p.hostIp() == null || p.hostIp().isBlank() ? "0.0.0.0" : p.hostIp();
        String proto = p.protocol() == null || p.protocol().isBlank() ? "tcp" : p.protocol().toLowerCase(java.util.Locale.ROOT);
        int hostPort = p.hostPort() != 0 ? p.hostPort() : freePort(host);
        return new PortMapping(host, hostPort, p.nodePort(), proto, p.filters());
    }

    static String portText(PortMapping p) {
        return (p.hostIp() == null || p.hostIp().isBlank() || p.hostIp().equals("0.0.0.0") ? "" : p.hostIp() + ":")
                + (p.hostPort() == 0 ? "" : p.hostPort() + ":") + p.nodePort() + "/" + (p.protocol() == null ? "tcp" : p.protocol())
                + (p.filters().isEmpty() ? "" : "@" + String.join(";", p.filters().stream().map(NodeFilter::text).toList()));
    }

    private static String portsText(ClusterState state) {
        if (state.ports().isEmpty()) return "";
        return ", ports " + String.join(", ", state.ports().stream().map(ClusterManager::portText).toList());
    }

    // ---------------------------------------------------------------------------------------------------- kubeconfig, images

    /** The cluster's kubeconfig (k3d's names, pointing at the load balancer's API port, or the first server without one). */
    public String kubeconfig(String name) {
        ClusterState state = require(name);
        Path server = node(state, state.firstServer()).kubeconfig();
        if (!Files.exists(server)) throw new IllegalStateException("cluster " + name + " has no kubeconfig yet: start it (k3j cluster start " + name + ")");
        return Kubeconfigs.forCluster(name, server, apiServer(state));
    }

    /** Merges the cluster's kubeconfig into {@code file} (remembered, so that delete removes the entries). */
    public void mergeKubeconfig(String name, Path file, boolean switchContext) {
        String kc = kubeconfig(name);
        Path abs = file.toAbsolutePath();
        store.locked(() -> {
            store.write(require(name).withKubeconfig(abs.toString()));
            return null;
        });
        Kubeconfigs.merge(abs, kc, switchContext);
    }

    private ClusterState writeKubeconfig(ClusterState state, boolean updateDefault, boolean switchContext) {
        if (!updateDefault) return state;
        Path file = Kubeconfigs.defaultFile().toAbsolutePath();
        state = state.withKubeconfig(file.toString());
        store.write(state);
        Kubeconfigs.merge(file, kubeconfig(state.name()), switchContext);
        step("kubeconfig " + file + ": context " + Kubeconfigs.contextName(state.name()) + (switchContext ? " (current)" : ""));
        return state;
    }

    private java.net.URI apiServer(ClusterState state) {
        return loadBalancers.apiServer(state);
    }

    /** Imports image archives into every running node's containerd. */
    public void importImages(String name, List<Path> archives) {
        t0 = System.nanoTime();
        ClusterState state = require(name);
        for (Path a : archives) {
            if (!Files.isRegularFile(a)) throw new IllegalArgumentException("no such archive: " + a);
        }
        List<ClusterState.NodeState> running = state.nodes().stream().filter(n -> node(state, n).running()).toList();
        if (running.isEmpty()) throw new IllegalStateException("cluster " + name + " has no running node: start it first");
        parallel(running, n -> {
            for (Path a : archives) {
                Images.importArchive(node(state, n).containerdSocket(), a);
                step("imported " + a + " into " + n.name());
            }
        });
    }

    // ---------------------------------------------------------------------------------------------------- helpers

    private ClusterState require(String name) {
        return store.read(name).orElseThrow(() -> new IllegalArgumentException("no cluster " + name + " (k3j cluster list shows them)"));
    }

    private NodeProcess node(ClusterState state, ClusterState.NodeState n) {
        return new NodeProcess(store, state, n, launcher);
    }

    private void step(String message) {
        progress.accept(String.format("[%6.1fs] %s", (System.nanoTime() - t0) / 1e9, message));
    }

    /** With {@link #verbose}: what a started node runs and where its log is. */
    private void detail(NodeProcess p) {
        if (verbose) step("  " + p.describe());
    }

    /**
     * When a verb gives up: {@code --timeout} (or the default) from the verb's start. Its message names the flag, so a
     * user who hits it knows what to change.
     */
    private record Deadline(long at, Duration timeout, boolean explicit) {
        static Deadline of(Duration timeout) {
            Duration t = timeout != null ? timeout : DEFAULT_TIMEOUT;
            return new Deadline(System.nanoTime() + t.toNanos(), t, timeout != null);
        }

        boolean passed() {
            return System.nanoTime() > at;
        }

        IllegalStateException expired(String what) {
            return new IllegalStateException("timed out after " + text(timeout) + " waiting for " + what + ": give it longer with --timeout"
                    + (explicit ? "" : " (default " + text(DEFAULT_TIMEOUT) + ")"));
        }

        private static String text(Duration d) {
            return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
        }
    }

    private interface NodeAction {
        void run(ClusterState.NodeState node) throws Exception;
    }

    /** Runs {@code action} for each node at once; the first failure is rethrown after all finished. */
    private static void parallel(List<ClusterState.NodeState> nodes, NodeAction action) {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> fs = new ArrayList<>();
            for (ClusterState.NodeState n : nodes) fs.add(pool.submit((Callable<Void>) () -> {
                action.run(n);
                return null;
            }));
            RuntimeException first = null;
            for (Future<?> f : fs) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    RuntimeException re = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause().getMessage(), e.getCause());
                    if (first == null) first = re;
                    else first.addSuppressed(re);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted");
                }
            }
            if (first != null) throw first;
        }
    }

    private static int freePort(String host) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("finding a free port on " + host + ": " + e.getMessage(), e);
        }
    }

    private static void checkPortFree(String host, int port, String fix) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName(host), port));
        } catch (IOException e) {
            String who = Processes.run(Duration.ofSeconds(5), "ss", "-Hltnp", "sport = :" + port).output();
            java.util.regex.Matcher m = Pattern.compile("pid=(\\d+)").matcher(who);
            throw new IllegalArgumentException("port " + port + " is in use" + (m.find() ? " by pid " + m.group(1) : "") + ": " + fix);
        }
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }

    private static String sha(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }
}
