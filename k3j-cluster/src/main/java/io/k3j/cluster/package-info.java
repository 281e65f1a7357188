/**
 * The local cluster tool: what k3d is for k3s, without Docker. A cluster is a set of nodes, each a {@code k3j server}
 * or {@code k3j agent} process in its own network namespace on a per-cluster bridge {@code k3j-NAME}, plus a load
 * balancer process in the host namespace on the API port and the mapped ports.
 *
 * <pre>
 * io.k3j.cluster        ClusterManager: create/start/stop/delete/list/edit clusters and nodes, persisted state, kubeconfig
 * io.k3j.cluster.spec   what a cluster is made of (ClusterSpec, node filters, port/volume/env/arg specs) from flags and
 *                       k3d/k3j config files (k3d.io/v1alpha2..5, k3j.io/v1alpha1), validation, migration
 * io.k3j.cluster.lb     the load balancer: TCP/UDP forwarding with active health checks, reloaded live
 * </pre>
 */
package io.k3j.cluster;
