package io.k3j.controllers.scheduler;

import java.util.List;

/**
 * Why one node rejected a pod: the reasons of the first failing filter plugin, and whether removing pods
 * (preemption) could change that ({@code resolvable}; kube's Unschedulable vs UnschedulableAndUnresolvable).
 */
public record Status(String plugin, List<String> reasons, boolean resolvable) {

    public Status {
        reasons = List.copyOf(reasons);
    }

    static Status unschedulable(String plugin, String... reasons) {
        return new Status(plugin, List.of(reasons), true);
    }

    static Status unresolvable(String plugin, String... reasons) {
        return new Status(plugin, List.of(reasons), false);
    }
}
