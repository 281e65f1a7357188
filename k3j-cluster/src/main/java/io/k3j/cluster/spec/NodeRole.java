package io.k3j.cluster.spec;

/** What a node of a local cluster is; the load balancer counts as a node for filters, as in k3d. */
public enum NodeRole {
    SERVER("server"), AGENT("agent"), LOADBALANCER("loadbalancer");

    private final String word;

    NodeRole(String word) {
        this.word = word;
    }

    /** As k3d spells it in filters and node names. */
    public String word() {
        return word;
    }
}
