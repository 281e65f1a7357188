package io.k3j.apiserver.system;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.watch.CachedObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The {@code default/kubernetes} Endpoints and EndpointSlice listing every live API server, as kube-apiserver's
 * lease endpoint reconciler keeps them ({@code --endpoint-reconciler-type=lease}, the default since 1.11).
 *
 * <p>Each server keeps a Lease of itself in {@code kube-system} (label {@value #LABEL}, its address and https port
 * as annotations), renewed every {@code renewInterval}; a Lease whose {@code renewTime + leaseDurationSeconds} has
 * passed is dead. kube-apiserver keeps those records as etcd keys with a TTL under {@code /masterleases/}; Leases
 * do the same on every datastore k3j has (SQLite, etcd, PostgreSQL, MySQL), at the price of trusting the servers'
 * clocks to agree within a few seconds. Every server writes the same union, so they agree without a leader; the
 * store skips a write that changes nothing. A server stopping cleanly deletes its Lease and rewrites the
 * endpoints without itself at once; one that is killed drops out when its Lease expires.
 *
 * <p>The Endpoints object groups addresses by port (one subset per port, as kube-apiserver's repacking does). An
 * EndpointSlice has one port list, so servers on different ports (tests on one host) get one slice per port:
 * {@code kubernetes} for the lowest, {@code kubernetes-<port>} for the others.
 */
public final class KubernetesEndpoints implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(KubernetesEndpoints.class.getName());
    /** Marks a server's Lease; the reconciler reads only Leases with it. */
    public static final String LABEL = "k3j.io/apiserver-endpoint";
    public static final String ADDRESS_ANNOTATION = "k3j.io/advertise-address";
    public static final String PORT_ANNOTATION = "k3j.io/https-port";
    public static final String NAMESPACE = "kube-system";
    /** kube-apiserver's master lease TTL is 15 s, renewed every 10 s (its endpoint reconciler interval). */
    public static final Duration DEFAULT_LEASE_DURATION = Duration.ofSeconds(15);
    public static final Duration DEFAULT_RENEW_INTERVAL = Duration.ofSeconds(5);
    private static final DateTimeFormatter MICRO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    /** One API server as clients reach it. */
    public record Server(String address, int port) implements Comparable<Server> {
        public Server {
            requireNonNull(address, "address");
            if (port < 1 || port > 65535) throw new IllegalArgumentException("port : " + port + " (expected: 1-65535)");
        }

        @Override
        public int compareTo(Server o) {
            int c = address.compareTo(o.address);
            return c != 0 ? c : Integer.compare(port, o.port);
        }
    }

    private final ObjectStore objects;
    private final ResourceType leases;
    private final ResourceType endpoints;
    private final ResourceType slices;
    private final Clock clock;
    private final Server self;
    private final Duration leaseDuration;
    private final Duration renewInterval;
    private final String identity = "k3j-apiserver-" + UUID.randomUUID();
    private final Semaphore wake = new Semaphore(0);
    private volatile boolean closed;
    private Informer informer;
    private Thread thread;

    /**
     * @param self          this server's advertise address and https port
     * @param leaseDuration how long a server counts as live after its last renewal
     * @param renewInterval how often this server renews its Lease (well below {@code leaseDuration})
     */
    public KubernetesEndpoints(ObjectStore objects, ResourceRegistry registry, Clock clock, Server self,
                               Duration leaseDuration, Duration renewInterval) {
        this.objects = requireNonNull(objects, "objects");
        this.clock = requireNonNull(clock, "clock");
        this.self = requireNonNull(self, "self");
        this.leaseDuration = requireNonNull(leaseDuration, "leaseDuration");
        this.renewInterval = requireNonNull(renewInterval, "renewInterval");
        if (leaseDuration.toSeconds() < 1) throw new IllegalArgumentException("leaseDuration : " + leaseDuration + " (expected: >= 1s)");
        if (renewInterval.compareTo(leaseDuration) >= 0) {
            throw new IllegalArgumentException("renewInterval : " + renewInterval + " (expected: < leaseDuration " + leaseDuration + ")");
        }
        leases = registry.find("coordination.k8s.io", "v1", "leases").orElseThrow();
        endpoints = registry.find("", "v1", "endpoints").orElseThrow();
        slices = registry.find("discovery.k8s.io", "v1", "endpointslices").orElseThrow();
    }

    /** The name of a server's Lease: {@code k3j-apiserver-<address>-<port>}, an IPv6 address's colons as dashes. */
    public static String leaseName(Server s) {
        return "k3j-apiserver-" + s.address().toLowerCase(java.util.Locale.ROOT).replace(':', '-').replace('%', '-') + "-" + s.port();
    }

    /**
     * Registers this server and writes the endpoints before returning, then keeps both up to date: renews on its
     * interval, and rewrites the endpoints when another server's Lease changes or expires.
     */
    public KubernetesEndpoints start() {
        renew();
        reconcile();
        informer = new Informer(objects, leases, e -> {
            // other Leases of kube-system (leader election) change every few seconds: only servers' records matter
            if (isServerLease(e.object()) || isServerLease(e.previous())) wake.release();
        }).start();
        thread = Thread.ofVirtual().name("kubernetes-endpoints").start(this::run);
        return this;
    }

    private static boolean isServerLease(JsonNode lease) {
        return lease != null && NAMESPACE.equals(lease.path("metadata").path("namespace").asText())
                && "true".equals(lease.path("metadata").path("labels").path(LABEL).asText());
    }

    private void run() {
        Instant nextRenew = clock.instant().plus(renewInterval);
        while (!closed) {
            try {
                Instant now = clock.instant();
                if (!now.isBefore(nextRenew)) {
                    renew();
                    nextRenew = now.plus(renewInterval);
                }
                Instant wakeAt = nextRenew;
                Instant expiry = reconcile();
                if (expiry != null && expiry.isBefore(wakeAt)) wakeAt = expiry;
                long waitMillis = Math.max(1, Duration.between(clock.instant(), wakeAt).toMillis() + 1);
                if (wake.tryAcquire(waitMillis, TimeUnit.MILLISECONDS)) wake.drainPermits();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (closed) return;
                LOG.log(System.Logger.Level.WARNING, "reconciling the kubernetes endpoints: " + e.getMessage());
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** Creates or renews this server's Lease. */
    void renew() {
        String ts = MICRO.format(clock.instant());
        String name = leaseName(self);
        ObjectNode lease = Json.object();
        ObjectNode meta = lease.putObject("metadata").put("name", name).put("namespace", NAMESPACE);
        meta.putObject("labels").put(LABEL, "true");
        meta.putObject("annotations").put(ADDRESS_ANNOTATION, self.address()).put(PORT_ANNOTATION, Integer.toString(self.port()));
        lease.putObject("spec").put("holderIdentity", identity).put("leaseDurationSeconds", leaseDuration.toSeconds())
                .put("acquireTime", ts).put("renewTime", ts);
        if (objects.find(leases, NAMESPACE, name).isEmpty()) {
            try {
                objects.create(leases, NAMESPACE, lease, WriteOptions.system("k3j"));
                return;
            } catch (ApiException e) {
                if (e.code() != 409) throw e;
            }
        }
        objects.updateWith(leases, NAMESPACE, name, "", WriteOptions.system("k3j"), current -> {
            ObjectNode m = Meta.metadata(current);
            Json.obj(m, "labels").put(LABEL, "true");
            Json.obj(m, "annotations").put(ADDRESS_ANNOTATION, self.address()).put(PORT_ANNOTATION, Integer.toString(self.port()));
            ObjectNode spec = Json.obj(current, "spec");
            if (!identity.equals(spec.path("holderIdentity").asText())) spec.put("acquireTime", ts);
            spec.put("holderIdentity", identity).put("leaseDurationSeconds", leaseDuration.toSeconds()).put("renewTime", ts);
            return current;
        });
    }

    /** The live servers: this one (while it runs) and every server whose Lease has not expired. */
    public Set<Server> live() {
        return liveAt(clock.instant(), new Instant[1]);
    }

    private Set<Server> liveAt(Instant now, Instant[] nextExpiry) {
        Set<Server> live = new TreeSet<>();
        if (!closed) live.add(self);
        objects.cache().sync();
        for (CachedObject o : objects.cache().cache(leases.storagePrefix()).list(leases.storagePrefix() + NAMESPACE + "/").objects()) {
            JsonNode meta = o.object().path("metadata");
            if (!"true".equals(meta.path("labels").path(LABEL).asText())) continue;
            Server s = server(meta.path("annotations"));
            if (s == null || (closed && s.equals(self))) continue;
            Instant expires = expiry(o.object().path("spec"));
            if (expires == null || !expires.isAfter(now)) continue;
            live.add(s);
            if (nextExpiry[0] == null || expires.isBefore(nextExpiry[0])) nextExpiry[0] = expires;
        }
        return live;
    }

    private static Server server(JsonNode annotations) {
        try {
            String address = annotations.path(ADDRESS_ANNOTATION).asText("");
            if (address.isEmpty()) return null;
            return new Server(address, Integer.parseInt(annotations.path(PORT_ANNOTATION).asText("")));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static Instant expiry(JsonNode spec) {
        String renew = spec.path("renewTime").asText("");
        long seconds = spec.path("leaseDurationSeconds").asLong(0);
        if (renew.isEmpty() || seconds <= 0) return null;
        try {
            return Instant.parse(renew).plusSeconds(seconds);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /**
     * Writes the live servers into the endpoints.
     *
     * @return when the next of the other servers' Leases expires (null if none), so the caller looks again then
     */
    Instant reconcile() {
        Instant[] nextExpiry = new Instant[1];
        Set<Server> live = liveAt(clock.instant(), nextExpiry);
        write(live);
        return nextExpiry[0];
    }

    private void write(Set<Server> live) {
        TreeMap<Integer, List<String>> byPort = new TreeMap<>();
        for (Server s : live) byPort.computeIfAbsent(s.port(), p -> new ArrayList<>()).add(s.address());

        ObjectNode ep = Json.object();
        ep.putObject("metadata").put("name", "kubernetes").putObject("labels").put("endpointslice.kubernetes.io/skip-mirror", "true");
        ArrayNode subsets = ep.putArray("subsets");
        for (Map.Entry<Integer, List<String>> g : byPort.entrySet()) {
            ObjectNode subset = subsets.addObject();
            ArrayNode addresses = subset.putArray("addresses");
            g.getValue().forEach(a -> addresses.addObject().put("ip", a));
            subset.putArray("ports").addObject().put("name", "https").put("port", g.getKey()).put("protocol", "TCP");
        }
        put(endpoints, ep);

        Set<String> wanted = new TreeSet<>();
        if (byPort.isEmpty()) byPort.put(self.port(), List.of());
        boolean first = true;
        for (Map.Entry<Integer, List<String>> g : byPort.entrySet()) {
            String name = first ? "kubernetes" : "kubernetes-" + g.getKey();
            first = false;
            wanted.add(name);
            boolean v6 = !g.getValue().isEmpty() && g.getValue().getFirst().contains(":");
            ObjectNode slice = Json.object();
            slice.putObject("metadata").put("name", name).putObject("labels").put("kubernetes.io/service-name", "kubernetes");
            slice.put("addressType", v6 ? "IPv6" : "IPv4");
            ArrayNode eps = slice.putArray("endpoints");
            g.getValue().forEach(a -> {
                ObjectNode e = eps.addObject();
                e.putArray("addresses").add(a);
                e.putObject("conditions").put("ready", true);
            });
            slice.putArray("ports").addObject().put("name", "https").put("port", g.getKey()).put("protocol", "TCP");
            put(slices, slice);
        }
        // slices of a port no live server uses any more
        for (CachedObject o : objects.cache().cache(slices.storagePrefix()).list(slices.storagePrefix() + "default/").objects()) {
            String name = Meta.name(o.object());
            if (!name.startsWith("kubernetes-") || wanted.contains(name)) continue;
            if (!"kubernetes".equals(o.object().path("metadata").path("labels").path("kubernetes.io/service-name").asText())) continue;
            deleteIfExists(slices, "default", name);
        }
    }

    /** Creates the object, or replaces its content (labels and body) when it differs; the store skips no-op writes. */
    private void put(ResourceType type, ObjectNode desired) {
        String name = Meta.name(desired);
        if (objects.find(type, "default", name).isEmpty()) {
            try {
                objects.create(type, "default", desired, WriteOptions.system("k3j"));
                return;
            } catch (ApiException e) {
                if (e.code() != 409) throw e;
            }
        }
        objects.updateWith(type, "default", name, "", WriteOptions.system("k3j"), current -> {
            ObjectNode next = desired.deepCopy();
            ObjectNode meta = Meta.metadata(current);
            Json.obj(meta, "labels").setAll((ObjectNode) desired.get("metadata").get("labels"));
            next.set("metadata", meta);
            return next;
        });
    }

    private void deleteIfExists(ResourceType type, String namespace, String name) {
        try {
            objects.delete(type, namespace, name, DeleteOptions.DEFAULT);
        } catch (ApiException e) {
            if (e.code() != 404 && e.code() != 409) throw e;
        }
    }

    /**
     * Stops renewing, deletes this server's Lease (if no newer process of the same address took it over) and
     * rewrites the endpoints without this server, as kube-apiserver's {@code RemoveEndpoints} does on shutdown.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (informer != null) informer.close();
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            objects.find(leases, NAMESPACE, leaseName(self)).ifPresent(lease -> {
                if (!identity.equals(lease.path("spec").path("holderIdentity").asText())) return;
                try {
                    objects.delete(leases, NAMESPACE, leaseName(self), new DeleteOptions(null, null, Meta.uid(lease), null, false));
                } catch (ApiException e) {
                    if (e.code() != 404 && e.code() != 409) throw e;
                }
            });
            reconcile();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "removing this server from the kubernetes endpoints: " + e.getMessage());
        }
    }
}
