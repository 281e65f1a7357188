package io.k3j.cluster.spec;

import java.util.List;

/**
 * {@code -p/--port [HOST:][HOSTPORT:]NODEPORT[/tcp|udp][@NODEFILTER]}: a host port the load balancer listens on
 * (or, with {@code :direct}, the selected nodes themselves), forwarded to {@code nodePort} of the selected nodes.
 *
 * @param hostIp   the host address to bind ({@code 0.0.0.0} when not given)
 * @param hostPort the host port (0 = a random free one, chosen at create time and then kept)
 * @param nodePort the port on the nodes
 * @param protocol "tcp" or "udp"
 * @param filters  which nodes; empty = k3d's default (the load balancer, forwarding to every server and agent)
 */
public record PortMapping(String hostIp, int hostPort, int nodePort, String protocol, List<NodeFilter> filters) {
}
