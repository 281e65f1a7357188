package io.k3j.agent.volume;

import io.k3j.api.Quantity;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the node knows about itself that volumes and env vars refer to.
 *
 * @param nodeName    this node's name
 * @param hostIPs     the node's addresses, the first being {@code status.hostIP}
 * @param allocatable the node's allocatable resources ({@code cpu}, {@code memory}, {@code ephemeral-storage}): the
 *                    value downward-API {@code limits.*} report for a container without that limit, as kubelet does
 */
public record NodeFacts(String nodeName, List<String> hostIPs, Map<String, Quantity> allocatable) {

    public NodeFacts {
        Objects.requireNonNull(nodeName, "nodeName");
        hostIPs = List.copyOf(hostIPs);
        allocatable = Map.copyOf(allocatable);
    }
}
