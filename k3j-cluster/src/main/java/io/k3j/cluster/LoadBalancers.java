package io.k3j.cluster;

import java.net.URI;
import java.nio.file.Path;

/**
 * The seam to the cluster's load balancer (io.k3j.cluster.lb, a process in the host namespace on the API port and
 * the mapped ports). {@link ClusterManager} starts it before the nodes (a taken port fails the create
 * before anything else is made), reloads it when nodes or ports change and
 * stops it before the nodes; the kubeconfig points at {@link #apiServer}.
 */
public interface LoadBalancers {
    /**
     * Starts the cluster's load balancer (forwarding the API port to every server's 6443 and each mapped port to
     * the selected nodes, a {@code :direct} port to its one node); a running one gets the cluster's current
     * listeners. A {@code --no-lb} cluster gets a process only for its {@code :direct} ports and an explicit
     * {@code --api-port}.
     */
    void start(ClusterState cluster);

    /** Applies a changed cluster (nodes added or removed, ports edited) to the running load balancer. */
    void reload(ClusterState cluster);

    /** Stops it; a stopped one is not an error. */
    void stop(ClusterState cluster);

    /** Whether it is running (for {@code cluster list}). */
    boolean running(ClusterState cluster);

    /** The API server URL clients use (the kubeconfig's {@code server}). */
    URI apiServer(ClusterState cluster);

    /**
     * The real one: a {@code MAIN loadbalancer --config DIR/lb.json --status-file DIR/lb.status.json} process per
     * cluster (DIR = the cluster's folder under {@code root}), started with {@code launcher}'s JVM and class path.
     * Clusters created with {@code --no-lb} get none.
     */
    static LoadBalancers process(Path root, NodeLauncher launcher) {
        return new ProcessLoadBalancers(new ClusterStore(root), launcher);
    }

    /**
     * No load balancer: the kubeconfig points straight at the first server's address on the cluster bridge
     * (reachable from the host); nothing is started, so mapped ports are not published.
     */
    static LoadBalancers direct() {
        return new LoadBalancers() {
            @Override
            public void start(ClusterState cluster) { }

            @Override
            public void reload(ClusterState cluster) { }

            @Override
            public void stop(ClusterState cluster) { }

            @Override
            public boolean running(ClusterState cluster) {
                return false;
            }

            @Override
            public URI apiServer(ClusterState cluster) {
                return URI.create("https://" + cluster.firstServer().ip() + ":6443");
            }
        };
    }
}
