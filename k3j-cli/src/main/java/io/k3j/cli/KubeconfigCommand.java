package io.k3j.cli;

import io.k3j.cluster.ClusterManager;
import io.k3j.cluster.Kubeconfigs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code k3j kubeconfig}: k3d's kubeconfig verbs. */
@Command(name = "kubeconfig", mixinStandardHelpOptions = true, description = "Print or merge the kubeconfig of local clusters.",
        subcommands = {KubeconfigCommand.Get.class, KubeconfigCommand.Merge.class})
final class KubeconfigCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    private static List<String> names(ClusterManager m, List<String> names, boolean all) {
        if (all) return m.list().stream().map(c -> c.state().name()).toList();
        return names.isEmpty() ? List.of("k3s-default") : names;
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Print a cluster's kubeconfig.")
    static final class Get implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", arity = "0..*")
        List<String> names = new ArrayList<>();

        @Option(names = {"-a", "--all"})
        boolean all;

        @Override
        public Integer call() {
            ClusterManager m = ClusterCommand.manager();
            for (String n : names(m, names, all)) System.out.print(m.kubeconfig(n));
            return 0;
        }
    }

    @Command(name = "merge", aliases = "write", mixinStandardHelpOptions = true,
            description = "Merge a cluster's kubeconfig into a file ($KUBECONFIG or ~/.kube/config by default).")
    static final class Merge implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", arity = "0..*")
        List<String> names = new ArrayList<>();

        @Option(names = {"-a", "--all"})
        boolean all;

        @Option(names = {"-o", "--output"}, paramLabel = "FILE")
        Path output;

        @Option(names = {"-d", "--kubeconfig-merge-default"}, description = "Merge into $KUBECONFIG or ~/.kube/config (the default without -o)")
        boolean mergeDefault;

        @Option(names = {"-s", "--kubeconfig-switch-context"}, negatable = true, defaultValue = "true", fallbackValue = "true")
        boolean switchContext;

        @Override
        public Integer call() {
            ClusterManager m = ClusterCommand.manager();
            Path file = output != null && !mergeDefault ? output : Kubeconfigs.defaultFile();
            for (String n : names(m, names, all)) {
                m.mergeKubeconfig(n, file, switchContext);
                System.out.println(file.toAbsolutePath());
            }
            return 0;
        }
    }
}
