package io.k3j.agent.network;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.kube.Informer;
import io.k3j.agent.kube.KubeClient;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The pod network of one node, what flannel is in k3s: the node's pod bridge with the pod gateway address, routes
 * to every other node's podCIDR (host-gw: via the peer's node IP; vxlan: through a VXLAN device, for nodes that are
 * not L2 neighbours), and masquerade for pod traffic leaving the pod network. The CNI conflist ({@link CniConfig})
 * plugs pods into the bridge; everything between nodes is here.
 *
 * <p>The node's podCIDR comes from {@link Config#podCidr()} (what the last run remembered), from {@link #podCidr(String)}
 * or from this node's own Node in the informer, whichever is first. With it the bridge is created at once with the
 * gateway address (the first host of the podCIDR) and forwarding is switched on, before any pod starts; then
 * {@link #ready()} completes, and the node-local services (cluster DNS, ingress) can bind to {@link #gatewayAddress()}.
 *
 * <p>Routes, neighbour and fdb entries are kept in sync with the Nodes informer on one thread, and checked against the
 * kernel every {@link Config#resync()} (something else may have removed them). Routes this class makes carry
 * {@code proto }{@value #ROUTE_PROTOCOL}, so a restarted agent recognises and removes those of nodes that are gone.
 * Nothing is removed until the informer has listed from the server: an agent started offline from its cache keeps
 * the routes the previous run made. {@link #close()} leaves everything in place (pods keep working while the agent
 * restarts); {@link #remove} takes it all away.
 */
public final class PodNetwork implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PodNetwork.class.getName());

    /** The annotation where a node publishes its VXLAN device's MAC address (flannel's backend-data). */
    public static final String VXLAN_MAC_ANNOTATION = "k3j.io/vxlan-mac";
    /** Production names (tests give each node its own). */
    public static final String DEFAULT_TABLE = "k3j-net";
    public static final String DEFAULT_VXLAN_DEVICE = "k3j.1";
    /** The routing protocol number that marks this class's routes ({@code ip route show proto 75}). */
    public static final int ROUTE_PROTOCOL = 75;
    static final int VXLAN_ID = 1;
    static final int VXLAN_PORT = 8472;

    /** How packets reach other nodes' pods. */
    public enum Backend {
        /** A route per peer podCIDR via the peer's node IP: the nodes must share an L2 segment. */
        HOST_GW("host-gw"),
        /** VXLAN (VNI 1, UDP 8472, flannel's wire format): works across routed networks. */
        VXLAN("vxlan");

        private final String flag;

        Backend(String flag) {
            this.flag = flag;
        }

        /** The {@code --network-backend} value. */
        public String flag() {
            return flag;
        }

        /**
         * @throws IllegalArgumentException for anything but {@code host-gw} or {@code vxlan}
         */
        public static Backend parse(String flag) {
            for (Backend b : values()) if (b.flag.equals(flag)) return b;
            throw new IllegalArgumentException("network backend : " + flag + " (expected: host-gw or vxlan)");
        }
    }

    /**
     * @param nodeName    this node's name (its own Node gives the podCIDR; the others are peers)
     * @param nodeIp      this node's IP (InternalIP): the VXLAN device's local address
     * @param bridge      the pod bridge ({@code cni0}), the one the CNI conflist names
     * @param backend     host-gw or vxlan
     * @param table       the nftables table for masquerade ({@value #DEFAULT_TABLE})
     * @param vxlanDevice the VXLAN device ({@value #DEFAULT_VXLAN_DEVICE}); at most 15 characters
     * @param podCidr     the podCIDR if already known (remembered by a previous run), else null
     * @param resync      how often the kernel's state is checked even when no Node changed
     */
    public record Config(String nodeName, String nodeIp, String bridge, Backend backend, String table, String vxlanDevice,
                         String podCidr, Duration resync) {
        public Config {
            requireNonNull(nodeName, "nodeName");
            requireNonNull(bridge, "bridge");
            requireNonNull(backend, "backend");
            requireNonNull(table, "table");
            requireNonNull(vxlanDevice, "vxlanDevice");
            requireNonNull(resync, "resync");
            if (bridge.isEmpty() || bridge.length() > 15) throw new IllegalArgumentException("bridge : " + bridge + " (expected 1-15 characters)");
            if (vxlanDevice.isEmpty() || vxlanDevice.length() > 15) {
                throw new IllegalArgumentException("vxlanDevice : " + vxlanDevice + " (expected 1-15 characters)");
            }
            if (!table.matches("[A-Za-z][A-Za-z0-9_-]*")) throw new IllegalArgumentException("table : " + table + " (expected an nft identifier)");
            if (backend == Backend.VXLAN && (nodeIp == null || !Ipv4Cidr.isIpv4(nodeIp))) {
                throw new IllegalArgumentException("nodeIp : " + nodeIp + " (expected: the node's IPv4 address for the vxlan backend)");
            }
            if (podCidr != null && podCidr.isEmpty()) podCidr = null;
            if (podCidr != null) Ipv4Cidr.parse(podCidr);
            if (resync.isNegative() || resync.isZero()) throw new IllegalArgumentException("resync : " + resync + " (expected: > 0)");
        }

        /** host-gw with the production names, resync every 30 s. */
        public static Config of(String nodeName, String nodeIp, String bridge) {
            return new Config(nodeName, nodeIp, bridge, Backend.HOST_GW, DEFAULT_TABLE, DEFAULT_VXLAN_DEVICE, null, Duration.ofSeconds(30));
        }

        public Config withBackend(Backend b) {
            return new Config(nodeName, nodeIp, bridge, b, table, vxlanDevice, podCidr, resync);
        }

        public Config withNames(String nftTable, String vxlan) {
            return new Config(nodeName, nodeIp, bridge, backend, nftTable, vxlan, podCidr, resync);
        }

        public Config withPodCidr(String cidr) {
            return new Config(nodeName, nodeIp, bridge, backend, table, vxlanDevice, cidr, resync);
        }
    }

    /** A peer as the routes need it. */
    private record Peer(String name, Ipv4Cidr podCidr, String ip, String mac) { }

    private final Config config;
    private final KubeClient kube;
    private final Informer nodes;
    private final CompletableFuture<String> ready = new CompletableFuture<>();
    private final Semaphore wake = new Semaphore(0);
    private volatile Ipv4Cidr podCidr;
    private volatile boolean closed;
    private Thread thread;
    // the reconcile thread's memory of what it last wrote, so that a Node heartbeat costs no exec
    private Map<String, Peer> applied;
    private String appliedTable;
    private boolean appliedSynced;
    private long lastKernelCheck;

    /**
     * Registers a handler on {@code nodes} (a {@code /api/v1/nodes} informer the caller starts and may share; it may
     * use {@link #slimNode} as its transform).
     *
     * @param kube the node's API client, for publishing the VXLAN MAC on its own Node (vxlan backend only)
     */
    public PodNetwork(Config config, KubeClient kube, Informer nodes) {
        this.config = requireNonNull(config, "config");
        this.kube = requireNonNull(kube, "kube");
        this.nodes = requireNonNull(nodes, "nodes");
        if (config.podCidr() != null) podCidr = Ipv4Cidr.parse(config.podCidr());
        nodes.addHandler(new Informer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                wake.release();
            }

            @Override
            public void onUpdate(ObjectNode old, ObjectNode obj) {
                if (!relevant(old).equals(relevant(obj))) wake.release();
            }

            @Override
            public void onDelete(ObjectNode obj) {
                wake.release();
            }
        });
    }

    /**
     * What of a Node the pod network reads: name, podCIDR, addresses and the VXLAN annotation (an informer transform
     * that keeps a node's memory small; resourceVersion is kept for the informer).
     */
    public static ObjectNode slimNode(ObjectNode node) {
        ObjectNode slim = Json.object();
        if (node.has("apiVersion")) slim.set("apiVersion", node.get("apiVersion"));
        if (node.has("kind")) slim.set("kind", node.get("kind"));
        ObjectNode meta = slim.putObject("metadata");
        JsonNode m = node.path("metadata");
        for (String f : new String[] {"name", "uid", "resourceVersion"}) {
            if (m.has(f)) meta.set(f, m.get(f));
        }
        String mac = m.path("annotations").path(VXLAN_MAC_ANNOTATION).asText("");
        if (!mac.isEmpty()) meta.putObject("annotations").put(VXLAN_MAC_ANNOTATION, mac);
        JsonNode spec = node.path("spec");
        ObjectNode slimSpec = slim.putObject("spec");
        if (spec.has("podCIDR")) slimSpec.set("podCIDR", spec.get("podCIDR"));
        if (spec.has("podCIDRs")) slimSpec.set("podCIDRs", spec.get("podCIDRs"));
        JsonNode addresses = node.path("status").path("addresses");
        if (addresses.isArray()) slim.putObject("status").set("addresses", addresses);
        return slim;
    }

    /** Starts the reconcile thread; the bridge is set up at once if the podCIDR is known. */
    public synchronized PodNetwork start() {
        if (thread != null) throw new IllegalStateException("already started");
        thread = Thread.ofVirtual().name("pod-network " + config.bridge()).start(this::run);
        wake.release();
        return this;
    }

    /** Tells the network this node's podCIDR (e.g. read from the Node by the caller); the first one known is kept. */
    public void podCidr(String cidr) {
        Ipv4Cidr c = Ipv4Cidr.parse(cidr);
        if (podCidr == null) {
            podCidr = c;
            wake.release();
        } else if (!podCidr.equals(c)) {
            LOG.log(System.Logger.Level.WARNING, "node {0}: podCIDR {1} differs from {2} in use; keeping {2} until the agent restarts",
                    config.nodeName(), c, podCidr);
        }
    }

    /** This node's podCIDR, once known. */
    public Optional<String> podCidr() {
        Ipv4Cidr c = podCidr;
        return c == null ? Optional.empty() : Optional.of(c.toString());
    }

    /**
     * Completes with the pod gateway address (e.g. {@code 10.42.0.1}) once the bridge holds it and forwarding is on
     * (a failing step is retried with back-off; the future never completes exceptionally).
     */
    public CompletableFuture<String> ready() {
        return ready.copy();
    }

    /** The pod gateway address (first host of the podCIDR, on the bridge) once {@link #ready()}; node-local services bind to it. */
    public Optional<String> gatewayAddress() {
        return ready.isDone() && !ready.isCompletedExceptionally() ? Optional.of(ready.join()) : Optional.empty();
    }

    public Config config() {
        return config;
    }

    /** Stops the thread; bridge, routes, VXLAN device and rules stay (pods keep their network while the agent is down). */
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
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Removes what a pod network made in this network namespace: the nftables table, every route marked
     * {@code proto }{@value #ROUTE_PROTOCOL}, the VXLAN device (its fdb and neighbour entries go with it) and the bridge.
     * Missing pieces are fine. For {@code killAll} and tests' cleanup.
     */
    public static void remove(String table, String bridge, String vxlanDevice) {
        List<String> problems = new ArrayList<>();
        Kernel.Result r = Kernel.run("nft", "list", "table", "ip", table);
        if (r.ok()) {
            Kernel.Result d = Kernel.run("nft", "delete", "table", "ip", table);
            if (!d.ok()) problems.add("nft delete table ip " + table + ": " + d.output().strip());
        }
        Kernel.Result f = Kernel.run("ip", "route", "flush", "proto", Integer.toString(ROUTE_PROTOCOL));
        if (!f.ok()) problems.add("ip route flush proto " + ROUTE_PROTOCOL + ": " + f.output().strip());
        for (String link : new String[] {vxlanDevice, bridge}) {
            if (link != null && Kernel.linkExists(link)) {
                Kernel.Result d = Kernel.run("ip", "link", "delete", link);
                if (!d.ok()) problems.add("ip link delete " + link + ": " + d.output().strip());
            }
        }
        if (!problems.isEmpty()) throw new IllegalStateException("removing the pod network: " + String.join("; ", problems));
    }

    // ---- the reconcile loop ----------------------------------------------------------------------------------

    private void run() {
        Duration backoff = Duration.ofMillis(200);
        while (!closed) {
            try {
                boolean woken = wake.tryAcquire(config.resync().toMillis(), TimeUnit.MILLISECONDS);
                wake.drainPermits();
                if (closed) break;
                reconcile(!woken);
                backoff = Duration.ofMillis(200);
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException e) {
                if (closed) break;
                LOG.log(System.Logger.Level.WARNING, "pod network of {0}: {1} (retrying in {2} ms)", config.nodeName(), e.getMessage(),
                        backoff.toMillis());
                // a forced check next time: the kernel may be half-way
                applied = null;
                appliedTable = null;
                wake.release();
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    break;
                }
                backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(10)) > 0 ? Duration.ofSeconds(10) : backoff.multipliedBy(2);
            }
        }
    }

    /** One pass: bridge (once), peers' routes, masquerade table, the VXLAN annotation. */
    private void reconcile(boolean timedOut) {
        List<ObjectNode> all = nodes.list();
        ObjectNode self = null;
        for (ObjectNode n : all) if (config.nodeName().equals(name(n))) self = n;
        if (podCidr == null && self != null) {
            String cidr = self.path("spec").path("podCIDR").asText("");
            if (!cidr.isEmpty()) podCidr = Ipv4Cidr.parse(cidr);
        }
        Ipv4Cidr own = podCidr;
        if (own == null) return;
        if (!ready.isDone()) {
            try {
                setUp(own);
            } catch (RuntimeException e) {
                // the caller learns of the failure; the loop keeps retrying and a later success is still logged
                LOG.log(System.Logger.Level.ERROR, "node {0}: cannot set up pod bridge {1}: {2}", config.nodeName(), config.bridge(), e.getMessage());
                throw e;
            }
            ready.complete(own.firstHost());
            LOG.log(System.Logger.Level.INFO, "node {0}: pod network {1} on {2} (gateway {3}, backend {4})", config.nodeName(), own,
                    config.bridge(), own.firstHost(), config.backend().flag());
        }

        Map<String, Peer> peers = new TreeMap<>();
        Set<String> podCidrs = new TreeSet<>();
        podCidrs.add(own.toString());
        for (ObjectNode n : all) {
            String cidr = n.path("spec").path("podCIDR").asText("");
            if (cidr.isEmpty() || n == self) continue;
            Ipv4Cidr c;
            try {
                c = Ipv4Cidr.parse(cidr);
            } catch (IllegalArgumentException e) {
                continue;
            }
            podCidrs.add(c.toString());
            String ip = internalIp(n);
            if (ip == null || ip.equals(config.nodeIp()) || ip.startsWith("127.")) continue;
            String mac = n.path("metadata").path("annotations").path(VXLAN_MAC_ANNOTATION).asText("");
            if (config.backend() == Backend.VXLAN && mac.isEmpty()) continue;
            peers.put(c.toString(), new Peer(name(n), c, ip, mac));
        }

        long now = System.nanoTime();
        boolean kernelCheck = timedOut || applied == null || now - lastKernelCheck > config.resync().toNanos();
        boolean synced = nodes.hasSynced();
        if (kernelCheck || !peers.equals(applied) || synced != appliedSynced) {
            if (config.backend() == Backend.HOST_GW) {
                syncHostGw(peers, synced);
            } else {
                syncVxlan(peers, synced);
            }
            applied = peers;
            appliedSynced = synced;
        }
        String table = masqueradeTable(own, podCidrs);
        if (kernelCheck || !table.equals(appliedTable)) {
            if (kernelCheck && table.equals(appliedTable) && Kernel.run("nft", "list", "table", "ip", config.table()).ok()) {
                // still there as written
            } else {
                Kernel.nft(table);
            }
            appliedTable = table;
        }
        if (kernelCheck) lastKernelCheck = now;
        if (config.backend() == Backend.VXLAN && self != null) publishMac(self);
    }

    /** Forwarding, bridge-netfilter and the bridge with the gateway address (and the VXLAN device). */
    private void setUp(Ipv4Cidr own) {
        if (!Kernel.sysctl("net/ipv4/ip_forward", "1")) throw new IllegalStateException("no /proc/sys/net/ipv4/ip_forward");
        String bridge = config.bridge();
        if (!Kernel.linkExists(bridge)) {
            // a fixed MAC: a bridge otherwise takes the lowest MAC of its ports, and pods' ARP entries for the gateway
            // go stale every time a pod with a lower one joins
            Kernel.check("ip", "link", "add", "name", bridge, "address", bridgeMac(own), "type", "bridge");
        }
        // bridged pod-to-pod packets must see netfilter (the service proxy's DNAT for a pod reaching its own Service);
        // the sysctl exists once a bridge does, per network namespace on the kernels here
        if (!Kernel.sysctl("net/bridge/bridge-nf-call-iptables", "1")) {
            LOG.log(System.Logger.Level.WARNING, "net.bridge.bridge-nf-call-iptables is missing (br_netfilter not loaded?): "
                    + "a pod reaching its own Service will not work");
        }
        Kernel.check("ip", "addr", "replace", own.firstHost() + "/" + own.prefix(), "dev", bridge);
        Kernel.check("ip", "link", "set", bridge, "up");
        if (config.backend() == Backend.VXLAN) {
            setUpVxlan(own);
        } else if (Kernel.linkExists(config.vxlanDevice())) {
            // the node ran with --network-backend vxlan before
            Kernel.check("ip", "link", "delete", config.vxlanDevice());
        }
    }

    private void setUpVxlan(Ipv4Cidr own) {
        String dev = config.vxlanDevice();
        String mac = vxlanMac();
        if (Kernel.linkExists(dev)) {
            JsonNode info = Kernel.json("ip", "-j", "-d", "link", "show", "dev", dev).path(0);
            JsonNode data = info.path("linkinfo").path("info_data");
            boolean same = "vxlan".equals(info.path("linkinfo").path("info_kind").asText())
                    && data.path("id").asInt() == VXLAN_ID && data.path("port").asInt() == VXLAN_PORT
                    && config.nodeIp().equals(data.path("local").asText()) && mac.equalsIgnoreCase(info.path("address").asText());
            if (!same) Kernel.check("ip", "link", "delete", dev);
        }
        if (!Kernel.linkExists(dev)) {
            Kernel.check("ip", "link", "add", dev, "address", mac, "type", "vxlan", "id", Integer.toString(VXLAN_ID), "local", config.nodeIp(),
                    "dstport", Integer.toString(VXLAN_PORT), "nolearning");
        }
        // flannel's addressing: the podCIDR's network address is the node's VTEP address
        Kernel.check("ip", "addr", "replace", own.networkAddress() + "/32", "dev", dev);
        Kernel.check("ip", "link", "set", dev, "up");
    }

    private void syncHostGw(Map<String, Peer> peers, boolean removeStale) {
        List<String> batch = new ArrayList<>();
        for (Peer p : peers.values()) batch.add("route replace " + p.podCidr() + " via " + p.ip() + " proto " + ROUTE_PROTOCOL);
        if (removeStale) {
            for (JsonNode r : Kernel.json("ip", "-j", "route", "show", "proto", Integer.toString(ROUTE_PROTOCOL))) {
                String dst = r.path("dst").asText();
                if (!peers.containsKey(dst)) batch.add("route del " + dst + " proto " + ROUTE_PROTOCOL);
            }
        }
        apply(batch);
    }

    private void syncVxlan(Map<String, Peer> peers, boolean removeStale) {
        String dev = config.vxlanDevice();
        List<String> fdb = new ArrayList<>();
        List<String> ip = new ArrayList<>();
        Set<String> vteps = new TreeSet<>();
        Set<String> fdbKeys = new TreeSet<>();
        for (Peer p : peers.values()) {
            String vtep = p.podCidr().networkAddress();
            vteps.add(vtep);
            fdbKeys.add(p.mac().toLowerCase() + " " + p.ip());
            fdb.add("fdb replace " + p.mac() + " dev " + dev + " dst " + p.ip() + " self permanent");
            ip.add("neigh replace " + vtep + " lladdr " + p.mac() + " dev " + dev + " nud permanent");
            ip.add("route replace " + p.podCidr() + " via " + vtep + " dev " + dev + " onlink proto " + ROUTE_PROTOCOL);
        }
        if (removeStale) {
            for (JsonNode e : Kernel.json("bridge", "-j", "fdb", "show", "dev", dev)) {
                String mac = e.path("mac").asText().toLowerCase();
                String dst = e.path("dst").asText();
                if (!dst.isEmpty() && !fdbKeys.contains(mac + " " + dst)) fdb.add("fdb del " + mac + " dev " + dev + " dst " + dst + " self");
            }
            for (JsonNode n : Kernel.json("ip", "-j", "neigh", "show", "dev", dev)) {
                String dst = n.path("dst").asText();
                if (!vteps.contains(dst)) ip.add("neigh del " + dst + " dev " + dev);
            }
            for (JsonNode r : Kernel.json("ip", "-j", "route", "show", "proto", Integer.toString(ROUTE_PROTOCOL))) {
                String dst = r.path("dst").asText();
                if (!peers.containsKey(dst)) ip.add("route del " + dst + " proto " + ROUTE_PROTOCOL);
            }
        }
        // fdb entries first: a route to a VTEP whose MAC has no destination would black-hole the first packets
        if (!fdb.isEmpty()) {
            Kernel.Result r = Kernel.bridgeBatch(fdb);
            if (!r.ok()) LOG.log(System.Logger.Level.WARNING, "node {0}: fdb entries: {1}", config.nodeName(), r.output().strip());
        }
        apply(ip);
    }

    private void apply(List<String> batch) {
        if (batch.isEmpty()) return;
        Kernel.Result r = Kernel.ipBatch(batch);
        // -force applies every line; a peer that is not reachable (host-gw across a router) fails alone
        if (!r.ok()) LOG.log(System.Logger.Level.WARNING, "node {0}: pod network routes: {1}", config.nodeName(), r.output().strip());
    }

    /**
     * Masquerade for pod traffic leaving the pod network (flannel's {@code -s podCIDR ! -d clusterCIDR MASQUERADE}):
     * the set holds every node's podCIDR, so traffic between pods keeps its source address.
     */
    private String masqueradeTable(Ipv4Cidr own, Set<String> podCidrs) {
        String t = config.table();
        return "table ip " + t + " {}\n"
                + "delete table ip " + t + "\n"
                + "table ip " + t + " {\n"
                + "  set pod-cidrs {\n"
                + "    type ipv4_addr; flags interval; auto-merge\n"
                + "    elements = { " + String.join(", ", podCidrs) + " }\n"
                + "  }\n"
                + "  chain postrouting {\n"
                + "    type nat hook postrouting priority srcnat; policy accept;\n"
                + "    ip saddr " + own + " ip daddr != @pod-cidrs ip daddr != 224.0.0.0/4 masquerade\n"
                + "  }\n"
                + "}\n";
    }

    private void publishMac(ObjectNode self) {
        String mac = vxlanMac();
        if (mac.equalsIgnoreCase(self.path("metadata").path("annotations").path(VXLAN_MAC_ANNOTATION).asText(""))) return;
        ObjectNode patch = Json.object();
        patch.putObject("metadata").putObject("annotations").put(VXLAN_MAC_ANNOTATION, mac);
        try {
            kube.patch("/api/v1/nodes/" + config.nodeName(), "application/merge-patch+json", Json.string(patch));
        } catch (KubeClient.Unreachable | ApiException e) {
            // the informer shows the annotation missing again at the next resync
            LOG.log(System.Logger.Level.DEBUG, "node {0}: cannot publish the VXLAN MAC yet: {1}", config.nodeName(), e.getMessage());
        }
    }

    /** Locally administered, derived from the gateway address (as CNI's 0a:58 MACs are), so it survives restarts. */
    static String bridgeMac(Ipv4Cidr own) {
        return "0a:58:" + Ipv4Cidr.macSuffix(Ipv4Cidr.address(own.firstHost()));
    }

    /** Derived from the node IP, so a restart keeps it and peers' fdb entries stay right. */
    String vxlanMac() {
        return "0e:6b:" + Ipv4Cidr.macSuffix(Ipv4Cidr.address(config.nodeIp()));
    }

    private static String name(JsonNode node) {
        return node.path("metadata").path("name").asText("");
    }

    /** The Node's first IPv4 InternalIP, or null. */
    static String internalIp(JsonNode node) {
        for (JsonNode a : node.path("status").path("addresses")) {
            String ip = a.path("address").asText("");
            if ("InternalIP".equals(a.path("type").asText()) && Ipv4Cidr.isIpv4(ip)) return ip;
        }
        return null;
    }

    /** What a route depends on; a heartbeat that changes none of it wakes nothing. */
    private static List<Object> relevant(ObjectNode n) {
        return List.of(n.path("spec").path("podCIDR").asText(""), Objects.toString(internalIp(n)),
                n.path("metadata").path("annotations").path(VXLAN_MAC_ANNOTATION).asText(""));
    }
}
