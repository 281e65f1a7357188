package io.k3j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.k3j.cluster.ClusterManager;
import io.k3j.cluster.ClusterState;
import io.k3j.cluster.LoadBalancers;
import io.k3j.cluster.NodeLauncher;
import io.k3j.cluster.spec.ClusterSpec;
import io.k3j.cluster.spec.ClusterOptions;
import io.k3j.cluster.spec.ClusterSpecs;
import io.k3j.cluster.spec.NodeFilter;
import io.k3j.cluster.spec.PortMapping;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code k3j cluster}: k3d's cluster verbs; the work is {@link ClusterManager}'s. */
@Command(name = "cluster", aliases = "clusters", mixinStandardHelpOptions = true,
        description = "Manage local clusters: nodes are k3j processes in network namespaces on this machine (no Docker).",
        subcommands = {ClusterCommand.Create.class, ClusterCommand.Start.class, ClusterCommand.Stop.class, ClusterCommand.Delete.class,
            ClusterCommand.ListClusters.class, ClusterCommand.Edit.class})
final class ClusterCommand implements Runnable {
    /** {@code --verbose} on any cluster or node command (k3d's global flag): set before the command runs. */
    private static volatile boolean verbose;

    @Spec
    CommandSpec spec;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Also print what each started node runs, its PID and its log file")
    void verbose(boolean on) {
        verboseOutput(on);
    }

    static void verboseOutput(boolean on) {
        verbose = on;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The manager every cluster, node and kubeconfig command uses: nodes run this JVM's k3j. */
    static ClusterManager manager() {
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new IllegalStateException("k3j cluster must run as root: it creates network namespaces, bridges and mounts");
        }
        NodeLauncher launcher = NodeLauncher.thisJvm(Main.class.getName());
        return new ClusterManager(ClusterManager.defaultRoot(), launcher, LoadBalancers.process(ClusterManager.defaultRoot(), launcher),
                System.out::println).verbose(verbose);
    }

    /** A Go-style duration flag ({@code 90s}, {@code 5m}, {@code 1h30m}); blank or 0 = none. */
    static Duration duration(CommandSpec spec, String flag, String value) {
        if (value == null || value.isBlank()) return null;
        try {
            Duration d = ClusterSpecs.parseDuration(value.strip());
            return d == null || d.isZero() ? null : d;
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), flag + " " + value + ": " + e.getMessage());
        }
    }


    @Command(name = "create", mixinStandardHelpOptions = true, sortOptions = false, description = "Create a new cluster.")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", arity = "0..1", description = "Cluster name (default: the config file's, else k3s-default)")
        String name;

        @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Config file (k3d.io/v1alpha2..v1alpha5 or k3j.io/v1alpha1, kind Simple); flags override it")
        Path config;

        @Option(names = {"-s", "--servers"}, description = "Number of servers (default: 1)")
        Integer servers;

        @Option(names = {"-a", "--agents"}, description = "Number of agents (default: 0)")
        Integer agents;

        @Option(names = "--api-port", paramLabel = "[HOST:]PORT", description = "The API's host address and port (default: a random free port)")
        String apiPort;

        @Option(names = {"-p", "--port"}, paramLabel = "[HOST:][HOSTPORT:]NODEPORT[/tcp|udp][@NODEFILTER]",
                description = "Publish a node port on the load balancer (default filter: all servers and agents), or with "
                        + "@server:N:direct / @agent:N:direct on that one node only (also with --no-lb)")
        List<String> ports = new ArrayList<>();

        @Option(names = {"-v", "--volume"}, paramLabel = "SRC:DEST[:ro|rw][@NODEFILTER]", description = "Mount a host folder into the nodes")
        List<String> volumes = new ArrayList<>();

        @Option(names = {"-e", "--env"}, paramLabel = "KEY=VALUE[@NODEFILTER]", description = "Environment variables of the nodes")
        List<String> env = new ArrayList<>();

        @Option(names = {"--k3s-arg", "--k3j-arg"}, paramLabel = "ARG[@NODEFILTER]", description = "Extra argument for k3j server/agent")
        List<String> args = new ArrayList<>();

        @Option(names = "--k3s-node-label", paramLabel = "KEY=VALUE[@NODEFILTER]", description = "Node labels")
        List<String> labels = new ArrayList<>();

        @Option(names = "--token", description = "The cluster token (default: generated)")
        String token;

        @Option(names = "--subnet", paramLabel = "CIDR", description = "The cluster bridge's subnet (default: a free 10.2xx.yyy.0/24)")
        String subnet;

        @Option(names = "--wait", negatable = true, fallbackValue = "true", description = "Wait until every node is Ready (default: true)")
        Boolean waitForReady;

        @Option(names = "--timeout", paramLabel = "DURATION", description = "Give up (and roll back) after this long, e.g. 60s")
        String timeout;

        @Option(names = "--no-rollback", description = "Keep what was created when creating fails")
        Boolean noRollback;

        @Option(names = "--kubeconfig-update-default", negatable = true, fallbackValue = "true",
                description = "Merge the kubeconfig into $KUBECONFIG or ~/.kube/config (default: true)")
        Boolean updateDefault;

        @Option(names = "--kubeconfig-switch-context", negatable = true, fallbackValue = "true",
                description = "Make the new cluster's context the current one (default: true)")
        Boolean switchContext;

        @Option(names = "--no-lb", description = "No load balancer: the kubeconfig points at the first server (at --api-port on this host when "
                + "given); ports must name one node with :direct")
        Boolean noLb;

        @Override
        public Integer call() {
            ClusterOptions flags;
            try {
                flags = ClusterOptions.builder()
                        .name(name).servers(servers).agents(agents).apiPort(apiPort)
                        .ports(ports).volumes(volumes).env(env).args(args).nodeLabels(labels)
                        .token(token).subnet(subnet).waitForReady(waitForReady).timeout(timeout)
                        .rollback(noRollback == null ? null : !noRollback)
                        .updateDefaultKubeconfig(updateDefault).switchContext(switchContext)
                        .loadBalancer(noLb == null ? null : !noLb)
                        .build();
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            ClusterSpec cs = ClusterSpecs.create(config, flags, warning -> System.err.println("WARN " + warning));
            manager().create(cs);
            return 0;
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = "Start stopped clusters.")
    static final class Start implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", arity = "0..*")
        List<String> names = new ArrayList<>();

        @Option(names = {"-a", "--all"}, description = "All clusters")
        boolean all;

        @Option(names = "--wait", negatable = true, defaultValue = "true", fallbackValue = "true", description = "Wait until every node is Ready (default: true)")
        boolean waitForReady;

        @Option(names = "--timeout", paramLabel = "DURATION")
        String timeout;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            ClusterManager m = manager();
            for (String n : names(spec, m, names, all)) m.start(n, waitForReady, duration(spec, "--timeout", timeout));
            return 0;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop clusters (data, addresses and workloads are kept).")
    static final class Stop implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", arity = "0..*")
        List<String> names = new ArrayList<>();

        @Option(names = {"-a", "--all"}, description = "All clusters")
        boolean all;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            ClusterManager m = manager();
            for (String n : names(spec, m, names, all)) m.stop(n);
            return 0;
        }
    }

    @Command(name = "delete", aliases = {"del", "rm"}, mixinStandardHelpOptions = true, description = "Delete clusters and everything of them.")
    static final class Delete implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", arity = "0..*")
        List<String> names = new ArrayList<>();

        @Option(names = {"-a", "--all"}, description = "All clusters")
        boolean all;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            ClusterManager m = manager();
            for (String n : names(spec, m, names, all)) m.delete(n);
            return 0;
        }
    }

    private static List<String> names(CommandSpec spec, ClusterManager m, List<String> names, boolean all) {
        if (all) return m.list().stream().map(c -> c.state().name()).toList();
        if (names.isEmpty()) return List.of("k3s-default");
        return names;
    }

    @Command(name = "list", aliases = {"ls", "get"}, mixinStandardHelpOptions = true, description = "List clusters.")
    static final class ListClusters implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", arity = "0..*")
        List<String> names = new ArrayList<>();

        @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", description = "json or yaml (default: a table)")
        String output;

        @Option(names = "--no-headers", description = "No table header")
        boolean noHeaders;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            List<ClusterManager.ClusterInfo> infos = manager().list().stream()
                    .filter(i -> names.isEmpty() || names.contains(i.state().name())).toList();
            if (output != null) {
                List<Map<String, Object>> out = new ArrayList<>();
                for (ClusterManager.ClusterInfo i : infos) {
                    ClusterState s = i.state();
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("name", s.name());
                    m.put("serversRunning", i.serversRunning());
                    m.put("serversCount", s.servers().size());
                    m.put("agentsRunning", i.agentsRunning());
                    m.put("agentsCount", s.agents().size());
                    m.put("hasLoadbalancer", s.loadBalancer());
                    m.put("loadbalancerRunning", i.loadBalancerRunning());
                    m.put("ports", s.ports().stream().map(p -> Map.of("hostIP", p.hostIp(), "hostPort", p.hostPort(), "nodePort", p.nodePort(),
                            "protocol", p.protocol(), "nodeFilters", p.filters().stream().map(NodeFilter::text).toList())).toList());
                    m.put("network", Map.of("bridge", s.bridge(), "subnet", s.subnet()));
                    m.put("kubeAPI", Map.of("host", s.apiHost(), "port", s.apiPort()));
                    m.put("nodes", s.nodes().stream().map(n -> Map.of("name", n.name(), "role", n.role().word(), "ip", n.ip())).toList());
                    out.add(m);
                }
                ObjectMapper mapper = switch (output) {
                    case "json" -> new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
                    case "yaml" -> new ObjectMapper(new YAMLFactory());
                    default -> throw new ParameterException(spec.commandLine(), "--output " + output + " is not supported: use json or yaml");
                };
                System.out.println(mapper.writeValueAsString(out).stripTrailing());
                return 0;
            }
            String fmt = "%-24s %-8s %-8s %s%n";
            if (!noHeaders) System.out.printf(fmt, "NAME", "SERVERS", "AGENTS", "LOADBALANCER");
            for (ClusterManager.ClusterInfo i : infos) {
                System.out.printf(fmt, i.state().name(), i.serversRunning() + "/" + i.state().servers().size(),
                        i.agentsRunning() + "/" + i.state().agents().size(),
                        // configured and running, or what is missing
                        !i.state().loadBalancer() ? "false" : i.loadBalancerRunning() ? "true" : "true (stopped)");
            }
            return 0;
        }
    }

    @Command(name = "edit", mixinStandardHelpOptions = true, description = "Change a running cluster (ports of the load balancer).")
    static final class Edit implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--port-add", paramLabel = "[HOST:][HOSTPORT:]NODEPORT[/tcp|udp][@NODEFILTER]", description = "Publish another port")
        List<String> add = new ArrayList<>();

        @Option(names = "--port-delete", paramLabel = "[HOST:][HOSTPORT:]NODEPORT[/tcp|udp]", description = "Stop publishing a port")
        List<String> delete = new ArrayList<>();

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            if (add.isEmpty() && delete.isEmpty()) throw new ParameterException(spec.commandLine(), "nothing to change: give --port-add or --port-delete");
            List<PortMapping> added;
            List<PortMapping> removed;
            try {
                added = add.stream().map(PortMapping::parse).toList();
                removed = delete.stream().map(PortMapping::parse).toList();
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            manager().editPorts(name, added, removed);
            return 0;
        }
    }
}
