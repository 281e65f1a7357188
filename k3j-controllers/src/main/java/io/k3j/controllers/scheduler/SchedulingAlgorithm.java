package io.k3j.controllers.scheduler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * kube-scheduler's default-profile scheduling decision, as plain computation: filter the nodes of a
 * {@link Snapshot} (stopping once enough feasible nodes are found, per {@code percentageOfNodesToScore}),
 * score the feasible ones, pick the best, or explain with a {@link FitError} and plan a preemption.
 *
 * <p>It keeps two counters between calls, so it is not thread-safe: where to start filtering (kube's
 * {@code nextStartNodeIndex}, so partial searches cover the cluster round-robin) and a tie-break rotation.
 * Kube breaks score ties at random; here the n-th decision picks the (n mod ties)-th best node, which is
 * deterministic and still fills equal nodes evenly.
 */
public final class SchedulingAlgorithm {

    static final int MIN_FEASIBLE_NODES_TO_FIND = 100;
    static final int MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

    private final int percentageOfNodesToScore;
    private int nextStartNodeIndex;
    private int tieBreak;

    /** The default: adaptive {@code percentageOfNodesToScore} (50% falling to 5% as the cluster grows). */
    public SchedulingAlgorithm() {
        this(0);
    }

    /**
     * @param percentageOfNodesToScore 1..100, or 0 for kube's adaptive default
     * @throws IllegalArgumentException when outside 0..100
     */
    public SchedulingAlgorithm(int percentageOfNodesToScore) {
        if (percentageOfNodesToScore < 0 || percentageOfNodesToScore > 100) {
            throw new IllegalArgumentException("percentageOfNodesToScore : " + percentageOfNodesToScore + " (expected: 0..100)");
        }
        this.percentageOfNodesToScore = percentageOfNodesToScore;
    }

    /**
     * How many feasible nodes to look for before scoring ({@code numFeasibleNodesToFind}): every node
     * below 100; else the percentage (adaptive: {@code 50 - nodes/125}, at least 5) of the nodes, but never
     * fewer than 100.
     */
    public static int numFeasibleNodesToFind(int percentageOfNodesToScore, int numAllNodes) {
        if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND || percentageOfNodesToScore >= 100) return numAllNodes;
        int percentage = percentageOfNodesToScore;
        if (percentage == 0) {
            percentage = 50 - numAllNodes / 125;
            if (percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
        }
        int n = (int) ((long) numAllNodes * percentage / 100);
        return Math.max(n, MIN_FEASIBLE_NODES_TO_FIND);
    }

    /**
     * Chooses a node for {@code pod}. The snapshot is not changed; the caller assumes the pod onto the chosen
     * node ({@link Snapshot#assume}) once it decides to bind.
     */
    public ScheduleResult schedule(PodInfo pod, Snapshot snapshot) {
        Objects.requireNonNull(pod, "pod");
        Objects.requireNonNull(snapshot, "snapshot");
        List<NodeInfo> nodes = snapshot.nodes();
        int n = nodes.size();
        if (n == 0) return new ScheduleResult(null, 0, 0, new FitError(0, Map.of(), null, null), null);
        Filters filters = new Filters(pod, snapshot);
        Map<String, Status> statuses = new LinkedHashMap<>();
        if (filters.preFilterMessage != null) {
            Status s = Status.unresolvable("VolumeBinding", filters.preFilterMessage);
            for (NodeInfo node : nodes) statuses.put(node.name(), s);
            return failed(pod, snapshot, new FitError(n, statuses, filters.preFilterMessage, null), 0);
        }
        // A node nominated by an earlier preemption is likely the only one with room: try it first.
        if (!pod.nominatedNodeName().isEmpty()) {
            NodeInfo nominated = snapshot.node(pod.nominatedNodeName());
            if (nominated != null && filters.filter(nominated) == null) {
                return new ScheduleResult(nominated.name(), 1, 1, null, null);
            }
        }
        int want = numFeasibleNodesToFind(percentageOfNodesToScore, n);
        List<NodeInfo> feasible = new ArrayList<>(Math.min(want, n));
        int start = nextStartNodeIndex % n;
        int processed = 0;
        for (int k = 0; k < n && feasible.size() < want; k++) {
            NodeInfo node = nodes.get((start + k) % n);
            processed++;
            Status s = filters.filter(node);
            if (s == null) feasible.add(node);
            else statuses.put(node.name(), s);
        }
        nextStartNodeIndex = (start + processed) % n;
        if (feasible.isEmpty()) return failed(pod, snapshot, new FitError(n, statuses, null, null), processed);
        if (feasible.size() == 1) return new ScheduleResult(feasible.get(0).name(), processed, 1, null, null);
        long[] scores = Scores.score(filters, feasible);
        long best = Long.MIN_VALUE;
        int ties = 0;
        for (long s : scores) {
            if (s > best) {
                best = s;
                ties = 1;
            } else if (s == best) {
                ties++;
            }
        }
        int pick = Math.floorMod(tieBreak++, ties);
        for (int i = 0; i < scores.length; i++) {
            if (scores[i] == best && pick-- == 0) {
                return new ScheduleResult(feasible.get(i).name(), processed, feasible.size(), null, null);
            }
        }
        throw new AssertionError("unreachable");
    }

    private static ScheduleResult failed(PodInfo pod, Snapshot snapshot, FitError error, int processed) {
        Preemption.Outcome o = Preemption.evaluate(pod, snapshot, error.statuses());
        FitError withPost = error.withPostFilterMessage(o.message());
        return new ScheduleResult(null, processed, 0, withPost, o.result());
    }

    /**
     * Runs every filter for {@code pod} against one node, as the scheduler would with this snapshot, and
     * returns the failing plugin's reasons; empty when the pod fits.
     */
    public static List<String> filter(PodInfo pod, NodeInfo node, Snapshot snapshot) {
        Status s = new Filters(pod, snapshot).filter(node);
        return s == null ? List.of() : s.reasons();
    }

    /** The filtering status of {@code pod} on {@code node}, or null when it fits. */
    public static Status status(PodInfo pod, NodeInfo node, Snapshot snapshot) {
        return new Filters(pod, snapshot).filter(node);
    }
}
