package io.k3j.cli;

import io.k3j.agent.Agent;
import io.k3j.agent.AgentConfig;
import io.k3j.agent.eviction.Thresholds;
import io.k3j.apiserver.endpoints.VersionInfo;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code k3j agent}: k3s's agent flags mapped onto {@link AgentConfig}; the work is {@link Agent}'s. */
@Command(name = "agent", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run a node agent: joins a server, runs pods on containerd.")
final class AgentCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-s", "--server"}, paramLabel = "URL", defaultValue = "${env:K3J_URL}", description = "Server to connect to (env: K3J_URL)")
    String server;

    @Option(names = {"-t", "--token"}, paramLabel = "TOKEN", defaultValue = "${env:K3J_TOKEN}", description = "Token to use for authentication (env: K3J_TOKEN)")
    String token;

    @Option(names = "--token-file", paramLabel = "FILE", defaultValue = "${env:K3J_TOKEN_FILE}", description = "Token file to use for authentication (env: K3J_TOKEN_FILE)")
    Path tokenFile;

    @Option(names = {"-d", "--data-dir"}, paramLabel = "DIR", defaultValue = "${env:K3J_DATA_DIR}",
            description = "Folder to hold state (default: /var/lib/k3j, or ~/.k3j when not root)")
    Path dataDir;

    @Option(names = "--node-name", paramLabel = "NAME", defaultValue = "${env:K3J_NODE_NAME}", description = "Node name (env: K3J_NODE_NAME; default: the host name)")
    String nodeName;

    @Option(names = {"-i", "--node-ip"}, paramLabel = "IP", split = ",", description = "IPv4/IPv6 addresses to advertise for node")
    List<String> nodeIps = new ArrayList<>();

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

    // Hidden: benchmarks and local multi-node setups run beside another node on the same host, whose bridge is cni0.
    @Option(names = "--cni-bridge", paramLabel = "NAME", defaultValue = "cni0", hidden = true,
            description = "The pod network's bridge (default: ${DEFAULT-VALUE})")
    String cniBridge;

    // Hidden maintenance flag: on SIGTERM, stop and remove this node's pods, its bridge and cgroups as well (what
    // k3s-killall.sh does), instead of leaving the pods running for the next start to adopt.
    @Option(names = "--kill-all-on-exit", hidden = true, description = "On exit, remove all pods, the bridge and the cgroups of this node")
    boolean killAllOnExit;

    @Option(names = "--lb-server-port", paramLabel = "PORT", defaultValue = "${env:K3J_LB_SERVER_PORT:-6444}",
            description = "Local port of the client load balancer to the servers, which learns every server and fails over"
                    + " (default: ${DEFAULT-VALUE}; 0: any free port; -1: talk to --server directly)")
    int lbServerPort;

    @picocli.CommandLine.Mixin
    NetworkFlags network = new NetworkFlags();

    @Override
    public Integer call() throws Exception {
        if (server == null || server.isBlank()) throw new ParameterException(spec.commandLine(), "--server (or K3J_URL) is required: the https://HOST:6443 address of a k3j server");
        String tok = token;
        if ((tok == null || tok.isBlank()) && tokenFile != null) tok = Files.readString(tokenFile).strip();
        if (tok == null || tok.isBlank()) throw new ParameterException(spec.commandLine(), "--token, --token-file or K3J_TOKEN is required: the server's token (cat /var/lib/k3j/server/token on the server)");
        URI url;
        try {
            url = URI.create(server.strip());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--server " + server + " is not a URL: expected https://HOST:6443");
        }
        if (!"https".equals(url.getScheme()) || url.getHost() == null) {
            throw new ParameterException(spec.commandLine(), "--server " + server + " is not an https URL: expected https://HOST:6443");
        }
        Path dir = Nodes.dataDir(dataDir).resolve("agent");
        String name = Nodes.nodeName(nodeName);
        AgentConfig config = new AgentConfig(url, tok, dir, Nodes.runDir(name), name, nodeIps, Nodes.labels(spec, nodeLabels), nodeTaints,
                false, "10.43.0.10", "cluster.local", Nodes.kubeletPort(spec, kubeletArgs), pauseImage, true, VersionInfo.KUBERNETES_VERSION, cniBridge, privateRegistry,
                Nodes.evictionHard(spec, kubeletArgs));
        if (lbServerPort < AgentConfig.NO_LOAD_BALANCER || lbServerPort > 65535) {
            throw new ParameterException(spec.commandLine(), "--lb-server-port " + lbServerPort + " is not a port: expected 1-65535, 0 or -1");
        }
        Agent agent = Agent.start(network.apply(spec, config).withLbServerPort(lbServerPort));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (killAllOnExit) {
                agent.killAll();
            } else {
                agent.close();
            }
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
        return 0;
    }

    /** Flag helpers shared by {@code k3j server} and {@code k3j agent}. */
    static final class Nodes {
        private Nodes() { }

        static Path dataDir(Path given) {
            if (given != null) return given;
            boolean root = "root".equals(System.getProperty("user.name"));
            return root ? Path.of("/var/lib/k3j") : Path.of(System.getProperty("user.home")).resolve(".k3j");
        }

        static String nodeName(String given) {
            if (given != null && !given.isBlank()) return given.strip().toLowerCase(java.util.Locale.ROOT);
            try {
                return io.k3j.agent.host.KernelFiles.read(Path.of("/proc/sys/kernel/hostname")).toLowerCase(java.util.Locale.ROOT);
            } catch (java.io.IOException e) {
                return "localhost";
            }
        }

        /** Runtime state that a reboot clears: containerd's state and socket, one folder per node. */
        static Path runDir(String nodeName) {
            boolean root = "root".equals(System.getProperty("user.name"));
            return (root ? Path.of("/run/k3j") : Path.of(System.getProperty("java.io.tmpdir"), "k3j-run")).resolve(nodeName);
        }

        static Map<String, String> labels(CommandSpec spec, List<String> given) {
            Map<String, String> labels = new LinkedHashMap<>();
            for (String l : given) {
                int eq = l.indexOf('=');
                if (eq <= 0) throw new ParameterException(spec.commandLine(), "--node-label " + l + ": expected KEY=VALUE");
                labels.put(l.substring(0, eq), l.substring(eq + 1));
            }
            return labels;
        }

        /** kubelet's --eviction-hard from {@code --kubelet-arg eviction-hard=...} (kubelet's defaults otherwise). */
        static Thresholds evictionHard(CommandSpec spec, List<String> kubeletArgs) {
            Thresholds t = Thresholds.DEFAULTS;
            for (String a : kubeletArgs) {
                String arg = a.startsWith("--") ? a.substring(2) : a;
                if (arg.startsWith("eviction-hard=")) {
                    try {
                        t = Thresholds.parse(arg.substring("eviction-hard=".length()));
                    } catch (IllegalArgumentException e) {
                        throw new ParameterException(spec.commandLine(), "--kubelet-arg " + a + ": " + e.getMessage());
                    }
                }
            }
            return t;
        }

        static int kubeletPort(CommandSpec spec, List<String> kubeletArgs) {
            int port = 10250;
            for (String a : kubeletArgs) {
                String arg = a.startsWith("--") ? a.substring(2) : a;
                if (arg.startsWith("eviction-hard=")) continue;
                if (arg.startsWith("port=")) {
                    try {
                        port = Integer.parseInt(arg.substring(5));
                    } catch (NumberFormatException e) {
                        throw new ParameterException(spec.commandLine(), "--kubelet-arg " + a + ": the port must be a number");
                    }
                } else {
                    throw new ParameterException(spec.commandLine(), "--kubelet-arg " + a + ": not supported by k3j (supported: port=N, eviction-hard=SIGNAL<QUANTITY,...)");
                }
            }
            return port;
        }
    }
}
