package io.k3j.agent.stats;

import java.util.List;

/** The runtime's view of the pods on this node: what {@link CriPodStats} reads through CRI. */
@FunctionalInterface
public interface PodStatsSource {

    /**
     * Current usage of every running pod sandbox and its running containers.
     *
     * @throws RuntimeException (e.g. a CriException) when the runtime can't be asked; the scrape then reports an error
     */
    List<Stats.Pod> pods();

    /** No pods (a node without a runtime yet). */
    static PodStatsSource none() {
        return List::of;
    }
}
