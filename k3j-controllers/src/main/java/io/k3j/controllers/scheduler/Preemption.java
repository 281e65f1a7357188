package io.k3j.controllers.scheduler;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * kube-scheduler's DefaultPreemption: when no node fits, find a node where evicting lower-priority pods
 * makes room, with as little harm as possible. On each node where filtering failed for a reason eviction
 * can fix, all lower-priority pods are removed; if the pod then fits, victims are reprieved one by one,
 * most important first, as long as the pod still fits. Among candidate nodes the one chosen has (in order)
 * the lowest highest-victim priority, the lowest sum of victim priorities, the fewest victims, the latest
 * start of its highest-priority victims, else the first in node order. PodDisruptionBudgets are not
 * considered (the snapshot holds none), so every candidate counts as violating none.
 */
public final class Preemption {

    static final String NOT_HELPFUL = "Preemption is not helpful for scheduling";
    static final String NO_VICTIMS = "No preemption victims found for incoming pod";
    static final String NEVER = "not eligible due to preemptionPolicy=Never.";
    static final String TERMINATING = "not eligible due to a terminating pod on the nominated node.";
    static final int MIN_CANDIDATE_NODES_PERCENTAGE = 10;
    static final int MIN_CANDIDATE_NODES_ABSOLUTE = 100;

    private Preemption() {
    }

    /** Where to nominate the pod and which pods to evict there (lowest priority first). */
    public record Result(String node, List<PodInfo> victims) {
        public Result {
            victims = List.copyOf(victims);
        }
    }

    /** A plan, or null, and the PostFilter message ("preemption: ..."; empty when a plan was found). */
    record Outcome(Result result, String message) {
    }

    /**
     * Finds a preemption plan for {@code pod}, filtering every node first; empty when the pod fits some node
     * as it is (nothing to preempt for), may not preempt, or no eviction of lower-priority pods makes it fit.
     * {@link SchedulingAlgorithm#schedule} already plans preemption when it fails; this is for callers that
     * only want the plan.
     */
    public static Optional<Result> find(PodInfo pod, Snapshot snapshot) {
        Objects.requireNonNull(pod, "pod");
        Objects.requireNonNull(snapshot, "snapshot");
        Filters f = new Filters(pod, snapshot);
        Map<String, Status> statuses = new LinkedHashMap<>();
        for (NodeInfo n : snapshot.nodes()) {
            Status s = f.filter(n);
            if (s == null) return Optional.empty();
            statuses.put(n.name(), s);
        }
        return Optional.ofNullable(evaluate(pod, snapshot, statuses).result());
    }

    static Outcome evaluate(PodInfo pod, Snapshot snapshot, Map<String, Status> statuses) {
        if (pod.preemptNever()) return new Outcome(null, "preemption: " + NEVER);
        if (!pod.nominatedNodeName().isEmpty()) {
            Status nominated = statuses.get(pod.nominatedNodeName());
            NodeInfo node = snapshot.node(pod.nominatedNodeName());
            if (node != null && (nominated == null || nominated.resolvable())) {
                for (PodInfo p : node.pods()) {
                    if (p.terminating() && p.priority() < pod.priority()) return new Outcome(null, "preemption: " + TERMINATING);
                }
            }
        }
        Map<String, Status> outcome = new LinkedHashMap<>();
        List<NodeInfo> potential = new ArrayList<>();
        for (NodeInfo n : snapshot.nodes()) {
            Status s = statuses.get(n.name());
            if (s == null) continue; // fits already (not a failure case); nothing to preempt for
            if (!s.resolvable()) outcome.put(n.name(), Status.unresolvable("DefaultPreemption", NOT_HELPFUL));
            else potential.add(n);
        }
        int wanted = Math.min(potential.size(),
                Math.max(potential.size() * MIN_CANDIDATE_NODES_PERCENTAGE / 100, MIN_CANDIDATE_NODES_ABSOLUTE));
        List<Result> candidates = new ArrayList<>();
        for (NodeInfo n : potential) {
            if (candidates.size() >= wanted) break;
            Object r = selectVictims(pod, n, snapshot);
            if (r instanceof Result res) candidates.add(res);
            else outcome.put(n.name(), (Status) r);
        }
        if (candidates.isEmpty()) {
            FitError e = new FitError(outcome.size(), outcome, null, null);
            return new Outcome(null, "preemption: " + e.message());
        }
        return new Outcome(pick(candidates), "");
    }

    /** A {@link Result} when evicting some lower-priority pods lets the pod fit on {@code node}, else a Status. */
    private static Object selectVictims(PodInfo pod, NodeInfo node, Snapshot snapshot) {
        NodeInfo sim = node.copy();
        List<PodInfo> lower = new ArrayList<>();
        for (PodInfo p : node.pods()) if (p.priority() < pod.priority()) lower.add(p);
        if (lower.isEmpty()) return Status.unresolvable("DefaultPreemption", NO_VICTIMS);
        for (PodInfo p : lower) sim.removePod(p);
        Snapshot view = snapshot.withNode(sim);
        Status s = new Filters(pod, view).filter(sim);
        if (s != null) return s;
        // Most important first: higher priority, then earlier start.
        lower.sort(Comparator.comparingInt(PodInfo::priority).reversed().thenComparing(PodInfo::startTime));
        List<PodInfo> victims = new ArrayList<>();
        for (PodInfo p : lower) {
            sim.addPod(p);
            if (new Filters(pod, view).filter(sim) != null) {
                sim.removePod(p);
                victims.add(p);
            }
        }
        victims.sort(Comparator.comparingInt(PodInfo::priority).thenComparing(PodInfo::startTime, Comparator.reverseOrder()));
        return new Result(node.name(), victims);
    }

    private static Result pick(List<Result> candidates) {
        for (Result r : candidates) if (r.victims().isEmpty()) return r;
        Comparator<Result> order = Comparator
                .comparingInt((Result r) -> highestPriority(r))
                .thenComparingLong(r -> r.victims().stream().mapToLong(p -> (long) p.priority() + Integer.MAX_VALUE + 1).sum())
                .thenComparingInt(r -> r.victims().size())
                .thenComparing(Preemption::earliestStartOfHighest, Comparator.reverseOrder());
        Result best = candidates.get(0);
        for (Result r : candidates) if (order.compare(r, best) < 0) best = r;
        return best;
    }

    private static int highestPriority(Result r) {
        int max = Integer.MIN_VALUE;
        for (PodInfo p : r.victims()) max = Math.max(max, p.priority());
        return max;
    }

    private static String earliestStartOfHighest(Result r) {
        int hi = highestPriority(r);
        String earliest = null;
        for (PodInfo p : r.victims()) {
            if (p.priority() == hi && (earliest == null || p.startTime().compareTo(earliest) < 0)) earliest = p.startTime();
        }
        return earliest == null ? "" : earliest;
    }
}
