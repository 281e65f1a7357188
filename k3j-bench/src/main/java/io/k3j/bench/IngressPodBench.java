package io.k3j.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.kube.HttpKubeClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.ToDoubleFunction;

/**
 * Issue 5's ingress figure as the issue states it: requests/s and p99 through the ingress against the same pod
 * reached directly. A {@code k3j server --disable-agent} and a standalone {@code k3j agent} on this machine's
 * containerd (started as {@link PodBench} starts it: own data dir, node name, bridge, nft tables, kill-all on exit);
 * busybox built from Debian's busybox-static with {@code k3j image build --busybox} and imported into the node; one
 * pod running busybox {@code httpd} on a ConfigMap page, a ClusterIP Service and an Ingress for {@link IngressBench#HOST}.
 * wrk (on this host, in the host network namespace like the agent) then measures, alternated:
 * <ul>
 *   <li>direct: {@code http://<pod IP>:8080/} over the node's bridge;</li>
 *   <li>k3j ingress: {@code http://<pod gateway address>:80/} with the Host header, i.e. the agent's own ingress
 *       listener (what the {@code k3j-ingress} Service's node ports are DNATed to);</li>
 *   <li>nginx: Debian's nginx on loopback in front of the same pod IP, the anchor.</li>
 * </ul>
 * busybox httpd answers every request with {@code Connection: close}, so each request costs the pod an accepted
 * connection and a fork whatever the client does; the proxies keep the client's connection and open one to the pod
 * per request. Hence two client modes: wrk's keep-alive (what a browser or a load generator does; the proxies then
 * spare wrk its reconnects), and {@code Connection: close} on every request (both sides pay a connect per request
 * from wrk). The TCP counters of the pod's and the host's network namespaces show the connections per request.
 */
final class IngressPodBench {
    private static final String NS = "default";
    private static final int POD_PORT = 8080;
    /** The quiet window that measures each process's CPU without traffic. */
    private static final int IDLE_SECONDS = 10;

    private IngressPodBench() {
    }

    /** Where the CPU of one wrk run went: the processes on the request path, and the connections opened. */
    private record Cpu(long server, long agent, long loopUser, long loopSys, long containerd, long shims, long pod, long nginx,
            long podAccepts, long hostConnects, long podListenDrops) {
        Cpu minus(Cpu o) {
            return new Cpu(server - o.server, agent - o.agent, loopUser - o.loopUser, loopSys - o.loopSys, containerd - o.containerd,
                    shims - o.shims, pod - o.pod, nginx - o.nginx, podAccepts - o.podAccepts, hostConnects - o.hostConnects,
                    podListenDrops - o.podListenDrops);
        }
    }

    /**
     * One target's figures of one run; CPU in microseconds per request, connections per request. {@code agent} is the
     * agent JVM but its ingress event loops ({@code loopUser + loopSys}), i.e. its informers, kubelet and JIT.
     */
    record Fig(double rps, double p50, double p99, double wrk, double pod, double agent, double loopUser, double loopSys, double nginx,
            double server, double runtime, double podAccepts, double hostConnects, double podListenDrops, String socketErrors, long errorAnswers) {
        /**
         * The CPU on the request's path: wrk, the pod, and the proxy (the ingress's event loops, or nginx), each with
         * the kernel's work charged to it. The server, the rest of the agent and containerd are not on the path; their
         * CPU (mostly their own background work, divided among the few requests a forking pod serves) is shown apart.
         */
        double path() {
            return wrk + pod + loopUser + loopSys + nginx;
        }
    }

    /** The processes the bench reads CPU from. */
    private record Node(long serverPid, long agentPid, long containerdPid, Path socket, Path podCpuacct, long podPid, long nginxPid) {
        Cpu read() {
            long[] loops = IngressBench.loopCpuNanos(agentPid);
            long shims = PodBench.shims(socket).stream().mapToLong(Machine::cpuWithChildrenNanos).sum();
            return new Cpu(Machine.cpuNanos(serverPid), Machine.cpuNanos(agentPid), loops[0], loops[1],
                    Machine.cpuWithChildrenNanos(containerdPid), shims, cpuacctNanos(podCpuacct),
                    nginxPid > 0 ? IngressBench.treeCpuSplitNanos(nginxPid)[0] + IngressBench.treeCpuSplitNanos(nginxPid)[1] : 0,
                    tcp(podPid, "PassiveOpens"), tcp(ProcessHandle.current().pid(), "ActiveOpens"), listenDrops(podPid));
        }
    }

    static void run(Env env, int runs, int seconds, int connections, int threads, int nginxWorkers, String connectionModes, int warmup)
            throws Exception {
        List<Boolean> modes = switch (connectionModes) {
            case "keep-alive" -> List.of(false);
            case "close" -> List.of(true);
            case "both" -> List.of(false, true);
            default -> throw new IllegalArgumentException("--connection " + connectionModes + " (expected: keep-alive, close or both)");
        };
        IngressBench.ensureInstalled("/usr/bin/wrk", "wrk");
        IngressBench.ensureInstalled("/usr/sbin/nginx", "nginx-light");
        System.out.println("ingress (backend pod): " + Machine.load());
        Path image = env.work().resolve("busybox.tar");
        PodBench.exec(env, List.of(env.repo().resolve("k3j").toString(), "image", "build", "--busybox", "-o", image.toString()), 120);

        PodBench.AgentNode agentNode = PodBench.AgentNode.random(env, "ingb-");
        String id = agentNode.id();
        String node = agentNode.node();
        String bridge = agentNode.bridge();
        Path agentData = agentNode.data();
        Path runDir = agentNode.runDir();
        Path socket = agentNode.socket();
        Path log = agentNode.log();
        // a pod network of its own: another session's node on this host may hold 10.42.0.1
        String clusterCidr = "10." + ThreadLocalRandom.current().nextInt(100, 200) + ".0.0/16";
        Process agent = null;
        long containerdPid = -1;
        Process nginx = null;
        try (K3jServer server = env.startServer("ingress-pod", "--cluster-cidr", clusterCidr)) {
            URI url = server.credentials().server();
            String[] pem = IngressBench.pems(server.dataDir().getParent().resolve("kubeconfig.yaml"));
            try (HttpKubeClient client = HttpKubeClient.withClientCertificate(url, pem[0], pem[1], pem[2])) {
                HttpClient http = Http.client(server.credentials().sslContext(), HttpClient.Version.HTTP_2);
                long t0 = System.nanoTime();
                agent = PodBench.startAgent(env, url, server.dataDir().resolve("server/token"), agentData, node, bridge, null, log,
                        "--lb-server-port", "0");
                PodBench.awaitNodeReady(http, url, node, agent, log);
                http.close();
                System.out.printf("  agent pid %d: node %s Ready %.1f s after exec (bridge %s, cluster CIDR %s, data %s)%n", agent.pid(), node,
                        (System.nanoTime() - t0) / 1e9, bridge, clusterCidr, agentData);
                containerdPid = agent.toHandle().children().filter(p -> p.info().command().orElse("").endsWith("containerd"))
                        .mapToLong(ProcessHandle::pid).findFirst().orElse(-1);
                PodBench.exec(env, List.of(env.repo().resolve("k3j").toString(), "image", "import", image.toString(), "--node-name", node), 60);
                objects(client);
                ObjectNode pod = awaitPodIp(client, Duration.ofSeconds(120), log);
                String podIp = pod.path("status").path("podIP").asText();
                String uid = pod.path("metadata").path("uid").asText();
                String gateway = firstHost(client.get("/api/v1/nodes/" + node).path("spec").path("podCIDR").asText());
                long podPid = podProcess(uid);
                Path cpuacct = podCpuacct(podPid, uid);

                String direct = "http://" + podIp + ":" + POD_PORT + "/";
                String proxied = "http://" + gateway + ":80/";
                int nginxPort = Env.freePort();
                nginx = IngressBench.startNginx(env.freshDir("nginx"), nginxPort, podIp + ":" + POD_PORT, nginxWorkers);
                String viaNginx = "http://127.0.0.1:" + nginxPort + "/";
                IngressBench.awaitOk(podIp, POD_PORT, podIp, Duration.ofSeconds(30));
                IngressBench.awaitOk(gateway, 80, IngressBench.HOST, Duration.ofSeconds(60));
                IngressBench.awaitOk("127.0.0.1", nginxPort, IngressBench.HOST, Duration.ofSeconds(30));
                System.out.println("  pod " + podIp + ":" + POD_PORT + " (busybox httpd, pid " + podPid + ", cgroup " + cpuacct.getParent() + ")"
                        + "; ingress " + gateway + ":80 in agent pid " + agent.pid() + "; nginx 127.0.0.1:" + nginxPort + " (" + IngressBench.nginxVersion()
                        + ", " + nginxWorkers + " workers)");
                System.out.println("  the pod's answer:     " + head(podIp, POD_PORT, podIp));
                System.out.println("  the ingress's answer: " + head(gateway, 80, IngressBench.HOST));
                System.out.println("  wrk -t" + threads + " -c" + connections + " -d" + seconds + "s --latency, " + runs + " runs of each target alternated"
                        + " in each client mode, after a " + warmup + " s warm-up of each; CPU in us per request");

                Node n = new Node(server.pid(), agent.pid(), containerdPid, socket, cpuacct, podPid, nginx.pid());
                // what the off-path processes use with no traffic: the context of their per-request figures
                Cpu i0 = n.read();
                Thread.sleep(IDLE_SECONDS * 1000L);
                Cpu idle = n.read().minus(i0);
                System.out.printf("  idle CPU over %d s (ms/s): server %.1f, agent %.1f, containerd+shims %.1f, pod %.1f; %s%n", IDLE_SECONDS,
                        idle.server() / 1e6 / IDLE_SECONDS, idle.agent() / 1e6 / IDLE_SECONDS, (idle.containerd() + idle.shims()) / 1e6 / IDLE_SECONDS,
                        idle.pod() / 1e6 / IDLE_SECONDS, Machine.load());
                String[] names = {"direct", "k3j ingress", "nginx"};
                String[] urls = {direct, proxied, viaNginx};
                String[] hosts = {null, IngressBench.HOST, IngressBench.HOST};
                for (int t = 0; t < 3; t++) IngressBench.wrk(urls[t], hosts[t], false, warmup, connections, threads);
                for (boolean close : modes) {
                    String mode = close ? "close" : "keep-alive";
                    List<List<Fig>> figs = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
                    for (int r = 0; r < runs; r++) {
                        String load = Machine.load();
                        StringBuilder line = new StringBuilder(String.format("  %s run %d (%s):", mode, r + 1, load));
                        for (int t = 0; t < 3; t++) {
                            Fig f = measure(n, urls[t], hosts[t], close, seconds, connections, threads);
                            figs.get(t).add(f);
                            line.append(String.format("%n    %-11s %s", names[t], describe(f)));
                        }
                        System.out.println(line);
                    }
                    System.out.println("RESULT ingress-pod " + mode + " (medians of " + runs + "; CPU in us per request; " + Machine.load() + ")");
                    System.out.println("RESULT ingress-pod " + mode + " | | req/s | p50 ms | p99 ms | wrk | pod | proxy (k3j: ingress loops user+sys)"
                            + " | path sum | agent other | server | containerd+shims | pod accepts/req | host-netns connects/req (all sessions) | pod listen drops/req | non-2xx (all runs)"
                            + " | wrk socket errors |");
                    Fig[] m = new Fig[3];
                    for (int t = 0; t < 3; t++) {
                        m[t] = medians(figs.get(t));
                        Fig f = m[t];
                        String proxy = t == 0 ? "-" : t == 1 ? String.format("%.1f (%.1f+%.1f)", f.loopUser() + f.loopSys(), f.loopUser(), f.loopSys())
                                : String.format("%.1f", f.nginx());
                        System.out.printf("RESULT ingress-pod %s | %s | %.0f | %.2f | %.2f | %.1f | %.1f | %s | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %d | %s |%n",
                                mode, names[t], f.rps(), f.p50(), f.p99(), f.wrk(), f.pod(), proxy, f.path(), f.agent(),
                                f.server(), f.runtime(), f.podAccepts(), f.hostConnects(), f.podListenDrops(), f.errorAnswers(),
                                String.join("; ", figs.get(t).stream().map(Fig::socketErrors).filter(s -> !s.isEmpty()).toList()));
                    }
                    System.out.printf("RESULT ingress-pod %s ratios: throughput direct/k3j %.2fx, direct/nginx %.2fx; p99 k3j/direct %.2fx,"
                                    + " nginx/direct %.2fx; CPU on the path per request k3j/direct %.2fx, nginx/direct %.2fx;"
                                    + " proxy CPU per request k3j/nginx %.2fx (target: overhead <= 1.3x)%n",
                            mode, m[0].rps() / m[1].rps(), m[0].rps() / m[2].rps(), m[1].p99() / m[0].p99(), m[2].p99() / m[0].p99(),
                            m[1].path() / m[0].path(), m[2].path() / m[0].path(), (m[1].loopUser() + m[1].loopSys()) / m[2].nginx());
                }
                client.delete("/api/v1/namespaces/" + NS + "/pods/hello", null);
                PodBench.awaitNoShims(socket, 120);
            }
        } finally {
            if (nginx != null) Processes.stop(nginx);
            PodBench.cleanUp(agent, containerdPid, socket, node, bridge, runDir, agentData);
            leftovers(bridge, node);
        }
    }

    private static Fig measure(Node n, String url, String host, boolean close, int seconds, int connections, int threads)
            throws IOException, InterruptedException {
        Cpu c0 = n.read();
        IngressBench.Wrk w = IngressBench.wrk(url, host, close, seconds, connections, threads);
        Cpu c = n.read().minus(c0);
        double req = w.requests();
        return new Fig(w.rps(), w.p50Millis(), w.p99Millis(), w.wrkCpuNanos() / 1e3 / req, c.pod() / 1e3 / req,
                (c.agent() - c.loopUser() - c.loopSys()) / 1e3 / req,
                c.loopUser() / 1e3 / req, c.loopSys() / 1e3 / req, c.nginx() / 1e3 / req, c.server() / 1e3 / req,
                (c.containerd() + c.shims()) / 1e3 / req, c.podAccepts() / req, c.hostConnects() / req, c.podListenDrops() / req, w.socketErrors(),
                w.errorAnswers());
    }

    private static String describe(Fig f) {
        return String.format("%.0f req/s p50 %.2f p99 %.2f ms | CPU us/req on the path: wrk %.1f, pod %.1f, ingress loops %.1f+%.1f, nginx %.1f,"
                        + " sum %.1f; off the path: agent's other threads %.1f, server %.1f, containerd+shims %.1f | pod accepts/req %.2f,"
                        + " host-netns connects/req %.2f (every session on the host counts), pod listen-queue drops/req %.2f%s",
                f.rps(), f.p50(), f.p99(), f.wrk(), f.pod(), f.loopUser(), f.loopSys(), f.nginx(), f.path(), f.agent(), f.server(), f.runtime(),
                f.podAccepts(), f.hostConnects(), f.podListenDrops(), f.socketErrors().isEmpty() ? "" : " | wrk socket errors:" + f.socketErrors())
                + (f.errorAnswers() > 0 ? " | NON-2XX ANSWERS " + f.errorAnswers() : "");
    }

    private static Fig medians(List<Fig> figs) {
        return new Fig(med(figs, Fig::rps), med(figs, Fig::p50), med(figs, Fig::p99), med(figs, Fig::wrk), med(figs, Fig::pod),
                med(figs, Fig::agent), med(figs, Fig::loopUser), med(figs, Fig::loopSys), med(figs, Fig::nginx), med(figs, Fig::server),
                med(figs, Fig::runtime), med(figs, Fig::podAccepts), med(figs, Fig::hostConnects), med(figs, Fig::podListenDrops), "",
                figs.stream().mapToLong(Fig::errorAnswers).sum());
    }

    private static double med(List<Fig> figs, ToDoubleFunction<Fig> f) {
        return IngressBench.median(figs.stream().mapToDouble(f).toArray());
    }

    /** The page (ConfigMap), the pod serving it with busybox httpd, its ClusterIP Service and the Ingress for HOST. */
    private static void objects(HttpKubeClient client) {
        IngressBench.create(client, "/api/v1/namespaces/" + NS + "/configmaps", """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: hello-page}
                data: {index.html: "hello from a pod behind the k3j ingress\\n"}
                """);
        IngressBench.create(client, "/api/v1/namespaces/" + NS + "/pods", """
                apiVersion: v1
                kind: Pod
                metadata: {name: hello, labels: {app: hello}}
                spec:
                  terminationGracePeriodSeconds: 0
                  containers:
                  - name: httpd
                    image: docker.io/library/busybox:1.35
                    imagePullPolicy: Never
                    command: [httpd, -f, -p, '0.0.0.0:%d', -h, /www]
                    ports: [{containerPort: %d}]
                    volumeMounts: [{name: page, mountPath: /www}]
                  volumes: [{name: page, configMap: {name: hello-page}}]
                """.formatted(POD_PORT, POD_PORT));
        IngressBench.create(client, "/api/v1/namespaces/" + NS + "/services", """
                apiVersion: v1
                kind: Service
                metadata: {name: hello}
                spec:
                  selector: {app: hello}
                  ports: [{name: http, port: 80, targetPort: %d}]
                """.formatted(POD_PORT));
        IngressBench.createIngress(client, NS);
    }

    private static ObjectNode awaitPodIp(HttpKubeClient client, Duration timeout, Path log) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        ObjectNode pod = null;
        while (System.nanoTime() < deadline) {
            pod = client.get("/api/v1/namespaces/" + NS + "/pods/hello");
            if ("Running".equals(pod.path("status").path("phase").asText()) && !pod.path("status").path("podIP").asText().isEmpty()) return pod;
            Thread.sleep(200);
        }
        throw new IOException("pod hello not Running with an IP within " + timeout + ": " + (pod == null ? "-" : pod.path("status"))
                + "; agent log: " + log);
    }

    /** The pod gateway address: the first host address of the podCIDR (10.42.0.1 for 10.42.0.0/24), as the agent computes it. */
    static String firstHost(String cidr) {
        String[] parts = cidr.substring(0, cidr.indexOf('/')).split("\\.");
        return parts[0] + "." + parts[1] + "." + parts[2] + "." + (Integer.parseInt(parts[3]) + 1);
    }

    /** The pod's httpd (the oldest process named httpd in the pod's cgroup): its network namespace holds the pod's TCP counters. */
    private static long podProcess(String uid) throws IOException {
        try (var procs = Files.list(Path.of("/proc"))) {
            return procs.map(p -> p.getFileName().toString()).filter(s -> s.chars().allMatch(Character::isDigit)).mapToLong(Long::parseLong)
                    .filter(pid -> Machine.read("/proc/" + pid + "/comm").equals("httpd") && Machine.read("/proc/" + pid + "/cgroup").contains("pod" + uid))
                    .min().orElseThrow(() -> new IOException("no httpd process in the cgroup of pod " + uid));
        }
    }

    /** The pod-level cpuacct.usage (cgroup v1): the pause and httpd containers with every child httpd forks per connection. */
    private static Path podCpuacct(long pid, String uid) throws IOException {
        for (String line : Machine.read("/proc/" + pid + "/cgroup").lines().toList()) {
            String[] f = line.split(":", 3);
            if (f.length < 3 || !List.of(f[1].split(",")).contains("cpuacct")) continue;
            int at = f[2].indexOf("pod" + uid);
            if (at < 0) break;
            Path p = Path.of("/sys/fs/cgroup/cpuacct" + f[2].substring(0, at + ("pod" + uid).length()), "cpuacct.usage");
            if (Files.exists(p)) return p;
            throw new IOException("no " + p);
        }
        throw new IOException("no cpuacct cgroup of pod " + uid + " in /proc/" + pid + "/cgroup");
    }

    private static long cpuacctNanos(Path usage) {
        String v = Machine.read(usage.toString());
        return v.equals("?") ? 0 : Long.parseLong(v);
    }

    /** A TCP counter of the network namespace {@code pid} is in (/proc/PID/net/snmp), e.g. PassiveOpens. */
    private static long tcp(long pid, String field) {
        List<String> tcp = Machine.read("/proc/" + pid + "/net/snmp").lines().filter(l -> l.startsWith("Tcp:")).toList();
        if (tcp.size() < 2) return 0;
        List<String> names = List.of(tcp.get(0).split("\\s+"));
        int i = names.indexOf(field);
        return i < 0 ? 0 : Long.parseLong(tcp.get(1).split("\\s+")[i]);
    }

    /**
     * SYNs the pod's listening socket dropped with its accept queue full (TcpExt ListenDrops of its network namespace):
     * busybox httpd listens with a backlog of 9, so more connections at once than that wait for a SYN retransmit (1 s).
     */
    private static long listenDrops(long pid) {
        List<String> ext = Machine.read("/proc/" + pid + "/net/netstat").lines().filter(l -> l.startsWith("TcpExt:")).toList();
        if (ext.size() < 2) return 0;
        int i = List.of(ext.get(0).split("\\s+")).indexOf("ListenDrops");
        return i < 0 ? 0 : Long.parseLong(ext.get(1).split("\\s+")[i]);
    }

    /** The status line and the framing fields of one GET: whether the server keeps the connection. */
    private static String head(String address, int port, String host) throws IOException {
        try (Socket s = new Socket(address, port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            StringBuilder sb = new StringBuilder();
            int n;
            while (!sb.toString().contains("\r\n\r\n") && (n = in.read(buf)) > 0) sb.append(new String(buf, 0, n, StandardCharsets.US_ASCII));
            List<String> lines = sb.toString().lines().takeWhile(l -> !l.isEmpty()).toList();
            List<String> kept = new ArrayList<>(List.of(lines.getFirst()));
            for (String l : lines) {
                String k = l.toLowerCase(java.util.Locale.ROOT);
                if (k.startsWith("connection:") || k.startsWith("content-length:") || k.startsWith("transfer-encoding:") || k.startsWith("server:")) kept.add(l);
            }
            if (!lines.toString().toLowerCase(java.util.Locale.ROOT).contains("connection:")) kept.add("(no Connection field)");
            return String.join(" | ", kept);
        }
    }

    /** What the run may have left in the kernel: this node's nft tables, its bridge, its mounts, netns. */
    private static void leftovers(String bridge, String node) throws IOException, InterruptedException {
        List<String> left = new ArrayList<>();
        Process nft = new ProcessBuilder("nft", "list", "tables").redirectErrorStream(true).start();
        String tables = new String(nft.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        nft.waitFor();
        tables.lines().filter(l -> l.contains(bridge)).forEach(l -> left.add("nft " + l.strip()));
        if (Files.exists(Path.of("/sys/class/net", bridge))) left.add("link " + bridge);
        Machine.read("/proc/self/mounts").lines().filter(l -> l.contains(node) || l.contains("/tmp/k3jb-" + bridge.substring(4)))
                .forEach(l -> left.add("mount " + l.split(" ")[1]));
        System.out.println("  kernel leftovers of " + node + ": " + (left.isEmpty() ? "none (nft tables *-" + bridge + ", link " + bridge + ", mounts)" : left));
    }
}
