package io.k3j.cluster;

import io.k3j.agent.host.Cgroups;
import io.k3j.agent.host.NetworkNamespace;
import io.k3j.agent.host.Processes;
import io.k3j.cluster.spec.NodeRole;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * One node of a cluster on this machine: its network namespace (uplink on the cluster bridge with the node's fixed
 * IP) and its {@code k3j server|agent} process, detached from the CLI (own session, stdin from /dev/null, output to
 * {@code node.log}, PID in {@code node.pid}).
 *
 * <p>The process also gets a mount and a UTS namespace of its own ({@code unshare --mount --uts --propagation
 * slave}): the hostname is the node name, volumes are bind mounts only the node (and so its containerd, runc and
 * pods) sees, and every mount the node makes (pod volumes, container root file systems) vanishes with it instead of
 * piling up in the host's mount table.
 */
final class NodeProcess {
    /** killAll removes the node's pods through CRI before containerd stops: give it time. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(90);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    // $1 hostname, $2 number of binds, then SRC DEST ro|rw per bind, then the command
    private static final String WRAPPER = "set -e; echo \"$1\" > /proc/sys/kernel/hostname; n=$2; shift 2; "
            + "while [ \"$n\" -gt 0 ]; do mount --rbind \"$1\" \"$2\"; if [ \"$3\" = ro ]; then mount -o remount,bind,ro \"$2\"; fi; "
            + "shift 3; n=$((n-1)); done; exec \"$@\"";

    private final ClusterStore store;
    private final ClusterState cluster;
    private final ClusterState.NodeState node;
    private final NodeLauncher launcher;
    private Process started;

    NodeProcess(ClusterStore store, ClusterState cluster, ClusterState.NodeState node, NodeLauncher launcher) {
        this.store = store;
        this.cluster = cluster;
        this.node = node;
        this.launcher = launcher;
    }

    Path dir() {
        return store.nodeDir(cluster.name(), node.name());
    }

    Path dataDir() {
        return dir().resolve("data");
    }

    Path log() {
        return dir().resolve("node.log");
    }

    private Path pidFile() {
        return dir().resolve("node.pid");
    }

    /** Where the server writes its admin kubeconfig. */
    Path kubeconfig() {
        return dir().resolve("kubeconfig.yaml");
    }

    /** The node's containerd socket: {@code k3j server|agent} keep it under /run/k3j/NODE (see {@code k3j image import}). */
    Path containerdSocket() {
        return runDir().resolve("containerd/containerd.sock");
    }

    Path runDir() {
        return Path.of("/run/k3j").resolve(node.name());
    }

    /** The network namespace exists and is attached to the bridge (created, with the node's IP, when missing). */
    void ensureNetwork() {
        String prefix = cluster.subnet().substring(cluster.subnet().indexOf('/'));
        if (NetworkNamespace.exists(node.name()) && NetworkNamespace.linkExists(node.veth())) return;
        // half made (a crash, a reboot): start over
        if (NetworkNamespace.exists(node.name())) NetworkNamespace.of(node.name()).delete(node.veth());
        NetworkNamespace ns = NetworkNamespace.create(node.name());
        ns.attach(cluster.bridge(), Subnets.host(cluster.subnet(), 1) + prefix, node.veth(), node.ip() + prefix);
    }

    /** The running process of this node, if any (a PID whose command line names this node's folder). */
    Optional<ProcessHandle> process() {
        // just started by this object: its command line may still be jspawnhelper's or setsid's for a moment
        if (started != null && started.isAlive()) return Optional.of(started.toHandle());
        try {
            if (!Files.exists(pidFile())) return Optional.empty();
            long pid = Long.parseLong(Files.readString(pidFile()).strip());
            return Processes.alive(pid).filter(p -> Processes.commandLine(pid).contains(dataDir().toString()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    boolean running() {
        return process().isPresent();
    }

    /** Starts the node process (its network must exist); a running one is left alone. */
    void start() {
        if (running()) return;
        try {
            Files.createDirectories(dataDir());
        } catch (IOException e) {
            throw new UncheckedIOException("creating " + dataDir() + ": " + e.getMessage(), e);
        }
        List<String> cmd = new ArrayList<>(List.of("nsenter", "--net=/run/netns/" + node.name(),
                "unshare", "--mount", "--uts", "--propagation", "slave", "sh", "-c", WRAPPER, "k3j-node", node.name(),
                Integer.toString(node.binds().size())));
        for (ClusterState.Bind b : node.binds()) {
            cmd.add(b.source());
            cmd.add(b.destination());
            cmd.add(b.readOnly() ? "ro" : "rw");
        }
        cmd.addAll(k3jCommand());
        Map<String, String> env = new HashMap<>(node.env());
        env.put("MALLOC_ARENA_MAX", "2");
        // the token stays out of the command line (ps shows that to every user)
        env.put("K3J_TOKEN", joinToken());
        Process p = Processes.startDaemon(cmd, log(), env);
        started = p;
        try {
            Files.writeString(pidFile(), p.pid() + "\n");
        } catch (IOException e) {
            p.destroyForcibly();
            throw new UncheckedIOException("writing " + pidFile() + ": " + e.getMessage(), e);
        }
    }

    /** {@code java ... MAIN server|agent FLAGS}. */
    List<String> k3jCommand() {
        NodeLauncher how = node.role() == NodeRole.AGENT ? launcher.forAgent() : launcher;
        List<String> cmd = new ArrayList<>();
        cmd.add(how.java().toString());
        cmd.addAll(how.jvmOptions());
        cmd.addAll(List.of("-cp", how.classPath(), how.mainClass()));
        ClusterState.NodeState first = cluster.firstServer();
        if (node.role() == NodeRole.SERVER) {
            cmd.add("server");
            List<String> sans = new ArrayList<>(List.of("127.0.0.1", "localhost", node.ip()));
            if (cluster.apiHost() != null && !cluster.apiHost().equals("0.0.0.0") && !sans.contains(cluster.apiHost())) sans.add(cluster.apiHost());
            cmd.addAll(List.of("--tls-san", String.join(",", sans), "--write-kubeconfig", kubeconfig().toString()));
        } else {
            cmd.addAll(List.of("agent", "--server", "https://" + first.ip() + ":6443"));
        }
        cmd.addAll(List.of("--data-dir", dataDir().toString(), "--node-name", node.name(),
                "--node-ip", node.ip(), "--kill-all-on-exit"));
        cmd.addAll(node.args());
        return cmd;
    }

    /**
     * The token a node joins with: for agents and joining servers the first server's full {@code K10<ca hash>::...}
     * token once it wrote one (so the node verifies the server's CA), else the cluster's bare token.
     */
    private String joinToken() {
        if (!node.name().equals(cluster.firstServer().name())) {
            Path f = store.nodeDir(cluster.name(), cluster.firstServer().name()).resolve("data/server/token");
            try {
                if (Files.isRegularFile(f)) return Files.readString(f).strip();
            } catch (IOException e) {
                // the bare token works too
            }
        }
        return cluster.token();
    }

    /**
     * Ends the node process with SIGTERM: it removes its pods through CRI, stops containerd and removes its pod
     * network and cgroups ({@code --kill-all-on-exit}), as a stopped k3d node container takes its pods along; the
     * Pod objects stay and the node runs them again when it starts. SIGKILL after a grace period.
     *
     * @return false when the process had to be killed
     */
    boolean stop() {
        Optional<ProcessHandle> p = process();
        boolean clean = true;
        if (p.isPresent()) {
            ProcessHandle h = p.get();
            h.destroy();
            try {
                h.onExit().get(STOP_GRACE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                clean = false;
                Processes.terminate(h, Duration.ofSeconds(1));
            }
        }
        try {
            Files.deleteIfExists(pidFile());
        } catch (IOException e) {
            // a stale pid file is recognised as such (the command line check)
        }
        return clean;
    }

    /**
     * Ends the node at once, as {@code docker rm -f} ends a k3d node: SIGKILL to its process and to everything of it
     * (containerd, shims, pods). Its pod network, nftables rules and mounts live in its own network and mount
     * namespaces and go with them; its cgroups are removed here. For deletion only: a node stopped this way keeps no
     * pods for its next start.
     *
     * @return the processes that were still alive after a few rounds of SIGKILL (none, normally)
     */
    List<Long> kill() {
        // the pods' network namespaces are bind-mounted in the node's mount namespace at /run/netns/cni-...: the
        // mounts go with it, the empty files on the shared /run stay unless removed
        Set<Path> podNetns = new HashSet<>();
        process().ifPresent(h -> podNetns.addAll(netnsMounts(h.pid())));
        for (long pid : leftoverProcesses()) podNetns.addAll(netnsMounts(pid));
        process().ifPresent(ProcessHandle::destroyForcibly);
        List<Long> left = leftoverProcesses();
        for (int round = 0; round < 50 && !left.isEmpty(); round++) {
            left.forEach(Processes::kill);
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            left = leftoverProcesses();
        }
        Cgroups.removeTree("/k3j/" + node.name());
        Cgroups.removeIfEmpty("/k3j");
        for (Path f : podNetns) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException e) {
                // still mounted on the host (not ours after all): leave it
            }
        }
        try {
            Files.deleteIfExists(pidFile());
        } catch (IOException e) {
            // a stale pid file is recognised as such (the command line check)
        }
        return left;
    }

    /** Network namespaces bind-mounted under /run/netns in the mount namespace of {@code pid} (nsfs mounts). */
    private static List<Path> netnsMounts(long pid) {
        List<Path> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "mountinfo"))) {
                // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
                String[] f = line.split(" ");
                int dash = java.util.Arrays.asList(f).indexOf("-");
                if (f.length < 5 || dash < 0 || dash + 1 >= f.length || !"nsfs".equals(f[dash + 1])) continue;
                String mountPoint = f[4].replace("\\040", " ");
                if (mountPoint.startsWith("/run/netns/") || mountPoint.startsWith("/var/run/netns/")) out.add(Path.of(mountPoint));
            }
        } catch (IOException gone) {
            // exited meanwhile
        }
        return out;
    }

    /**
     * Everything of this node still running after its process ended (a shim or containerd a killed node left):
     * processes whose command line names the node's folders or that sit in its cgroups.
     */
    List<Long> leftoverProcesses() {
        String cgroup = "/k3j/" + node.name();
        String dir = dir().toString();
        String run = runDir().toString();
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String f = p.getFileName().toString();
                if (!f.chars().allMatch(Character::isDigit)) continue;
                try {
                    String cmdline = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
                    String cgroups = new String(Files.readAllBytes(p.resolve("cgroup")));
                    if (cmdline.contains(dir + "/") || cmdline.contains(run + "/") || cgroups.contains(cgroup + "/") || cgroups.contains(cgroup + "\n")) {
                        pids.add(Long.parseLong(f));
                    }
                } catch (IOException gone) {
                    // exited while we looked
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("listing /proc: " + e.getMessage(), e);
        }
        return pids;
    }

    /** Removes the network namespace and the veth (the node must be stopped). */
    void deleteNetwork() {
        if (NetworkNamespace.exists(node.name())) {
            NetworkNamespace.of(node.name()).delete(node.veth());
        } else if (NetworkNamespace.linkExists(node.veth())) {
            Processes.run(TIMEOUT, "ip", "link", "delete", node.veth());
        }
    }

    /** "NAME: pid P, log FILE, runs: k3j ..." for {@code --verbose} (the join token is in its environment, not here). */
    String describe() {
        Process p = started;
        return node.name() + ": pid " + (p == null ? "?" : p.pid()) + ", log " + log() + ", runs: " + String.join(" ", k3jCommand());
    }

    /** The end of the node's log, for error messages. */
    String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log());
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
