package io.k3j.controllers.apps;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.controllers.common.Pods;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The order in which a ReplicaSet gives up pods when it has too many (kube's ActivePodsWithRanks): the pod
 * whose loss costs least goes first — unscheduled before scheduled, Pending before Unknown before Running,
 * not ready before ready, pods doubled up on a node before lone ones, ready for less time before longer,
 * more restarts before fewer, newer before older.
 */
final class PodRanking {
    private PodRanking() {
    }

    /** Sorts {@code pods} so the first are the ones to delete; {@code colocated} counts related pods per node. */
    static Comparator<ObjectNode> deletionOrder(Map<String, Integer> colocated) {
        return Comparator.<ObjectNode>comparingInt(p -> Json.text(p.get("spec"), "nodeName").isEmpty() ? 0 : 1)
                .thenComparingInt(p -> phaseRank(Pods.phase(p)))
                .thenComparingInt(p -> Pods.ready(p) ? 1 : 0)
                .thenComparing(p -> -colocated.getOrDefault(Json.text(p.get("spec"), "nodeName"), 0))
                .thenComparing(PodRanking::readySince, Comparator.reverseOrder())
                .thenComparing(p -> -Pods.restarts(p))
                .thenComparing(Pods::created, Comparator.reverseOrder());
    }

    private static int phaseRank(String phase) {
        return switch (phase) {
            case "Pending", "" -> 0;
            case "Unknown" -> 1;
            case "Running" -> 2;
            default -> 3;
        };
    }

    /** Later is "ready for less time", so it sorts first; pods that are not ready tie. */
    private static Instant readySince(ObjectNode p) {
        if (!Pods.ready(p)) return Instant.MAX;
        Instant t = Pods.time(Pods.condition(p, "Ready").path("lastTransitionTime").asText(""));
        return t == null ? Instant.MAX : t;
    }

    static List<ObjectNode> sorted(List<ObjectNode> pods, Map<String, Integer> colocated) {
        return pods.stream().sorted(deletionOrder(colocated)).toList();
    }
}
