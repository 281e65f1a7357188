package io.k3j.agent;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.containerd.Containerd;
import io.k3j.agent.containerd.ContainerdConfig;
import io.k3j.agent.containerd.Registries;
import io.k3j.agent.cri.CriClient;
import io.k3j.agent.cri.CriException;
import io.k3j.agent.cri.v1.Image;
import io.k3j.agent.cri.v1.ListImagesRequest;
import io.k3j.agent.cri.v1.ListPodSandboxRequest;
import io.k3j.agent.cri.v1.PodSandbox;
import io.k3j.agent.cri.v1.RemovePodSandboxRequest;
import io.k3j.agent.cri.v1.RuntimeCondition;
import io.k3j.agent.cri.v1.StatusRequest;
import io.k3j.agent.cri.v1.StopPodSandboxRequest;
import io.k3j.agent.cri.v1.VersionRequest;
import io.k3j.agent.host.Cgroups;
import io.k3j.agent.host.Packages;
import io.k3j.agent.image.Images;
import io.k3j.agent.image.TestImages;
import io.k3j.agent.eviction.EvictionManager;
import io.k3j.agent.join.Join;
import io.k3j.agent.kube.Informer;
import io.k3j.agent.kube.KubeClient;
import io.k3j.agent.kubelet.CriStreamingRuntime;
import io.k3j.agent.kubelet.KubeletServer;
import io.k3j.agent.lb.ApiLoadBalancer;
import io.k3j.agent.node.MachineFacts;
import io.k3j.agent.node.NodeAgent;
import io.k3j.agent.pod.PodConfig;
import io.k3j.agent.pod.PodManager;
import io.k3j.agent.pod.PodVolumes;
import io.k3j.agent.stats.CriPodStats;
import io.k3j.agent.stats.NodeStatsSource;
import io.k3j.agent.stats.StatsProvider;
import io.k3j.agent.volume.ApiPodSources;
import io.k3j.agent.volume.CachedPodSources;
import io.k3j.agent.volume.EnvResolver;
import io.k3j.agent.volume.NodeFacts;
import io.k3j.agent.volume.VolumeManager;
import io.k3j.api.Json;
import io.k3j.api.Quantity;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A node: joins the cluster, supervises containerd, registers the Node and runs the pods the scheduler binds to it,
 * and serves the kubelet API. What {@code k3j agent} runs, and what {@code k3j server} runs beside the control plane.
 *
 * <p>Start-up order matters for the edge: everything that needs the server (join, registration, the pod list) falls
 * back to what the last run left on disk (certificates, the pod cache, cached configmaps and secrets), so a node that
 * reboots while its server is unreachable brings its pods back on its own and reconciles when the server returns.
 */
public final class Agent implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Agent.class.getName());
    /** What a node needs from Debian: the runtime, the CNI plugins, and busybox for the pause image. */
    static final String[] PACKAGES = {"containerd", "runc", "containernetworking-plugins", "iptables", "nftables", "busybox-static", "conntrack"};

    private final AgentConfig config;
    private final Join.Joined joined;
    private final Containerd containerd;
    private final NodeAgent node;
    private final PodManager pods;
    private final Informer podSource;
    /** configmaps and secrets informers: a change reaches the pods mounting it at once. */
    private final List<Informer> volumeSources;
    private final KubeletServer kubelet;
    private final List<Thread> threads;
    private final EvictionManager eviction;
    private final List<String> nodeIps;
    private final Networking network;
    /** The node's API load balancer; null when the node talks to {@code --server} directly. */
    private final ApiLoadBalancer loadBalancer;
    private volatile boolean closed;

    private Agent(AgentConfig config, List<String> nodeIps, Join.Joined joined, Containerd containerd, NodeAgent node,
                  PodManager pods, Informer podSource, List<Informer> volumeSources, KubeletServer kubelet, List<Thread> threads,
                  EvictionManager eviction, Networking network, ApiLoadBalancer loadBalancer) {
        this.config = config;
        this.loadBalancer = loadBalancer;
        this.network = network;
        this.nodeIps = nodeIps;
        this.joined = joined;
        this.containerd = containerd;
        this.node = node;
        this.pods = pods;
        this.podSource = podSource;
        this.volumeSources = volumeSources;
        this.kubelet = kubelet;
        this.threads = threads;
        this.eviction = eviction;
    }

    /**
     * Joins and starts everything; returns once the node is registered (or, offline, once its cached pods are
     * handed to the workers).
     *
     * A server not reachable yet is waited for, as k3s's agent does (a node that joined before starts from the
     * certificates on disk instead).
     *
     * @throws io.k3j.agent.join.JoinException for a token or node name the server refuses
     */
    public static Agent start(AgentConfig config) throws IOException {
        if (!Packages.isRoot()) {
            throw new IllegalStateException("the k3j agent must run as root: it runs containerd, mounts volumes and manages cgroups");
        }
        Packages.ensure(PACKAGES);
        long t0 = System.nanoTime();
        List<String> ips = config.nodeIps().isEmpty() ? List.of(MachineFacts.defaultRouteAddress()) : config.nodeIps();
        // every API client of the node (the join too) goes through the load balancer, as k3s's agent does
        ApiLoadBalancer lb = config.lbServerPort() == AgentConfig.NO_LOAD_BALANCER ? null
                : ApiLoadBalancer.start(ApiLoadBalancer.Config.of(config.server(), config.lbServerPort(), config.lbStateFile()));
        URI server = lb == null ? config.server() : lb.url();
        // the join (which may wait for the server) and containerd's start-up (which doesn't need it) overlap
        java.util.concurrent.CompletableFuture<Join.Joined> joining = new java.util.concurrent.CompletableFuture<>();
        Thread joiner = Thread.ofVirtual().name("join").start(() -> {
            try {
                joining.complete(joinWaitingForServer(config, server, ips));
            } catch (Throwable t) {
                joining.completeExceptionally(t);
            }
        });
        List<AutoCloseable> started = new ArrayList<>();
        try {
            Containerd containerd = Containerd.start(ContainerdConfig.forNode(config.dataDir(), config.runDir())
                    .withSandboxImage(config.pauseImage()).withRegistries(Registries.read(config.privateRegistry())), new Containerd.Listener() {
                        @Override
                        public void exited(long pid, int exitCode) {
                            LOG.log(System.Logger.Level.WARNING, "containerd (pid {0}) exited with {1}: restarting it", pid, exitCode);
                        }

                        @Override
                        public void restarted(long pid) {
                            LOG.log(System.Logger.Level.INFO, "containerd restarted (pid {0})", pid);
                        }
                    });
            started.add(containerd);
            CriClient cri = containerd.cri();
            importImages(config, containerd);
            Join.Joined joined = awaitJoin(joining);
            KubeClient kube = joined.client();
            if (lb != null) lb.follow(kube);

            // the kubelet API is bound before the Node registers: the Node advertises the bound port (a configured 0
            // means an ephemeral one, as tests and several nodes on one host use)
            CriPods criPods = new CriPods(cri, config.logsDir());
            StatsProvider stats = new StatsProvider(config.nodeName(), NodeStatsSource.host(config.dataDir()), new CriPodStats(cri));
            KubeletServer kubelet = KubeletServer.start(new KubeletServer.Config(new InetSocketAddress(config.kubeletPort()),
                    joined.servingCertPem(), joined.servingKeyPem(), joined.clientCaPem(), new CriStreamingRuntime(cri), criPods, stats));
            started.add(kubelet);

            String runtimeVersion = "containerd://" + cri.version(VersionRequest.newBuilder().setVersion("v1").build()).getRuntimeVersion();
            NodeAgent.Config nodeConfig = NodeAgent.Config.of(config.nodeName(), ips, config.controlPlane(), config.kubeletVersion(),
                    runtimeVersion, config.dataDir());
            nodeConfig = new NodeAgent.Config(nodeConfig.nodeName(), nodeConfig.nodeIps(), nodeConfig.controlPlane(), config.nodeLabels(),
                    config.nodeTaints(), nodeConfig.kubeletVersion(), nodeConfig.kubeProxyVersion(), nodeConfig.containerRuntimeVersion(),
                    nodeConfig.dataDir(), nodeConfig.imageFsDir(), kubelet.port(), nodeConfig.syncInterval());
            NodeAgent node = NodeAgent.forThisMachine(kube, nodeConfig, () -> runtimeProblem(cri), () -> nodeImages(cri));
            started.add(node);
            node.start();

            MachineFacts machine = MachineFacts.read();
            NodeFacts facts = new NodeFacts(config.nodeName(), ips, Map.of(
                    "cpu", Quantity.parse(Integer.toString(machine.cpus())),
                    "memory", Quantity.parse(Long.toString(machine.memoryBytes())),
                    "ephemeral-storage", Quantity.parse(Long.toString(config.dataDir().toFile().getTotalSpace()))));
            CachedPodSources sources = new CachedPodSources(new ApiPodSources(kube, Clock.systemUTC()), config.cacheDir().resolve("objects"));
            PodVolumes volumes = PodVolumes.of(new VolumeManager(config.podsDir(), sources, facts), new EnvResolver(sources, facts),
                    Duration.ofSeconds(60));
            PodConfig podConfig = PodConfig.of(config.nodeName(), config.dataDir(), ips, List.of(config.clusterDns()), config.clusterDomain())
                    .withAllowPull(config.allowPull())
                    .withCgroupRoot("/k3j/" + config.nodeName());
            PodManager pods = new PodManager(podConfig, cri, cri, kube, volumes);
            started.add(pods);
            Informer podSource = new Informer(kube, "/api/v1/pods", Map.of("fieldSelector", "spec.nodeName=" + config.nodeName()),
                    config.cacheDir().resolve("pods"));
            started.add(podSource);
            podSource.addHandler(pods.informerHandler());
            int cached = podSource.loadCache();
            pods.start();
            podSource.start();
            // mounted configMaps and secrets are refreshed as soon as they change (kubelet polls them with a cache TTL)
            List<Informer> volumeSources = new ArrayList<>();
            for (String resource : List.of("configmaps", "secrets")) {
                // only names and versions are kept: the pods' volumes fetch the contents (a node doesn't hold every secret)
                Informer inf = new Informer(kube, "/api/v1/" + resource, Map.of(), null).withTransform(Informer::metadataOnly)
                        .addHandler(pods.volumeSourceHandler(resource));
                started.add(inf);
                volumeSources.add(inf);
                inf.start();
            }
            Thread sourceSync = Thread.ofVirtual().name("pod-source-sync").start(() -> {
                try {
                    if (podSource.awaitSynced(Duration.ofDays(3650))) pods.sourceSynced();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });

            EvictionManager eviction = new EvictionManager(config.evictionHard(), stats::summary, pods::activePods, pods::evict,
                    Duration.ofSeconds(10)).start();
            started.add(eviction);

            Networking network = Networking.start(config, kube, containerd.config().cniConfDir(), ips.getFirst());
            started.add(network);
            LOG.log(System.Logger.Level.INFO, "node {0} started in {1} ms ({2} pods from the local cache, kubelet API on :{3,number,#})",
                    config.nodeName(), (System.nanoTime() - t0) / 1_000_000, cached, kubelet.port());
            return new Agent(config, ips, joined, containerd, node, pods, podSource, volumeSources, kubelet, List.of(sourceSync), eviction,
                    network, lb);
        } catch (RuntimeException | IOException e) {
            joiner.interrupt();
            Collections.reverse(started);
            for (AutoCloseable c : started) {
                try {
                    c.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (joining.isDone() && !joining.isCompletedExceptionally()) joining.join().client().close();
            if (lb != null) lb.close();
            throw e;
        }
    }

    public AgentConfig config() {
        return config;
    }

    /** The kubelet API's port (the configured one, or the one bound when configured as 0). */
    public int kubeletPort() {
        return kubelet.port();
    }

    public List<String> nodeIps() {
        return nodeIps;
    }

    public Containerd containerd() {
        return containerd;
    }

    public KubeClient client() {
        return joined.client();
    }

    /** The node's API load balancer, unless it talks to {@code --server} directly. */
    public Optional<ApiLoadBalancer> loadBalancer() {
        return Optional.ofNullable(loadBalancer);
    }

    /**
     * Stops the agent, as stopping kubelet does: pods keep running (their shims live on, containerd is stopped
     * and a restarted agent adopts them).
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        threads.forEach(Thread::interrupt);
        eviction.close();
        closeQuietly(network);
        closeQuietly(kubelet);
        volumeSources.forEach(Agent::closeQuietly);
        closeQuietly(podSource);
        closeQuietly(pods);
        closeQuietly(node);
        closeQuietly(containerd);
        joined.client().close();
        if (loadBalancer != null) loadBalancer.close();
    }

    /**
     * Stops and removes every pod of this node, then the agent (k3s's {@code k3s-killall.sh} for one node): the
     * machine is left as before the agent ran, except for the data dir.
     */
    public void killAll() {
        // the pod workers stop first: still running, they would recreate the sandboxes being removed
        closeQuietly(podSource);
        closeQuietly(pods);
        removeAllSandboxes(containerd.cri());
        close();
        Networking.remove(config);
        Cgroups.removeTree("/k3j/" + config.nodeName());
        Cgroups.removeIfEmpty("/k3j");
    }

    /** Stops and removes every sandbox (and so every container) through CRI. */
    static void removeAllSandboxes(CriClient cri) {
        for (PodSandbox s : cri.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
            try {
                cri.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(s.getId()).build());
                cri.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(s.getId()).build());
            } catch (CriException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot remove sandbox {0}: {1}", s.getId(), e.getMessage());
            }
        }
    }

    /** The pause image and the air-gap folder's archives, imported before any sandbox runs (containerd would pull otherwise). */
    private static void importImages(AgentConfig config, Containerd containerd) throws IOException {
        CriClient cri = containerd.cri();
        Path socket = containerd.config().socket();
        if (!Images.present(cri, config.pauseImage())) {
            if (config.pauseImage().equals(TestImages.PAUSE)) {
                Images.ensure(cri, socket, TestImages.pause(config.dataDir().resolve("tmp")));
            } else {
                LOG.log(System.Logger.Level.WARNING, "pause image {0} is not imported: put its archive in {1}", config.pauseImage(), config.imagesDir());
            }
        }
        if (!Files.isDirectory(config.imagesDir())) return;
        try (var archives = Files.list(config.imagesDir())) {
            for (Path archive : (Iterable<Path>) archives.sorted()::iterator) {
                String name = archive.getFileName().toString();
                if (!(name.endsWith(".tar") || name.endsWith(".tar.gz") || name.endsWith(".tgz"))) continue;
                long t = System.nanoTime();
                try {
                    Images.importArchive(socket, archive);
                    LOG.log(System.Logger.Level.INFO, "imported {0} in {1} ms", archive, (System.nanoTime() - t) / 1_000_000);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot import {0}: {1}", archive, e.getMessage());
                }
            }
        }
    }

    /** Why the runtime isn't ready (kubelet's "container runtime network not ready" and friends), or empty. */
    /**
     * Joins as k3s's agent does: a server that can't be reached yet (starting, or its address not up) is waited for,
     * asking again every few seconds; what the operator must fix (token, node name) fails at once.
     */
    private static Join.Joined joinWaitingForServer(AgentConfig config, URI server, List<String> ips) throws InterruptedException {
        long delay = 500;
        long lastLog = 0;
        while (true) {
            try {
                return Join.bootstrap(server, config.token(), config.nodeName(), ips, config.dataDir());
            } catch (KubeClient.Unreachable e) {
                if (System.nanoTime() - lastLog > 30_000_000_000L) {
                    LOG.log(System.Logger.Level.INFO, "waiting for the server at {0} to join: {1}", config.server(), e.getMessage());
                    lastLog = System.nanoTime();
                }
                Thread.sleep(delay);
                delay = Math.min(delay * 2, 5000);
            }
        }
    }

    private static Join.Joined awaitJoin(java.util.concurrent.CompletableFuture<Join.Joined> joining) throws IOException {
        try {
            return joining.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while joining", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw new IOException(e.getCause());
        }
    }

    private static Optional<String> runtimeProblem(CriClient cri) {
        try {
            for (RuntimeCondition c : cri.status(StatusRequest.getDefaultInstance()).getStatus().getConditionsList()) {
                if (!c.getStatus()) {
                    return Optional.of("container runtime " + ("NetworkReady".equals(c.getType()) ? "network " : "") + "not ready: "
                            + c.getType() + "=false reason:" + c.getReason() + " message:" + c.getMessage());
                }
            }
            return Optional.empty();
        } catch (CriException e) {
            return Optional.of("container runtime is down: " + e.getMessage());
        }
    }

    /** status.images as kubelet reports them: names (digests and tags) and sizes, largest first. */
    private static List<ObjectNode> nodeImages(CriClient cri) {
        List<Image> images = new ArrayList<>(cri.listImages(ListImagesRequest.getDefaultInstance()).getImagesList());
        images.sort((a, b) -> Long.compare(b.getSize(), a.getSize()));
        List<ObjectNode> out = new ArrayList<>();
        for (Image i : images) {
            if (i.getRepoTagsCount() == 0 && i.getRepoDigestsCount() == 0) continue;
            ObjectNode o = Json.object();
            var names = o.putArray("names");
            i.getRepoDigestsList().forEach(names::add);
            i.getRepoTagsList().forEach(names::add);
            o.put("sizeBytes", i.getSize());
            out.add(o);
            if (out.size() == 50) break;
        }
        return out;
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "stopping {0}: {1}", c.getClass().getSimpleName(), e.toString());
        }
    }

    private static void runQuietly(String... command) {
        try {
            new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "{0}: {1}", String.join(" ", command), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
