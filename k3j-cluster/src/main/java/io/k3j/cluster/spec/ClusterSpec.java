package io.k3j.cluster.spec;

import java.time.Duration;
import java.util.List;

/**
 * Everything {@code k3j cluster create} needs, from flags and/or a config file (flags win), validated. The
 * cluster tool works from this alone.
 *
 * @param name                    DNS-1123 label, at most 32 characters
 * @param servers                 at least 1
 * @param agents                  0 or more
 * @param apiHost                 the host address of the API port ({@code 0.0.0.0} when not given; the kubeconfig then
 *                                points at 127.0.0.1)
 * @param apiPort                 the API port (0 = a random free one)
 * @param ports                   {@code -p}
 * @param volumes                 {@code -v}
 * @param env                     {@code -e}
 * @param args                    {@code --k3s-arg}/{@code --k3j-arg}
 * @param nodeLabels              {@code --k3s-node-label}
 * @param token                   the cluster token (null = generated)
 * @param subnet                  the cluster bridge's subnet, e.g. {@code 172.28.0.0/16} (null = chosen free)
 * @param waitForReady            {@code --wait}
 * @param timeout                 {@code --timeout} (null = none)
 * @param rollback                false with {@code --no-rollback}
 * @param updateDefaultKubeconfig {@code --kubeconfig-update-default}
 * @param switchContext           {@code --kubeconfig-switch-context}
 * @param loadBalancer            false with {@code --no-lb}
 */
public record ClusterSpec(String name, int servers, int agents, String apiHost, int apiPort, List<PortMapping> ports,
                          List<VolumeMount> volumes, List<NodeSetting> env, List<NodeSetting> args, List<NodeSetting> nodeLabels,
                          String token, String subnet, boolean waitForReady, Duration timeout, boolean rollback,
                          boolean updateDefaultKubeconfig, boolean switchContext, boolean loadBalancer) {
    public ClusterSpec {
        ports = List.copyOf(ports);
        volumes = List.copyOf(volumes);
        env = List.copyOf(env);
        args = List.copyOf(args);
        nodeLabels = List.copyOf(nodeLabels);
    }
}
