package io.k3j.cluster;

import io.k3j.cluster.spec.NodeRole;
import io.k3j.cluster.spec.PortMapping;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What {@code k3j cluster} remembers of a cluster between commands ({@code cluster.json} in the cluster's folder):
 * enough to start, stop and delete it from a new shell, with every node getting the same IP again. It is written
 * before each thing it names is created, so a rollback or {@code delete} after a crash finds everything.
 *
 * @param name         the cluster name
 * @param bridge       the host bridge (at most 15 characters, derived from the name)
 * @param subnet       the bridge's subnet, e.g. {@code 10.213.7.0/24}; the bridge has its first address
 * @param token        the cluster token every node joins with
 * @param apiHost      the API port's host address
 * @param apiPort      the API port on the host (the load balancer's listener); 0 = none (a {@code --no-lb} cluster
 *                     without {@code --api-port}: the kubeconfig points at the first server)
 * @param loadBalancer whether the cluster has a load balancer
 * @param nodes        servers and agents, in creation order
 * @param createdPaths host folders k3j created (volume destinations that did not exist), removed on delete
 * @param kubeconfigs  kubeconfig files the cluster's entries were merged into, cleaned on delete
 * @param ports        the load balancer's mapped ports ({@code -p}, {@code cluster edit --port-add}), host ports chosen
 */
public record ClusterState(String name, String bridge, String subnet, String token, String apiHost, int apiPort, boolean loadBalancer,
                           List<NodeState> nodes, List<String> createdPaths, List<String> kubeconfigs, List<PortMapping> ports) {
    public ClusterState {
        nodes = List.copyOf(nodes);
        // state written before ports were remembered has none
        ports = ports == null ? List.of() : List.copyOf(ports);
        createdPaths = List.copyOf(createdPaths);
        kubeconfigs = List.copyOf(kubeconfigs);
    }

    /**
     * One node.
     *
     * @param name   {@code k3j-CLUSTER-server-0}: node name, hostname and network namespace name
     * @param role   server or agent
     * @param index  0-based within its role (what node filters select)
     * @param ip     its address on the bridge, kept for its life
     * @param veth   the host end of its uplink
     * @param args   extra {@code k3j server|agent} arguments
     * @param env    extra environment variables
     * @param binds  host folders made visible inside it
     */
    public record NodeState(String name, NodeRole role, int index, String ip, String veth, List<String> args, Map<String, String> env,
                            List<Bind> binds) {
        public NodeState {
            args = List.copyOf(args);
            env = Map.copyOf(env);
            binds = List.copyOf(binds);
        }
    }

    /** A bind mount inside a node's mount namespace. */
    public record Bind(String source, String destination, boolean readOnly) {
    }

    public List<NodeState> servers() {
        return nodes.stream().filter(n -> n.role() == NodeRole.SERVER).toList();
    }

    public List<NodeState> agents() {
        return nodes.stream().filter(n -> n.role() == NodeRole.AGENT).toList();
    }

    /** The node that every other node joins (the first server). */
    public NodeState firstServer() {
        return servers().getFirst();
    }

    public NodeState node(String nodeName) {
        return nodes.stream().filter(n -> n.name().equals(nodeName)).findFirst().orElse(null);
    }

    ClusterState withNode(NodeState node) {
        List<NodeState> n = new ArrayList<>(nodes);
        n.add(node);
        return new ClusterState(name, bridge, subnet, token, apiHost, apiPort, loadBalancer, n, createdPaths, kubeconfigs, ports);
    }

    ClusterState withoutNode(String nodeName) {
        return new ClusterState(name, bridge, subnet, token, apiHost, apiPort, loadBalancer,
                nodes.stream().filter(x -> !x.name().equals(nodeName)).toList(), createdPaths, kubeconfigs, ports);
    }

    ClusterState withCreatedPath(String path) {
        List<String> p = new ArrayList<>(createdPaths);
        p.add(path);
        return new ClusterState(name, bridge, subnet, token, apiHost, apiPort, loadBalancer, nodes, p, kubeconfigs, ports);
    }

    ClusterState withKubeconfig(String file) {
        if (kubeconfigs.contains(file)) return this;
        List<String> k = new ArrayList<>(kubeconfigs);
        k.add(file);
        return new ClusterState(name, bridge, subnet, token, apiHost, apiPort, loadBalancer, nodes, createdPaths, k, ports);
    }

    ClusterState withPorts(List<PortMapping> newPorts) {
        return new ClusterState(name, bridge, subnet, token, apiHost, apiPort, loadBalancer, nodes, createdPaths, kubeconfigs, newPorts);
    }
}
