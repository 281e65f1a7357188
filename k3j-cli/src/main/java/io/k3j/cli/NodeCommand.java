package io.k3j.cli;

import io.k3j.cluster.ClusterManager;
import io.k3j.cluster.spec.NodeRole;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code k3j node}: k3d's node verbs on the nodes of local clusters. */
@Command(name = "node", aliases = "nodes", mixinStandardHelpOptions = true, description = "Manage the nodes of local clusters.",
        subcommands = {NodeCommand.Create.class, NodeCommand.Start.class, NodeCommand.Stop.class, NodeCommand.Delete.class, NodeCommand.ListNodes.class})
final class NodeCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Also print what each started node runs, its PID and its log file")
    void verbose(boolean on) {
        ClusterCommand.verboseOutput(on);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Add nodes k3j-NAME-0.. to a cluster.")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = {"-c", "--cluster"}, defaultValue = "k3s-default", description = "The cluster (default: ${DEFAULT-VALUE})")
        String cluster;

        @Option(names = "--role", defaultValue = "agent", description = "agent (server needs HA; default: ${DEFAULT-VALUE})")
        String role;

        @Option(names = "--replicas", defaultValue = "1", description = "How many (default: ${DEFAULT-VALUE})")
        int replicas;

        @Option(names = "--wait", negatable = true, defaultValue = "true", fallbackValue = "true", description = "Wait until Ready (default: true)")
        boolean waitForReady;

        @Option(names = "--timeout", paramLabel = "DURATION")
        String timeout;

        @Override
        public Integer call() {
            NodeRole r = switch (role) {
                case "agent" -> NodeRole.AGENT;
                case "server" -> NodeRole.SERVER;
                default -> throw new ParameterException(spec.commandLine(), "--role " + role + " is not valid: expected server or agent");
            };
            ClusterCommand.manager().createNodes(cluster, name, r, replicas, waitForReady, ClusterCommand.duration(spec, "--timeout", timeout));
            return 0;
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = "Start stopped nodes.")
    static final class Start implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NODE", arity = "1..*")
        List<String> nodes = new ArrayList<>();

        @Option(names = "--wait", negatable = true, defaultValue = "true", fallbackValue = "true")
        boolean waitForReady;

        @Option(names = "--timeout", paramLabel = "DURATION")
        String timeout;

        @Override
        public Integer call() {
            ClusterManager m = ClusterCommand.manager();
            for (String n : nodes) m.startNode(n, waitForReady, ClusterCommand.duration(spec, "--timeout", timeout));
            return 0;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop nodes (their pods end with them).")
    static final class Stop implements Callable<Integer> {
        @Parameters(paramLabel = "NODE", arity = "1..*")
        List<String> nodes = new ArrayList<>();

        @Override
        public Integer call() {
            ClusterManager m = ClusterCommand.manager();
            for (String n : nodes) m.stopNode(n);
            return 0;
        }
    }

    @Command(name = "delete", aliases = {"del", "rm"}, mixinStandardHelpOptions = true, description = "Delete nodes.")
    static final class Delete implements Callable<Integer> {
        @Parameters(paramLabel = "NODE", arity = "1..*")
        List<String> nodes = new ArrayList<>();

        @Override
        public Integer call() {
            ClusterManager m = ClusterCommand.manager();
            for (String n : nodes) m.deleteNode(n);
            return 0;
        }
    }

    @Command(name = "list", aliases = {"ls", "get"}, mixinStandardHelpOptions = true, description = "List nodes.")
    static final class ListNodes implements Callable<Integer> {
        @Option(names = "--no-headers")
        boolean noHeaders;

        @Override
        public Integer call() {
            String fmt = "%-36s %-8s %-24s %-16s %s%n";
            if (!noHeaders) System.out.printf(fmt, "NAME", "ROLE", "CLUSTER", "IP", "STATUS");
            for (ClusterManager.NodeInfo n : ClusterCommand.manager().nodes()) {
                System.out.printf(fmt, n.node().name(), n.node().role().word(), n.cluster(), n.node().ip(), n.running() ? "running" : "stopped");
            }
            return 0;
        }
    }
}
