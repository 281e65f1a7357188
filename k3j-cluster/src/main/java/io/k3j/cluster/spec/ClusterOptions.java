package io.k3j.cluster.spec;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What a config file or the command line set, before defaults: every field is null (lists: empty) when not set.
 * {@link ClusterSpecs#merge} lays the flags over the file and fills in defaults. The {@link #builder()} takes flag
 * values as the user typed them and parses them, so the CLI passes strings and gets k3d's errors.
 *
 * @param timeout {@link Duration#ZERO} = explicitly none
 */
public record ClusterOptions(String name, Integer servers, Integer agents, String apiHost, Integer apiPort,
                             List<PortMapping> ports, List<VolumeMount> volumes, List<NodeSetting> env,
                             List<NodeSetting> args, List<NodeSetting> nodeLabels, String token, String subnet,
                             Boolean waitForReady, Duration timeout, Boolean rollback, Boolean updateDefaultKubeconfig,
                             Boolean switchContext, Boolean loadBalancer) {
    public ClusterOptions {
        ports = List.copyOf(ports);
        volumes = List.copyOf(volumes);
        env = List.copyOf(env);
        args = List.copyOf(args);
        nodeLabels = List.copyOf(nodeLabels);
    }

    /** Nothing set. */
    public static ClusterOptions none() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Collects flag values; each setter accepts null (= the flag was not given) and parses strings right away.
     * Setters throw {@link IllegalArgumentException} with k3d-style messages naming the value and the fix.
     */
    public static final class Builder {
        private String name;
        private Integer servers;
        private Integer agents;
        private String apiHost;
        private Integer apiPort;
        private final List<PortMapping> ports = new ArrayList<>();
        private final List<VolumeMount> volumes = new ArrayList<>();
        private final List<NodeSetting> env = new ArrayList<>();
        private final List<NodeSetting> args = new ArrayList<>();
        private final List<NodeSetting> nodeLabels = new ArrayList<>();
        private String token;
        private String subnet;
        private Boolean waitForReady;
        private Duration timeout;
        private Boolean rollback;
        private Boolean updateDefaultKubeconfig;
        private Boolean switchContext;
        private Boolean loadBalancer;

        Builder() {
        }

        /** The cluster name (DNS-1123 label, at most 32 characters). */
        public Builder name(String name) {
            if (name != null) this.name = ClusterSpecs.validateName(name);
            return this;
        }

        /** {@code -s/--servers}. */
        public Builder servers(Integer servers) {
            if (servers != null && servers < 1) throw new IllegalArgumentException("--servers " + servers + " is not valid: expected at least 1");
            this.servers = servers;
            return this;
        }

        /** {@code -a/--agents}. */
        public Builder agents(Integer agents) {
            if (agents != null && agents < 0) throw new IllegalArgumentException("--agents " + agents + " is not valid: expected 0 or more");
            this.agents = agents;
            return this;
        }

        /** {@code --api-port [HOST:]PORT}; PORT may be {@code random}. */
        public Builder apiPort(String apiPort) {
            if (apiPort != null) {
                ClusterSpecs.HostPort hp = ClusterSpecs.parseApiPort(apiPort);
                this.apiHost = hp.host();
                this.apiPort = hp.port();
            }
            return this;
        }

        /** {@code -p/--port}, repeatable. */
        public Builder ports(List<String> values) {
            if (values != null) values.forEach(v -> ports.add(PortMapping.parse(v)));
            return this;
        }

        /** {@code -v/--volume}, repeatable. */
        public Builder volumes(List<String> values) {
            if (values != null) values.forEach(v -> volumes.add(VolumeMount.parse(v)));
            return this;
        }

        /** {@code -e/--env}, repeatable. */
        public Builder env(List<String> values) {
            if (values != null) values.forEach(v -> env.add(NodeSetting.parseEnv(v)));
            return this;
        }

        /** {@code --k3s-arg}/{@code --k3j-arg}, repeatable. */
        public Builder args(List<String> values) {
            if (values != null) values.forEach(v -> args.add(NodeSetting.parseArg(v)));
            return this;
        }

        /** {@code --k3s-node-label}, repeatable. */
        public Builder nodeLabels(List<String> values) {
            if (values != null) values.forEach(v -> nodeLabels.add(NodeSetting.parseLabel(v)));
            return this;
        }

        /** {@code --token}. */
        public Builder token(String token) {
            if (token != null && token.isBlank()) throw new IllegalArgumentException("--token is empty");
            this.token = token;
            return this;
        }

        /** {@code --subnet CIDR} or {@code auto}. */
        public Builder subnet(String subnet) {
            if (subnet != null) this.subnet = ClusterSpecs.parseSubnet(subnet);
            return this;
        }

        /** {@code --wait}/{@code --wait=false}. */
        public Builder waitForReady(Boolean wait) {
            this.waitForReady = wait;
            return this;
        }

        /** {@code --timeout} as a Go duration ({@code 60s}, {@code 2m}, {@code 1m30s}; {@code 0} = none). */
        public Builder timeout(String timeout) {
            if (timeout != null) this.timeout = ClusterSpecs.parseDuration(timeout);
            return this;
        }

        /** False with {@code --no-rollback}. */
        public Builder rollback(Boolean rollback) {
            this.rollback = rollback;
            return this;
        }

        /** {@code --kubeconfig-update-default}. */
        public Builder updateDefaultKubeconfig(Boolean update) {
            this.updateDefaultKubeconfig = update;
            return this;
        }

        /** {@code --kubeconfig-switch-context}. */
        public Builder switchContext(Boolean switchContext) {
            this.switchContext = switchContext;
            return this;
        }

        /** False with {@code --no-lb}. */
        public Builder loadBalancer(Boolean loadBalancer) {
            this.loadBalancer = loadBalancer;
            return this;
        }

        // Typed setters for the config file reader.
        Builder apiHost(String host) {
            this.apiHost = host;
            return this;
        }

        Builder apiPortNumber(Integer port) {
            this.apiPort = port;
            return this;
        }

        Builder timeout(Duration d) {
            this.timeout = d;
            return this;
        }

        Builder subnetParsed(String s) {
            this.subnet = s;
            return this;
        }

        Builder nameUnchecked(String n) {
            this.name = n;
            return this;
        }

        Builder port(PortMapping p) {
            ports.add(p);
            return this;
        }

        Builder volume(VolumeMount v) {
            volumes.add(v);
            return this;
        }

        Builder env(NodeSetting s) {
            env.add(s);
            return this;
        }

        Builder arg(NodeSetting s) {
            args.add(s);
            return this;
        }

        Builder nodeLabel(NodeSetting s) {
            nodeLabels.add(s);
            return this;
        }

        public ClusterOptions build() {
            return new ClusterOptions(name, servers, agents, apiHost, apiPort, ports, volumes, env, args, nodeLabels, token,
                    subnet, waitForReady, timeout, rollback, updateDefaultKubeconfig, switchContext, loadBalancer);
        }
    }
}
