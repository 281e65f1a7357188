package io.k3j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Pod start latency and node memory on a real node (issue 4): a {@code k3j server --disable-agent} and a standalone
 * {@code k3j agent} process (its own data dir, node name, kubelet port and bridge) on this machine's containerd;
 * busybox imported, then pods created one at a time on the idle node and then {@code burst} at once. Latency is
 * create request sent → the watch's first event showing the pod Running (client side), and creationTimestamp →
 * containerStatuses[].state.running.startedAt (server side, whole seconds). With the burst running: VmRSS of the
 * agent JVM, its containerd, every shim of that containerd, and the server.
 *
 * <p>Clean-up: pods deleted (grace 0) and awaited until their shims are gone; the agent runs with the hidden
 * {@code --kill-all-on-exit}, so SIGTERM makes it remove any remaining sandbox through CRI, stop containerd, delete
 * its bridge and cgroups; then the run dir and data dir are removed and the leftovers checked.
 */
final class PodBench {
    static final double TARGET_P50_MS = 1000;
    static final double TARGET_P99_MS = 2000;
    static final long TARGET_AGENT_RSS_MB = 100;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String NS = "podbench";

    /** One run's figures (nanoseconds, kB). */
    record Run(long seqP50, long burstP50, long burstP99, long burstMax, long agentRssKb, long containerdRssKb, long shimsRssKb,
               int shims, long serverRssKb) {
    }

    private PodBench() {
    }

    static void run(Env env, int runs, int sequential, int burst, String agentJavaOpts, boolean nmt) throws Exception {
        System.out.printf("== pods: %d run(s); each: fresh server + standalone agent, %d pods one at a time, then %d at once; agent JVM flags: %s%n",
                runs, sequential, burst, agentJavaOpts != null ? agentJavaOpts : "(launcher default)");
        Path image = env.work().resolve("busybox.tar");
        exec(env, List.of(env.repo().resolve("k3j").toString(), "image", "build", "--busybox", "-o", image.toString()), 120);
        List<Run> results = new ArrayList<>();
        for (int r = 1; r <= runs; r++) {
            System.out.println("-- run " + r + "  " + Machine.load());
            results.add(once(env, image, sequential, burst, agentJavaOpts, nmt));
        }
        if (results.size() > 1) {
            System.out.printf("RESULT pods median of %d runs: single pod p50 %s; burst of %d p50 %s, p99 %s, max %s; "
                            + "agent VmRSS %.1f MiB, containerd %.1f MiB, shims %.1f MiB in all, server %.1f MiB%n", results.size(),
                    Stats.ms(median(results, Run::seqP50)), burst, Stats.ms(median(results, Run::burstP50)), Stats.ms(median(results, Run::burstP99)),
                    Stats.ms(median(results, Run::burstMax)), median(results, Run::agentRssKb) / 1024, median(results, Run::containerdRssKb) / 1024,
                    median(results, Run::shimsRssKb) / 1024, median(results, Run::serverRssKb) / 1024);
        }
    }

    private static double median(List<Run> runs, java.util.function.ToLongFunction<Run> f) {
        return Stats.median(runs.stream().mapToDouble(r -> f.applyAsLong(r)).toArray());
    }

    /**
     * The names and paths of one benchmark node's agent, from a random id so that runs (and other sessions' nodes on
     * this host) never share a node name, bridge or directory.
     */
    record AgentNode(String id, String node, String bridge, Path data, Path runDir, Path socket, Path log) {
        static AgentNode random(Env env, String nodePrefix) {
            String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 5);
            Path runDir = Path.of("/run/k3j", nodePrefix + id);
            // data under /tmp with a short name: containerd's socket paths must stay under 108 bytes
            return new AgentNode(id, nodePrefix + id, "k3jb" + id, Path.of("/tmp/k3jb-" + id), runDir,
                    runDir.resolve("containerd/containerd.sock"), env.work().resolve("agent-" + id + ".log"));
        }
    }

    private static Run once(Env env, Path image, int sequential, int burst, String agentJavaOpts, boolean nmt) throws Exception {
        AgentNode agentNode = AgentNode.random(env, "bench-");
        String id = agentNode.id();
        String node = agentNode.node();
        String bridge = agentNode.bridge();
        Path agentData = agentNode.data();
        Path runDir = agentNode.runDir();
        Path socket = agentNode.socket();
        Path log = agentNode.log();
        Process agent = null;
        long containerdPid = -1;
        try (K3jServer s = env.startServer("pods")) {
            URI server = s.credentials().server();
            HttpClient http = Http.client(s.credentials().sslContext(), HttpClient.Version.HTTP_2);
            Path token = s.dataDir().resolve("server/token");
            String opts = agentJavaOpts != null ? agentJavaOpts : System.getenv("K3J_AGENT_JAVA_OPTS");
            if (nmt) opts = (opts != null ? opts : defaultJavaOpts(env)) + " -XX:NativeMemoryTracking=summary";
            long t0 = System.nanoTime();
            agent = startAgent(env, server, token, agentData, node, bridge, opts, log);
            awaitNodeReady(http, server, node, agent, log);
            System.out.printf("  agent pid %d: node %s Ready %.1f s after exec (bridge %s, data %s)%n", agent.pid(), node,
                    (System.nanoTime() - t0) / 1e9, bridge, agentData);
            containerdPid = agent.toHandle().children().filter(p -> p.info().command().orElse("").endsWith("containerd"))
                    .mapToLong(ProcessHandle::pid).findFirst().orElse(-1);
            exec(env, List.of(env.repo().resolve("k3j").toString(), "image", "import", image.toString(), "--node-name", node), 60);
            Env.createNamespace(http, server, NS);
            long[] seq = new long[sequential];
            long[] burstLat;
            long[] burstServer;
            try (PodWatch watch = new PodWatch(http, server, NS)) {
                // one at a time on the idle node
                for (int i = 0; i < sequential; i++) {
                    String name = "s-" + i;
                    long sent = create(http, server, name);
                    if (!watch.awaitRunning(name, 60_000)) throw new IOException(name + " not Running within 60 s; agent log: " + log);
                    PodWatch.Seen seen = watch.seen(name);
                    seq[i] = seen.runningNanos - sent;
                    System.out.printf("  single %s: Running after %s (bound %s, node status %s)%n", name, Stats.ms(seq[i]),
                            Stats.ms(seen.boundNanos - sent), Stats.ms(seen.nodeStatusNanos - sent));
                    Thread.sleep(500);
                }
                deleteAll(http, server);
                awaitNoShims(socket, 120);
                Thread.sleep(2000);

                // the burst: every create request sent at once over one HTTP/2 connection
                long cpu0 = Machine.cpuNanos(agent.pid());
                long serverCpu0 = Machine.cpuNanos(s.pid());
                long containerdCpu0 = Machine.cpuWithChildrenNanos(containerdPid);
                long[] sent = new long[burst];
                List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
                for (int i = 0; i < burst; i++) {
                    sent[i] = System.nanoTime();
                    calls.add(http.sendAsync(podRequest(server, "b-" + i), HttpResponse.BodyHandlers.ofString()));
                }
                for (CompletableFuture<HttpResponse<String>> c : calls) {
                    HttpResponse<String> resp = c.get(60, TimeUnit.SECONDS);
                    if (resp.statusCode() != 201) throw new IOException("creating a pod: " + resp.statusCode() + " " + resp.body());
                }
                burstLat = new long[burst];
                burstServer = new long[burst];
                long[] bound = new long[burst];
                long[] nodeStatus = new long[burst];
                for (int i = 0; i < burst; i++) {
                    String name = "b-" + i;
                    if (!watch.awaitRunning(name, 180_000)) throw new IOException(name + " not Running within 180 s; agent log: " + log);
                    PodWatch.Seen seen = watch.seen(name);
                    burstLat[i] = seen.runningNanos - sent[i];
                    bound[i] = seen.boundNanos - sent[i];
                    nodeStatus[i] = seen.nodeStatusNanos - sent[i];
                    burstServer[i] = Duration.between(seen.created, seen.started).toNanos();
                }
                long agentCpu = Machine.cpuNanos(agent.pid()) - cpu0;
                long serverCpu = Machine.cpuNanos(s.pid()) - serverCpu0;
                long containerdCpu = Machine.cpuWithChildrenNanos(containerdPid) - containerdCpu0;
                long shimsCpu = shims(socket).stream().mapToLong(Machine::cpuWithChildrenNanos).sum(); // all started by the burst
                long total = agentCpu + serverCpu + containerdCpu + shimsCpu;
                System.out.printf("  burst CPU: agent %.2f s, server %.2f s, containerd (+ CNI plugins) %.2f s, shims (+ runc) %.2f s; "
                        + "%.0f ms per pod in all, so >= %.1f s for %d pods on %d idle CPUs%n", agentCpu / 1e9, serverCpu / 1e9,
                        containerdCpu / 1e9, shimsCpu / 1e9, total / 1e6 / burst, total / 1e9 / Runtime.getRuntime().availableProcessors(), burst,
                        Runtime.getRuntime().availableProcessors());
                Arrays.sort(seq);
                System.out.printf("  single pod (%d, one at a time): p50 %s, max %s%n", sequential, Stats.ms(Stats.percentile(seq, 50)),
                        Stats.ms(seq[seq.length - 1]));
                Arrays.sort(burstLat);
                Arrays.sort(burstServer);
                Arrays.sort(bound);
                Arrays.sort(nodeStatus);
                System.out.printf("  burst of %d: bound seen p50 %s max %s; node's first status seen p50 %s max %s%n", burst,
                        Stats.ms(Stats.percentile(bound, 50)), Stats.ms(bound[burst - 1]), Stats.ms(Stats.percentile(nodeStatus, 50)),
                        Stats.ms(nodeStatus[burst - 1]));
                System.out.printf("  burst of %d, server side (creationTimestamp -> startedAt, whole seconds): p50 %.0f s, max %.0f s%n", burst,
                        Stats.percentile(burstServer, 50) / 1e9, burstServer[burst - 1] / 1e9);
            }
            long p50 = Stats.percentile(burstLat, 50);
            long p99 = Stats.percentile(burstLat, 99);
            long max = burstLat[burstLat.length - 1];
            System.out.printf("RESULT pods single pod on an idle node: p50 %s (%d pods), target p50 <= %.0f ms -> %s%n", Stats.ms(Stats.percentile(seq, 50)),
                    sequential, TARGET_P50_MS, Stats.percentile(seq, 50) / 1e6 <= TARGET_P50_MS ? "MET" : "MISSED");
            System.out.printf("RESULT pods burst of %d: create -> Running p50 %s, p99 %s, max %s; targets p50 <= %.0f ms, p99 <= %.0f ms -> %s%n",
                    burstLat.length, Stats.ms(p50), Stats.ms(p99), Stats.ms(max), TARGET_P50_MS, TARGET_P99_MS,
                    p50 / 1e6 <= TARGET_P50_MS && p99 / 1e6 <= TARGET_P99_MS ? "MET" : "MISSED");

            Thread.sleep(10_000); // the node idles with its pods running
            long agentRss = Machine.statusKb(agent.pid(), "VmRSS");
            long containerdRss = containerdPid > 0 ? Machine.statusKb(containerdPid, "VmRSS") : -1;
            List<Long> shimPids = shims(socket);
            long shimsRss = 0;
            List<String> each = new ArrayList<>();
            for (long pid : shimPids) {
                long kb = Machine.statusKb(pid, "VmRSS");
                shimsRss += kb;
                each.add(Long.toString(kb / 1024));
            }
            long serverRss = Machine.statusKb(s.pid(), "VmRSS");
            System.out.println("  agent cmdline: " + cmdline(agent.pid()));
            System.out.println(indent(RssBench.jcmd(agent.pid(), "GC.heap_info")));
            System.out.println("  agent " + String.join(", ", Machine.read("/proc/" + agent.pid() + "/smaps_rollup").lines()
                    .filter(l -> l.startsWith("Rss") || l.startsWith("Anonymous")).map(l -> l.replaceAll("\\s+", " ")).toList()));
            if (nmt) System.out.println(indent(RssBench.jcmd(agent.pid(), "VM.native_memory", "summary")));
            System.out.printf("  shims (MiB each): %s%n", String.join(" ", each));
            double mb = agentRss / 1024.0;
            System.out.printf("RESULT pods RSS with %d pods running: agent JVM %.1f MiB (VmHWM %.1f), target <= %d MB -> %s; containerd %.1f MiB; "
                            + "%d shims %.1f MiB in all (%.1f MiB each on average); server %.1f MiB; anchor: k3s agent ~270 MB%n",
                    burst, mb, Machine.statusKb(agent.pid(), "VmHWM") / 1024.0, TARGET_AGENT_RSS_MB, mb <= TARGET_AGENT_RSS_MB ? "MET" : "MISSED",
                    containerdRss / 1024.0, shimPids.size(), shimsRss / 1024.0, shimPids.isEmpty() ? 0 : shimsRss / 1024.0 / shimPids.size(),
                    serverRss / 1024.0);

            deleteAll(http, server);
            awaitNoShims(socket, 120);
            http.close();
            return new Run(Stats.percentile(seq, 50), p50, p99, max, agentRss, containerdRss, shimsRss, shimPids.size(), serverRss);
        } finally {
            cleanUp(agent, containerdPid, socket, node, bridge, runDir, agentData);
        }
    }

    /**
     * A standalone {@code k3j agent} on this machine's containerd (which it installs and starts itself), with its own
     * data dir, node name, kubelet port and bridge, {@code --kill-all-on-exit} so that SIGTERM removes its pods, bridge,
     * nft tables and cgroups; {@code extraArgs} go after the standard flags. Stop it with {@link #cleanUp}.
     */
    static Process startAgent(Env env, URI server, Path token, Path data, String node, String bridge, String javaOpts, Path log,
            String... extraArgs) throws IOException {
        List<String> command = new ArrayList<>(List.of(env.repo().resolve("k3j").toString(), "agent", "--server", server.toString(),
                "--token-file", token.toString(), "--data-dir", data.toString(), "--node-name", node,
                "--kubelet-arg", "port=" + Env.freePort(), "--cni-bridge", bridge, "--kill-all-on-exit"));
        command.addAll(List.of(extraArgs));
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(env.repo().toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("K3J_SKIP_BUILD", "1");
        if (javaOpts != null) pb.environment().put("K3J_JAVA_OPTS", javaOpts);
        else pb.environment().remove("K3J_JAVA_OPTS");
        Process p = pb.start();
        Processes.track(p);
        return p;
    }

    /** The launcher's default JVM flags for {@code k3j agent}, read from ./k3j, so that NMT can be added to them. */
    private static String defaultJavaOpts(Env env) throws IOException {
        String launcher = Files.readString(env.repo().resolve("k3j"));
        int block = launcher.indexOf("if (( agent ))");
        int start = launcher.indexOf("jdk_opts=(", block);
        if (block < 0 || start < 0) return "-XX:+UseSerialGC";
        String opts = launcher.substring(start + "jdk_opts=(".length(), launcher.indexOf(')', start)).replaceAll("\\s+", " ").strip();
        if (Runtime.version().feature() >= 22) opts += " -XX:TrimNativeHeapInterval=2000";
        return Runtime.version().feature() >= 25 ? opts + " -XX:+UseCompactObjectHeaders" : opts;
    }

    static void awaitNodeReady(HttpClient http, URI server, String node, Process agent, Path log) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!agent.isAlive()) throw new IOException("k3j agent exited with " + agent.exitValue() + "; log: " + log);
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(server.resolve("/api/v1/nodes/" + node)).header("Accept", "application/json")
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                for (JsonNode c : MAPPER.readTree(r.body()).path("status").path("conditions")) {
                    if ("Ready".equals(c.path("type").asText()) && "True".equals(c.path("status").asText())) return;
                }
            }
            Thread.sleep(100);
        }
        throw new IOException("node " + node + " not Ready within 120 s; agent log: " + log);
    }

    private static HttpRequest podRequest(URI server, String name) {
        return Env.json(server.resolve("/api/v1/namespaces/" + NS + "/pods"), "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" + name + "\"},"
                + "\"spec\":{\"terminationGracePeriodSeconds\":0,\"containers\":[{\"name\":\"c\",\"image\":\"docker.io/library/busybox:1.35\","
                + "\"imagePullPolicy\":\"IfNotPresent\",\"command\":[\"sleep\",\"3600\"],"
                + "\"resources\":{\"requests\":{\"cpu\":\"10m\",\"memory\":\"8Mi\"}}}]}}");
    }

    /** Creates a pod; returns the nanoTime just before the request was sent. */
    private static long create(HttpClient http, URI server, String name) throws IOException, InterruptedException {
        long t = System.nanoTime();
        HttpResponse<String> r = http.send(podRequest(server, name), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) throw new IOException("creating " + name + ": " + r.statusCode() + " " + r.body());
        return t;
    }

    private static void deleteAll(HttpClient http, URI server) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(server.resolve("/api/v1/namespaces/" + NS + "/pods?gracePeriodSeconds=0"))
                .header("Accept", "application/json").timeout(Duration.ofSeconds(30)).DELETE().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IOException("deleting the pods: " + r.statusCode() + " " + r.body());
    }

    /** Shims serving {@code socket}'s containerd: found by their command line ({@code -address SOCKET}), as they re-parent to init. */
    static List<Long> shims(Path socket) {
        String address = socket.toString();
        return ProcessHandle.allProcesses().filter(p -> {
            List<String> args = Arrays.asList(p.info().arguments().orElse(new String[0]));
            int i = args.indexOf("-address");
            return p.info().command().orElse("").endsWith("containerd-shim-runc-v2") && i >= 0 && i + 1 < args.size() && args.get(i + 1).equals(address);
        }).map(ProcessHandle::pid).toList();
    }

    static void awaitNoShims(Path socket, int seconds) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!shims(socket).isEmpty()) {
            if (System.nanoTime() > deadline) throw new IOException(shims(socket).size() + " shims still running " + seconds + " s after the pods' deletion");
            Thread.sleep(100);
        }
    }

    static void cleanUp(Process agent, long containerdPid, Path socket, String node, String bridge, Path runDir, Path agentData)
            throws InterruptedException {
        if (agent != null && agent.isAlive()) {
            agent.destroy(); // SIGTERM: with --kill-all-on-exit the agent removes its sandboxes, containerd, bridge and cgroups
            if (!agent.waitFor(120, TimeUnit.SECONDS)) {
                System.out.println("  agent did not stop within 120 s: SIGKILL");
                agent.destroyForcibly();
                agent.waitFor(10, TimeUnit.SECONDS);
            }
            Processes.forget(agent);
        }
        if (containerdPid > 0) {
            ProcessHandle.of(containerdPid).ifPresent(p -> {
                System.out.println("  containerd " + containerdPid + " still running after the agent: SIGTERM");
                p.destroy();
            });
        }
        List<String> left = new ArrayList<>();
        List<Long> shims = shims(socket);
        if (!shims.isEmpty()) left.add(shims.size() + " shims " + shims);
        if (containerdPid > 0 && ProcessHandle.of(containerdPid).isPresent()) left.add("containerd " + containerdPid);
        if (Files.exists(Path.of("/sys/class/net", bridge))) left.add("bridge " + bridge);
        try (var h = Files.list(Path.of("/sys/fs/cgroup"))) {
            h.map(d -> d.resolve("k3j").resolve(node)).filter(Files::isDirectory).forEach(d -> left.add("cgroup " + d));
        } catch (IOException e) {
            left.add("cannot list cgroups: " + e);
        }
        deleteTree(runDir);
        deleteTree(agentData);
        if (Files.exists(runDir)) left.add(runDir.toString());
        if (Files.exists(agentData)) left.add(agentData.toString());
        System.out.println("  clean-up: " + (left.isEmpty() ? "nothing left (agent, containerd, shims, bridge " + bridge + ", cgroups, dirs)" : "LEFT " + left));
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.out.println("  could not remove " + dir + ": " + e.getMessage());
        }
    }

    /** Runs a {@code ./k3j} command (e.g. {@code image build --busybox}, {@code image import}) and prints its output. */
    static void exec(Env env, List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(env.repo().toFile()).redirectErrorStream(true);
        pb.environment().put("K3J_SKIP_BUILD", "1");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        System.out.println("  " + out.strip());
    }

    private static String cmdline(long pid) throws IOException {
        return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"))).replace('\0', ' ').strip();
    }

    private static String indent(String s) {
        return s.lines().map(l -> "    | " + l).collect(java.util.stream.Collectors.joining("\n"));
    }
}
