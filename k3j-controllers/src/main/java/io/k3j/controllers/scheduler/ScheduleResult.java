package io.k3j.controllers.scheduler;

import java.util.List;

/**
 * The outcome of scheduling one pod. Exactly one of {@code node} and {@code fitError} is non-null.
 * When no node fits, {@code preemption} holds the node to nominate and the pods to evict if preemption can
 * help (kube then sets {@code status.nominatedNodeName} and deletes the victims), else null.
 *
 * @param node the chosen node's name, or null
 * @param evaluatedNodes how many nodes were filtered
 * @param feasibleNodes how many of those fit
 * @param fitError why no node fits, or null
 * @param preemption the preemption plan when no node fits and preemption helps, or null
 */
public record ScheduleResult(String node, int evaluatedNodes, int feasibleNodes, FitError fitError,
                             Preemption.Result preemption) {

    /** Whether a node was chosen. */
    public boolean scheduled() {
        return node != null;
    }

    /** The victims of {@link #preemption()}, empty when there is none. */
    public List<PodInfo> victims() {
        return preemption == null ? List.of() : preemption.victims();
    }
}
