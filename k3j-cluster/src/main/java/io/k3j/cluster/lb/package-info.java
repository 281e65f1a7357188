/**
 * The cluster's load balancer: k3d's "serverlb", as a plain process in the host network namespace instead of an
 * nginx container. It listens on the API port (forwarding to every server's 6443) and on each {@code -p} port
 * published on the load balancer (forwarding to the selected nodes), TCP and UDP.
 *
 * <pre>
 * LoadBalancerConfig   what to listen on and where to forward (a JSON file the cluster tool writes)
 * LoadBalancer         start(config), reload(config) live, status(), close()
 * TcpListener          accept, pick a healthy backend round-robin, connect with a short timeout, retry on the next
 *                      backend, then copy bytes both ways on virtual threads (half-close aware)
 * UdpListener          one session per client address, idle timeout
 * Backends             per-backend health: active TCP connect checks plus passive marking on failed connects
 * PortOwner            which process holds a port (from /proc), for bind errors that name the fix
 * </pre>
 *
 * <p>Why it fails over faster than k3d's nginx (which marks a server down only after its 10 s proxy timeouts): a new
 * connection never waits on a dead backend longer than the connect timeout (300 ms by default) before the next
 * backend is tried, a failed connect marks the backend down at once, and an active check every 500 ms brings it back
 * as soon as it accepts connections again.
 */
package io.k3j.cluster.lb;
