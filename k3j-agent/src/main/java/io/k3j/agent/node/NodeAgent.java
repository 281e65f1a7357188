package io.k3j.agent.node;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.kube.KubeClient;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The Node side of a kubelet: registers the Node (creating it, or adopting it when a restarted agent finds it),
 * renews its Lease in {@code kube-node-lease} every 10 s, and posts the node status when it changes (at least every
 * 5 minutes otherwise, as kubelet's {@code nodeStatusReportFrequency}).
 *
 * <p>Status follows kubelet: capacity from the machine (cpu, memory, ephemeral-storage, pods 110, hugepages 0),
 * allocatable minus the hard eviction thresholds, InternalIP and Hostname addresses, nodeInfo, the kubelet port,
 * images, and the conditions MemoryPressure, DiskPressure, PIDPressure and Ready with kubelet's reasons and messages.
 * Pressure uses kubelet's default hard eviction signals: {@code memory.available<100Mi},
 * {@code nodefs.available<10%}, {@code imagefs.available<15%}, and (k3j's choice, kubelet sets none by default)
 * {@code pid.available<5%}.
 *
 * <p>The server may be unreachable for as long as it likes: the agent logs it once, retries with back-off and
 * carries on when it returns. Nothing here throws out of the loop.
 */
public final class NodeAgent implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NodeAgent.class.getName());
    static final Duration STATUS_REPORT_FREQUENCY = Duration.ofMinutes(5);
    /** How often a node not yet Ready looks at its conditions again (kubelet: 100 ms). */
    static final Duration FAST_STATUS_PERIOD = Duration.ofMillis(200);
    static final long MEMORY_THRESHOLD = 100L * 1024 * 1024;
    private static final DateTimeFormatter MICRO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(ZoneOffset.UTC);

    /**
     * What the agent was told about its node.
     *
     * @param nodeName                the Node's name
     * @param nodeIps                 InternalIP addresses; empty means the default route's source address
     * @param controlPlane            a server node: labelled node-role control-plane and master
     * @param labels                  {@code --node-label}s, added to the standard ones
     * @param taints                  {@code --node-taint}s as {@code key[=value]:Effect}, applied at registration
     * @param kubeletVersion          e.g. {@code v1.32.3+k3j1} (the server's version: the agent does not know it)
     * @param kubeProxyVersion        the same, as kubelet reports it
     * @param containerRuntimeVersion e.g. {@code containerd://1.6.20}
     * @param dataDir                 the agent data dir: its file system is the node's ephemeral storage
     * @param imageFsDir              containerd's root, for imagefs pressure
     * @param kubeletPort             daemonEndpoints.kubeletEndpoint.Port
     * @param syncInterval            lease renewal and status check period (10 s)
     */
    public record Config(String nodeName, List<String> nodeIps, boolean controlPlane, Map<String, String> labels,
                         List<String> taints, String kubeletVersion, String kubeProxyVersion,
                         String containerRuntimeVersion, Path dataDir, Path imageFsDir, int kubeletPort,
                         Duration syncInterval) {
        public Config {
            requireNonNull(nodeName, "nodeName");
            nodeIps = List.copyOf(nodeIps);
            labels = Map.copyOf(labels);
            taints = List.copyOf(taints);
            requireNonNull(kubeletVersion, "kubeletVersion");
            requireNonNull(kubeProxyVersion, "kubeProxyVersion");
            requireNonNull(containerRuntimeVersion, "containerRuntimeVersion");
            requireNonNull(dataDir, "dataDir");
            requireNonNull(imageFsDir, "imageFsDir");
            requireNonNull(syncInterval, "syncInterval");
            for (String t : taints) parseTaint(t);
        }

        /** Defaults: no extra labels or taints, port 10250, every 10 s, imagefs = {@code dataDir/containerd}. */
        public static Config of(String nodeName, List<String> nodeIps, boolean controlPlane, String kubeletVersion,
                                String containerRuntimeVersion, Path dataDir) {
            return new Config(nodeName, nodeIps, controlPlane, Map.of(), List.of(), kubeletVersion, kubeletVersion,
                    containerRuntimeVersion, dataDir, dataDir.resolve("containerd"), 10250, Duration.ofSeconds(10));
        }

        public Config withLabels(Map<String, String> l) {
            return new Config(nodeName, nodeIps, controlPlane, l, taints, kubeletVersion, kubeProxyVersion,
                    containerRuntimeVersion, dataDir, imageFsDir, kubeletPort, syncInterval);
        }

        public Config withTaints(List<String> t) {
            return new Config(nodeName, nodeIps, controlPlane, labels, t, kubeletVersion, kubeProxyVersion,
                    containerRuntimeVersion, dataDir, imageFsDir, kubeletPort, syncInterval);
        }

        public Config withSyncInterval(Duration d) {
            return new Config(nodeName, nodeIps, controlPlane, labels, taints, kubeletVersion, kubeProxyVersion,
                    containerRuntimeVersion, dataDir, imageFsDir, kubeletPort, d);
        }
    }

    private final KubeClient client;
    private final Config config;
    private final MachineFacts machine;
    private final Supplier<MachineFacts.Usage> usage;
    private final Supplier<Optional<String>> runtimeProblem;
    private final Supplier<List<ObjectNode>> images;
    private final Clock clock;
    private final List<String> addresses;

    private volatile boolean closed;
    private Thread thread;
    private boolean registered;
    private ObjectNode lastPosted;
    private Instant lastPostedAt;
    private final Map<String, Instant> transitions = new LinkedHashMap<>();
    private final Map<String, String> lastConditionStatus = new LinkedHashMap<>();
    private ObjectNode lease;
    private String nodeUid = "";
    private boolean offline;

    /**
     * @param runtimeProblem empty while the container runtime is ready, else why not (Ready is then False with
     *                       reason KubeletNotReady and this message)
     * @param images         the node's images as {@code {"names": [...], "sizeBytes": n}}
     */
    public NodeAgent(KubeClient client, Config config, MachineFacts machine, Supplier<MachineFacts.Usage> usage,
                     Supplier<Optional<String>> runtimeProblem, Supplier<List<ObjectNode>> images, Clock clock) {
        this.client = requireNonNull(client, "client");
        this.config = requireNonNull(config, "config");
        this.machine = requireNonNull(machine, "machine");
        this.usage = requireNonNull(usage, "usage");
        this.runtimeProblem = requireNonNull(runtimeProblem, "runtimeProblem");
        this.images = requireNonNull(images, "images");
        this.clock = requireNonNull(clock, "clock");
        this.addresses = config.nodeIps().isEmpty() ? List.of(MachineFacts.defaultRouteAddress()) : config.nodeIps();
    }

    /** A node agent on this machine's facts and live usage. */
    public static NodeAgent forThisMachine(KubeClient client, Config config, Supplier<Optional<String>> runtimeProblem,
                                           Supplier<List<ObjectNode>> images) {
        return new NodeAgent(client, config, MachineFacts.read(),
                () -> MachineFacts.Usage.read(config.dataDir(), config.imageFsDir()), runtimeProblem, images,
                Clock.systemUTC());
    }

    /** Starts the loop on a virtual thread: register, then renew and report every sync interval. */
    public synchronized NodeAgent start() {
        if (thread != null) throw new IllegalStateException("already started");
        thread = Thread.ofVirtual().name("node-agent " + config.nodeName()).start(this::run);
        return this;
    }

    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Whether the Node has been registered (created or adopted) by this agent. */
    public synchronized boolean registered() {
        return registered;
    }

    private void run() {
        Duration backoff = Duration.ofSeconds(1);
        while (!closed) {
            Duration wait = config.syncInterval();
            try {
                syncOnce();
                backoff = Duration.ofSeconds(1);
                wait = untilReadyPosted(config.syncInterval());
            } catch (InterruptedException e) {
                return;
            } catch (KubeClient.Unreachable | ApiException e) {
                wait = backoff.compareTo(config.syncInterval()) < 0 ? backoff : config.syncInterval();
                backoff = backoff.multipliedBy(2);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "node " + config.nodeName() + ": unexpected failure; retrying", e);
            }
            try {
                Thread.sleep(wait.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * kubelet's fastStatusUpdateOnce: until the node has been reported Ready once, looks again every
     * {@link #FAST_STATUS_PERIOD} and posts the status as soon as it changes, instead of waiting a whole sync
     * period (the runtime's network typically turns ready a moment after registration, once the pod CIDR
     * arrives). Returns what is left of {@code period}.
     */
    private Duration untilReadyPosted(Duration period) throws InterruptedException {
        long end = System.nanoTime() + period.toNanos();
        while (!closed && !readyPosted()) {
            long left = end - System.nanoTime();
            if (left <= 0) return Duration.ZERO;
            Thread.sleep(Math.min(FAST_STATUS_PERIOD.toMillis(), left / 1_000_000 + 1));
            synchronized (this) {
                if (!closed && registered) postStatusIfNeeded();
            }
        }
        return Duration.ofNanos(Math.max(0, end - System.nanoTime()));
    }

    private synchronized boolean readyPosted() {
        if (lastPosted == null) return false;
        for (JsonNode c : lastPosted.path("conditions")) {
            if ("Ready".equals(c.path("type").asText())) return "True".equals(c.path("status").asText());
        }
        return false;
    }

    /**
     * One round: register if needed, renew the Lease, post the status if it changed or is due. Failures are
     * logged once per outage and rethrown so the loop backs off.
     */
    synchronized void syncOnce() {
        try {
            if (!registered) register();
            renewLease();
            // after an outage the node lifecycle controller has likely set every condition Unknown (and marked the
            // pods NotReady): post the status again even if it did not change here, as kubelet compares with the
            // server's copy; otherwise the node stayed NotReady until the next periodic report
            if (offline) lastPosted = null;
            postStatusIfNeeded();
            if (offline) LOG.log(System.Logger.Level.INFO, "node " + config.nodeName() + ": the API server is back");
            offline = false;
        } catch (KubeClient.Unreachable | ApiException e) {
            if (!offline) {
                LOG.log(System.Logger.Level.WARNING, "node " + config.nodeName() + ": " + e.getMessage()
                        + " (retrying; the node keeps running)");
            }
            offline = true;
            if (e instanceof ApiException a && a.code() == 404) {
                // the Node was deleted under us: register it again (its Lease is owned by it and goes too)
                registered = false;
                lease = null;
            }
            throw e;
        }
    }

    // ---- registration ----------------------------------------------------------------------------------------

    private void register() {
        ObjectNode node = Json.object();
        node.put("apiVersion", "v1");
        node.put("kind", "Node");
        ObjectNode meta = node.putObject("metadata");
        meta.put("name", config.nodeName());
        ObjectNode labels = meta.putObject("labels");
        desiredLabels().forEach(labels::put);
        ObjectNode annotations = meta.putObject("annotations");
        annotations.put("node.alpha.kubernetes.io/ttl", "0");
        annotations.put("volumes.kubernetes.io/controller-managed-attach-detach", "true");
        ObjectNode spec = node.putObject("spec");
        if (!config.taints().isEmpty()) {
            ArrayNode taints = spec.putArray("taints");
            for (String t : config.taints()) taints.add(parseTaint(t));
        }
        node.set("status", status(clock.instant()));
        ObjectNode stored;
        try {
            stored = client.create("/api/v1/nodes", node);
            LOG.log(System.Logger.Level.INFO, "registered node " + config.nodeName());
        } catch (ApiException e) {
            if (e.code() != 409) throw e;
            stored = adopt();
        }
        nodeUid = Json.text(stored.path("metadata"), "uid");
        registered = true;
        lastPosted = null;
    }

    /**
     * A restarted agent keeps its Node (pods bound to it stay bound): only the labels it owns are brought up to
     * date; taints are left to the administrator, as kubelet's --register-with-taints only applies at creation.
     */
    private ObjectNode adopt() {
        String path = "/api/v1/nodes/" + config.nodeName();
        for (int attempt = 0; ; attempt++) {
            ObjectNode existing = client.get(path);
            ObjectNode labels = Json.obj(Json.obj(existing, "metadata"), "labels");
            boolean changed = false;
            for (Map.Entry<String, String> e : desiredLabels().entrySet()) {
                if (!e.getValue().equals(Json.text(labels, e.getKey()))) {
                    labels.put(e.getKey(), e.getValue());
                    changed = true;
                }
            }
            if (!changed) return existing;
            try {
                ObjectNode out = client.update(path, existing);
                LOG.log(System.Logger.Level.INFO, "adopted existing node " + config.nodeName());
                return out;
            } catch (ApiException e) {
                if (e.code() != 409 || attempt >= 4) throw e;
            }
        }
    }

    Map<String, String> desiredLabels() {
        Map<String, String> l = new LinkedHashMap<>();
        l.put("kubernetes.io/hostname", config.nodeName());
        l.put("kubernetes.io/os", "linux");
        l.put("kubernetes.io/arch", machine.architecture());
        l.put("beta.kubernetes.io/os", "linux");
        l.put("beta.kubernetes.io/arch", machine.architecture());
        if (config.controlPlane()) {
            l.put("node-role.kubernetes.io/control-plane", "true");
            l.put("node-role.kubernetes.io/master", "true");
        }
        l.putAll(config.labels());
        return l;
    }

    /** {@code key[=value]:Effect} as kubelet's --register-with-taints and k3s's --node-taint take it. */
    static ObjectNode parseTaint(String spec) {
        int colon = spec.lastIndexOf(':');
        if (colon <= 0) throw new IllegalArgumentException("invalid taint \"" + spec + "\" (expected: key[=value]:Effect)");
        String effect = spec.substring(colon + 1);
        if (!List.of("NoSchedule", "PreferNoSchedule", "NoExecute").contains(effect)) {
            throw new IllegalArgumentException("invalid taint effect \"" + effect + "\" in \"" + spec
                    + "\" (expected: NoSchedule, PreferNoSchedule or NoExecute)");
        }
        String kv = spec.substring(0, colon);
        int eq = kv.indexOf('=');
        ObjectNode t = Json.object();
        t.put("key", eq < 0 ? kv : kv.substring(0, eq));
        if (eq >= 0) t.put("value", kv.substring(eq + 1));
        t.put("effect", effect);
        return t;
    }

    // ---- lease -----------------------------------------------------------------------------------------------

    private void renewLease() {
        String coll = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases";
        String path = coll + "/" + config.nodeName();
        String now = MICRO.format(clock.instant().truncatedTo(ChronoUnit.MICROS));
        if (lease == null) {
            Optional<ObjectNode> found = client.find(path);
            if (found.isEmpty()) {
                ObjectNode l = Json.object();
                l.put("apiVersion", "coordination.k8s.io/v1");
                l.put("kind", "Lease");
                ObjectNode meta = l.putObject("metadata");
                meta.put("name", config.nodeName());
                meta.put("namespace", "kube-node-lease");
                if (!nodeUid.isEmpty()) {
                    ObjectNode owner = meta.putArray("ownerReferences").addObject();
                    owner.put("apiVersion", "v1");
                    owner.put("kind", "Node");
                    owner.put("name", config.nodeName());
                    owner.put("uid", nodeUid);
                }
                ObjectNode spec = l.putObject("spec");
                spec.put("holderIdentity", config.nodeName());
                spec.put("leaseDurationSeconds", 40);
                spec.put("renewTime", now);
                try {
                    lease = client.create(coll, l);
                    return;
                } catch (ApiException e) {
                    if (e.code() != 409) throw e;
                    found = Optional.of(client.get(path));
                }
            }
            lease = found.get();
        }
        ObjectNode next = lease.deepCopy();
        ObjectNode spec = Json.obj(next, "spec");
        spec.put("holderIdentity", config.nodeName());
        spec.put("leaseDurationSeconds", 40);
        spec.put("renewTime", now);
        try {
            lease = client.update(path, next);
        } catch (ApiException e) {
            lease = null;
            throw e;
        }
    }

    // ---- status ----------------------------------------------------------------------------------------------

    private void postStatusIfNeeded() {
        Instant now = clock.instant();
        ObjectNode status = status(now);
        boolean due = lastPostedAt == null || !now.isBefore(lastPostedAt.plus(STATUS_REPORT_FREQUENCY));
        if (!due && withoutHeartbeats(status).equals(lastPosted)) return;
        ObjectNode patch = Json.object();
        patch.set("status", status);
        client.patch("/api/v1/nodes/" + config.nodeName() + "/status", "application/strategic-merge-patch+json",
                Json.string(patch));
        lastPosted = withoutHeartbeats(status);
        lastPostedAt = now;
    }

    private static ObjectNode withoutHeartbeats(ObjectNode status) {
        ObjectNode copy = status.deepCopy();
        for (JsonNode c : copy.path("conditions")) ((ObjectNode) c).remove("lastHeartbeatTime");
        return copy;
    }

    /** The node status kubelet would post now. */
    ObjectNode status(Instant now) {
        ObjectNode s = Json.object();
        long memKi = machine.memoryBytes() / 1024;
        MachineFacts.Usage u = usage.get();
        ObjectNode capacity = s.putObject("capacity");
        capacity.put("cpu", Integer.toString(machine.cpus()));
        capacity.put("ephemeral-storage", (u.nodeFsCapacityBytes() / 1024) + "Ki");
        capacity.put("hugepages-1Gi", "0");
        capacity.put("hugepages-2Mi", "0");
        capacity.put("memory", memKi + "Ki");
        capacity.put("pods", "110");
        ObjectNode allocatable = s.putObject("allocatable");
        allocatable.put("cpu", Integer.toString(machine.cpus()));
        allocatable.put("ephemeral-storage", Long.toString(u.nodeFsCapacityBytes() - u.nodeFsCapacityBytes() / 10));
        allocatable.put("hugepages-1Gi", "0");
        allocatable.put("hugepages-2Mi", "0");
        allocatable.put("memory", Math.max(0, memKi - MEMORY_THRESHOLD / 1024) + "Ki");
        allocatable.put("pods", "110");

        ArrayNode conditions = s.putArray("conditions");
        boolean memoryPressure = u.memoryAvailableBytes() > 0 && u.memoryAvailableBytes() < MEMORY_THRESHOLD;
        boolean diskPressure = below(u.nodeFsAvailableBytes(), u.nodeFsCapacityBytes(), 10)
                || below(u.imageFsAvailableBytes(), u.imageFsCapacityBytes(), 15);
        boolean pidPressure = below(u.pidsAvailable(), u.pidMax(), 5);
        condition(conditions, now, "MemoryPressure", memoryPressure, memoryPressure ? "KubeletHasInsufficientMemory"
                : "KubeletHasSufficientMemory", memoryPressure ? "kubelet has insufficient memory available"
                : "kubelet has sufficient memory available");
        condition(conditions, now, "DiskPressure", diskPressure, diskPressure ? "KubeletHasDiskPressure"
                : "KubeletHasNoDiskPressure", diskPressure ? "kubelet has disk pressure" : "kubelet has no disk pressure");
        condition(conditions, now, "PIDPressure", pidPressure, pidPressure ? "KubeletHasInsufficientPID"
                : "KubeletHasSufficientPID", pidPressure ? "kubelet has insufficient PID available"
                : "kubelet has sufficient PID available");
        Optional<String> problem = runtimeProblem.get();
        condition(conditions, now, "Ready", problem.isEmpty(), problem.isEmpty() ? "KubeletReady" : "KubeletNotReady",
                problem.orElse("kubelet is posting ready status"));

        ArrayNode addrs = s.putArray("addresses");
        for (String ip : addresses) addrs.addObject().put("type", "InternalIP").put("address", ip);
        addrs.addObject().put("type", "Hostname").put("address", config.nodeName());
        s.putObject("daemonEndpoints").putObject("kubeletEndpoint").put("Port", config.kubeletPort());
        ObjectNode info = s.putObject("nodeInfo");
        info.put("machineID", machine.machineId());
        info.put("systemUUID", machine.systemUuid());
        info.put("bootID", machine.bootId());
        info.put("kernelVersion", machine.kernelVersion());
        info.put("osImage", machine.osImage());
        info.put("containerRuntimeVersion", config.containerRuntimeVersion());
        info.put("kubeletVersion", config.kubeletVersion());
        info.put("kubeProxyVersion", config.kubeProxyVersion());
        info.put("operatingSystem", "linux");
        info.put("architecture", machine.architecture());
        ArrayNode imgs = s.putArray("images");
        for (ObjectNode img : images.get()) imgs.add(img);
        return s;
    }

    private static boolean below(long available, long capacity, int percent) {
        return capacity > 0 && available * 100 < capacity * percent;
    }

    private void condition(ArrayNode conditions, Instant now, String type, boolean value, String reason, String message) {
        String status = value ? "True" : "False";
        String previous = lastConditionStatus.put(type, status);
        if (previous == null || !previous.equals(status)) transitions.put(type, now);
        ObjectNode c = conditions.addObject();
        c.put("type", type);
        c.put("status", status);
        c.put("lastHeartbeatTime", rfc3339(now));
        c.put("lastTransitionTime", rfc3339(transitions.get(type)));
        c.put("reason", reason);
        c.put("message", message);
    }

    private static String rfc3339(Instant t) {
        return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
    }

    @Override
    public String toString() {
        return "NodeAgent[" + config.nodeName() + "]";
    }
}
