package io.k3j.controllers.scheduler;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The default profile's score plugins with their weights and normalizations: NodeResourcesFit
 * (LeastAllocated, cpu and memory, weight 1), NodeResourcesBalancedAllocation (1), TaintToleration (3),
 * NodeAffinity (2), PodTopologySpread (2, with the system default constraints for pods without their own),
 * InterPodAffinity (2). ImageLocality is left out: it needs image sizes the snapshot doesn't hold.
 */
final class Scores {

    static final int MAX = 100;
    static final int W_FIT = 1, W_BALANCED = 1, W_TAINT = 3, W_NODE_AFFINITY = 2, W_SPREAD = 2, W_INTERPOD = 2;

    private Scores() {
    }

    /** Total weighted score of each node in {@code feasible}, index for index. */
    static long[] score(Filters f, List<NodeInfo> feasible) {
        PodInfo pod = f.pod;
        int n = feasible.size();
        long[] total = new long[n];
        long[] taint = new long[n];
        long[] nodeAff = new long[n];
        boolean anyPreferNoSchedule = false;
        for (int i = 0; i < n; i++) {
            NodeInfo node = feasible.get(i);
            total[i] = W_FIT * leastAllocated(pod, node) + W_BALANCED * balanced(pod, node);
            int c = 0;
            if (!node.taints().isEmpty()) for (Taint t : node.taints()) {
                if (Taint.PREFER_NO_SCHEDULE.equals(t.effect()) && !toleratesPreferNoSchedule(pod, t)) c++;
            }
            taint[i] = c;
            anyPreferNoSchedule |= c > 0;
            long s = 0;
            for (int k = 0; k < pod.preferredNodeTerms.size(); k++) {
                if (pod.preferredNodeTerms.get(k).matches(node.name(), node.labels())) s += pod.preferredNodeWeights[k];
            }
            nodeAff[i] = s;
        }
        normalize(taint, true);
        normalize(nodeAff, false);
        long[] spread = spread(f, feasible);
        long[] interpod = interPodAffinity(f, feasible);
        for (int i = 0; i < n; i++) {
            total[i] += W_TAINT * taint[i] + W_NODE_AFFINITY * nodeAff[i];
            if (spread != null) total[i] += W_SPREAD * spread[i];
            if (interpod != null) total[i] += W_INTERPOD * interpod[i];
        }
        return total;
    }

    private static boolean toleratesPreferNoSchedule(PodInfo pod, Taint t) {
        for (Toleration tol : pod.tolerations) {
            if ((tol.effect().isEmpty() || tol.effect().equals(Taint.PREFER_NO_SCHEDULE)) && tol.tolerates(t)) return true;
        }
        return false;
    }

    /** LeastAllocated on the non-zero requests: (free after placing the pod) / allocatable, averaged. */
    static long leastAllocated(PodInfo pod, NodeInfo node) {
        long cpu = least(node.nonZeroMilliCpu + pod.nonZeroMilliCpu, node.allocMilliCpu);
        long mem = least(node.nonZeroMemory + pod.nonZeroMemory, node.allocMemory);
        return (cpu + mem) / 2;
    }

    private static long least(long requested, long capacity) {
        if (capacity == 0 || requested > capacity) return 0;
        return (capacity - requested) * MAX / capacity;
    }

    /** BalancedAllocation: 100 × (1 − standard deviation of the cpu and memory fractions requested). */
    static long balanced(PodInfo pod, NodeInfo node) {
        double[] f = new double[2];
        int k = 0;
        if (node.allocMilliCpu > 0) f[k++] = Math.min(1, (double) (node.reqMilliCpu + pod.milliCpu) / node.allocMilliCpu);
        if (node.allocMemory > 0) f[k++] = Math.min(1, (double) (node.reqMemory + pod.memory) / node.allocMemory);
        double std = k == 2 ? Math.abs(f[0] - f[1]) / 2 : 0;
        return (long) ((1 - std) * MAX);
    }

    /** {@code helper.DefaultNormalizeScore}: scale to 0..100 by the maximum, optionally reversed. */
    static void normalize(long[] scores, boolean reverse) {
        long max = 0;
        for (long s : scores) max = Math.max(max, s);
        if (max == 0) {
            if (reverse) java.util.Arrays.fill(scores, MAX);
            return;
        }
        for (int i = 0; i < scores.length; i++) {
            long s = MAX * scores[i] / max;
            scores[i] = reverse ? MAX - s : s;
        }
    }

    // ---- PodTopologySpread ----

    /** Null when the plugin has nothing to score (no soft constraints, own or default). */
    static long[] spread(Filters f, List<NodeInfo> feasible) {
        PodInfo pod = f.pod;
        List<SpreadConstraint> cs;
        boolean systemDefaulted = pod.spreadConstraints.isEmpty();
        if (systemDefaulted) {
            if (pod.ownerUid() == null) return null;
            cs = SpreadConstraint.systemDefaults(pod.ownerUid());
        } else {
            cs = pod.spreadConstraints.stream().filter(c -> !c.hard()).toList();
            if (cs.isEmpty()) return null;
        }
        boolean requireAll = !systemDefaulted;
        if (systemDefaulted) {
            // Both default constraints count the same pods: look each node's count up once.
            List<NodeInfo> all = f.snapshot.nodes();
            for (int k = 0; k < all.size(); k++) all.get(k).scratch = all.get(k).countOwned(pod.ownerUid());
        }
        int n = feasible.size();
        boolean[] ignored = new boolean[n];
        int ignoredCount = 0;
        List<Map<String, long[]>> pairCounts = new java.util.ArrayList<>();
        for (int i = 0; i < cs.size(); i++) pairCounts.add(new HashMap<>());
        for (int j = 0; j < n; j++) {
            NodeInfo node = feasible.get(j);
            if (requireAll && !Filters.hasAllKeys(node, cs)) {
                ignored[j] = true;
                ignoredCount++;
                continue;
            }
            for (int i = 0; i < cs.size(); i++) {
                SpreadConstraint c = cs.get(i);
                if (c.topologyKey().equals(SpreadConstraint.HOSTNAME)) continue;
                String v = node.labels().get(c.topologyKey());
                if (v != null) pairCounts.get(i).putIfAbsent(v, new long[1]);
            }
        }
        double[] weight = new double[cs.size()];
        for (int i = 0; i < cs.size(); i++) {
            int size = cs.get(i).topologyKey().equals(SpreadConstraint.HOSTNAME) ? n - ignoredCount : pairCounts.get(i).size();
            weight[i] = Math.log(size + 2);
        }
        // Count matching pods per domain over all nodes the constraint includes (not just feasible ones).
        boolean anyDomain = false;
        for (Map<String, long[]> m : pairCounts) anyDomain |= !m.isEmpty();
        if (anyDomain) {
            List<NodeInfo> all = f.snapshot.nodes();
            for (int k = 0; k < all.size(); k++) {
                NodeInfo node = all.get(k);
                if (requireAll && !Filters.hasAllKeys(node, cs)) continue;
                for (int i = 0; i < cs.size(); i++) {
                    SpreadConstraint c = cs.get(i);
                    if (c.topologyKey().equals(SpreadConstraint.HOSTNAME)) continue;
                    String v = node.labels().get(c.topologyKey());
                    long[] cnt = v == null ? null : pairCounts.get(i).get(v);
                    if (cnt == null || !f.includes(c, node)) continue;
                    cnt[0] += countOnNode(c, node, pod.namespace());
                }
            }
        }
        long[] raw = new long[n];
        for (int j = 0; j < n; j++) {
            if (ignored[j]) continue;
            NodeInfo node = feasible.get(j);
            double s = 0;
            for (int i = 0; i < cs.size(); i++) {
                SpreadConstraint c = cs.get(i);
                String v = node.labels().get(c.topologyKey());
                if (v == null) continue;
                long cnt = c.topologyKey().equals(SpreadConstraint.HOSTNAME)
                        ? countOnNode(c, node, pod.namespace()) : pairCounts.get(i).get(v)[0];
                s += cnt * weight[i] + (c.maxSkew() - 1);
            }
            raw[j] = Math.round(s);
        }
        // Fewer matching pods is better: score = 100 × (max + min − s) / max; ignored nodes get 0.
        long min = Long.MAX_VALUE, max = 0;
        for (int j = 0; j < n; j++) {
            if (ignored[j]) continue;
            min = Math.min(min, raw[j]);
            max = Math.max(max, raw[j]);
        }
        long[] out = new long[n];
        for (int j = 0; j < n; j++) {
            if (ignored[j]) continue;
            out[j] = max == 0 ? MAX : MAX * (max + min - raw[j]) / max;
        }
        return out;
    }

    private static int countOnNode(SpreadConstraint c, NodeInfo node, String ns) {
        if (c.ownerUid() != null) return node.scratch; // filled at the start of spread()
        int k = 0;
        for (PodInfo p : node.pods()) if (c.counts(p, ns)) k++;
        return k;
    }

    // ---- InterPodAffinity ----

    /** Null when neither the pod nor any existing pod has affinity terms. */
    static long[] interPodAffinity(Filters f, List<NodeInfo> feasible) {
        PodInfo pod = f.pod;
        boolean own = !pod.preferredAffinity.isEmpty() || !pod.preferredAntiAffinity.isEmpty();
        var nsLabels = f.snapshot.namespaceLabelLookup();
        Map<String, Map<String, Long>> topo = new HashMap<>();
        for (NodeInfo node : f.snapshot.nodes()) {
            List<PodInfo> existingPods = own ? node.pods() : node.podsWithAffinity;
            for (PodInfo existing : existingPods) {
                if (own) {
                    process(topo, pod.preferredAffinity, existing, node, 1, nsLabels);
                    process(topo, pod.preferredAntiAffinity, existing, node, -1, nsLabels);
                }
                if (!existing.hasAnyAffinity()) continue;
                // Symmetry: existing pods' required affinity (hard weight 1) and preferred terms about this pod.
                if (!node.labels().isEmpty()) process(topo, existing.requiredAffinity, pod, node, 1, nsLabels);
                process(topo, existing.preferredAffinity, pod, node, 1, nsLabels);
                process(topo, existing.preferredAntiAffinity, pod, node, -1, nsLabels);
            }
        }
        if (topo.isEmpty() && !own) return null;
        int n = feasible.size();
        long[] out = new long[n];
        long min = Long.MAX_VALUE, max = Long.MIN_VALUE;
        for (int j = 0; j < n; j++) {
            long s = 0;
            Map<String, String> labels = feasible.get(j).labels();
            for (var e : topo.entrySet()) {
                String v = labels.get(e.getKey());
                if (v != null) s += e.getValue().getOrDefault(v, 0L);
            }
            out[j] = s;
            min = Math.min(min, s);
            max = Math.max(max, s);
        }
        long diff = max - min;
        for (int j = 0; j < n; j++) out[j] = diff > 0 ? (long) (MAX * ((double) (out[j] - min) / diff)) : 0;
        return out;
    }

    private static void process(Map<String, Map<String, Long>> topo, List<AffinityTerm> terms, PodInfo target,
                                NodeInfo node, int sign, java.util.function.Function<String, Map<String, String>> ns) {
        for (AffinityTerm t : terms) {
            String v = node.labels().get(t.topologyKey());
            if (v == null || !t.matches(target, ns)) continue;
            topo.computeIfAbsent(t.topologyKey(), k -> new HashMap<>()).merge(v, (long) sign * t.weight(), Long::sum);
        }
    }
}
