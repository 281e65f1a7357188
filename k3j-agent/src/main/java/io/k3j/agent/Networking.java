package io.k3j.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.dns.ClusterDns;
import io.k3j.agent.ingress.IngressConfig;
import io.k3j.agent.ingress.IngressController;
import io.k3j.agent.kube.Informer;
import io.k3j.agent.kube.KubeClient;
import io.k3j.agent.netpol.NetworkPolicyEnforcer;
import io.k3j.agent.network.CniConfig;
import io.k3j.agent.network.PodNetwork;
import io.k3j.agent.proxy.ServiceProxy;
import io.k3j.api.ApiException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * A node's network, everything k3s runs beside kubelet for pods to talk: the pod network (bridge, routes to the other
 * nodes' pods, masquerade), the service proxy, NetworkPolicy enforcement, and the node-local cluster DNS and ingress
 * that the {@code k3j.io/node-local} Services point at.
 *
 * <p>Everything but the policies needs the node's podCIDR (the DNS and the ingress listen on its gateway address),
 * so set-up runs on a thread of its own: with the podCIDR a previous run remembered at once — offline too — else
 * once the server has assigned one. Until then the runtime reports the network not ready and the node stays
 * NotReady, as with kubelet. {@link #close()} stops the components and leaves their rules and the bridge in place,
 * so pods keep talking while the agent restarts; {@link #remove(AgentConfig)} takes all of it away.
 */
final class Networking implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Networking.class.getName());
    static final String PROXY_TABLE = "k3j-proxy";

    private final AgentConfig config;
    private final KubeClient kube;
    private final Path cniConfDir;
    private final String nodeIp;
    /** Components and informers in start order; closed in reverse. */
    private final List<AutoCloseable> started = Collections.synchronizedList(new ArrayList<>());
    private final Thread setup;
    private volatile PodNetwork network;

    private Networking(AgentConfig config, KubeClient kube, Path cniConfDir, String nodeIp) {
        this.config = config;
        this.kube = kube;
        this.cniConfDir = cniConfDir;
        this.nodeIp = nodeIp;
        this.setup = Thread.ofVirtual().name("pod-network").unstarted(this::run);
    }

    static Networking start(AgentConfig config, KubeClient kube, Path cniConfDir, String nodeIp) {
        Networking n = new Networking(config, kube, cniConfDir, nodeIp);
        n.setup.start();
        return n;
    }

    private void run() {
        try {
            // network policies don't need the podCIDR: a rebooted node enforces them before its first pod starts
            if (config.services().networkPolicy()) startNetworkPolicies();
            String cidr = podCidr();
            String gateway = firstHost(cidr);
            // every component registers its handlers before any shared informer loads or lists
            Informer nodes = new Informer(kube, "/api/v1/nodes", Map.of(), config.cacheDir().resolve("nodes")).withTransform(PodNetwork::slimNode);
            PodNetwork.Backend backend = PodNetwork.Backend.parse(config.networkBackend());
            PodNetwork net = new PodNetwork(new PodNetwork.Config(config.nodeName(), nodeIp, config.cniBridge(), backend, config.networkTable(),
                    config.vxlanDevice(), cidr, Duration.ofSeconds(30)), kube, nodes);
            network = net;
            Informer services = new Informer(kube, "/api/v1/services", Map.of(), config.cacheDir().resolve("services"));
            Informer slices = new Informer(kube, "/apis/discovery.k8s.io/v1/endpointslices", Map.of(),
                    config.cacheDir().resolve("endpointslices"));
            ClusterDns dns = new ClusterDns(ClusterDns.Config.of(new InetSocketAddress(gateway, 53), config.clusterDomain(),
                    ClusterDns.upstreamsFromResolvConf(config.services().resolvConf())), services, slices, nodes);
            // Service traffic keeps its source when it comes from this node's pods (other nodes' pods are DNATed by
            // their own node's proxy and never reach a clusterIP here); everything else is masqueraded
            ServiceProxy proxy = config.services().serviceProxy()
                    ? new ServiceProxy(ServiceProxy.Config.defaults(config.nodeName(), List.of(nodeIp), gateway)
                            .withTable(config.nftTable(PROXY_TABLE)).withClusterCidr(cidr)
                            // a node sharing its network namespace (in-process test nodes: own bridge and table names)
                            // leaves the namespace-wide route_localnet alone
                            .withLocalhostNodePorts(config.nftTable(PROXY_TABLE).equals(PROXY_TABLE)), services, slices)
                    : null;
            Path cache = config.cacheDir();
            Informer ingresses = new Informer(kube, IngressController.INGRESSES, Map.of(), cache.resolve("ingresses"));
            Informer ingressClasses = new Informer(kube, IngressController.INGRESS_CLASSES, Map.of(), cache.resolve("ingressclasses"));
            // TLS keys are cached too (root-only data dir): the ingress keeps serving HTTPS with the server gone
            Informer tlsSecrets = IngressController.tlsSecrets(kube, cache.resolve("tls-secrets"));
            IngressController ingress = new IngressController(IngressConfig.forGateway(InetAddress.getByName(gateway)),
                    ingresses, ingressClasses, services, slices, tlsSecrets);
            CountDownLatch ingressService = new CountDownLatch(1);
            services.addHandler(Informer.Handler.of(obj -> {
                if (isIngressService(obj)) ingressService.countDown();
            }, obj -> { }));

            startAll(List.of(nodes), net::start, net);
            awaitPodNetwork(net, cidr, backend);
            startAll(List.of(services, slices), proxy == null ? () -> { } : proxy::start, proxy);
            started.add(dns);
            startDns(dns);
            startAll(List.of(ingresses, ingressClasses, tlsSecrets), () -> { }, null);
            // the ingress listens only in clusters that deploy it (the server's --disable traefik leaves it off)
            ingressService.await();
            started.add(ingress);
            ingress.start();
            LOG.log(System.Logger.Level.INFO, "ingress listening on {0} and {1}", ingress.httpAddress(), ingress.httpsAddress());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | IOException e) {
            LOG.log(System.Logger.Level.ERROR, "setting up the node''s network failed: " + e, e);
        }
    }

    /** kube-system/k3j-ingress, the Service in front of every node's ingress. */
    private static boolean isIngressService(ObjectNode svc) {
        return "kube-system".equals(svc.path("metadata").path("namespace").asText()) && "k3j-ingress".equals(svc.path("metadata").path("name").asText());
    }

    /** The pod gateway address: the first host address of the podCIDR (10.42.0.1 for 10.42.0.0/24). */
    static String firstHost(String cidr) {
        String[] parts = cidr.substring(0, cidr.indexOf('/')).split("\\.");
        int prefix = Integer.parseInt(cidr.substring(cidr.indexOf('/') + 1));
        int ip = 0;
        for (String p : parts) ip = (ip << 8) | Integer.parseInt(p);
        int network = prefix == 0 ? 0 : ip & (-1 << (32 - prefix));
        int gw = network + 1;
        return (gw >>> 24) + "." + ((gw >> 16) & 255) + "." + ((gw >> 8) & 255) + "." + (gw & 255);
    }

    private void startNetworkPolicies() {
        Path cache = config.cacheDir();
        Informer policies = NetworkPolicyEnforcer.networkPolicyInformer(kube, cache.resolve("networkpolicies"));
        Informer pods = NetworkPolicyEnforcer.podInformer(kube, cache.resolve("netpol-pods"));
        Informer namespaces = NetworkPolicyEnforcer.namespaceInformer(kube, cache.resolve("namespaces"));
        NetworkPolicyEnforcer enforcer = new NetworkPolicyEnforcer(
                NetworkPolicyEnforcer.Config.of(config.nodeName(), config.cniBridge()).withTable(config.nftTable(NetworkPolicyEnforcer.DEFAULT_TABLE)),
                policies, pods, namespaces);
        startAll(List.of(policies, pods, namespaces), enforcer::start, enforcer);
    }

    /** The podCIDR this node had last time (remembered on disk), else the one the server assigns, waited for. */
    private String podCidr() throws IOException, InterruptedException {
        Path remembered = rememberedCidr();
        if (Files.exists(remembered)) {
            String previous = Files.readString(remembered).strip();
            if (!previous.isEmpty()) return previous;
        }
        Duration backoff = Duration.ofMillis(100);
        while (true) {
            try {
                JsonNode node = kube.get("/api/v1/nodes/" + config.nodeName());
                String cidr = node.path("spec").path("podCIDR").asText("");
                if (!cidr.isEmpty()) return cidr;
            } catch (KubeClient.Unreachable | ApiException e) {
                LOG.log(System.Logger.Level.DEBUG, "waiting for the node''s podCIDR: {0}", e.getMessage());
            }
            Thread.sleep(backoff);
            backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(5)) > 0 ? Duration.ofSeconds(5) : backoff.multipliedBy(2);
        }
    }

    private Path rememberedCidr() {
        return config.dataDir().resolve("etc/pod-cidr");
    }

    /** Waits for the bridge with its gateway address, then writes the CNI conflist: what lets containerd start sandboxes. */
    private void awaitPodNetwork(PodNetwork net, String cidr, PodNetwork.Backend backend) throws IOException, InterruptedException {
        try {
            net.ready().get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("setting up the pod network", e.getCause());
        }
        String actual = net.podCidr().orElse(cidr);
        Path remembered = rememberedCidr();
        Files.createDirectories(remembered.getParent());
        Files.writeString(remembered, actual + "\n");
        // VXLAN adds 50 bytes of headers: pods' packets must leave room for them
        new CniConfig(config.cniBridge(), actual, config.dataDir().resolve("cni/networks"), backend == PodNetwork.Backend.VXLAN ? 1450 : 0)
                .write(cniConfDir);
        LOG.log(System.Logger.Level.INFO, "pod network {0} on bridge {1} ({2})", actual, config.cniBridge(), backend.flag());
    }

    /** Binds the DNS, retrying: the gateway address may still be settling on the bridge. */
    private void startDns(ClusterDns dns) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                dns.start();
                return;
            } catch (UncheckedIOException e) {
                if (attempt == 20) {
                    LOG.log(System.Logger.Level.ERROR, "cluster DNS not started: {0}", e.getMessage());
                    return;
                }
                Thread.sleep(500);
            }
        }
    }

    /** Loads the informers' caches (handlers see the cached objects first), starts the component, then the informers. */
    private void startAll(List<Informer> informers, Runnable startComponent, AutoCloseable component) {
        for (Informer i : informers) i.loadCache();
        startComponent.run();
        if (component != null) started.add(component);
        for (Informer i : informers) {
            i.start();
            started.add(i);
        }
    }

    /** Stops the components, leaving rules, routes and the bridge to the pods. */
    @Override
    public void close() {
        setup.interrupt();
        List<AutoCloseable> all;
        synchronized (started) {
            all = new ArrayList<>(started);
        }
        Collections.reverse(all);
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "stopping {0}: {1}", c.getClass().getSimpleName(), e.toString());
            }
        }
    }

    /** Removes what the node's network put in the kernel: nftables tables, routes, the VXLAN device and the bridge. */
    static void remove(AgentConfig config) {
        List<Runnable> removals = List.of(
                () -> NetworkPolicyEnforcer.remove(config.nftTable(NetworkPolicyEnforcer.DEFAULT_TABLE)),
                () -> ServiceProxy.remove(config.nftTable(PROXY_TABLE)),
                () -> PodNetwork.remove(config.networkTable(), config.cniBridge(), config.vxlanDevice()));
        RuntimeException failed = null;
        for (Runnable r : removals) {
            try {
                r.run(); // each one whatever the others did: a half-removed network is the worst outcome
            } catch (RuntimeException e) {
                if (failed == null) failed = e;
                else failed.addSuppressed(e);
            }
        }
        if (failed != null) throw failed;
    }
}
