package io.k3j.cluster.spec;

/**
 * One node of a cluster as filters see it: {@code server:0}, {@code agent:1}, {@code loadbalancer}.
 *
 * @param role  server, agent or loadbalancer
 * @param index 0-based within its role (0 for the load balancer)
 */
public record NodeRef(NodeRole role, int index) {
    /** k3d's node name: {@code k3j-NAME-server-0}, {@code k3j-NAME-agent-1}, {@code k3j-NAME-serverlb}. */
    public String nodeName(String cluster) {
        return role == NodeRole.LOADBALANCER ? "k3j-" + cluster + "-serverlb" : "k3j-" + cluster + "-" + role.word() + "-" + index;
    }
}
