package io.k3j.agent.netpol;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.kube.Informer;
import io.k3j.agent.kube.KubeClient;
import io.k3j.api.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Enforces networking.k8s.io/v1 NetworkPolicies for the pods of this node as an nftables table (what kube-router's
 * policy controller does in k3s). Policies, pods (cluster-wide) and namespaces come from informers the caller
 * builds and starts; every change is compiled into the whole rule model ({@link PolicyCompiler}) and applied in
 * one {@code nft} transaction, debounced: elements of peer sets and dispatch maps when only they changed, the whole
 * table otherwise. A change reaches the kernel within about {@link Config#debounce()} plus the nft run (tens of
 * milliseconds).
 *
 * <p>Where it enforces: a base chain on the inet forward hook, so it sees traffic routed to and from this node's
 * pods, and pod-to-pod traffic on the node's bridge as well <em>provided</em> bridged IPv4/IPv6 packets are passed
 * to the IP hooks ({@code net.bridge.bridge-nf-call-iptables=1} / {@code -ip6tables=1}, or the bridge's own
 * {@code nf_call_iptables}): the pod network component sets that; {@link #start()} warns when it is off. Service
 * traffic arrives already DNATed by the proxy's prerouting chain, so rules see pod addresses. Traffic the node
 * itself sends to its pods (kubelet probes, the node-local DNS and ingress) leaves through the output hook and is
 * never filtered, as Kubernetes requires; likewise traffic from pods to the node's own addresses (input hook) is not
 * subject to egress policies, which keeps the node-local DNS reachable from egress-isolated pods.
 *
 * <p>Denied connections are rejected, as kube-router does, so clients fail at once instead of timing out: TCP with a
 * reset, anything else with ICMP "administratively prohibited". Replies of allowed connections pass ({@code ct state
 * established,related}), and so do connections established before a policy denied them, until they end.
 *
 * <p>{@link #close()} leaves the table in place (pods stay protected while the agent restarts); the next start
 * rewrites it wholesale. {@link #remove(String)} deletes it.
 */
public final class NetworkPolicyEnforcer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NetworkPolicyEnforcer.class.getName());
    /** The production table name. */
    public static final String DEFAULT_TABLE = "k3j-netpol";
    private static final Duration RETRY = Duration.ofSeconds(1);
    private static final Duration CHECK_INTERVAL = Duration.ofSeconds(30);

    /**
     * @param nodeName        this node: the pods it enforces for are those with this {@code spec.nodeName}
     * @param table           the nft table ({@code inet} family) owned by the enforcer, {@value DEFAULT_TABLE} in production
     * @param bridge          the pod bridge, only to check that bridged traffic reaches the forward hook (may be null)
     * @param debounce        how long to gather changes before applying them
     * @param initialSyncWait how long the first write waits for the informers' first lists; after it the rules
     *                        are written from what they hold (a cache loaded while the server is unreachable)
     */
    public record Config(String nodeName, String table, String bridge, Duration debounce, Duration initialSyncWait) {
        public Config {
            requireNonNull(nodeName, "nodeName");
            requireNonNull(table, "table");
            requireNonNull(debounce, "debounce");
            requireNonNull(initialSyncWait, "initialSyncWait");
            if (table.isEmpty() || !table.matches("[A-Za-z][A-Za-z0-9_.-]{0,62}")) {
                throw new IllegalArgumentException("table : " + table + " (expected: a letter, then letters, digits, _ . -)");
            }
            if (debounce.isNegative()) throw new IllegalArgumentException("debounce : " + debounce + " (expected: >= 0)");
        }

        /** Production defaults: table {@value DEFAULT_TABLE}, 100 ms debounce, 10 s wait for the first lists. */
        public static Config of(String nodeName, String bridge) {
            return new Config(nodeName, DEFAULT_TABLE, bridge, Duration.ofMillis(100), Duration.ofSeconds(10));
        }

        public Config withTable(String t) {
            return new Config(nodeName, t, bridge, debounce, initialSyncWait);
        }
    }

    private final Config config;
    private final List<Informer> informers;
    private final Map<String, Policy> policies = new ConcurrentHashMap<>();
    private final Map<String, PodInfo> pods = new ConcurrentHashMap<>();
    private final Map<String, Map<String, String>> namespaces = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean dirty = true;
    /** When the oldest change not yet applied arrived (System.nanoTime), for the latency log. */
    private long pendingSince = System.nanoTime();
    private long lastLatencyNanos;
    private long applied;
    private volatile boolean closed;
    private volatile Thread worker;
    private Ruleset current;
    private boolean bridgeChecked;

    /**
     * Registers handlers on the informers; they are started by the caller (before or after {@link #start()}).
     *
     * @param networkPolicies {@code /apis/networking.k8s.io/v1/networkpolicies}, all namespaces
     * @param pods            {@code /api/v1/pods}, all namespaces, ideally from {@link #podInformer} (only the fields
     *                        policies need are kept); not to be shared with other components
     * @param namespaces      {@code /api/v1/namespaces}
     */
    public NetworkPolicyEnforcer(Config config, Informer networkPolicies, Informer pods, Informer namespaces) {
        this.config = requireNonNull(config, "config");
        this.informers = List.of(requireNonNull(networkPolicies, "networkPolicies"), requireNonNull(pods, "pods"),
                requireNonNull(namespaces, "namespaces"));
        networkPolicies.addHandler(new Tracker<>(this.policies, Policy::of, o -> key(o)));
        pods.addHandler(new Tracker<>(this.pods, PodInfo::of, o -> key(o)));
        namespaces.addHandler(new Tracker<>(this.namespaces, NetworkPolicyEnforcer::labels, o -> Json.text(o.path("metadata"), "name")));
    }

    /** A cluster-wide pods informer keeping only what policies need (labels, addresses, node, named ports, phase). */
    public static Informer podInformer(KubeClient client, Path cacheDir) {
        return new Informer(client, "/api/v1/pods", Map.of(), cacheDir).withTransform(PodInfo::slim);
    }

    /** The NetworkPolicies of every namespace. */
    public static Informer networkPolicyInformer(KubeClient client, Path cacheDir) {
        return new Informer(client, "/apis/networking.k8s.io/v1/networkpolicies", Map.of(), cacheDir);
    }

    /** Every namespace (their labels feed namespaceSelectors). */
    public static Informer namespaceInformer(KubeClient client, Path cacheDir) {
        return new Informer(client, "/api/v1/namespaces", Map.of(), cacheDir);
    }

    /** Starts the thread that keeps the table in line with the informers; the first write adopts a stale table. */
    public NetworkPolicyEnforcer start() {
        if (worker != null) throw new IllegalStateException("already started");
        worker = Thread.ofVirtual().name("netpol " + config.table()).start(this::run);
        return this;
    }

    public Config config() {
        return config;
    }

    /** Stops the thread; the rules stay in force. */
    @Override
    public void close() {
        closed = true;
        Thread t = worker;
        if (t == null) return;
        t.interrupt();
        try {
            t.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops and deletes the table (for killAll). */
    public void cleanup() {
        close();
        remove(config.table());
    }

    /** Deletes the table {@code table} if it exists: every policy of this node stops being enforced. */
    public static void remove(String table) {
        Nft.Result r = Nft.run(null, "delete", "table", "inet", table);
        if (r.exit() != 0 && !r.output().contains("No such file or directory")) {
            throw new Nft.NftException("deleting table inet " + table + ": " + r.output().strip());
        }
    }

    // ---- for tests in this package ------------------------------------------------------------------------------

    /** How many batches have been applied. */
    long appliedCount() {
        lock.lock();
        try {
            return applied;
        } finally {
            lock.unlock();
        }
    }

    /** From the first informer event of the last applied batch to its nft run's end. */
    Duration lastLatency() {
        lock.lock();
        try {
            return Duration.ofNanos(lastLatencyNanos);
        } finally {
            lock.unlock();
        }
    }

    /** The rule model last applied, or null. */
    Ruleset current() {
        lock.lock();
        try {
            return current;
        } finally {
            lock.unlock();
        }
    }

    // ---- the loop ---------------------------------------------------------------------------------------------

    private void run() {
        try {
            awaitInformers();
            long nextCheck = System.nanoTime() + CHECK_INTERVAL.toNanos();
            while (!closed) {
                lock.lock();
                try {
                    while (!dirty && !closed && System.nanoTime() < nextCheck) {
                        changed.awaitNanos(nextCheck - System.nanoTime());
                    }
                } finally {
                    lock.unlock();
                }
                if (closed) break;
                if (System.nanoTime() >= nextCheck) {
                    nextCheck = System.nanoTime() + CHECK_INTERVAL.toNanos();
                    checkTable();
                }
                // let a burst of events (a Deployment scaling, a namespace relabelled) settle into one batch
                if (!config.debounce().isZero()) Thread.sleep(config.debounce().toMillis());
                long since;
                lock.lock();
                try {
                    if (!dirty) continue;
                    dirty = false;
                    since = pendingSince;
                } finally {
                    lock.unlock();
                }
                sync(since);
            }
        } catch (InterruptedException e) {
            // close()
        }
    }

    /**
     * Holds the first write until the informers have listed. A server that stays unreachable gets {@link
     * Config#initialSyncWait()}; then the informers' cached objects are written, but an empty view (no cache) never
     * replaces the table the last run left: those rules keep protecting the pods until the server answers.
     */
    private void awaitInformers() throws InterruptedException {
        long deadline = System.nanoTime() + config.initialSyncWait().toNanos();
        boolean warned = false;
        while (!closed) {
            boolean synced = true;
            for (Informer i : informers) {
                long left = Math.max(deadline - System.nanoTime(), 0);
                if (!i.awaitSynced(Duration.ofNanos(Math.min(left, Duration.ofSeconds(1).toNanos())))) {
                    synced = false;
                    break;
                }
            }
            if (synced) return;
            if (System.nanoTime() < deadline) continue;
            if (!policies.isEmpty() || !pods.isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, "network policies: informers not synced after {0}; writing table {1} from what is cached",
                        config.initialSyncWait(), config.table());
                return;
            }
            if (!warned) {
                LOG.log(System.Logger.Level.WARNING, "network policies: informers not synced after {0} and nothing cached; table {1} "
                        + "keeps the rules of the last run until the server answers", config.initialSyncWait(), config.table());
                warned = true;
            }
            Thread.sleep(1000);
        }
    }

    private void sync(long since) throws InterruptedException {
        long t0 = System.nanoTime();
        Ruleset next;
        try {
            next = PolicyCompiler.compile(config.nodeName(), List.copyOf(policies.values()), List.copyOf(pods.values()), Map.copyOf(namespaces));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "network policies: compiling rules failed", e);
            retryLater();
            return;
        }
        Ruleset previous = current();
        String script = previous == null ? null : next.incremental(previous, config.table());
        boolean full = script == null;
        if (full) script = next.full(config.table());
        if (!script.isEmpty()) {
            try {
                Nft.apply(script);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "network policies: applying {0} batch to table {1} failed: {2}",
                        full ? "a full" : "an incremental", config.table(), e.getMessage());
                lock.lock();
                try {
                    current = null;
                } finally {
                    lock.unlock();
                }
                retryLater();
                return;
            }
        }
        lock.lock();
        try {
            current = next;
            applied++;
            lastLatencyNanos = System.nanoTime() - since;
        } finally {
            lock.unlock();
        }
        LOG.log(System.Logger.Level.DEBUG, "network policies: {0} table {1} in {2} ms, {3} ms after the change ({4} pod chains)",
                script.isEmpty() ? "nothing to change in" : full ? "rewrote" : "updated", config.table(),
                (System.nanoTime() - t0) / 1_000_000, (System.nanoTime() - since) / 1_000_000, next.chains().size());
        if (!bridgeChecked) checkBridge();
    }

    private void retryLater() throws InterruptedException {
        Thread.sleep(RETRY.toMillis());
        markDirty();
    }

    /** The table deleted behind our back (a flush of the ruleset) is written again. */
    private void checkTable() {
        if (current() == null) return;
        try {
            if (Nft.run(null, "list", "chain", "inet", config.table(), Ruleset.BASE_CHAIN).exit() != 0) {
                LOG.log(System.Logger.Level.WARNING, "network policies: table {0} vanished; writing it again", config.table());
                lock.lock();
                try {
                    current = null;
                    if (!dirty) pendingSince = System.nanoTime();
                    dirty = true;
                } finally {
                    lock.unlock();
                }
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "network policies: cannot check table {0}: {1}", config.table(), e.getMessage());
        }
    }

    /** Same-node pod traffic is bridged: without bridge netfilter it never reaches the forward hook. */
    private void checkBridge() {
        boolean global = "1".equals(read(Path.of("/proc/sys/net/bridge/bridge-nf-call-iptables")));
        boolean perBridge = config.bridge() != null && "1".equals(read(Path.of("/sys/class/net", config.bridge(), "bridge", "nf_call_iptables")));
        if (global || perBridge) {
            bridgeChecked = true;
            return;
        }
        if (config.bridge() != null && !Files.isDirectory(Path.of("/sys/class/net", config.bridge()))) return; // no pods yet
        bridgeChecked = true;
        LOG.log(System.Logger.Level.WARNING, "network policies: net.bridge.bridge-nf-call-iptables is off: traffic between pods on "
                + "the same bridge bypasses the policies of table {0}", config.table());
    }

    private static String read(Path p) {
        try {
            return Files.readString(p).strip();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private void markDirty() {
        lock.lock();
        try {
            if (!dirty) pendingSince = System.nanoTime();
            dirty = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ---- informer handlers ------------------------------------------------------------------------------------

    /** Keeps the parsed form of each object; a change that leaves it equal (a pod's conditions) triggers nothing. */
    private final class Tracker<T> implements Informer.Handler {
        private final Map<String, T> store;
        private final java.util.function.Function<ObjectNode, T> parse;
        private final java.util.function.Function<ObjectNode, String> key;

        Tracker(Map<String, T> store, java.util.function.Function<ObjectNode, T> parse, java.util.function.Function<ObjectNode, String> key) {
            this.store = store;
            this.parse = parse;
            this.key = key;
        }

        @Override
        public void onAdd(ObjectNode obj) {
            put(obj);
        }

        @Override
        public void onUpdate(ObjectNode old, ObjectNode obj) {
            put(obj);
        }

        @Override
        public void onDelete(ObjectNode obj) {
            if (store.remove(key.apply(obj)) != null) markDirty();
        }

        private void put(ObjectNode obj) {
            T value;
            try {
                value = parse.apply(obj);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "network policies: ignoring {0}: {1}", key.apply(obj), e.toString());
                return;
            }
            T old = store.put(key.apply(obj), value);
            if (!value.equals(old)) markDirty();
        }
    }

    private static String key(ObjectNode obj) {
        JsonNode meta = obj.path("metadata");
        return Json.text(meta, "namespace") + "/" + Json.text(meta, "name");
    }

    private static Map<String, String> labels(ObjectNode ns) {
        Map<String, String> labels = new LinkedHashMap<>();
        ns.path("metadata").path("labels").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
        return Map.copyOf(labels);
    }
}
