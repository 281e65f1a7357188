package io.k3j.controllers.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A node and the pods assigned to it, with the sums the filters and scores need kept up to date as pods
 * are added and removed. Not thread-safe: one scheduling loop owns it.
 *
 * <p>Node conditions become the taints the node lifecycle controller would add
 * ({@code node.kubernetes.io/not-ready}, {@code unreachable}, {@code memory-pressure}, ...; effect NoSchedule),
 * because kube-scheduler itself never looks at conditions: a NotReady node fails TaintToleration with
 * "node(s) had untolerated taint {node.kubernetes.io/not-ready: }". They are only added when the node does
 * not already carry a taint with that key.
 */
public final class NodeInfo {

    private final ObjectNode object;
    private final String name;
    private final Map<String, String> labels;
    private final List<Taint> taints;
    private final boolean unschedulable;
    private final boolean ready;
    final long allocMilliCpu;
    final long allocMemory;
    final long allocEphemeral;
    final long allocPods;
    final Map<String, Long> allocScalar;

    private final List<PodInfo> pods = new ArrayList<>();
    final List<PodInfo> podsWithAffinity = new ArrayList<>();
    final List<PodInfo> podsWithRequiredAntiAffinity = new ArrayList<>();
    long reqMilliCpu, reqMemory, reqEphemeral;
    long nonZeroMilliCpu, nonZeroMemory;
    final Map<String, Long> reqScalar = new HashMap<>();
    final List<PodInfo.HostPort> usedPorts = new ArrayList<>();
    private final Map<String, Integer> ownerCounts = new HashMap<>();
    /**
     * Scratch space for one scoring pass (a per-node count), so the pass needs no map from node to count.
     * Valid only within the call that wrote it; the algorithm is single-threaded.
     */
    int scratch;

    private NodeInfo(ObjectNode node) {
        object = node;
        JsonNode meta = node.path("metadata");
        JsonNode spec = node.path("spec");
        JsonNode status = node.path("status");
        name = Json.text(meta, "name");
        labels = PodInfo.stringMap(meta.get("labels"));
        unschedulable = spec.path("unschedulable").asBoolean(false);
        long[] a = new long[3];
        Map<String, Long> scalar = new HashMap<>();
        long pods = 110;
        JsonNode alloc = status.get("allocatable");
        if (alloc == null || !alloc.isObject()) alloc = status.get("capacity");
        if (alloc != null && alloc.isObject()) {
            for (var it = alloc.fields(); it.hasNext(); ) {
                var e = it.next();
                String v = e.getValue().asText();
                switch (e.getKey()) {
                    case "cpu" -> a[0] = PodInfo.milli(v);
                    case "memory" -> a[1] = PodInfo.units(v);
                    case "ephemeral-storage" -> a[2] = PodInfo.units(v);
                    case "pods" -> pods = PodInfo.units(v);
                    default -> scalar.put(e.getKey(), PodInfo.units(v));
                }
            }
        } else {
            pods = 0; // a node that reports nothing can hold nothing
        }
        allocMilliCpu = a[0];
        allocMemory = a[1];
        allocEphemeral = a[2];
        allocPods = pods;
        allocScalar = Map.copyOf(scalar);

        List<Taint> ts = Taint.parseAll(spec.get("taints"));
        Map<String, String> cond = new HashMap<>();
        JsonNode conds = status.get("conditions");
        if (conds != null && conds.isArray()) for (JsonNode c : conds) cond.put(Json.text(c, "type"), Json.text(c, "status"));
        String r = cond.get("Ready");
        ready = "True".equals(r);
        if (!ready) addIfMissing(ts, "Unknown".equals(r) ? "node.kubernetes.io/unreachable" : "node.kubernetes.io/not-ready");
        if ("True".equals(cond.get("MemoryPressure"))) addIfMissing(ts, "node.kubernetes.io/memory-pressure");
        if ("True".equals(cond.get("DiskPressure"))) addIfMissing(ts, "node.kubernetes.io/disk-pressure");
        if ("True".equals(cond.get("PIDPressure"))) addIfMissing(ts, "node.kubernetes.io/pid-pressure");
        if ("True".equals(cond.get("NetworkUnavailable"))) addIfMissing(ts, "node.kubernetes.io/network-unavailable");
        taints = List.copyOf(ts);
    }

    private static void addIfMissing(List<Taint> ts, String key) {
        for (Taint t : ts) if (t.key().equals(key)) return;
        ts.add(new Taint(key, "", Taint.NO_SCHEDULE));
    }

    /**
     * Parses a node object, without pods.
     *
     * @throws NullPointerException if {@code node} is null
     */
    public static NodeInfo of(ObjectNode node) {
        return new NodeInfo(Objects.requireNonNull(node, "node"));
    }

    /** A copy with the same pods, for simulations (preemption) that must not disturb this one. */
    public NodeInfo copy() {
        NodeInfo c = new NodeInfo(object);
        for (PodInfo p : pods) c.addPod(p);
        return c;
    }

    /** Accounts a pod to this node. */
    public void addPod(PodInfo pod) {
        pods.add(pod);
        if (pod.hasAnyAffinity()) podsWithAffinity.add(pod);
        if (pod.hasRequiredAntiAffinity()) podsWithRequiredAntiAffinity.add(pod);
        update(pod, 1);
        usedPorts.addAll(pod.hostPorts());
    }

    /** Removes a pod (matched by uid, else by identity); returns whether it was there. */
    public boolean removePod(PodInfo pod) {
        int i = indexOf(pod);
        if (i < 0) return false;
        PodInfo had = pods.remove(i);
        podsWithAffinity.remove(had);
        podsWithRequiredAntiAffinity.remove(had);
        update(had, -1);
        for (PodInfo.HostPort p : had.hostPorts()) usedPorts.remove(p);
        return true;
    }

    private int indexOf(PodInfo pod) {
        for (int i = 0; i < pods.size(); i++) {
            PodInfo p = pods.get(i);
            if (p == pod || (!pod.uid().isEmpty() && p.uid().equals(pod.uid()))) return i;
        }
        return -1;
    }

    private void update(PodInfo pod, int sign) {
        reqMilliCpu += sign * pod.milliCpu;
        reqMemory += sign * pod.memory;
        reqEphemeral += sign * pod.ephemeralStorage;
        nonZeroMilliCpu += sign * pod.nonZeroMilliCpu;
        nonZeroMemory += sign * pod.nonZeroMemory;
        pod.scalar.forEach((k, v) -> reqScalar.merge(k, sign * v, Long::sum));
        if (pod.ownerUid() != null && !pod.terminating()) ownerCounts.merge(pod.ownerUid(), sign, (x, y) -> x + y == 0 ? null : x + y);
    }

    int podCount() {
        return pods.size();
    }

    /** Live pods of this controller (owner uid) on the node; owner uids are unique cluster-wide. */
    int countOwned(String ownerUid) {
        return ownerCounts.getOrDefault(ownerUid, 0);
    }

    /**
     * Why {@code pod} may not run here apart from resources, ports, volumes and other pods: the checks the
     * DaemonSet controller makes ({@code NodeName}, {@code NodeAffinity} incl. nodeSelector, and
     * {@code TaintToleration} for NoSchedule and NoExecute taints). Empty when it may.
     */
    public List<String> daemonSetReasons(PodInfo pod) {
        List<String> reasons = new ArrayList<>();
        if (!pod.nodeName().isEmpty() && !pod.nodeName().equals(name)) reasons.add(Filters.ERR_NODE_NAME);
        if (!pod.matchesNodeSelectorAndAffinity(name, labels)) reasons.add(Filters.ERR_NODE_AFFINITY);
        Taint t = firstUntolerated(pod, false);
        if (t != null) reasons.add(Filters.taintReason(t));
        return reasons;
    }

    /** Whether {@code pod} tolerates every NoExecute taint here, i.e. may keep running on the node. */
    public boolean toleratesNoExecute(PodInfo pod) {
        return firstUntolerated(pod, true) == null;
    }

    /** The first NoSchedule/NoExecute (or only NoExecute) taint the pod does not tolerate, in node order. */
    Taint firstUntolerated(PodInfo pod, boolean noExecuteOnly) {
        for (Taint t : taints) {
            if (noExecuteOnly ? !Taint.NO_EXECUTE.equals(t.effect()) : !t.blocksScheduling()) continue;
            if (!Toleration.anyTolerates(pod.tolerations, t)) return t;
        }
        return null;
    }

    public ObjectNode object() { return object; }
    public String name() { return name; }
    public Map<String, String> labels() { return labels; }
    /** The node's taints plus those implied by its conditions. */
    public List<Taint> taints() { return taints; }
    public boolean unschedulable() { return unschedulable; }
    /** Whether the Ready condition is True. */
    public boolean ready() { return ready; }
    /** The pods accounted to this node (live view; do not modify). */
    public List<PodInfo> pods() { return java.util.Collections.unmodifiableList(pods); }
    public long requestedMilliCpu() { return reqMilliCpu; }
    public long requestedMemory() { return reqMemory; }
    public long allocatableMilliCpu() { return allocMilliCpu; }
    public long allocatableMemory() { return allocMemory; }

    @Override
    public String toString() {
        return name;
    }
}
