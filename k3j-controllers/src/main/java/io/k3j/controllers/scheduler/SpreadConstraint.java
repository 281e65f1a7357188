package io.k3j.controllers.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import io.k3j.api.select.LabelSelector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One {@code TopologySpreadConstraint}, parsed once. {@code ownerUid} non-null marks a system default
 * constraint, which counts the pods of the same controller instead of a label selector (kube derives that
 * selector from the Services and ReplicaSets/StatefulSets selecting the pod; the owner stands in for them).
 */
record SpreadConstraint(int maxSkew, String topologyKey, boolean hard, LabelSelector selector, String ownerUid,
                        int minDomains, boolean honorNodeAffinity, boolean honorTaints) {

    static final String HOSTNAME = "kubernetes.io/hostname";
    static final String ZONE = "topology.kubernetes.io/zone";

    /** Whether {@code pod} (in the incoming pod's namespace {@code ns}) counts for this constraint. */
    boolean counts(PodInfo pod, String ns) {
        if (pod.terminating() || !pod.namespace().equals(ns)) return false;
        if (ownerUid != null) return ownerUid.equals(pod.ownerUid());
        return selector.matches(pod.labels());
    }

    static List<SpreadConstraint> parse(JsonNode constraints, Map<String, String> ownLabels) {
        List<SpreadConstraint> out = new ArrayList<>();
        if (constraints == null || !constraints.isArray()) return out;
        for (JsonNode c : constraints) {
            LabelSelector sel;
            try {
                JsonNode s = c.get("labelSelector");
                sel = LabelSelector.fromJson(s == null ? null : AffinityTerm.withKeys(s, c, ownLabels));
            } catch (RuntimeException e) {
                sel = LabelSelector.NOTHING;
            }
            out.add(new SpreadConstraint(Math.max(1, c.path("maxSkew").asInt(1)), Json.text(c, "topologyKey"),
                    !"ScheduleAnyway".equals(Json.text(c, "whenUnsatisfiable")), sel, null,
                    c.path("minDomains").asInt(1), !"Ignore".equals(Json.text(c, "nodeAffinityPolicy")),
                    "Honor".equals(Json.text(c, "nodeTaintsPolicy"))));
        }
        return out;
    }

    /** kube-scheduler's system defaults: hostname skew 3 and zone skew 5, both ScheduleAnyway. */
    static List<SpreadConstraint> systemDefaults(String ownerUid) {
        return List.of(
                new SpreadConstraint(3, HOSTNAME, false, LabelSelector.NOTHING, ownerUid, 1, true, false),
                new SpreadConstraint(5, ZONE, false, LabelSelector.NOTHING, ownerUid, 1, true, false));
    }
}
