package io.k3j.cli;

import io.k3j.agent.AgentConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The node network flags {@code k3j server} and {@code k3j agent} share (k3s's names where k3s has one). */
final class NetworkFlags {
    @Option(names = {"--network-backend", "--flannel-backend"}, paramLabel = "BACKEND", defaultValue = "host-gw",
            description = "Pod network between nodes: host-gw (routes; nodes on one L2 network) or vxlan (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--disable-kube-proxy", description = "Do not program Services (ClusterIP, NodePort, LoadBalancer) on this node")
    boolean disableServiceProxy;

    @Option(names = "--disable-network-policy", description = "Do not enforce NetworkPolicies on this node")
    boolean disableNetworkPolicy;

    @Option(names = "--resolv-conf", paramLabel = "FILE", defaultValue = "${env:K3J_RESOLV_CONF:-/etc/resolv.conf}",
            description = "Resolver file whose nameservers the cluster DNS forwards other names to (env: K3J_RESOLV_CONF; default: ${DEFAULT-VALUE})")
    Path resolvConf;

    /** Names the flag that is wrong and how to fix it; before anything starts. */
    void validate(CommandSpec spec) {
        if (!backend.equals("host-gw") && !backend.equals("vxlan")) {
            throw new ParameterException(spec.commandLine(), "--network-backend " + backend + " is not supported: use host-gw or vxlan");
        }
        if (!Files.isReadable(resolvConf)) {
            throw new ParameterException(spec.commandLine(), "--resolv-conf " + resolvConf + " cannot be read: give a resolv.conf with the upstream nameservers");
        }
    }

    /** Applies the flags to {@code config}. */
    AgentConfig apply(CommandSpec spec, AgentConfig config) {
        validate(spec);
        return config.withNetwork(backend, null, null)
                .withServices(new AgentConfig.NodeServices(!disableServiceProxy, !disableNetworkPolicy, resolvConf));
    }
}
