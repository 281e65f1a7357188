package io.k3j.cli;

import io.k3j.apiserver.Version;
import io.k3j.apiserver.endpoints.VersionInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code k3j} command: k3s's verbs for running nodes, k3d's for local clusters. */
@Command(name = "k3j",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        description = {"k3j: a lightweight Kubernetes in Java, with a built-in local cluster tool.", ""},
        subcommands = {
            ServerCommand.class,
            AgentCommand.class,
            ImageCommand.class,
            ClusterCommand.class,
            NodeCommand.class,
            KubeconfigCommand.class,
            KubectlCommand.class,
            VersionCommand.class,
            EtcdSnapshotCommand.class,
            CompletionCommand.class,
            LoadBalancerCommand.class,
            ConfigCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        Logging.configure(System.getenv("K3J_DEBUG") != null);
        // `k3j server` gets a command line with only its own command: picocli builds the model of every command
        // (cluster, node, kubectl, ...) by reflection, ~0.25 s of the server's start-up work (JFR); what the server
        // command parses, prints and reports is the same
        CommandLine cl = args.length > 0 && args[0].equals("server") ? configure(new CommandLine(new ServerOnly())) : commandLine();
        System.exit(cl.execute(args));
    }

    /** {@code k3j} with only the {@code server} command, for {@link #main}. */
    @Command(name = "k3j", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
            subcommands = {ServerCommand.class})
    static final class ServerOnly implements Runnable {
        @Override
        public void run() {
            // not reached: main uses it only when the first argument is "server"
        }
    }

    static CommandLine commandLine() {
        return configure(new CommandLine(new Main()));
    }

    /** The parsing and error-reporting settings every {@code k3j} command line shares (also {@link AgentMain}'s). */
    static CommandLine configure(CommandLine cl) {
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("Error: " + ex.getMessage());
            cmd.getErr().println("Run '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage.");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("Error: " + ex.getMessage());
            if (System.getenv("K3J_DEBUG") != null) ex.printStackTrace(cmd.getErr());
            return 1;
        });
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static String versionLine() {
        return "k3j version " + VersionInfo.KUBERNETES_VERSION + "+k3j" + Version.K3J + " (" + Version.COMMIT + ")";
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {versionLine(), "java version " + Runtime.version()};
        }
    }
}
