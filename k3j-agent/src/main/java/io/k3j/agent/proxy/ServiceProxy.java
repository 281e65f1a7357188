package io.k3j.agent.proxy;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * internal/external traffic policies, hairpin masquerade, and an immediate reject for Services without endpoints.
 * Services annotated {@code k3j.io/node-local: "true"} (the cluster DNS and the ingress, which every agent serves
 * itself) DNAT to this node's pod gateway address instead. See {@link Rules} for the table's layout.
 *
 * <p>The first sync rewrites the table wholesale (replacing what a previous run left) once both informers have
 * synced, or after {@link Config#initialSyncTimeout()} with what they loaded from their disk cache; later changes
 * are coalesced for {@link Config#debounce()} and applied as one nft transaction that rewrites only the changed
 * Services' chains and map elements. {@link #close()} leaves the rules in place (pods keep reaching Services while
 * the agent restarts); {@link #remove(String)} deletes them.
 *
 * <p>Requirements on the node, which the pod network sets up: {@code net.ipv4.ip_forward=1};
 * {@code net.bridge.bridge-nf-call-iptables=1}, without which a pod reaching a ClusterIP whose endpoint sits on the
 * same bridge gets answers straight from the endpoint's address (the bridge bypasses conntrack's reverse NAT);
 * and a route covering the service CIDR (a default route does), since locally originated packets are routed before
 * the output hook can DNAT them.
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
     * @param nftCommand         how to run nft: {@code [nft]}, or e.g. {@code [nsenter, --net=/run/netns/x, nft]}
     */
    public record Config(String table, String nodeName, List<String> nodeIps, String gatewayAddress, String clusterCidr,
                         Duration debounce, Duration initialSyncTimeout, List<String> nftCommand) {
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
        }

        /** Production defaults: table {@code k3j-proxy}, cluster CIDR 10.42.0.0/16, 50 ms debounce, 10 s initial wait. */
        public static Config defaults(String nodeName, List<String> nodeIps, String gatewayAddress) {
            return new Config("k3j-proxy", nodeName, nodeIps, gatewayAddress, "10.42.0.0/16", Duration.ofMillis(50),
                    Duration.ofSeconds(10), List.of("nft"));
        }

        public Config withTable(String t) {
            return new Config(t, nodeName, nodeIps, gatewayAddress, clusterCidr, debounce, initialSyncTimeout, nftCommand);
        }

        public Config withClusterCidr(String c) {
            return new Config(table, nodeName, nodeIps, gatewayAddress, c, debounce, initialSyncTimeout, nftCommand);
        }

        public Config withInitialSyncTimeout(Duration d) {
            return new Config(table, nodeName, nodeIps, gatewayAddress, clusterCidr, debounce, d, nftCommand);
        }

        public Config withNftCommand(List<String> c) {
            return new Config(table, nodeName, nodeIps, gatewayAddress, clusterCidr, debounce, initialSyncTimeout, c);
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
            batchText = Transaction.full(config.table(), config.nodeIps(), all, new TreeSet<>(refs.keySet()));
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
        if (svc == null) return Fragment.EMPTY;
        Map<String, ObjectNode> s = slicesByService.getOrDefault(serviceKey, Map.of());
        List<ObjectNode> list = new ArrayList<>(s.values());
        return Rules.fragment(ServicePort.of(svc, list, config.gatewayAddress()), config.nodeName(), config.clusterCidr());
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
