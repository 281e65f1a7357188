package io.k3j.controllers.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The default profile's filter plugins, in kube-scheduler's order (NodeUnschedulable, NodeName,
 * TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, VolumeBinding, PodTopologySpread,
 * InterPodAffinity), with their exact failure reasons. An instance holds what PreFilter computes for one pod
 * against one snapshot, so the per-node checks are map lookups and arithmetic. Filtering stops at the first
 * failing plugin, as the framework does.
 */
final class Filters {

    static final String ERR_UNSCHEDULABLE = "node(s) were unschedulable";
    static final String ERR_NODE_NAME = "node(s) didn't match the requested node name";
    static final String ERR_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
    static final String ERR_PORTS = "node(s) didn't have free ports for the requested pod ports";
    static final String ERR_TOO_MANY_PODS = "Too many pods";
    static final String ERR_AFFINITY = "node(s) didn't match pod affinity rules";
    static final String ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
    static final String ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
    static final String ERR_SPREAD = "node(s) didn't match pod topology spread constraints";
    static final String ERR_SPREAD_LABEL = ERR_SPREAD + " (missing required label)";
    static final String ERR_VOLUME_AFFINITY = "node(s) had volume node affinity conflict";
    static final String ERR_PV_MISSING = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
    static final String ERR_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims";

    static final Taint UNSCHEDULABLE_TAINT = new Taint("node.kubernetes.io/unschedulable", "", Taint.NO_SCHEDULE);

    static String taintReason(Taint t) {
        return "node(s) had untolerated taint {" + t.key() + ": " + t.value() + "}";
    }

    final PodInfo pod;
    final Snapshot snapshot;
    /** A PreFilter rejection (applies to every node), or null. */
    final String preFilterMessage;
    private final List<NodeSelector> volumeAffinity = new ArrayList<>();
    private boolean volumeMissing;

    // InterPodAffinity PreFilter state: counts by topology key, then value.
    private final Map<String, Map<String, Integer>> existingAnti = new HashMap<>();
    private final Map<String, Map<String, Integer>> affinityCounts = new HashMap<>();
    private final Map<String, Map<String, Integer>> antiCounts = new HashMap<>();
    private boolean affinityCountsEmpty = true;

    // PodTopologySpread PreFilter state, per hard constraint.
    private final List<SpreadConstraint> hardSpread = new ArrayList<>();
    private final List<Map<String, Integer>> spreadCounts = new ArrayList<>();
    private int[] spreadMin = new int[0];

    Filters(PodInfo pod, Snapshot snapshot) {
        this.pod = pod;
        this.snapshot = snapshot;
        this.preFilterMessage = preFilterVolumes();
        preFilterInterPodAffinity();
        preFilterSpread();
    }

    /** The first failing plugin's status for {@code node}, or null when the pod fits. */
    Status filter(NodeInfo node) {
        return filter(node, false);
    }

    /** As {@link #filter(NodeInfo)}; {@code skipPodDependent} leaves out the checks that other pods affect. */
    Status filter(NodeInfo node, boolean skipPodDependent) {
        if (preFilterMessage != null) return Status.unresolvable("VolumeBinding", preFilterMessage);
        if (node.unschedulable() && !Toleration.anyTolerates(pod.tolerations, UNSCHEDULABLE_TAINT)) {
            return Status.unresolvable("NodeUnschedulable", ERR_UNSCHEDULABLE);
        }
        if (!pod.nodeName().isEmpty() && !pod.nodeName().equals(node.name())) {
            return Status.unresolvable("NodeName", ERR_NODE_NAME);
        }
        Taint t = node.firstUntolerated(pod, false);
        if (t != null) return Status.unresolvable("TaintToleration", taintReason(t));
        if (!pod.matchesNodeSelectorAndAffinity(node.name(), node.labels())) {
            return Status.unresolvable("NodeAffinity", ERR_NODE_AFFINITY);
        }
        if (skipPodDependent) return null;
        if (!pod.hostPorts.isEmpty()) {
            for (PodInfo.HostPort want : pod.hostPorts) {
                for (PodInfo.HostPort used : node.usedPorts) {
                    if (want.conflicts(used)) return Status.unschedulable("NodePorts", ERR_PORTS);
                }
            }
        }
        Status fit = fitResources(pod, node);
        if (fit != null) return fit;
        if (volumeMissing || !volumeAffinity.isEmpty()) {
            Status vol = filterVolumes(node);
            if (vol != null) return vol;
        }
        if (!hardSpread.isEmpty()) {
            Status spread = filterSpread(node);
            if (spread != null) return spread;
        }
        if (pod.requiredAffinity.isEmpty() && antiCounts.isEmpty() && existingAnti.isEmpty()) return null;
        return filterInterPodAffinity(node);
    }

    /** NodeResourcesFit: every insufficient resource is a reason, in kube's order. */
    static Status fitResources(PodInfo pod, NodeInfo node) {
        List<String> reasons = null;
        boolean unresolvable = false;
        if (node.podCount() + 1 > node.allocPods) {
            reasons = new ArrayList<>(2);
            reasons.add(ERR_TOO_MANY_PODS);
        }
        if (pod.milliCpu == 0 && pod.memory == 0 && pod.ephemeralStorage == 0 && pod.scalar.isEmpty()) {
            return reasons == null ? null : new Status("NodeResourcesFit", reasons, true);
        }
        if (pod.milliCpu > node.allocMilliCpu - node.reqMilliCpu) {
            (reasons = reasons == null ? new ArrayList<>(2) : reasons).add("Insufficient cpu");
            unresolvable |= pod.milliCpu > node.allocMilliCpu;
        }
        if (pod.memory > node.allocMemory - node.reqMemory) {
            (reasons = reasons == null ? new ArrayList<>(2) : reasons).add("Insufficient memory");
            unresolvable |= pod.memory > node.allocMemory;
        }
        if (pod.ephemeralStorage > node.allocEphemeral - node.reqEphemeral) {
            (reasons = reasons == null ? new ArrayList<>(2) : reasons).add("Insufficient ephemeral-storage");
            unresolvable |= pod.ephemeralStorage > node.allocEphemeral;
        }
        for (var e : pod.scalar.entrySet()) {
            long alloc = node.allocScalar.getOrDefault(e.getKey(), 0L);
            if (e.getValue() > alloc - node.reqScalar.getOrDefault(e.getKey(), 0L)) {
                (reasons = reasons == null ? new ArrayList<>(2) : reasons).add("Insufficient " + e.getKey());
                unresolvable |= e.getValue() > alloc;
            }
        }
        // A request beyond the node's allocatable can't be met by evicting anyone.
        return reasons == null ? null : new Status("NodeResourcesFit", reasons, !unresolvable);
    }

    // ---- VolumeBinding ----

    private String preFilterVolumes() {
        VolumeLookup v = snapshot.volumes();
        boolean unboundImmediate = false;
        for (String claimName : pod.claimNames) {
            ObjectNode claim = v.claim(pod.namespace(), claimName);
            if (claim == null) return "persistentvolumeclaim \"" + claimName + "\" not found";
            if (claim.path("metadata").hasNonNull("deletionTimestamp")) {
                return "persistentvolumeclaim \"" + claimName + "\" is being deleted";
            }
            String pvName = Json.text(claim.path("spec"), "volumeName");
            if (pvName.isEmpty()) {
                String cls = Json.text(claim.path("spec"), "storageClassName");
                if (!"WaitForFirstConsumer".equals(v.bindingMode(cls))) unboundImmediate = true;
                continue; // delayed binding: the binder picks a volume for the chosen node
            }
            ObjectNode pv = v.volume(pvName);
            if (pv == null) {
                volumeMissing = true;
                continue;
            }
            NodeSelector required = NodeSelector.parse(Json.at(pv, "spec", "nodeAffinity", "required"));
            if (required != null) volumeAffinity.add(required);
        }
        return unboundImmediate ? ERR_UNBOUND_IMMEDIATE : null;
    }

    private Status filterVolumes(NodeInfo node) {
        if (volumeMissing) return Status.unresolvable("VolumeBinding", ERR_PV_MISSING);
        for (NodeSelector s : volumeAffinity) {
            if (!s.matches(node.name(), node.labels())) return Status.unresolvable("VolumeBinding", ERR_VOLUME_AFFINITY);
        }
        return null;
    }

    // ---- PodTopologySpread ----

    private void preFilterSpread() {
        for (SpreadConstraint c : pod.spreadConstraints) if (c.hard()) hardSpread.add(c);
        if (hardSpread.isEmpty()) return;
        for (int i = 0; i < hardSpread.size(); i++) spreadCounts.add(new HashMap<>());
        for (NodeInfo n : snapshot.nodes()) {
            if (!hasAllKeys(n, hardSpread)) continue;
            for (int i = 0; i < hardSpread.size(); i++) {
                SpreadConstraint c = hardSpread.get(i);
                if (!includes(c, n)) continue;
                int count = 0;
                for (PodInfo p : n.pods()) if (c.counts(p, pod.namespace())) count++;
                spreadCounts.get(i).merge(n.labels().get(c.topologyKey()), count, Integer::sum);
            }
        }
        spreadMin = new int[hardSpread.size()];
        for (int i = 0; i < hardSpread.size(); i++) {
            Map<String, Integer> counts = spreadCounts.get(i);
            int min = Integer.MAX_VALUE;
            for (int v : counts.values()) min = Math.min(min, v);
            // Fewer domains than minDomains: the global minimum is taken as 0.
            if (counts.isEmpty() || counts.size() < hardSpread.get(i).minDomains()) min = 0;
            spreadMin[i] = min;
        }
    }

    static boolean hasAllKeys(NodeInfo n, List<SpreadConstraint> cs) {
        for (SpreadConstraint c : cs) if (!n.labels().containsKey(c.topologyKey())) return false;
        return true;
    }

    /** nodeAffinityPolicy / nodeTaintsPolicy: whether the node's pods count for the constraint. */
    boolean includes(SpreadConstraint c, NodeInfo n) {
        if (c.honorNodeAffinity() && !pod.matchesNodeSelectorAndAffinity(n.name(), n.labels())) return false;
        return !c.honorTaints() || n.firstUntolerated(pod, false) == null;
    }

    private Status filterSpread(NodeInfo node) {
        for (int i = 0; i < hardSpread.size(); i++) {
            SpreadConstraint c = hardSpread.get(i);
            String value = node.labels().get(c.topologyKey());
            if (value == null) return Status.unresolvable("PodTopologySpread", ERR_SPREAD_LABEL);
            int self = c.counts(pod, pod.namespace()) ? 1 : 0;
            int skew = spreadCounts.get(i).getOrDefault(value, 0) + self - spreadMin[i];
            if (skew > c.maxSkew()) return Status.unschedulable("PodTopologySpread", ERR_SPREAD);
        }
        return null;
    }

    // ---- InterPodAffinity ----

    private void preFilterInterPodAffinity() {
        var nsLabels = snapshot.namespaceLabelLookup();
        boolean ownTerms = !pod.requiredAffinity.isEmpty() || !pod.requiredAntiAffinity.isEmpty();
        List<NodeInfo> nodes = snapshot.nodes();
        for (int ni = 0; ni < nodes.size(); ni++) {
            NodeInfo n = nodes.get(ni);
            if (!ownTerms && n.podsWithRequiredAntiAffinity.isEmpty()) continue;
            for (PodInfo existing : n.podsWithRequiredAntiAffinity) {
                for (AffinityTerm t : existing.requiredAntiAffinity) {
                    String v = n.labels().get(t.topologyKey());
                    if (v != null && t.matches(pod, nsLabels)) increment(existingAnti, t.topologyKey(), v);
                }
            }
            if (!ownTerms) continue;
            for (PodInfo existing : n.pods()) {
                if (!pod.requiredAffinity.isEmpty() && matchesAll(pod.requiredAffinity, existing, nsLabels)) {
                    for (AffinityTerm t : pod.requiredAffinity) {
                        String v = n.labels().get(t.topologyKey());
                        if (v != null) {
                            increment(affinityCounts, t.topologyKey(), v);
                            affinityCountsEmpty = false;
                        }
                    }
                }
                for (AffinityTerm t : pod.requiredAntiAffinity) {
                    String v = n.labels().get(t.topologyKey());
                    if (v != null && t.matches(existing, nsLabels)) increment(antiCounts, t.topologyKey(), v);
                }
            }
        }
    }

    private static boolean matchesAll(List<AffinityTerm> terms, PodInfo p, java.util.function.Function<String, Map<String, String>> ns) {
        for (AffinityTerm t : terms) if (!t.matches(p, ns)) return false;
        return true;
    }

    static void increment(Map<String, Map<String, Integer>> m, String key, String value) {
        m.computeIfAbsent(key, k -> new HashMap<>()).merge(value, 1, Integer::sum);
    }

    private static int count(Map<String, Map<String, Integer>> m, String key, String value) {
        Map<String, Integer> byValue = m.get(key);
        return byValue == null ? 0 : byValue.getOrDefault(value, 0);
    }

    private Status filterInterPodAffinity(NodeInfo node) {
        if (!pod.requiredAffinity.isEmpty()) {
            boolean podsExist = true;
            for (AffinityTerm t : pod.requiredAffinity) {
                String v = node.labels().get(t.topologyKey());
                if (v == null) return Status.unresolvable("InterPodAffinity", ERR_AFFINITY);
                if (count(affinityCounts, t.topologyKey(), v) <= 0) podsExist = false;
            }
            // The first pod of a group that is attracted to itself may go anywhere the topology exists.
            if (!podsExist && !(affinityCountsEmpty && matchesAll(pod.requiredAffinity, pod, snapshot.namespaceLabelLookup()))) {
                return Status.unresolvable("InterPodAffinity", ERR_AFFINITY);
            }
        }
        if (!antiCounts.isEmpty()) for (AffinityTerm t : pod.requiredAntiAffinity) {
            String v = node.labels().get(t.topologyKey());
            if (v != null && count(antiCounts, t.topologyKey(), v) > 0) {
                return Status.unschedulable("InterPodAffinity", ERR_ANTI_AFFINITY);
            }
        }
        if (!existingAnti.isEmpty()) {
            for (var e : existingAnti.entrySet()) {
                String v = node.labels().get(e.getKey());
                if (v != null && e.getValue().getOrDefault(v, 0) > 0) {
                    return Status.unschedulable("InterPodAffinity", ERR_EXISTING_ANTI_AFFINITY);
                }
            }
        }
        return null;
    }
}
