package io.k3j.controllers.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.api.Quantity;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the scheduler needs of a pod, parsed once from its JSON so that filtering and scoring a hundred
 * nodes never touches JSON again. Immutable.
 *
 * <p>Requests follow Kubernetes' rule ({@code resource.PodRequests}): the larger of the sum of the app
 * containers (plus restartable init containers, i.e. sidecars) and the largest init container (plus the
 * sidecars started before it), then the pod overhead added. The "non-zero" requests used for scoring
 * count 100m cpu / 200Mi memory for a container that requests none, as {@code schedutil.GetNonzeroRequests}.
 */
public final class PodInfo {

    /** Default cpu (milli) and memory (bytes) that scoring assumes for a container without requests. */
    static final long DEFAULT_MILLI_CPU = 100;
    static final long DEFAULT_MEMORY = 200L * 1024 * 1024;

    /** A host port a container asks for; {@code ip} is "0.0.0.0" when unset. */
    public record HostPort(String ip, String protocol, int port) {
        boolean conflicts(HostPort o) {
            return port == o.port && protocol.equals(o.protocol)
                    && (ip.equals(o.ip) || ip.equals("0.0.0.0") || o.ip.equals("0.0.0.0"));
        }
    }

    private final ObjectNode object;
    private final String namespace;
    private final String name;
    private final String uid;
    private final Map<String, String> labels;
    private final String nodeName;
    private final int priority;
    private final boolean preemptNever;
    private final String ownerUid;
    private final boolean terminating;
    private final String startTime;
    private final String nominatedNodeName;
    final long milliCpu;
    final long memory;
    final long ephemeralStorage;
    final Map<String, Long> scalar;
    final long nonZeroMilliCpu;
    final long nonZeroMemory;
    final Map<String, String> nodeSelector;
    final NodeSelector requiredNodeAffinity;
    final List<NodeSelector> preferredNodeTerms;
    final int[] preferredNodeWeights;
    final List<Toleration> tolerations;
    final List<AffinityTerm> requiredAffinity;
    final List<AffinityTerm> requiredAntiAffinity;
    final List<AffinityTerm> preferredAffinity;
    final List<AffinityTerm> preferredAntiAffinity;
    final List<SpreadConstraint> spreadConstraints;
    final List<HostPort> hostPorts;
    final List<String> claimNames;

    private PodInfo(ObjectNode pod) {
        this.object = pod;
        JsonNode meta = pod.path("metadata");
        JsonNode spec = pod.path("spec");
        namespace = Json.text(meta, "namespace").isEmpty() ? "default" : Json.text(meta, "namespace");
        name = Json.text(meta, "name");
        uid = Json.text(meta, "uid");
        labels = stringMap(meta.get("labels"));
        nodeName = Json.text(spec, "nodeName");
        priority = spec.path("priority").asInt(0);
        preemptNever = "Never".equals(Json.text(spec, "preemptionPolicy"));
        terminating = meta.hasNonNull("deletionTimestamp");
        String st = Json.text(pod.path("status"), "startTime");
        startTime = st.isEmpty() ? Json.text(meta, "creationTimestamp") : st;
        nominatedNodeName = Json.text(pod.path("status"), "nominatedNodeName");
        String owner = null;
        JsonNode refs = meta.get("ownerReferences");
        if (refs != null && refs.isArray()) {
            for (JsonNode r : refs) if (r.path("controller").asBoolean(false)) owner = Json.text(r, "uid");
        }
        ownerUid = owner;

        // Requests: [cpu, memory, ephemeral] plus extended resources, real and non-zero.
        long[] sum = new long[3], nz = new long[2];
        Map<String, Long> sumScalar = new HashMap<>();
        long[] sidecar = new long[3], sidecarNz = new long[2];
        Map<String, Long> sidecarScalar = new HashMap<>();
        long[] initMax = new long[3], initMaxNz = new long[2];
        Map<String, Long> initMaxScalar = new HashMap<>();
        JsonNode inits = spec.get("initContainers");
        if (inits != null && inits.isArray()) {
            for (JsonNode c : inits) {
                long[] r = new long[3];
                Map<String, Long> rs = new HashMap<>();
                readRequests(c, r, rs);
                long[] rnz = nonZero(c, r);
                if ("Always".equals(Json.text(c, "restartPolicy"))) {
                    add(sidecar, r);
                    add(sidecarNz, rnz);
                    rs.forEach((k, v) -> sidecarScalar.merge(k, v, Long::sum));
                    max(initMax, sidecar);
                    max(initMaxNz, sidecarNz);
                    sidecarScalar.forEach((k, v) -> initMaxScalar.merge(k, v, Math::max));
                } else {
                    for (int i = 0; i < 3; i++) initMax[i] = Math.max(initMax[i], r[i] + sidecar[i]);
                    for (int i = 0; i < 2; i++) initMaxNz[i] = Math.max(initMaxNz[i], rnz[i] + sidecarNz[i]);
                    rs.forEach((k, v) -> initMaxScalar.merge(k, v + sidecarScalar.getOrDefault(k, 0L), Math::max));
                }
            }
        }
        JsonNode containers = spec.get("containers");
        List<HostPort> ports = new ArrayList<>();
        if (containers != null && containers.isArray()) {
            for (JsonNode c : containers) {
                long[] r = new long[3];
                readRequests(c, r, sumScalar);
                add(sum, r);
                add(nz, nonZero(c, r));
                JsonNode ps = c.get("ports");
                if (ps != null && ps.isArray()) {
                    for (JsonNode p : ps) {
                        int hp = p.path("hostPort").asInt(0);
                        if (hp <= 0) continue;
                        String ip = Json.text(p, "hostIP");
                        String proto = Json.text(p, "protocol");
                        ports.add(new HostPort(ip.isEmpty() ? "0.0.0.0" : ip, proto.isEmpty() ? "TCP" : proto, hp));
                    }
                }
            }
        }
        add(sum, sidecar);
        add(nz, sidecarNz);
        sidecarScalar.forEach((k, v) -> sumScalar.merge(k, v, Long::sum));
        max(sum, initMax);
        max(nz, initMaxNz);
        initMaxScalar.forEach((k, v) -> sumScalar.merge(k, v, Math::max));
        long[] overhead = new long[3];
        Map<String, Long> overheadScalar = new HashMap<>();
        readResourceList(spec.get("overhead"), overhead, overheadScalar);
        add(sum, overhead);
        add(nz, new long[] {overhead[0], overhead[1]});
        overheadScalar.forEach((k, v) -> sumScalar.merge(k, v, Long::sum));
        milliCpu = sum[0];
        memory = sum[1];
        ephemeralStorage = sum[2];
        sumScalar.values().removeIf(v -> v == 0);
        scalar = Map.copyOf(sumScalar);
        nonZeroMilliCpu = nz[0];
        nonZeroMemory = nz[1];
        hostPorts = List.copyOf(ports);

        nodeSelector = stringMap(spec.get("nodeSelector"));
        JsonNode affinity = spec.path("affinity");
        JsonNode nodeAff = affinity.path("nodeAffinity");
        requiredNodeAffinity = NodeSelector.parse(nodeAff.get("requiredDuringSchedulingIgnoredDuringExecution"));
        List<NodeSelector> prefTerms = new ArrayList<>();
        List<Integer> prefWeights = new ArrayList<>();
        JsonNode prefs = nodeAff.get("preferredDuringSchedulingIgnoredDuringExecution");
        if (prefs != null && prefs.isArray()) {
            for (JsonNode p : prefs) {
                int w = p.path("weight").asInt(0);
                if (w == 0) continue;
                prefTerms.add(NodeSelector.ofTerm(p.get("preference")));
                prefWeights.add(w);
            }
        }
        preferredNodeTerms = List.copyOf(prefTerms);
        preferredNodeWeights = prefWeights.stream().mapToInt(Integer::intValue).toArray();
        tolerations = List.copyOf(Toleration.parseAll(spec.get("tolerations")));
        JsonNode pa = affinity.path("podAffinity");
        JsonNode paa = affinity.path("podAntiAffinity");
        requiredAffinity = AffinityTerm.parseRequired(pa.get("requiredDuringSchedulingIgnoredDuringExecution"), namespace, labels);
        requiredAntiAffinity = AffinityTerm.parseRequired(paa.get("requiredDuringSchedulingIgnoredDuringExecution"), namespace, labels);
        preferredAffinity = AffinityTerm.parsePreferred(pa.get("preferredDuringSchedulingIgnoredDuringExecution"), namespace, labels);
        preferredAntiAffinity = AffinityTerm.parsePreferred(paa.get("preferredDuringSchedulingIgnoredDuringExecution"), namespace, labels);
        spreadConstraints = SpreadConstraint.parse(spec.get("topologySpreadConstraints"), labels);

        List<String> claims = new ArrayList<>();
        JsonNode vols = spec.get("volumes");
        if (vols != null && vols.isArray()) {
            for (JsonNode v : vols) {
                String claim = Json.text(v.path("persistentVolumeClaim"), "claimName");
                if (!claim.isEmpty()) claims.add(claim);
                else if (v.hasNonNull("ephemeral")) claims.add(name + "-" + Json.text(v, "name"));
            }
        }
        claimNames = List.copyOf(claims);
    }

    /**
     * Parses a pod. Malformed quantities count as zero (the API server has validated them already).
     *
     * @throws NullPointerException if {@code pod} is null
     */
    public static PodInfo of(ObjectNode pod) {
        return new PodInfo(Objects.requireNonNull(pod, "pod"));
    }

    private static void readRequests(JsonNode container, long[] r, Map<String, Long> scalar) {
        readResourceList(container.path("resources").get("requests"), r, scalar);
    }

    private static void readResourceList(JsonNode list, long[] r, Map<String, Long> scalar) {
        if (list == null || !list.isObject()) return;
        for (var it = list.fields(); it.hasNext(); ) {
            var e = it.next();
            switch (e.getKey()) {
                case "cpu" -> r[0] += milli(e.getValue().asText());
                case "memory" -> r[1] += units(e.getValue().asText());
                case "ephemeral-storage" -> r[2] += units(e.getValue().asText());
                case "pods" -> { }
                default -> scalar.merge(e.getKey(), units(e.getValue().asText()), Long::sum);
            }
        }
    }

    private static long[] nonZero(JsonNode container, long[] r) {
        JsonNode req = container.path("resources").path("requests");
        return new long[] {
            req.has("cpu") ? r[0] : DEFAULT_MILLI_CPU,
            req.has("memory") ? r[1] : DEFAULT_MEMORY
        };
    }

    static long milli(String q) {
        try {
            return Quantity.parse(q).value().movePointRight(3).setScale(0, RoundingMode.CEILING).longValueExact();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    static long units(String q) {
        try {
            BigDecimal v = Quantity.parse(q).value();
            return v.setScale(0, RoundingMode.CEILING).longValueExact();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    private static void add(long[] into, long[] x) {
        for (int i = 0; i < into.length && i < x.length; i++) into[i] += x[i];
    }

    private static void max(long[] into, long[] x) {
        for (int i = 0; i < into.length && i < x.length; i++) into[i] = Math.max(into[i], x[i]);
    }

    static Map<String, String> stringMap(JsonNode obj) {
        if (obj == null || !obj.isObject() || obj.isEmpty()) return Map.of();
        Map<String, String> m = new LinkedHashMap<>();
        for (var it = obj.fields(); it.hasNext(); ) {
            var e = it.next();
            m.put(e.getKey(), e.getValue().asText());
        }
        return m;
    }

    /** The pod object this was parsed from (not copied; callers must not change it). */
    public ObjectNode object() { return object; }
    public String namespace() { return namespace; }
    public String name() { return name; }
    public String uid() { return uid; }
    public Map<String, String> labels() { return labels; }
    /** {@code spec.nodeName}, "" when unassigned. */
    public String nodeName() { return nodeName; }
    public int priority() { return priority; }
    /** Whether {@code spec.preemptionPolicy} is Never. */
    public boolean preemptNever() { return preemptNever; }
    /** The uid of the controlling owner reference, or null. */
    public String ownerUid() { return ownerUid; }
    /** Whether {@code metadata.deletionTimestamp} is set. */
    public boolean terminating() { return terminating; }
    /** {@code status.startTime}, else the creation timestamp (RFC 3339, so it sorts as text). */
    public String startTime() { return startTime; }
    public String nominatedNodeName() { return nominatedNodeName; }
    public long milliCpu() { return milliCpu; }
    public long memory() { return memory; }
    public long ephemeralStorage() { return ephemeralStorage; }
    /** Extended (scalar) resource requests by name, e.g. {@code nvidia.com/gpu}; zeros left out. */
    public Map<String, Long> scalarRequests() { return scalar; }
    public List<HostPort> hostPorts() { return hostPorts; }
    /** Names of the PersistentVolumeClaims the pod mounts (generic ephemeral volumes included). */
    public List<String> claimNames() { return claimNames; }

    boolean hasRequiredAntiAffinity() { return !requiredAntiAffinity.isEmpty(); }

    boolean hasAnyAffinity() {
        return !requiredAffinity.isEmpty() || !requiredAntiAffinity.isEmpty()
                || !preferredAffinity.isEmpty() || !preferredAntiAffinity.isEmpty();
    }

    /** Whether the pod's nodeSelector and required node affinity admit the node. */
    boolean matchesNodeSelectorAndAffinity(String nodeName, Map<String, String> nodeLabels) {
        for (var e : nodeSelector.entrySet()) {
            if (!e.getValue().equals(nodeLabels.get(e.getKey()))) return false;
        }
        return requiredNodeAffinity == null || requiredNodeAffinity.matches(nodeName, nodeLabels);
    }

    @Override
    public String toString() {
        return namespace + "/" + name;
    }
}
