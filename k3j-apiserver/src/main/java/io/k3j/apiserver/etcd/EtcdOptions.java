package io.k3j.apiserver.etcd;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * The embedded-etcd part of {@code k3j server}'s flags (k3s's names).
 *
 * @param clusterInit             {@code --cluster-init}: start a new etcd cluster with this server as its first member
 * @param server                  {@code --server}: URL of a server of the cluster to join, e.g.
 *                                {@code https://10.0.0.1:6443}; "" when not joining
 * @param clientPort              etcd's client port (2379); hidden flag, so tests run several servers in one
 *                                network namespace
 * @param peerPort                etcd's peer port (2380)
 * @param metricsPort             etcd's plain-HTTP {@code /health} and {@code /metrics} port on loopback (2381)
 * @param clusterReset            {@code --cluster-reset}: forget the other members, keep the data, become a cluster of one
 * @param clusterResetRestorePath {@code --cluster-reset-restore-path}: a snapshot to restore before the reset; null
 *                                for none
 * @param snapshotScheduleCron    {@code --etcd-snapshot-schedule-cron} (k3s default {@code 0 *}{@code /12 * * *})
 * @param snapshotRetention       {@code --etcd-snapshot-retention}: how many scheduled snapshots are kept (5)
 * @param snapshotDir             {@code --etcd-snapshot-dir}; null for {@code <data-dir>/server/db/snapshots}
 * @param disableSnapshots        {@code --etcd-disable-snapshots}
 */
public record EtcdOptions(boolean clusterInit, String server, int clientPort, int peerPort, int metricsPort,
                          boolean clusterReset, Path clusterResetRestorePath, String snapshotScheduleCron,
                          int snapshotRetention, Path snapshotDir, boolean disableSnapshots) {

    public static final int DEFAULT_CLIENT_PORT = 2379;
    public static final int DEFAULT_PEER_PORT = 2380;
    public static final int DEFAULT_METRICS_PORT = 2381;
    public static final String DEFAULT_SNAPSHOT_CRON = "0 */12 * * *";
    public static final int DEFAULT_SNAPSHOT_RETENTION = 5;

    /**
     * @throws IllegalArgumentException if a port is out of range or {@code --server} is not an https URL
     */
    public EtcdOptions {
        server = server == null ? "" : server.strip();
        requireNonNull(snapshotScheduleCron, "snapshotScheduleCron");
        checkPort("etcd client port", clientPort);
        checkPort("etcd peer port", peerPort);
        checkPort("etcd metrics port", metricsPort);
        if (!server.isEmpty() && !server.startsWith("https://")) {
            throw new IllegalArgumentException("--server \"" + server + "\" (expected: https://HOST:PORT of a server of the cluster)");
        }
        if (snapshotRetention < 1) {
            throw new IllegalArgumentException("--etcd-snapshot-retention : " + snapshotRetention + " (expected: >= 1)");
        }
        if (clusterResetRestorePath != null && !clusterReset) {
            throw new IllegalArgumentException("--cluster-reset-restore-path needs --cluster-reset");
        }
    }

    private static void checkPort(String what, int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(what + " : " + port + " (expected: 1-65535)");
        }
    }

    /** No embedded etcd asked for; k3s's default ports and snapshot settings. */
    public static EtcdOptions defaults() {
        return new EtcdOptions(false, "", DEFAULT_CLIENT_PORT, DEFAULT_PEER_PORT, DEFAULT_METRICS_PORT, false, null,
                DEFAULT_SNAPSHOT_CRON, DEFAULT_SNAPSHOT_RETENTION, null, false);
    }

    /** True when this server joins an existing cluster through {@link #server()}. */
    public boolean joining() {
        return !server.isEmpty();
    }

    public EtcdOptions withClusterInit(boolean clusterInit) {
        return new EtcdOptions(clusterInit, server, clientPort, peerPort, metricsPort, clusterReset, clusterResetRestorePath,
                snapshotScheduleCron, snapshotRetention, snapshotDir, disableSnapshots);
    }

    public EtcdOptions withServer(String server) {
        return new EtcdOptions(clusterInit, server, clientPort, peerPort, metricsPort, clusterReset, clusterResetRestorePath,
                snapshotScheduleCron, snapshotRetention, snapshotDir, disableSnapshots);
    }

    public EtcdOptions withPorts(int clientPort, int peerPort, int metricsPort) {
        return new EtcdOptions(clusterInit, server, clientPort, peerPort, metricsPort, clusterReset, clusterResetRestorePath,
                snapshotScheduleCron, snapshotRetention, snapshotDir, disableSnapshots);
    }

    public EtcdOptions withClusterReset(boolean reset, Path restorePath) {
        return new EtcdOptions(clusterInit, server, clientPort, peerPort, metricsPort, reset, restorePath,
                snapshotScheduleCron, snapshotRetention, snapshotDir, disableSnapshots);
    }
}
