package io.k3j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.k3j.cluster.ClusterManager;
import io.k3j.cluster.ClusterState;
import io.k3j.cluster.LoadBalancers;
import io.k3j.cluster.NodeLauncher;
import io.k3j.cluster.spec.ClusterSpec;
import io.k3j.cluster.spec.NodeFilter;
import io.k3j.cluster.spec.NodeRole;
import io.k3j.cluster.spec.NodeSetting;
import io.k3j.cluster.spec.PortMapping;
import io.k3j.cluster.spec.VolumeMount;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
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
    @Spec
    CommandSpec spec;

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
                System.out::println);
    }

    static Duration duration(CommandSpec spec, String flag, String value) {
        if (value == null || value.isBlank() || value.equals("0") || value.equals("0s")) return null;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h)").matcher(value.strip());
        if (!m.matches()) throw new ParameterException(spec.commandLine(), flag + " " + value + " is not a duration: expected e.g. 90s, 5m, 1h");
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    /**
     * A node filter in k3d v5 ({@code agent:*}, {@code server:0,1}, {@code agent:1-2}, {@code all}, joined with ';')
     * or v4 ({@code agent[*]}, {@code server[0]}) syntax. Replaced by io.k3j.cluster.spec's parser once that lands.
     */
    static NodeFilter filter(CommandSpec spec, String text) {
        List<NodeFilter.Selector> selectors = new ArrayList<>();
        for (String part : text.split(";")) {
            String p = part.strip();
            if (p.equals("all")) {
                selectors.add(new NodeFilter.Selector(null, null));
                continue;
            }
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(server|agent|loadbalancer)(?::([^\\[\\]]*)|\\[([^\\]]*)\\])?").matcher(p);
            if (!m.matches()) {
                throw new ParameterException(spec.commandLine(), "node filter '" + text + "' is not valid: expected server, agent, loadbalancer or all");
            }
            NodeRole role = NodeRole.valueOf(m.group(1).toUpperCase(java.util.Locale.ROOT));
            String idx = m.group(2) != null ? m.group(2) : m.group(3);
            if (idx == null || idx.equals("*") || idx.isEmpty()) {
                selectors.add(new NodeFilter.Selector(role, null));
                continue;
            }
            List<Integer> indices = new ArrayList<>();
            for (String i : idx.split(",")) {
                String[] range = i.split("[-:]");
                try {
                    int from = Integer.parseInt(range[0].strip());
                    int to = range.length > 1 ? Integer.parseInt(range[1].strip()) : from;
                    for (int x = from; x <= to; x++) indices.add(x);
                } catch (NumberFormatException e) {
                    throw new ParameterException(spec.commandLine(), "node filter '" + text + "' is not valid: indices are numbers, N-M ranges or *");
                }
            }
            selectors.add(new NodeFilter.Selector(role, indices));
        }
        return new NodeFilter(text, selectors, null);
    }

    /** {@code VALUE@FILTER}: the value and its filters (none when there is no '@'). */
    static NodeSetting setting(CommandSpec spec, String value) {
        int at = value.lastIndexOf('@');
        if (at < 0) return new NodeSetting(value, List.of());
        return new NodeSetting(value.substring(0, at), List.of(filter(spec, value.substring(at + 1))));
    }

    /**
     * {@code [HOST:][HOSTPORT:]NODEPORT[/tcp|udp][@NODEFILTER]} (host port 0 = a free one). Replaced by
     * io.k3j.cluster.spec's parser once that lands.
     */
    static PortMapping port(CommandSpec spec, String flag, String text) {
        NodeSetting s = setting(spec, text);
        String v = s.value();
        String proto = "tcp";
        int slash = v.lastIndexOf('/');
        if (slash >= 0) {
            proto = v.substring(slash + 1).toLowerCase(java.util.Locale.ROOT);
            v = v.substring(0, slash);
            if (!proto.equals("tcp") && !proto.equals("udp")) {
                throw new ParameterException(spec.commandLine(), flag + " " + text + " is not valid: the protocol is tcp or udp");
            }
        }
        String[] parts = v.split(":");
        if (parts.length < 1 || parts.length > 3) {
            throw new ParameterException(spec.commandLine(), flag + " " + text + " is not valid: expected [HOST:][HOSTPORT:]NODEPORT[/tcp|udp][@NODEFILTER]");
        }
        try {
            int nodePort = Integer.parseInt(parts[parts.length - 1]);
            int hostPort = parts.length >= 2 && !parts[parts.length - 2].isEmpty() ? Integer.parseInt(parts[parts.length - 2]) : 0;
            String host = parts.length == 3 && !parts[0].isEmpty() ? parts[0] : "0.0.0.0";
            if (nodePort < 1 || nodePort > 65535 || hostPort < 0 || hostPort > 65535) {
                throw new ParameterException(spec.commandLine(), flag + " " + text + " is not valid: ports are 1-65535");
            }
            return new PortMapping(host, hostPort, nodePort, proto, s.filters());
        } catch (NumberFormatException e) {
            throw new ParameterException(spec.commandLine(), flag + " " + text + " is not valid: expected [HOST:][HOSTPORT:]NODEPORT[/tcp|udp][@NODEFILTER]");
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, sortOptions = false, description = "Create a new cluster.")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", arity = "0..1", defaultValue = "k3s-default", description = "Cluster name (default: ${DEFAULT-VALUE})")
        String name;

        @Option(names = {"-s", "--servers"}, defaultValue = "1", description = "Number of servers (default: ${DEFAULT-VALUE})")
        int servers;

        @Option(names = {"-a", "--agents"}, defaultValue = "0", description = "Number of agents (default: ${DEFAULT-VALUE})")
        int agents;

        @Option(names = "--api-port", paramLabel = "[HOST:]PORT", description = "The API's host address and port (default: a random free port)")
        String apiPort;

        @Option(names = {"-p", "--port"}, paramLabel = "[HOST:][HOSTPORT:]NODEPORT[/tcp|udp][@NODEFILTER]",
                description = "Publish a node port on the load balancer (default filter: all servers and agents)")
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

        @Option(names = "--wait", negatable = true, defaultValue = "true", fallbackValue = "true", description = "Wait until every node is Ready (default: true)")
        boolean waitForReady;

        @Option(names = "--timeout", paramLabel = "DURATION", description = "Give up (and roll back) after this long, e.g. 60s")
        String timeout;

        @Option(names = "--no-rollback", description = "Keep what was created when creating fails")
        boolean noRollback;

        @Option(names = "--kubeconfig-update-default", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Merge the kubeconfig into $KUBECONFIG or ~/.kube/config (default: true)")
        boolean updateDefault;

        @Option(names = "--kubeconfig-switch-context", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Make the new cluster's context the current one (default: true)")
        boolean switchContext;

        @Option(names = "--no-lb", description = "No load balancer: the kubeconfig points at the first server")
        boolean noLb;

        @Override
        public Integer call() {
            String host = "0.0.0.0";
            int port = 0;
            if (apiPort != null) {
                int colon = apiPort.lastIndexOf(':');
                if (colon >= 0) host = apiPort.substring(0, colon);
                try {
                    port = Integer.parseInt(apiPort.substring(colon + 1));
                } catch (NumberFormatException e) {
                    throw new ParameterException(spec.commandLine(), "--api-port " + apiPort + " is not valid: expected [HOST:]PORT");
                }
                if (port < 1 || port > 65535) throw new ParameterException(spec.commandLine(), "--api-port " + apiPort + ": the port must be 1-65535");
            }
            List<VolumeMount> mounts = new ArrayList<>();
            for (String v : volumes) {
                NodeSetting s = setting(spec, v);
                String[] p = s.value().split(":");
                if (p.length < 2 || p.length > 3 || (p.length == 3 && !p[2].equals("ro") && !p[2].equals("rw"))) {
                    throw new ParameterException(spec.commandLine(), "--volume " + v + " is not valid: expected SRC:DEST[:ro|rw][@NODEFILTER]");
                }
                mounts.add(new VolumeMount(Path.of(p[0]).toAbsolutePath(), Path.of(p[1]), p.length == 3 && p[2].equals("ro"), s.filters()));
            }
            ClusterSpec cs = new ClusterSpec(name, servers, agents, host, port, ports.stream().map(p -> port(spec, "--port", p)).toList(), mounts,
                    env.stream().map(e -> setting(spec, e)).toList(), args.stream().map(a -> setting(spec, a)).toList(),
                    labels.stream().map(l -> setting(spec, l)).toList(), token, subnet, waitForReady, duration(spec, "--timeout", timeout),
                    !noRollback, updateDefault, switchContext, !noLb);
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
            manager().editPorts(name, add.stream().map(p -> port(spec, "--port-add", p)).toList(),
                    delete.stream().map(p -> port(spec, "--port-delete", p)).toList());
            return 0;
        }
    }
}
