package io.k3j.cluster;

import io.k3j.agent.host.Processes;
import io.k3j.cluster.lb.ListenerStatus;
import io.k3j.cluster.lb.LoadBalancerConfig;
import io.k3j.cluster.lb.LoadBalancerConfig.Backend;
import io.k3j.cluster.lb.LoadBalancerConfig.Listener;
import io.k3j.cluster.lb.LoadBalancerConfig.Protocol;
import io.k3j.cluster.lb.LoadBalancerStatus;
import io.k3j.cluster.spec.NodeFilter;
import io.k3j.cluster.spec.NodeRef;
import io.k3j.cluster.spec.NodeRole;
import io.k3j.cluster.spec.PortMapping;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The cluster's load balancer as a {@code k3j loadbalancer} process in the host namespace (k3d's serverlb), detached
 * like the nodes: config {@code lb.json}, status {@code lb.status.json}, log {@code lb.log} and PID {@code lb.pid} in
 * the cluster's folder. Changes are made by rewriting the config and waiting until the status file reports its digest,
 * so a bind error (a port taken) comes back to the command that caused it.
 *
 * <p>The same process carries the ports that belong to one node (k3d's {@code -p 8080:80@agent:0:direct}, which k3d
 * maps on that node's container): a listener with that node as its only backend. A cluster created with
 * {@code --no-lb} gets the process only for those (and for an {@code --api-port} given explicitly, which then
 * forwards to the first server, as k3d maps it on server-0); its kubeconfig points at the first server otherwise.
 */
final class ProcessLoadBalancers implements LoadBalancers {
    /** A JVM start plus binding; the status file appears well within this. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration RELOAD_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);

    private final ClusterStore store;
    private final NodeLauncher launcher;

    ProcessLoadBalancers(ClusterStore store, NodeLauncher launcher) {
        this.store = store;
        this.launcher = launcher;
    }

    private Path dir(ClusterState c) {
        return store.clusterDir(c.name());
    }

    private Path configFile(ClusterState c) {
        return dir(c).resolve("lb.json");
    }

    private Path statusFile(ClusterState c) {
        return dir(c).resolve("lb.status.json");
    }

    private Path pidFile(ClusterState c) {
        return dir(c).resolve("lb.pid");
    }

    Path log(ClusterState c) {
        return dir(c).resolve("lb.log");
    }

    /** Whether the cluster needs the process: a load balancer, or a port published without one. */
    static boolean needed(ClusterState cluster) {
        return cluster.loadBalancer() || cluster.apiPort() != 0 || cluster.ports().stream().anyMatch(PortMapping::direct);
    }

    @Override
    public void start(ClusterState cluster) {
        if (!needed(cluster)) {
            stop(cluster);
            return;
        }
        LoadBalancerConfig config = config(cluster);
        write(cluster, config);
        if (running(cluster)) {
            apply(cluster, config);
            return;
        }
        try {
            // a status left by a killed process must not pass for the new one's
            Files.deleteIfExists(statusFile(cluster));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher.java().toString());
        // the agent's small-memory flags: it only copies bytes between sockets
        cmd.addAll(launcher.forAgent().jvmOptions());
        cmd.addAll(List.of("-cp", launcher.classPath(), launcher.mainClass(), "loadbalancer", "--config", configFile(cluster).toString(),
                "--status-file", statusFile(cluster).toString()));
        Process p = Processes.startDaemon(cmd, log(cluster), Map.of("MALLOC_ARENA_MAX", "2"));
        try {
            Files.writeString(pidFile(cluster), p.pid() + "\n");
        } catch (IOException e) {
            p.destroyForcibly();
            throw new UncheckedIOException("writing " + pidFile(cluster) + ": " + e.getMessage(), e);
        }
        String digest = config.digest();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            LoadBalancerStatus status = status(cluster);
            if (status != null && digest.equals(status.configDigest())) {
                List<ListenerStatus> failed = status.failed();
                if (!failed.isEmpty() || status.error() != null) {
                    Processes.terminate(p.toHandle(), STOP_GRACE);
                    throw new IllegalArgumentException(failed.isEmpty() ? status.error() : String.join("; ", failed.stream().map(ListenerStatus::error).distinct().toList()));
                }
                return;
            }
            if (!p.isAlive()) {
                throw new IllegalStateException("the load balancer of " + cluster.name() + " exited; the end of its log (" + log(cluster) + "):\n" + tail(log(cluster)));
            }
            if (System.nanoTime() > deadline) {
                Processes.terminate(p.toHandle(), STOP_GRACE);
                throw new IllegalStateException("the load balancer of " + cluster.name() + " did not start within " + START_TIMEOUT + " (log: " + log(cluster) + ")");
            }
            sleep(50);
        }
    }

    @Override
    public void reload(ClusterState cluster) {
        if (!needed(cluster)) {
            stop(cluster);
            return;
        }
        LoadBalancerConfig config = config(cluster);
        write(cluster, config);
        if (running(cluster)) apply(cluster, config);
    }

    /** Waits until the running process took {@code config} in; a listener that could not bind fails the change. */
    private void apply(ClusterState cluster, LoadBalancerConfig config) {
        LoadBalancerStatus status;
        try {
            status = LoadBalancerStatus.await(statusFile(cluster), config.digest(), RELOAD_TIMEOUT);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + statusFile(cluster) + ": " + e.getMessage(), e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("load balancer of " + cluster.name() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
        if (status.error() != null) throw new IllegalStateException("load balancer of " + cluster.name() + ": " + status.error());
        List<ListenerStatus> failed = status.failed();
        if (!failed.isEmpty()) throw new IllegalArgumentException(String.join("; ", failed.stream().map(ListenerStatus::error).distinct().toList()));
    }

    @Override
    public void stop(ClusterState cluster) {
        process(cluster).ifPresent(p -> {
            if (!Processes.terminate(p, STOP_GRACE)) throw new IllegalStateException("the load balancer (pid " + p.pid() + ") did not stop");
        });
        try {
            Files.deleteIfExists(pidFile(cluster));
            Files.deleteIfExists(statusFile(cluster));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public boolean running(ClusterState cluster) {
        return process(cluster).isPresent();
    }

    /** The process named in lb.pid, if it is alive and still ours (its command line names our config file). */
    private Optional<ProcessHandle> process(ClusterState cluster) {
        try {
            if (!Files.exists(pidFile(cluster))) return Optional.empty();
            long pid = Long.parseLong(Files.readString(pidFile(cluster)).strip());
            return Processes.alive(pid).filter(p -> Processes.commandLine(pid).contains(configFile(cluster).toString()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    @Override
    public URI apiServer(ClusterState cluster) {
        if (!cluster.loadBalancer() && cluster.apiPort() == 0) return LoadBalancers.direct().apiServer(cluster);
        String host = cluster.apiHost() == null || cluster.apiHost().equals("0.0.0.0") ? "127.0.0.1" : cluster.apiHost();
        return URI.create("https://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + cluster.apiPort());
    }

    /**
     * The listeners for a cluster: {@code api} on the API port → every server's 6443 (only the first server's without
     * a load balancer, and none when no API port is published), and {@code port-HOSTPORT-PROTO} per mapped port →
     * that port of the selected nodes (all servers and agents when the filter is empty or only {@code loadbalancer},
     * k3d's default; the one node of a {@code :direct} port). Without a load balancer only {@code :direct} ports.
     */
    static LoadBalancerConfig config(ClusterState cluster) {
        List<Listener> listeners = new ArrayList<>();
        if (cluster.loadBalancer()) {
            listeners.add(new Listener("api", cluster.apiHost(), cluster.apiPort(), Protocol.TCP,
                    cluster.servers().stream().map(n -> new Backend(n.ip(), 6443)).toList()));
        } else if (cluster.apiPort() != 0) {
            listeners.add(new Listener("api", cluster.apiHost(), cluster.apiPort(), Protocol.TCP, List.of(new Backend(cluster.firstServer().ip(), 6443))));
        }
        for (PortMapping p : cluster.ports()) {
            if (!cluster.loadBalancer() && !p.direct()) continue;
            Protocol proto = "udp".equalsIgnoreCase(p.protocol()) ? Protocol.UDP : Protocol.TCP;
            List<Backend> backends = targets(cluster, p.filters()).stream().map(n -> new Backend(n.ip(), p.nodePort())).toList();
            listeners.add(new Listener(listenerName(p), p.hostIp(), p.hostPort(), proto, backends));
        }
        return LoadBalancerConfig.of(listeners);
    }

    static String listenerName(PortMapping p) {
        return "port-" + p.hostPort() + "-" + ("udp".equalsIgnoreCase(p.protocol()) ? "udp" : "tcp");
    }

    /** The nodes a port's filters select behind the load balancer. */
    static List<ClusterState.NodeState> targets(ClusterState cluster, List<NodeFilter> filters) {
        boolean nodeSelectors = filters.stream().flatMap(f -> f.selectors().stream()).anyMatch(s -> s.role() != NodeRole.LOADBALANCER);
        if (!nodeSelectors) return cluster.nodes();
        return cluster.nodes().stream()
                .filter(n -> filters.stream().anyMatch(f -> f.matches(new NodeRef(n.role(), n.index())))).toList();
    }

    private void write(ClusterState cluster, LoadBalancerConfig config) {
        try {
            Files.createDirectories(dir(cluster));
            config.write(configFile(cluster));
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + configFile(cluster) + ": " + e.getMessage(), e);
        }
    }

    private LoadBalancerStatus status(ClusterState cluster) {
        try {
            return LoadBalancerStatus.read(statusFile(cluster));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | RuntimeException e) {
            // half written cannot happen (atomic rename); anything else: ask again
            return null;
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }
}
