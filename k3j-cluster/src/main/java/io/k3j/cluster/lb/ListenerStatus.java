package io.k3j.cluster.lb;

import io.k3j.cluster.lb.LoadBalancerConfig.Protocol;

/**
 * One configured listener as it runs now.
 *
 * @param name     the listener's name from the config
 * @param protocol TCP or UDP
 * @param bind     the local address
 * @param port     the bound port (the ephemeral one when the config said 0); 0 when not bound
 * @param error    why it is not bound (a sentence naming the fix), or null when it is
 */
public record ListenerStatus(String name, Protocol protocol, String bind, int port, String error) {
    /** True when the listener is accepting. */
    public boolean up() {
        return error == null && port > 0;
    }
}
