package io.k3j.agent.proxy;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.host.Processes;
import io.k3j.agent.kube.Informer;
import io.k3j.api.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * kube-proxy's job on one node, as one nftables table ({@code ip k3j-proxy}): ClusterIP, NodePort, LoadBalancer and
 * external IPs of Services DNAT to their EndpointSlices' endpoints with random balancing, session affinity,
 * internal/external traffic policies, hairpin masquerade, and an immediate reject for Services without endpoints;
 * node ports answer on 127.0.0.1 of the node too, load balancer addresses admit only
 * {@code spec.loadBalancerSourceRanges}, UDP flows to endpoints that went away are deleted from conntrack, and
 * Services with {@code externalTrafficPolicy: Local} get kube-proxy's health check on their
 * {@code spec.healthCheckNodePort}.
 * Services annotated {@code k3j.io/node-local: "true"} (the cluster DNS and the ingress, which every agent serves
 * itself) DNAT to this node's pod gateway address instead. See {@link Rules} for the table's layout.
 *
 * <p>The first sync rewrites the table wholesale (replacing what a previous run left) once both informers have
 * synced, or after {@link Config#initialSyncTimeout()} with what they loaded from their disk cache; later changes
 * are coalesced for {@link Config#debounce()} and applied as one nft transaction that rewrites only the changed
 * Services' chains and map elements. {@link #close()} leaves the rules in place (pods keep reaching Services while
 * the agent restarts); {@link #remove(String)} deletes them.
 *
 * <p>Only IPv4 is proxied (k3j's API server allocates IPv4 cluster IPs only); IPv6 cluster IPs, addresses and
 * EndpointSlices are ignored, and a Service without an IPv4 cluster IP gets no rules at all.
 *
 * <p>Requirements on the node, which the pod network sets up: {@code net.ipv4.ip_forward=1};
 * {@code net.bridge.bridge-nf-call-iptables=1}, without which a pod reaching a ClusterIP whose endpoint sits on the
 * same bridge gets answers straight from the endpoint's address (the bridge bypasses conntrack's reverse NAT);
 * and a route covering the service CIDR (a default route does), since locally originated packets are routed before
 * the output hook can DNAT them. The proxy itself sets {@code net.ipv4.conf.all.route_localnet=1} (for localhost
 * node ports) and needs the {@code conntrack} tool (Debian package conntrack) for UDP Services.
 */
public final class ServiceProxy implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ServiceProxy.class.getName());
    private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,63}");
    private static final Duration RETRY = Duration.ofSeconds(1);

    /**
     * What the proxy needs to know about its node.
     *
     * @param table              the nft table (family ip); {@code k3j-proxy} in production, unique in tests
     * @param nodeName           this node's name: endpoints whose nodeName matches are local
     * @param nodeIps            where NodePorts answer: the node's InternalIPs
     * @param gatewayAddress     this node's pod gateway address (first host address of its podCIDR), the target of
     *                           node-local Services; null while unknown (those Services then get no rules)
     * @param clusterCidr        the pod network ({@code 10.42.0.0/16}): ClusterIP traffic from outside it is masqueraded,
     *                           pod traffic keeps its source; null masquerades all ClusterIP traffic
     * @param debounce           how long changes are collected before one transaction applies them
     * @param initialSyncTimeout how long the first sync waits for the informers to list
     * @param nftCommand         how to run nft: {@code [nft]}, or e.g. {@code [nsenter, --net=/run/netns/x, nft]}; what
     *                           comes before the last element also prefixes the proxy's other host commands
     *                           ({@code sysctl}, {@code conntrack}), so they act on the same network namespace
     * @param localhostNodePorts node ports answer on 127.0.0.0/8 of the node, as with kube-proxy's iptables mode
     *                           ({@code --iptables-localhost-nodeports}, default true); sets route_localnet
     * @param healthCheckAddress where the health check node ports listen ({@code 0.0.0.0} in production, as
     *                           kube-proxy); null serves none
     */
    public record Config(String table, String nodeName, List<String> nodeIps, String gatewayAddress, String clusterCidr,
                         Duration debounce, Duration initialSyncTimeout, List<String> nftCommand, boolean localhostNodePorts,
                         String healthCheckAddress) {
        public Config {
            requireNonNull(table, "table");
            if (!TABLE_NAME.matcher(table).matches()) {
                throw new IllegalArgumentException("table : " + table + " (expected: a letter, then letters, digits, '-' or '_')");
            }
            requireNonNull(nodeName, "nodeName");
            nodeIps = List.copyOf(nodeIps);
            for (String ip : nodeIps) {
                if (!ServicePort.isIpv4(ip)) throw new IllegalArgumentException("nodeIps : " + ip + " (expected: IPv4 addresses)");
            }
            if (gatewayAddress != null && !ServicePort.isIpv4(gatewayAddress)) {
                throw new IllegalArgumentException("gatewayAddress : " + gatewayAddress + " (expected: an IPv4 address)");
            }
            if (clusterCidr != null && !clusterCidr.matches("[0-9.]+/[0-9]{1,2}")) {
                throw new IllegalArgumentException("clusterCidr : " + clusterCidr + " (expected: an IPv4 CIDR)");
            }
            if (debounce.isNegative()) throw new IllegalArgumentException("debounce : " + debounce + " (expected: >= 0)");
            requireNonNull(initialSyncTimeout, "initialSyncTimeout");
            nftCommand = List.copyOf(nftCommand);
            if (nftCommand.isEmpty()) throw new IllegalArgumentException("nftCommand : [] (expected: a command)");
            if (healthCheckAddress != null && !ServicePort.isIpv4(healthCheckAddress)) {
                throw new IllegalArgumentException("healthCheckAddress : " + healthCheckAddress + " (expected: an IPv4 address)");
            }
        }

        /**
         * Production defaults: table {@code k3j-proxy}, cluster CIDR 10.42.0.0/16, 50 ms debounce, 10 s initial wait,
         * node ports on localhost, health checks on all addresses.
         */
        public static Config defaults(String nodeName, List<String> nodeIps, String gatewayAddress) {
            return new Config("k3j-proxy", nodeName, nodeIps, gatewayAddress, "10.42.0.0/16", Duration.ofMillis(50),
                    Duration.ofSeconds(10), List.of("nft"), true, "0.0.0.0");
        }

        public Config withTable(String t) {
            return new Config(t, nodeName, nodeIps, gatewayAddress, clusterCidr, debounce, initialSyncTimeout, nftCommand,
                    localhostNodePorts, healthCheckAddress);
        }

        public Config withClusterCidr(String c) {
            return new Config(table, nodeName, nodeIps, gatewayAddress, c, debounce, initialSyncTimeout, nftCommand,
                    localhostNodePorts, healthCheckAddress);
        }

        public Config withInitialSyncTimeout(Duration d) {
            return new Config(table, nodeName, nodeIps, gatewayAddress, clusterCidr, debounce, d, nftCommand,
                    localhostNodePorts, healthCheckAddress);
        }

        public Config withNftCommand(List<String> c) {
            return new Config(table, nodeName, nodeIps, gatewayAddress, clusterCidr, debounce, initialSyncTimeout, c,
                    localhostNodePorts, healthCheckAddress);
        }

        public Config withLocalhostNodePorts(boolean on) {
            return new Config(table, nodeName, nodeIps, gatewayAddress, clusterCidr, debounce, initialSyncTimeout, nftCommand,
                    on, healthCheckAddress);
        }

        public Config withHealthCheckAddress(String address) {
            return new Config(table, nodeName, nodeIps, gatewayAddress, clusterCidr, debounce, initialSyncTimeout, nftCommand,
                    localhostNodePorts, address);
        }

        /** {@code command} run the way nft is (in the same network namespace). */
        List<String> hostCommand(String... command) {
            List<String> c = new ArrayList<>(nftCommand.subList(0, nftCommand.size() - 1));
            c.addAll(List.of(command));
            return c;
        }
    }

    /**
     * One applied transaction.
     *
     * @param full     a wholesale rewrite (first sync, or recovery after a failed incremental one)
     * @param services how many Services were recomputed
     * @param bytes    the size of the nft batch
     * @param took     from the start of the computation to nft's exit
     */
    public record SyncReport(boolean full, int services, int bytes, Duration took) {
    }

    private final Config config;
    private final Informer services;
    private final Informer slices;
    /** service key → (slice key → slice): the informer's shared trees, only referenced. */
    private final Map<String, Map<String, ObjectNode>> slicesByService = new ConcurrentHashMap<>();
    private final Object lock = new Object();
    private final Set<String> dirty = new HashSet<>();
    private boolean fullNeeded = true;
    private volatile boolean closed;
    private Thread thread;
    private final List<Consumer<SyncReport>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    // owned by the sync thread
    private final Map<String, Fragment> state = new HashMap<>();
    /** "map|key" → the service whose element it is: two Services claiming one address and port, first wins. */
    private final Map<String, String> owners = new HashMap<>();
    private final Set<String> conflicted = new TreeSet<>();
    /** endpoint address → how many Service fragments list it for the hairpin set. */
    private final Map<String, Integer> hairpinRefs = new HashMap<>();
    /** service key → its health check port and what it reports; only Services that have one. */
    private final Map<String, Map.Entry<Integer, HealthCheckServer.Status>> health = new HashMap<>();
    private Map<Integer, HealthCheckServer.Status> servedHealth = Map.of();
    private final HealthCheckServer healthServer;
    private boolean conntrackMissingLogged;

    /**
     * Registers handlers on the informers, which the caller shares with others and starts.
     *
     * @param services       {@code /api/v1/services}
     * @param endpointSlices {@code /apis/discovery.k8s.io/v1/endpointslices}
     */
    public ServiceProxy(Config config, Informer services, Informer endpointSlices) {
        this.config = requireNonNull(config, "config");
        this.services = requireNonNull(services, "services");
        this.slices = requireNonNull(endpointSlices, "endpointSlices");
        try {
            this.healthServer = config.healthCheckAddress() == null ? null
                    : new HealthCheckServer(java.net.InetAddress.getByName(config.healthCheckAddress()));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("healthCheckAddress : " + config.healthCheckAddress(), e); // a literal: cannot happen
        }
        services.addHandler(Informer.Handler.of(obj -> changed(key(obj)), obj -> changed(key(obj))));
        endpointSlices.addHandler(new Informer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                putSlice(obj);
            }

            @Override
            public void onUpdate(ObjectNode old, ObjectNode obj) {
                String was = serviceOf(old);
                if (was != null && !was.equals(serviceOf(obj))) dropSlice(old);
                putSlice(obj);
            }

            @Override
            public void onDelete(ObjectNode obj) {
                dropSlice(obj);
            }
        });
    }

    /** Calls {@code listener} on the sync thread after each applied transaction (benchmarks and tests time these). */
    public ServiceProxy onSync(Consumer<SyncReport> listener) {
        listeners.add(requireNonNull(listener, "listener"));
        return this;
    }

    /** Starts the sync thread; the first sync replaces the table wholesale. */
    public synchronized ServiceProxy start() {
        if (thread != null) throw new IllegalStateException("already started");
        checkBridgeNetfilter();
        if (config.localhostNodePorts()) enableRouteLocalnet();
        thread = Thread.ofPlatform().daemon().name("service-proxy " + config.table()).start(this::run);
        return this;
    }

    /** Stops the sync thread and leaves the rules in place. */
    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t == null) return;
        t.interrupt();
        try {
            t.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (healthServer != null) healthServer.close();
    }

    /** The health check ports being served now (tests). */
    java.util.Set<Integer> healthCheckPorts() {
        return healthServer == null ? java.util.Set.of() : healthServer.ports();
    }

    /** Deletes the table (Agent.killAll, tests); nothing happens when it does not exist. */
    public static void remove(String table) {
        remove(List.of("nft"), table);
    }

    /** As {@link #remove(String)} with nft run as {@code nftCommand}. */
    public static void remove(List<String> nftCommand, String table) {
        if (!TABLE_NAME.matcher(table).matches()) throw new IllegalArgumentException("table : " + table);
        Nft.apply(nftCommand, "add table ip " + table + "\ndelete table ip " + table + "\n");
    }

    // ---- informer side ---------------------------------------------------------------------------------------

    private static String key(ObjectNode obj) {
        JsonNode m = obj.path("metadata");
        return Json.text(m, "namespace") + "/" + Json.text(m, "name");
    }

    private static String serviceOf(ObjectNode slice) {
        String svc = Json.text(slice.path("metadata").path("labels"), ServicePort.SERVICE_NAME_LABEL);
        return svc.isEmpty() ? null : Json.text(slice.path("metadata"), "namespace") + "/" + svc;
    }

    private void putSlice(ObjectNode slice) {
        String svc = serviceOf(slice);
        if (svc == null) return;
        slicesByService.computeIfAbsent(svc, k -> new ConcurrentHashMap<>()).put(key(slice), slice);
        changed(svc);
    }

    private void dropSlice(ObjectNode slice) {
        String svc = serviceOf(slice);
        if (svc == null) return;
        Map<String, ObjectNode> m = slicesByService.get(svc);
        if (m != null) {
            m.remove(key(slice));
            if (m.isEmpty()) slicesByService.remove(svc, m);
        }
        changed(svc);
    }

    private void changed(String serviceKey) {
        synchronized (lock) {
            dirty.add(serviceKey);
            lock.notifyAll();
        }
    }

    // ---- sync thread -----------------------------------------------------------------------------------------

    private void run() {
        try {
            long deadline = System.nanoTime() + config.initialSyncTimeout().toNanos();
            // rules from the previous run stay in place meanwhile, so waiting costs nothing but freshness
            services.awaitSynced(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            slices.awaitSynced(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            while (!closed) {
                Set<String> batch;
                boolean full;
                synchronized (lock) {
                    while (!fullNeeded && dirty.isEmpty() && !closed) lock.wait();
                    if (closed) break;
                }
                if (!fullNeeded && !config.debounce().isZero()) Thread.sleep(config.debounce().toMillis());
                synchronized (lock) {
                    full = fullNeeded;
                    batch = new TreeSet<>(dirty);
                    dirty.clear();
                    fullNeeded = false;
                }
                try {
                    sync(batch, full);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "service proxy: " + (full ? "rewriting" : "updating") + " table "
                            + config.table() + " failed (" + e.getMessage() + "); rewriting it " + (full ? "in " + RETRY.toSeconds() + " s" : "now"));
                    synchronized (lock) {
                        fullNeeded = true;
                    }
                    if (full) Thread.sleep(RETRY.toMillis());
                }
            }
        } catch (InterruptedException e) {
            // close()
        }
    }

    private void sync(Set<String> batch, boolean full) {
        long t0 = System.nanoTime();
        Set<String> keys = new TreeSet<>(batch);
        if (full) {
            for (ObjectNode svc : services.list()) keys.add(key(svc));
            keys.addAll(state.keySet());
            owners.clear();
            conflicted.clear();
        }
        Map<String, Integer> refs = full ? new HashMap<>() : new HashMap<>(hairpinRefs);
        Map<String, Fragment> old = new LinkedHashMap<>();
        boolean released = false;
        for (String k : keys) {
            Fragment was = state.getOrDefault(k, Fragment.EMPTY);
            old.put(k, was);
            if (!full) released |= release(k, was);
        }
        Map<String, Fragment> now = new LinkedHashMap<>();
        for (String k : keys) {
            conflicted.remove(k);
            now.put(k, claim(k, build(k)));
        }
        String batchText;
        if (full) {
            List<Fragment> all = new ArrayList<>();
            Map<String, Fragment> next = new HashMap<>(state);
            next.putAll(now);
            for (Fragment f : next.values()) {
                if (f.isEmpty()) continue;
                all.add(f);
                for (String ip : f.hairpin) refs.merge(ip, 1, Integer::sum);
            }
            batchText = Transaction.full(config.table(), config.nodeIps(), config.localhostNodePorts(), all, new TreeSet<>(refs.keySet()));
        } else {
            Set<String> added = new TreeSet<>();
            Set<String> removed = new TreeSet<>();
            for (String k : keys) {
                for (String ip : old.get(k).hairpin) {
                    if (refs.merge(ip, -1, Integer::sum) == 0) {
                        refs.remove(ip);
                        if (!added.remove(ip)) removed.add(ip);
                    }
                }
                for (String ip : now.get(k).hairpin) {
                    if (refs.merge(ip, 1, Integer::sum) == 1 && !removed.remove(ip)) added.add(ip);
                }
            }
            batchText = Transaction.diff(config.table(), old, now, added, removed);
        }
        if (!batchText.isEmpty()) Nft.apply(config.nftCommand(), batchText);
        for (String k : keys) flushStaleUdp(old.get(k), now.get(k));
        updateHealth();
        hairpinRefs.clear();
        hairpinRefs.putAll(refs);
        for (Map.Entry<String, Fragment> e : now.entrySet()) {
            if (e.getValue().isEmpty()) state.remove(e.getKey());
            else state.put(e.getKey(), e.getValue());
        }
        if (released && !conflicted.isEmpty()) {
            synchronized (lock) {
                dirty.addAll(conflicted);
            }
        }
        if (!batchText.isEmpty()) {
            SyncReport r = new SyncReport(full, keys.size(), batchText.length(), Duration.ofNanos(System.nanoTime() - t0));
            LOG.log(System.Logger.Level.DEBUG, "service proxy: {0}", r);
            for (Consumer<SyncReport> l : listeners) {
                try {
                    l.accept(r);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "service proxy sync listener failed", e);
                }
            }
        }
    }

    private Fragment build(String serviceKey) {
        int slash = serviceKey.indexOf('/');
        ObjectNode svc = services.get(serviceKey.substring(0, slash), serviceKey.substring(slash + 1)).orElse(null);
        if (svc == null) {
            health.remove(serviceKey);
            return Fragment.EMPTY;
        }
        Map<String, ObjectNode> s = slicesByService.getOrDefault(serviceKey, Map.of());
        List<ObjectNode> list = new ArrayList<>(s.values());
        List<ServicePort> ports = ServicePort.of(svc, list, config.gatewayAddress());
        trackHealth(serviceKey, svc, ports);
        return Rules.fragment(ports, config.nodeName(), config.clusterCidr());
    }

    // ---- health check node ports -------------------------------------------------------------------------------

    /**
     * Records what the Service's health check port reports: the distinct ready endpoints on this node across its
     * ports (kube-proxy's count); nothing when it has no healthCheckNodePort or traffic policy Cluster.
     */
    private void trackHealth(String serviceKey, ObjectNode svc, List<ServicePort> ports) {
        JsonNode spec = svc == null ? null : svc.path("spec");
        int port = spec == null ? 0 : spec.path("healthCheckNodePort").asInt(0);
        if (port <= 0 || port > 65535 || !"Local".equals(Json.text(spec, "externalTrafficPolicy"))) {
            health.remove(serviceKey);
            return;
        }
        Set<String> local = new HashSet<>();
        for (ServicePort sp : ports) {
            for (ServicePort.Endpoint e : sp.endpoints()) {
                if (e.ready() && (sp.nodeLocal() || config.nodeName().equals(e.nodeName()))) local.add(e.ip() + ":" + e.port());
            }
        }
        JsonNode m = svc.path("metadata");
        health.put(serviceKey, Map.entry(port, new HealthCheckServer.Status(Json.text(m, "namespace"), Json.text(m, "name"), local.size())));
    }

    private void updateHealth() {
        if (healthServer == null) return;
        Map<Integer, HealthCheckServer.Status> wanted = new HashMap<>();
        for (Map.Entry<String, Map.Entry<Integer, HealthCheckServer.Status>> e : health.entrySet()) {
            wanted.putIfAbsent(e.getValue().getKey(), e.getValue().getValue());
        }
        // also retries ports that could not be bound last time
        if (!wanted.equals(servedHealth) || wanted.size() != healthServer.ports().size()) {
            healthServer.update(wanted);
            servedHealth = wanted;
        }
    }

    // ---- conntrack --------------------------------------------------------------------------------------------

    /**
     * Deletes the conntrack flows that would keep UDP clients on endpoints the Service no longer has (kube-proxy's
     * conntrack cleanup): a UDP "connection" lives as long as the client keeps sending, and conntrack sends every
     * packet of it to the endpoint it was DNATed to first, dead or not. Also, when a Service that had no endpoints
     * gets some, the flows created meanwhile (not DNATed) are deleted, so a client retrying from the same port is
     * proxied at once.
     */
    private void flushStaleUdp(Fragment was, Fragment now) {
        if (was.udp.isEmpty() && (now.udp.isEmpty() || was.isEmpty())) return;
        for (Map.Entry<String, Set<String>> e : was.udp.entrySet()) {
            Set<String> still = now.udp.getOrDefault(e.getKey(), Set.of());
            for (String ip : e.getValue()) {
                if (!still.contains(ip)) conntrackDelete(e.getKey(), ip);
            }
        }
        if (!was.isEmpty()) {
            for (String target : now.udp.keySet()) {
                if (!was.udp.containsKey(target)) conntrackDelete(target, null);
            }
        }
    }

    /** {@code conntrack -D} of UDP flows sent to {@code target} ("ip:port" or ":nodePort"), answered by {@code endpoint} when not null. */
    private void conntrackDelete(String target, String endpoint) {
        int colon = target.lastIndexOf(':');
        List<String> args = new ArrayList<>(List.of("conntrack", "-D", "-p", "udp"));
        if (colon > 0) args.addAll(List.of("--orig-dst", target.substring(0, colon)));
        args.addAll(List.of("--orig-port-dst", target.substring(colon + 1)));
        if (endpoint != null) args.addAll(List.of("--reply-src", endpoint));
        try {
            Processes.Result r = Processes.run(Duration.ofSeconds(10), config.hostCommand(args.toArray(String[]::new)));
            // conntrack exits 1 when nothing matched
            if (!r.ok() && !r.output().contains("flow entries have been deleted")) {
                LOG.log(System.Logger.Level.WARNING, "service proxy: " + String.join(" ", args) + " failed: " + r.output().strip());
            }
        } catch (java.io.UncheckedIOException e) {
            if (!conntrackMissingLogged) {
                conntrackMissingLogged = true;
                LOG.log(System.Logger.Level.WARNING, "service proxy: cannot run conntrack (" + e.getMessage() + "): UDP clients of removed "
                        + "endpoints keep their stale flows; install the Debian package conntrack");
            }
        }
    }

    private void enableRouteLocalnet() {
        List<String> cmd = config.hostCommand("sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1");
        try {
            Processes.Result r = Processes.run(Duration.ofSeconds(10), cmd);
            if (!r.ok()) throw new java.io.UncheckedIOException(new java.io.IOException(r.output().strip()));
        } catch (java.io.UncheckedIOException e) {
            LOG.log(System.Logger.Level.WARNING, "service proxy: " + String.join(" ", cmd) + " failed (" + e.getMessage()
                    + "): node ports will not answer on 127.0.0.1");
        }
    }

    /** Forgets the elements {@code serviceKey} owned; true when it owned any. */
    private boolean release(String serviceKey, Fragment f) {
        boolean any = false;
        for (Map.Entry<String, Map<String, String>> m : f.elements.entrySet()) {
            for (String k : m.getValue().keySet()) any |= owners.remove(m.getKey() + "|" + k, serviceKey);
        }
        return any;
    }

    /** Takes the elements nobody else owns; drops (and remembers) the ones another Service holds. */
    private Fragment claim(String serviceKey, Fragment f) {
        for (Map.Entry<String, Map<String, String>> m : f.elements.entrySet()) {
            Iterator<String> it = m.getValue().keySet().iterator();
            while (it.hasNext()) {
                String k = it.next();
                String owner = owners.putIfAbsent(m.getKey() + "|" + k, serviceKey);
                if (owner != null && !owner.equals(serviceKey)) {
                    LOG.log(System.Logger.Level.WARNING, "service proxy: {0} and {1} both claim {2}; {0} keeps it", owner, serviceKey, k);
                    conflicted.add(serviceKey);
                    it.remove();
                }
            }
        }
        return f;
    }

    private static void checkBridgeNetfilter() {
        Path p = Path.of("/proc/sys/net/bridge/bridge-nf-call-iptables");
        try {
            if (!Files.exists(p) || !"1".equals(Files.readString(p).strip())) {
                LOG.log(System.Logger.Level.WARNING, "service proxy: net.bridge.bridge-nf-call-iptables is not 1: pods reaching a "
                        + "ClusterIP served by a pod on the same bridge will not get answers");
            }
        } catch (java.io.IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot read " + p + ": " + e.getMessage());
        }
    }
}
