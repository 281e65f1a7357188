package io.k3j.cli;

import io.k3j.apiserver.ServerConfig;
import io.k3j.apiserver.etcd.EtcdOptions;
import io.k3j.apiserver.etcd.EtcdSnapshots;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code k3j etcd-snapshot save|ls|delete|prune}: k3s's verbs for the snapshots of a server's embedded etcd, run on
 * that server (its member is reached on loopback with the certificates in the data dir). The work is
 * {@link EtcdSnapshots}'.
 */
@Command(name = "etcd-snapshot", mixinStandardHelpOptions = true, description = "Manage etcd snapshots of this server's embedded etcd.",
        subcommands = {EtcdSnapshotCommand.Save.class, EtcdSnapshotCommand.Ls.class, EtcdSnapshotCommand.Delete.class,
            EtcdSnapshotCommand.Prune.class})
final class EtcdSnapshotCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The flags every verb shares. */
    static final class Where {
        @Option(names = {"-d", "--data-dir"}, paramLabel = "DIR", defaultValue = "${env:K3J_DATA_DIR}",
                description = "Folder the server keeps its state in (default: /var/lib/k3j, or ~/.k3j when not root)")
        Path dataDir;

        @Option(names = "--etcd-snapshot-dir", paramLabel = "DIR", description = "Directory of the snapshots (default: ${data-dir}/server/db/snapshots)")
        Path snapshotDir;

        @Option(names = "--node-name", paramLabel = "NAME", defaultValue = "${env:K3J_NODE_NAME}", description = "The server's node name (names the snapshots)")
        String nodeName;

        @Option(names = "--etcd-client-port", hidden = true, defaultValue = "" + EtcdOptions.DEFAULT_CLIENT_PORT)
        int clientPort;

        EtcdSnapshots snapshots() {
            boolean root = "root".equals(System.getProperty("user.name"));
            Path dir = dataDir != null ? dataDir : root ? Path.of("/var/lib/k3j") : Path.of(System.getProperty("user.home")).resolve(".k3j");
            ServerConfig d = ServerConfig.defaults(dir);
            EtcdOptions etcd = new EtcdOptions(false, "", clientPort, EtcdOptions.DEFAULT_PEER_PORT, EtcdOptions.DEFAULT_METRICS_PORT,
                    false, null, EtcdOptions.DEFAULT_SNAPSHOT_CRON, EtcdOptions.DEFAULT_SNAPSHOT_RETENTION, snapshotDir, false);
            ServerConfig config = new ServerConfig(dir, d.bindAddress(), d.httpsPort(), "", List.of(), null, "0600", null, "",
                    d.clusterCidr(), d.serviceCidr(), d.clusterDns(), d.clusterDomain(), AgentCommand.Nodes.nodeName(nodeName), List.of(),
                    null, null, null, etcd);
            if (root) io.k3j.agent.host.Packages.ensure(EtcdSnapshots.ETCDCTL_PACKAGE);
            return EtcdSnapshots.of(config, Clock.systemUTC());
        }
    }

    @Command(name = "save", mixinStandardHelpOptions = true, description = "Trigger an immediate etcd snapshot.")
    static final class Save implements Callable<Integer> {
        @Mixin
        Where where = new Where();

        @Option(names = "--name", paramLabel = "NAME", defaultValue = EtcdSnapshots.ON_DEMAND,
                description = "Set the base name of the snapshot (default: ${DEFAULT-VALUE})")
        String name;

        @Override
        public Integer call() throws Exception {
            EtcdSnapshots.Snapshot s = where.snapshots().save(name);
            System.out.println("Snapshot " + s.name() + " saved to " + s.file());
            return 0;
        }
    }

    @Command(name = "ls", aliases = {"list", "l"}, mixinStandardHelpOptions = true, description = "List snapshots.")
    static final class Ls implements Callable<Integer> {
        @Mixin
        Where where = new Where();

        @Override
        public Integer call() throws Exception {
            List<EtcdSnapshots.Snapshot> all = where.snapshots().list();
            int width = Math.max(4, all.stream().mapToInt(s -> s.name().length()).max().orElse(0));
            System.out.printf("%-" + width + "s %-12s %s%n", "Name", "Size", "Created");
            for (EtcdSnapshots.Snapshot s : all) System.out.printf("%-" + width + "s %-12d %s%n", s.name(), s.size(), s.created());
            return 0;
        }
    }

    @Command(name = "delete", aliases = {"rm"}, mixinStandardHelpOptions = true, description = "Delete given snapshot(s).")
    static final class Delete implements Callable<Integer> {
        @Mixin
        Where where = new Where();

        @Parameters(paramLabel = "NAME", arity = "1..*")
        List<String> names = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            EtcdSnapshots snapshots = where.snapshots();
            for (String n : names) {
                snapshots.delete(n);
                System.out.println("Snapshot " + n + " deleted");
            }
            return 0;
        }
    }

    @Command(name = "prune", mixinStandardHelpOptions = true, description = "Remove snapshots that match the name prefix and exceed the retention count.")
    static final class Prune implements Callable<Integer> {
        @Mixin
        Where where = new Where();

        @Option(names = "--name", paramLabel = "NAME", defaultValue = EtcdSnapshots.ON_DEMAND,
                description = "The base name of the snapshots to prune (default: ${DEFAULT-VALUE})")
        String name;

        @Option(names = "--snapshot-retention", paramLabel = "N", defaultValue = "" + EtcdOptions.DEFAULT_SNAPSHOT_RETENTION,
                description = "Number of snapshots to retain (default: ${DEFAULT-VALUE})")
        int retention;

        @Override
        public Integer call() throws Exception {
            for (EtcdSnapshots.Snapshot s : where.snapshots().prune(name, retention)) System.out.println("Snapshot " + s.name() + " deleted");
            return 0;
        }
    }
}
