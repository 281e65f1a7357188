package io.k3j.controllers.node;

import io.k3j.controllers.ManagedController;

/** The controllers that look after nodes and what runs on them. */
public final class NodeControllers {
    private NodeControllers() {
    }

    /** Node IPAM (range allocator): a pod CIDR for every node. */
    public static ManagedController.Factory ipam() {
        return NodeIpamController::new;
    }

    /** Node lifecycle: heartbeats, Unknown conditions, condition taints. */
    public static ManagedController.Factory lifecycle() {
        return NodeLifecycleController::new;
    }

    /** Taint eviction: deletes pods that do not (or no longer) tolerate their node's NoExecute taints. */
    public static ManagedController.Factory taintEviction() {
        return TaintEvictionController::new;
    }

    /** Pod garbage collection: orphaned, unscheduled-terminating and surplus terminated pods. */
    public static ManagedController.Factory podGc() {
        return PodGcController::new;
    }
}
