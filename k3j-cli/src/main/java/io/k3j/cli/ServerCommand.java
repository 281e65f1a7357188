package io.k3j.cli;

import io.k3j.agent.Agent;
import io.k3j.agent.AgentConfig;
import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.system.IdleHeapTrimmer;
import io.k3j.apiserver.endpoints.VersionInfo;
import io.k3j.apiserver.ServerConfig;
import io.k3j.apiserver.etcd.EmbeddedEtcd;
import io.k3j.apiserver.etcd.EtcdOptions;
import io.k3j.apiserver.etcd.MemberRemover;
import io.k3j.controllers.Controllers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code k3j server}: k3s's flags mapped onto {@link ServerConfig}; the work is {@link ControlPlane}'s. */
@Command(name = "server", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run the control plane (API server, datastore, controllers) and, unless --disable-agent, a node agent.")
final class ServerCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = {"-d", "--data-dir"}, paramLabel = "DIR", defaultValue = "${env:K3J_DATA_DIR}",
            description = "Folder to hold state (default: /var/lib/k3j, or ~/.k3j when not root)")
    Path dataDir;

    @Option(names = "--bind-address", paramLabel = "IP", defaultValue = "0.0.0.0", description = "Address to listen on (default: ${DEFAULT-VALUE})")
    String bindAddress;

    @Option(names = "--https-listen-port", paramLabel = "PORT", defaultValue = "6443", description = "HTTPS listen port (default: ${DEFAULT-VALUE})")
    int httpsPort;

    @Option(names = "--advertise-address", paramLabel = "IP", defaultValue = "", description = "Address the API server advertises to members of the cluster (default: node-external-ip/node-ip)")
    String advertiseAddress;

    @Option(names = "--tls-san", paramLabel = "NAME", split = ",", description = "Add additional hostnames or IPv4/IPv6 addresses as Subject Alternative Names on the server TLS cert")
    List<String> tlsSans = new ArrayList<>();

    @Option(names = {"-o", "--write-kubeconfig"}, paramLabel = "FILE", defaultValue = "${env:K3J_KUBECONFIG_OUTPUT}",
            description = "Write the admin kubeconfig to this file (default: /etc/k3j/k3j.yaml, or ~/.kube/k3j.yaml when not root)")
    Path writeKubeconfig;

    @Option(names = "--write-kubeconfig-mode", paramLabel = "MODE", defaultValue = "${env:K3J_KUBECONFIG_MODE:-0600}",
            description = "Write the kubeconfig with this mode (default: ${DEFAULT-VALUE})")
    String writeKubeconfigMode;

    @Option(names = {"-t", "--token"}, paramLabel = "TOKEN", defaultValue = "${env:K3J_TOKEN}",
            description = "Shared secret used to join a server or agent to a cluster (generated when not given)")
    String token;

    @Option(names = "--datastore-endpoint", paramLabel = "URL", defaultValue = "${env:K3J_DATASTORE_ENDPOINT}",
            description = "Datastore: empty for embedded SQLite, sqlite://PATH, memory:// (throwaway), "
                    + "postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable, mysql://USER:PASSWORD@tcp(HOST:PORT)/DATABASE, "
                    + "https://HOST:2379[,https://HOST2:2379] for etcd")
    String datastoreEndpoint;

    @Option(names = "--cluster-init", description = "Initialize a new cluster using embedded etcd (this server is its first member)")
    boolean clusterInit;

    @Option(names = {"-s", "--server"}, paramLabel = "URL", defaultValue = "${env:K3J_URL}",
            description = "Server to connect to, used to join a cluster (env: K3J_URL)")
    String server;

    @Option(names = "--cluster-reset", description = "Forget all peers and become sole member of a new cluster (embedded etcd)")
    boolean clusterReset;

    @Option(names = "--cluster-reset-restore-path", paramLabel = "FILE", description = "Path to snapshot file to be restored")
    Path clusterResetRestorePath;

    @Option(names = "--etcd-snapshot-schedule-cron", paramLabel = "SPEC", defaultValue = EtcdOptions.DEFAULT_SNAPSHOT_CRON,
            description = "Snapshot interval time in cron spec, e.g. every 5 hours '0 */5 * * *' (default: ${DEFAULT-VALUE})")
    String etcdSnapshotCron;

    @Option(names = "--etcd-snapshot-retention", paramLabel = "N", defaultValue = "" + EtcdOptions.DEFAULT_SNAPSHOT_RETENTION,
            description = "Number of snapshots to retain (default: ${DEFAULT-VALUE})")
    int etcdSnapshotRetention;

    @Option(names = "--etcd-snapshot-dir", paramLabel = "DIR", description = "Directory to save db snapshots (default: ${data-dir}/server/db/snapshots)")
    Path etcdSnapshotDir;

    @Option(names = "--etcd-disable-snapshots", description = "Disable automatic etcd snapshots")
    boolean etcdDisableSnapshots;

    // Hidden: several servers of a test or a local cluster in one network namespace need their own etcd ports.
    @Option(names = "--etcd-client-port", hidden = true, defaultValue = "" + EtcdOptions.DEFAULT_CLIENT_PORT)
    int etcdClientPort;

    @Option(names = "--etcd-peer-port", hidden = true, defaultValue = "" + EtcdOptions.DEFAULT_PEER_PORT)
    int etcdPeerPort;

    @Option(names = "--etcd-metrics-port", hidden = true, defaultValue = "" + EtcdOptions.DEFAULT_METRICS_PORT)
    int etcdMetricsPort;

    @Option(names = "--datastore-cafile", paramLabel = "FILE", defaultValue = "${env:K3J_DATASTORE_CAFILE}",
            description = "CA bundle (PEM) the datastore server certificate must chain to")
    Path datastoreCaFile;

    @Option(names = "--datastore-certfile", paramLabel = "FILE", defaultValue = "${env:K3J_DATASTORE_CERTFILE}",
            description = "Client certificate (PEM) presented to the datastore")
    Path datastoreCertFile;

    @Option(names = "--datastore-keyfile", paramLabel = "FILE", defaultValue = "${env:K3J_DATASTORE_KEYFILE}",
            description = "Key (PEM) of the datastore client certificate")
    Path datastoreKeyFile;

    @Option(names = "--cluster-cidr", paramLabel = "CIDR", defaultValue = "10.42.0.0/16", description = "IPv4 network CIDR to use for pod IPs (default: ${DEFAULT-VALUE})")
    String clusterCidr;

    @Option(names = "--service-cidr", paramLabel = "CIDR", defaultValue = "10.43.0.0/16", description = "IPv4 network CIDR to use for service IPs (default: ${DEFAULT-VALUE})")
    String serviceCidr;

    @Option(names = "--cluster-dns", paramLabel = "IP", defaultValue = "10.43.0.10", description = "IPv4 Cluster IP for coredns service (default: ${DEFAULT-VALUE})")
    String clusterDns;

    @Option(names = "--cluster-domain", paramLabel = "DOMAIN", defaultValue = "cluster.local", description = "Cluster Domain (default: ${DEFAULT-VALUE})")
    String clusterDomain;

    @Option(names = "--node-name", paramLabel = "NAME", defaultValue = "${env:K3J_NODE_NAME}", description = "Node name")
    String nodeName;

    @Option(names = {"-i", "--node-ip"}, paramLabel = "IP", split = ",", description = "IPv4/IPv6 addresses to advertise for node")
    List<String> nodeIps = new ArrayList<>();

    @Option(names = "--disable-agent", description = "Do not run a local agent and register a local kubelet")
    boolean disableAgent;

    @Option(names = "--node-label", paramLabel = "KEY=VALUE", description = "Registering kubelet with set of labels")
    List<String> nodeLabels = new ArrayList<>();

    @Option(names = "--node-taint", paramLabel = "KEY=VALUE:EFFECT", description = "Registering kubelet with set of taints")
    List<String> nodeTaints = new ArrayList<>();

    @Option(names = "--pause-image", paramLabel = "IMAGE", defaultValue = AgentConfig.DEFAULT_PAUSE_IMAGE,
            description = "Customized pause image for containerd sandbox (default: ${DEFAULT-VALUE}, built and imported by k3j)")
    String pauseImage;

    @Option(names = "--private-registry", paramLabel = "FILE", defaultValue = "/etc/k3j/registries.yaml",
            description = "Private registry configuration file (default: ${DEFAULT-VALUE})")
    Path privateRegistry;

    @Option(names = "--kubelet-arg", paramLabel = "ARG", description = "Customized flag for kubelet process (supported: port=N, eviction-hard=memory.available<100Mi,...)")
    List<String> kubeletArgs = new ArrayList<>();

    @Option(names = "--disable", paramLabel = "NAME", split = ",", description = "Do not deploy packaged components and delete any deployed components (valid items: coredns, servicelb, traefik (the built-in ingress; also: ingress), local-storage, metrics-server)")
    List<String> disable = new ArrayList<>();

    // Hidden, as for `k3j agent`: `k3j cluster stop/delete` end a node with everything it ran, as a stopped k3d
    // node container takes its pods along.
    @Option(names = "--kill-all-on-exit", hidden = true, description = "On exit, remove all pods, the bridge and the cgroups of this node")
    boolean killAllOnExit;

    @picocli.CommandLine.Mixin
    NetworkFlags network = new NetworkFlags();

    @Override
    public Integer call() throws Exception {
        if (!disableAgent) network.validate(spec);
        boolean root = "root".equals(System.getProperty("user.name"));
        Path home = Path.of(System.getProperty("user.home"));
        Path dir = dataDir != null ? dataDir : root ? Path.of("/var/lib/k3j") : home.resolve(".k3j");
        Path kubeconfig = writeKubeconfig != null ? writeKubeconfig : root ? Path.of("/etc/k3j/k3j.yaml") : home.resolve(".kube/k3j.yaml");
        ServerConfig config = new ServerConfig(dir, bindAddress, httpsPort, advertiseAddress, tlsSans, kubeconfig, writeKubeconfigMode,
                blankToNull(token), datastoreEndpoint == null ? "" : datastoreEndpoint, clusterCidr, serviceCidr, clusterDns, clusterDomain,
                nodeName == null ? "" : nodeName, nodeIps, datastoreCaFile, datastoreCertFile, datastoreKeyFile,
                etcdOptions());
        if (EmbeddedEtcd.wanted(config) && root) io.k3j.agent.host.Packages.ensure(EmbeddedEtcd.ETCD_PACKAGE);
        long t0 = System.nanoTime();
        ControlPlane cp = ControlPlane.start(config);
        Controllers controllers = Controllers.start(cp, java.util.Set.copyOf(disable));
        Agent agent = disableAgent ? null : startAgent(cp, config);
        // a burst (10,000 pods created) grows the heap; once idle again, one full collection gives it back
        IdleHeapTrimmer trimmer = IdleHeapTrimmer.start(java.time.Duration.ofSeconds(3), 48L << 20, java.time.Duration.ofSeconds(30));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (trimmer != null) trimmer.close();
            if (agent != null) {
                if (killAllOnExit) {
                    agent.killAll();
                } else {
                    agent.close();
                }
            }
            controllers.close();
            cp.close();
            stopped.countDown();
        }, "shutdown"));
        var log = System.getLogger("k3j");
        log.log(System.Logger.Level.INFO, "k3j is up and running in {0} ms: API at https://127.0.0.1:{1,number,#}, kubeconfig {2}",
                (System.nanoTime() - t0) / 1_000_000, cp.port(), kubeconfig);
        stopped.await();
        return 0;
    }

    private EtcdOptions etcdOptions() {
        try {
            return new EtcdOptions(clusterInit, server, etcdClientPort, etcdPeerPort, etcdMetricsPort, clusterReset,
                    clusterResetRestorePath, etcdSnapshotCron, etcdSnapshotRetention, etcdSnapshotDir, etcdDisableSnapshots);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** The server's own node: an agent joining over loopback with the server's token, as k3s's embedded agent does. */
    private Agent startAgent(ControlPlane cp, ServerConfig config) throws java.io.IOException {
        String name = AgentCommand.Nodes.nodeName(nodeName);
        AgentConfig agentConfig = new AgentConfig(java.net.URI.create("https://127.0.0.1:" + cp.port()), cp.token().token().encoded(),
                config.dataDir().resolve("agent"), AgentCommand.Nodes.runDir(name), name, nodeIps, serverLabels(cp),
                nodeTaints, true, clusterDns, clusterDomain, AgentCommand.Nodes.kubeletPort(spec, kubeletArgs), pauseImage, true,
                VersionInfo.KUBERNETES_VERSION, "cni0", privateRegistry,
                AgentCommand.Nodes.evictionHard(spec, kubeletArgs));
        return Agent.start(network.apply(spec, agentConfig));
    }

    /** --node-label, plus k3s's etcd role on a server that runs an etcd member (the agent adds control-plane and master). */
    private java.util.Map<String, String> serverLabels(ControlPlane cp) {
        java.util.Map<String, String> labels = AgentCommand.Nodes.labels(spec, nodeLabels);
        if (cp.etcd().isPresent()) labels.putIfAbsent(MemberRemover.ETCD_ROLE, "true");
        return labels;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
