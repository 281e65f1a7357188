package io.k3j.agent;

import io.k3j.agent.eviction.Thresholds;
import io.k3j.agent.lb.ApiLoadBalancer;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@code k3j agent} (or the agent inside {@code k3j server}) runs with: k3s's agent flags in one record.
 *
 * @param server         {@code --server}: the API server the node joins, e.g. {@code https://10.0.0.1:6443}
 * @param token          {@code --token}: the cluster's join token (K10 secure format or the bare password)
 * @param dataDir        agent state lives here ({@code <data-dir>/agent})
 * @param runDir         runtime state that a reboot clears (containerd's state and socket), e.g. {@code /run/k3j/<node>}
 * @param nodeName       {@code --node-name} (the host name when blank)
 * @param nodeIps        {@code --node-ip} (the default route's source address when empty)
 * @param nodeLabels     {@code --node-label}
 * @param nodeTaints     {@code --node-taint} as {@code key=value:Effect}
 * @param controlPlane   true for a server's own node: gets the control-plane and master role labels
 * @param clusterDns     {@code --cluster-dns}: the nameserver pods with dnsPolicy ClusterFirst get
 * @param clusterDomain  {@code --cluster-domain}
 * @param kubeletPort    the kubelet API's port (10250)
 * @param pauseImage     {@code --pause-image}: the sandbox image; k3j builds and imports its own
 * @param allowPull      whether containerd may pull missing images from registries (never in tests)
 * @param kubeletVersion the version a Node reports as kubeletVersion (the server's)
 * @param cniBridge      the pod network's bridge ({@code cni0}; tests and local clusters use their own)
 * @param privateRegistry {@code --private-registry}: registry mirrors and credentials (k3s's registries.yaml format)
 * @param evictionHard   kubelet's {@code --eviction-hard}: when pods are evicted under node pressure
 * @param networkBackend {@code --network-backend}: {@code host-gw} (default) or {@code vxlan}
 * @param networkTable   the pod network's nftables table ({@code k3j-net}; {@code k3j-net-<bridge>} when the bridge
 *                       isn't {@code cni0}, so that test nodes sharing a network namespace don't share it)
 * @param vxlanDevice    the VXLAN device of the vxlan backend ({@code k3j.1})
 * @param services       which of the node's network services run (service proxy, network policies, DNS, ingress)
 * @param lbServerPort   {@code --lb-server-port}: the node's API load balancer listens on {@code 127.0.0.1:<port>} and
 *                       every API client of the node goes through it (k3s: 6444, {@link ApiLoadBalancer#DEFAULT_PORT});
 *                       0 for an ephemeral port (tests, several agents on one host); {@value #NO_LOAD_BALANCER} to talk
 *                       to {@code --server} directly (a server's own agent, and what the shorter constructors give)
 */
public record AgentConfig(
        URI server,
        String token,
        Path dataDir,
        Path runDir,
        String nodeName,
        List<String> nodeIps,
        Map<String, String> nodeLabels,
        List<String> nodeTaints,
        boolean controlPlane,
        String clusterDns,
        String clusterDomain,
        int kubeletPort,
        String pauseImage,
        boolean allowPull,
        String kubeletVersion,
        String cniBridge,
        Path privateRegistry,
        Thresholds evictionHard,
        String networkBackend,
        String networkTable,
        String vxlanDevice,
        NodeServices services,
        int lbServerPort) {

    /** {@link #lbServerPort()} for a node that talks to {@code --server} directly. */
    public static final int NO_LOAD_BALANCER = -1;
    public static final String DEFAULT_PAUSE_IMAGE = "docker.io/k3j/pause:3.10";
    public static final Path DEFAULT_PRIVATE_REGISTRY = Path.of("/etc/k3j/registries.yaml");

    /**
     * The network services every node runs for its pods (what kube-proxy, kube-router's policy controller, CoreDNS
     * and Traefik do in k3s).
     *
     * @param serviceProxy  Services as nftables rules ({@code --disable-kube-proxy} turns it off)
     * @param networkPolicy NetworkPolicy enforcement ({@code --disable-network-policy} turns it off)
     * @param resolvConf    {@code --resolv-conf}: where the cluster DNS finds its upstream resolvers
     */
    public record NodeServices(boolean serviceProxy, boolean networkPolicy, Path resolvConf) {
        public static final NodeServices DEFAULTS = new NodeServices(true, true, Path.of("/etc/resolv.conf"));

        public NodeServices {
            Objects.requireNonNull(resolvConf, "resolvConf");
        }

        public NodeServices withResolvConf(Path p) {
            return new NodeServices(serviceProxy, networkPolicy, p);
        }
    }

    /** A node with the default private-registry file ({@value #DEFAULT_PAUSE_IMAGE} aside, k3s's defaults). */
    public AgentConfig(URI server, String token, Path dataDir, Path runDir, String nodeName, List<String> nodeIps,
                       Map<String, String> nodeLabels, List<String> nodeTaints, boolean controlPlane, String clusterDns,
                       String clusterDomain, int kubeletPort, String pauseImage, boolean allowPull, String kubeletVersion,
                       String cniBridge) {
        this(server, token, dataDir, runDir, nodeName, nodeIps, nodeLabels, nodeTaints, controlPlane, clusterDns, clusterDomain,
                kubeletPort, pauseImage, allowPull, kubeletVersion, cniBridge, DEFAULT_PRIVATE_REGISTRY, Thresholds.DEFAULTS);
    }

    /** A node on the default pod network (host-gw). */
    public AgentConfig(URI server, String token, Path dataDir, Path runDir, String nodeName, List<String> nodeIps,
                       Map<String, String> nodeLabels, List<String> nodeTaints, boolean controlPlane, String clusterDns,
                       String clusterDomain, int kubeletPort, String pauseImage, boolean allowPull, String kubeletVersion,
                       String cniBridge, Path privateRegistry, Thresholds evictionHard) {
        this(server, token, dataDir, runDir, nodeName, nodeIps, nodeLabels, nodeTaints, controlPlane, clusterDns, clusterDomain,
                kubeletPort, pauseImage, allowPull, kubeletVersion, cniBridge, privateRegistry, evictionHard, null, null, null);
    }

    /** A node running all network services. */
    public AgentConfig(URI server, String token, Path dataDir, Path runDir, String nodeName, List<String> nodeIps,
                       Map<String, String> nodeLabels, List<String> nodeTaints, boolean controlPlane, String clusterDns,
                       String clusterDomain, int kubeletPort, String pauseImage, boolean allowPull, String kubeletVersion,
                       String cniBridge, Path privateRegistry, Thresholds evictionHard, String networkBackend, String networkTable,
                       String vxlanDevice) {
        this(server, token, dataDir, runDir, nodeName, nodeIps, nodeLabels, nodeTaints, controlPlane, clusterDns, clusterDomain,
                kubeletPort, pauseImage, allowPull, kubeletVersion, cniBridge, privateRegistry, evictionHard, networkBackend, networkTable,
                vxlanDevice, NodeServices.DEFAULTS);
    }

    /** A node talking to {@code --server} directly (no API load balancer). */
    public AgentConfig(URI server, String token, Path dataDir, Path runDir, String nodeName, List<String> nodeIps,
                       Map<String, String> nodeLabels, List<String> nodeTaints, boolean controlPlane, String clusterDns,
                       String clusterDomain, int kubeletPort, String pauseImage, boolean allowPull, String kubeletVersion,
                       String cniBridge, Path privateRegistry, Thresholds evictionHard, String networkBackend, String networkTable,
                       String vxlanDevice, NodeServices services) {
        this(server, token, dataDir, runDir, nodeName, nodeIps, nodeLabels, nodeTaints, controlPlane, clusterDns, clusterDomain,
                kubeletPort, pauseImage, allowPull, kubeletVersion, cniBridge, privateRegistry, evictionHard, networkBackend, networkTable,
                vxlanDevice, services, NO_LOAD_BALANCER);
    }

    /** A node with kubelet's default eviction thresholds. */
    public AgentConfig(URI server, String token, Path dataDir, Path runDir, String nodeName, List<String> nodeIps,
                       Map<String, String> nodeLabels, List<String> nodeTaints, boolean controlPlane, String clusterDns,
                       String clusterDomain, int kubeletPort, String pauseImage, boolean allowPull, String kubeletVersion,
                       String cniBridge, Path privateRegistry) {
        this(server, token, dataDir, runDir, nodeName, nodeIps, nodeLabels, nodeTaints, controlPlane, clusterDns, clusterDomain,
                kubeletPort, pauseImage, allowPull, kubeletVersion, cniBridge, privateRegistry, Thresholds.DEFAULTS);
    }

    public AgentConfig {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(runDir, "runDir");
        nodeIps = List.copyOf(nodeIps);
        nodeLabels = Map.copyOf(nodeLabels);
        nodeTaints = List.copyOf(nodeTaints);
        if (cniBridge == null || cniBridge.isBlank()) cniBridge = "cni0";
        if (privateRegistry == null) privateRegistry = DEFAULT_PRIVATE_REGISTRY;
        if (evictionHard == null) evictionHard = Thresholds.DEFAULTS;
        if (networkBackend == null || networkBackend.isBlank()) networkBackend = "host-gw";
        if (!networkBackend.equals("host-gw") && !networkBackend.equals("vxlan")) {
            throw new IllegalArgumentException("network backend " + networkBackend + " (expected host-gw or vxlan)");
        }
        if (networkTable == null || networkTable.isBlank()) networkTable = cniBridge.equals("cni0") ? "k3j-net" : "k3j-net-" + cniBridge;
        if (vxlanDevice == null || vxlanDevice.isBlank()) vxlanDevice = "k3j.1";
        if (services == null) services = NodeServices.DEFAULTS;
        if (vxlanDevice.length() > 15) throw new IllegalArgumentException("vxlan device " + vxlanDevice + " (expected at most 15 characters)");
        if (cniBridge.length() > 15) throw new IllegalArgumentException("bridge name " + cniBridge + " (expected at most 15 characters)");
        if (kubeletPort < 0 || kubeletPort > 65535) throw new IllegalArgumentException("kubelet port " + kubeletPort + " (expected 0-65535)");
        if (lbServerPort < NO_LOAD_BALANCER || lbServerPort > 65535) {
            throw new IllegalArgumentException("lb server port " + lbServerPort + " (expected 0-65535, or " + NO_LOAD_BALANCER + " for none)");
        }
    }

    /** The same node with another kubelet port (tests run several agents on one host). */
    public AgentConfig withKubeletPort(int port) {
        return new AgentConfig(server, token, dataDir, runDir, nodeName, nodeIps, nodeLabels, nodeTaints, controlPlane, clusterDns,
                clusterDomain, port, pauseImage, allowPull, kubeletVersion, cniBridge, privateRegistry, evictionHard, networkBackend,
                networkTable, vxlanDevice, services, lbServerPort);
    }

    /** The same node without registry pulls (tests: an image that is not imported fails instead of being pulled). */
    public AgentConfig withAllowPull(boolean allow) {
        return new AgentConfig(server, token, dataDir, runDir, nodeName, nodeIps, nodeLabels, nodeTaints, controlPlane, clusterDns,
                clusterDomain, kubeletPort, pauseImage, allow, kubeletVersion, cniBridge, privateRegistry, evictionHard, networkBackend,
                networkTable, vxlanDevice, services, lbServerPort);
    }

    /** The same node on another pod network backend ({@code host-gw} or {@code vxlan}) and device names (null: defaults). */
    public AgentConfig withNetwork(String backend, String table, String vxlan) {
        return new AgentConfig(server, token, dataDir, runDir, nodeName, nodeIps, nodeLabels, nodeTaints, controlPlane, clusterDns,
                clusterDomain, kubeletPort, pauseImage, allowPull, kubeletVersion, cniBridge, privateRegistry, evictionHard, backend, table, vxlan,
                services, lbServerPort);
    }

    /** The same node with other network services. */
    public AgentConfig withServices(NodeServices s) {
        return new AgentConfig(server, token, dataDir, runDir, nodeName, nodeIps, nodeLabels, nodeTaints, controlPlane, clusterDns,
                clusterDomain, kubeletPort, pauseImage, allowPull, kubeletVersion, cniBridge, privateRegistry, evictionHard, networkBackend,
                networkTable, vxlanDevice, s, lbServerPort);
    }

    /**
     * The same node with its API load balancer on {@code port} ({@link ApiLoadBalancer#DEFAULT_PORT} as k3s, 0 for an
     * ephemeral one), or without one ({@value #NO_LOAD_BALANCER}).
     */
    public AgentConfig withLbServerPort(int port) {
        return new AgentConfig(server, token, dataDir, runDir, nodeName, nodeIps, nodeLabels, nodeTaints, controlPlane, clusterDns,
                clusterDomain, kubeletPort, pauseImage, allowPull, kubeletVersion, cniBridge, privateRegistry, evictionHard, networkBackend,
                networkTable, vxlanDevice, services, port);
    }

    /** Where the API load balancer keeps the servers it learnt (k3s: {@code agent/etc/k3s-agent-load-balancer.json}). */
    public Path lbStateFile() {
        return dataDir.resolve("etc").resolve(ApiLoadBalancer.STATE_FILE);
    }

    /**
     * An nftables table name of this node: {@code base} on a real node ({@code cni0}), {@code base-<bridge>} for test
     * nodes sharing a network namespace.
     */
    public String nftTable(String base) {
        return cniBridge.equals("cni0") ? base : base + "-" + cniBridge;
    }

    /** containerd's root (images, snapshots). */
    public Path containerdRoot() {
        return dataDir.resolve("containerd");
    }

    /** Image archives imported at start (the air-gap folder). */
    public Path imagesDir() {
        return dataDir.resolve("images");
    }

    /** Pods' volumes, etc-hosts files and termination logs: kubelet's {@code /var/lib/kubelet/pods}. */
    public Path podsDir() {
        return dataDir.resolve("pods");
    }

    /** Container logs: kubelet's {@code /var/log/pods}. */
    public Path logsDir() {
        return dataDir.resolve("logs");
    }

    /** The agent's last known desired state, for running without the server. */
    public Path cacheDir() {
        return dataDir.resolve("cache");
    }
}
