package io.k3j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.k3j.agent.host.NetworkNamespace;
import io.k3j.cluster.Kubeconfigs;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code k3j cluster create}'s per-node flags and failure handling end to end, every command a new CLI process with
 * the test's own cluster folder and kubeconfig (as {@link ClusterE2ETest}): {@code -e}, {@code --k3s-arg} and
 * {@code --k3j-arg}, {@code --k3s-node-label} reach the selected node only; {@code --no-lb} has no load balancer and a
 * kubeconfig pointing at server-0; {@code :direct} ports (with and without a load balancer) and filtered
 * {@code :proxy} ports reach the node they name; {@code --wait=false} returns before the nodes are Ready;
 * {@code --timeout} rolls back, or with {@code --no-rollback} leaves the cluster for {@code cluster start}. Which node
 * answers a port is told by the certificate of its kubelet API (:10250), which names the node. Needs root.
 */
class ClusterFlagsE2ETest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String id = ClusterCli.newId();
    private final Set<String> netnsBefore = netnsFiles();
    private Path work;
    private Path root;
    private Path kubeconfig;
    private final List<String> clusters = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        work = Files.createTempDirectory("k3jf");
        root = work.resolve("clusters");
        kubeconfig = work.resolve("kubeconfig");
    }

    @AfterEach
    void tearDown() {
        for (String c : clusters) {
            if (Files.exists(root.resolve(c))) {
                try {
                    k3j("cluster", "delete", c);
                } catch (AssertionError e) {
                    System.err.println("cleanup: " + e.getMessage());
                }
            }
        }
        ClusterCli.deleteTree(work);
    }

    @Test
    @DisplayName("--no-lb --wait=false with -e, --k3s-arg, --k3j-arg, --k3s-node-label and a :direct port: each reaches only the node its filter names")
    void perNodeFlagsWithoutLoadBalancer() throws Exception {
        String name = "fl" + id;
        clusters.add(name);
        String server = "k3j-" + name + "-server-0";
        String agent = "k3j-" + name + "-agent-0";
        int direct = ClusterCli.freePort();
        int proxied = ClusterCli.freePort();

        // a port for the load balancer without one: refused before anything exists, naming the fix
        String refused = k3jFails("cluster", "create", name, "--no-lb", "-p", proxied + ":80");
        assertTrue(refused.contains("--no-lb") && refused.contains(":direct"), refused);
        assertFalse(Files.exists(root.resolve(name)), "nothing created");

        long t0 = System.nanoTime();
        String out = k3j("cluster", "create", name, "--agents", "1", "--no-lb", "--wait=false", "--timeout", "240s", "--verbose",
                "-e", "K3JT_FLAG=agent0-" + id + "@agent:0",
                "--k3s-arg", "--node-taint=dedicated=x:NoSchedule@agent:0",
                "--k3j-arg=--node-label=viaarg=" + id + "@server:0",
                "--k3s-node-label", "tier=edge@agent:0",
                "-p", "127.0.0.1:" + direct + ":10250@agent:0:direct");
        // --wait=false: back once the API serves, before the nodes are Ready
        String nodesAtReturn = kubectl("get", "nodes", "--no-headers");
        System.err.printf("ClusterFlagsE2ETest: create --wait=false took %d ms; nodes then:%n%s", (System.nanoTime() - t0) / 1_000_000, nodesAtReturn);
        assertFalse(out.contains(" is Ready"), out);
        assertTrue(out.contains("--wait=false"), out);
        // --verbose: each started node's PID, log file and command
        for (String n : List.of(server, agent)) {
            assertTrue(out.lines().anyMatch(l -> l.contains(n + ": pid ") && l.contains("/node.log, runs: ") && l.contains("--node-name " + n)), out);
        }
        assertTrue(nodesAtReturn.lines().filter(l -> l.contains(" Ready ")).count() < 2, "not every node Ready yet: " + nodesAtReturn);
        awaitReady(List.of(server, agent));

        // --no-lb: the kubeconfig points at server-0 on the bridge; the only forwarder listener is the :direct port
        JsonNode state = state(name);
        String serverIp = nodeState(state, server).path("ip").asText();
        String agentIp = nodeState(state, agent).path("ip").asText();
        assertEquals("https://" + serverIp + ":6443", kubectl("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}").strip());
        JsonNode cluster = JSON.readTree(k3j("cluster", "list", name, "-o", "json")).get(0);
        assertFalse(cluster.path("hasLoadbalancer").asBoolean(), cluster.toString());
        assertEquals(List.of("port-" + direct + "-tcp " + agentIp + ":10250"), listeners(name));

        // -e: in the agent's environment (and so its containerd's), not the server's
        String env = "K3JT_FLAG=agent0-" + id;
        assertTrue(environ(pid(name, agent)).contains(env), "agent-0 JVM has " + env);
        assertFalse(environ(pid(name, server)).stream().anyMatch(e -> e.startsWith("K3JT_FLAG=")), "server-0 has no K3JT_FLAG");
        List<Long> containerd = processes(p -> p.comm().equals("containerd") && p.cmdline().contains(root.resolve(name).resolve("nodes").resolve(agent) + "/"));
        assertFalse(containerd.isEmpty(), "agent-0's containerd runs");
        for (long pid : containerd) assertTrue(environ(pid).contains(env), "containerd " + pid + " inherits " + env);

        // --k3s-arg taint and --k3s-node-label on agent-0 only, --k3j-arg label on server-0 only
        assertEquals("dedicated=x:NoSchedule", kubectl("get", "node", agent, "-o", "jsonpath={range .spec.taints[*]}{.key}={.value}:{.effect}{end}").strip());
        assertEquals("", kubectl("get", "node", server, "-o", "jsonpath={.spec.taints[?(@.key=='dedicated')].effect}").strip());
        assertEquals("edge", kubectl("get", "node", agent, "-o", "jsonpath={.metadata.labels.tier}").strip());
        assertEquals("", kubectl("get", "node", server, "-o", "jsonpath={.metadata.labels.tier}").strip());
        assertEquals(id, kubectl("get", "node", server, "-o", "jsonpath={.metadata.labels.viaarg}").strip());
        assertEquals("", kubectl("get", "node", agent, "-o", "jsonpath={.metadata.labels.viaarg}").strip());

        // the :direct port is agent-0's kubelet
        assertTrue(servingCertNames(direct).contains(agent), "direct port reaches agent-0");

        // cluster edit on a --no-lb cluster: a :direct port is added live, a load-balanced one refused with the fix
        int direct2 = ClusterCli.freePort();
        k3j("cluster", "edit", name, "--port-add", "127.0.0.1:" + direct2 + ":10250@server:0:direct");
        assertTrue(servingCertNames(direct2).contains(server), "second direct port reaches server-0");
        assertTrue(servingCertNames(direct).contains(agent), "the first one still reaches agent-0");
        String editRefused = k3jFails("cluster", "edit", name, "--port-add", proxied + ":80");
        assertTrue(editRefused.contains("--no-lb") && editRefused.contains(":direct"), editRefused);

        k3j("cluster", "delete", name);
        assertNothingLeft(name, List.of(server, agent));
    }

    @Test
    @DisplayName("--timeout expiry rolls back everything; with --no-rollback the cluster stays, cluster start finishes it, :proxy and :direct ports reach their nodes")
    void timeoutRollbackAndNoRollback() throws Exception {
        String name = "to" + id;
        clusters.add(name);
        String server = "k3j-" + name + "-server-0";
        String agent = "k3j-" + name + "-agent-0";
        int toAgent = ClusterCli.freePort();
        int toServer = ClusterCli.freePort();
        int directAgent = ClusterCli.freePort();
        List<String> create = List.of("cluster", "create", name, "--agents", "1", "--timeout", "2s",
                "-p", "127.0.0.1:" + toAgent + ":10250@agent:0",
                "-p", "127.0.0.1:" + toServer + ":10250@server:0:proxy",
                "-p", "127.0.0.1:" + directAgent + ":10250@agent:0:direct");

        // expiry: the failure names --timeout, and nothing is left
        String failed = k3jFails(create.toArray(String[]::new));
        assertTrue(failed.contains("timed out after 2s") && failed.contains("--timeout"), failed);
        assertTrue(failed.contains("rolled back"), failed);
        assertNothingLeft(name, List.of(server, agent));

        // --no-rollback: left for inspection
        List<String> keep = new ArrayList<>(create);
        keep.add("--no-rollback");
        failed = k3jFails(keep.toArray(String[]::new));
        assertTrue(failed.contains("timed out after 2s") && failed.contains("--no-rollback"), failed);
        assertTrue(Files.isRegularFile(root.resolve(name).resolve("cluster.json")), "state kept");
        for (String n : List.of(server, agent)) {
            assertTrue(NetworkNamespace.exists(n), "netns " + n + " kept");
            assertTrue(ProcessHandle.of(pid(name, n)).map(ProcessHandle::isAlive).orElse(false), n + " still runs");
            assertTrue(Files.isRegularFile(root.resolve(name).resolve("nodes").resolve(n).resolve("node.log")), n + " log kept");
        }
        assertTrue(k3j("cluster", "list", "--no-headers").lines().anyMatch(l -> l.startsWith(name + " ")));

        // cluster start finishes what the create left
        String started = k3j("cluster", "start", name, "--timeout", "240s");
        assertTrue(started.contains("node " + server + " is Ready") && started.contains("node " + agent + " is Ready"), started);

        // the load balancer: API to the server, filtered :proxy ports to their node, the :direct one to agent-0 alone
        JsonNode state = state(name);
        String serverIp = nodeState(state, server).path("ip").asText();
        String agentIp = nodeState(state, agent).path("ip").asText();
        List<String> ls = listeners(name);
        assertEquals(4, ls.size(), ls.toString());
        assertTrue(ls.contains("api " + serverIp + ":6443"), ls.toString());
        assertTrue(ls.contains("port-" + toAgent + "-tcp " + agentIp + ":10250"), ls.toString());
        assertTrue(ls.contains("port-" + toServer + "-tcp " + serverIp + ":10250"), ls.toString());
        assertTrue(ls.contains("port-" + directAgent + "-tcp " + agentIp + ":10250"), ls.toString());
        assertTrue(servingCertNames(toAgent).contains(agent), "agent:0 port reaches agent-0");
        assertTrue(servingCertNames(toServer).contains(server), "server:0:proxy port reaches server-0");
        assertTrue(servingCertNames(directAgent).contains(agent), "agent:0:direct port reaches agent-0");

        k3j("cluster", "delete", name);
        assertNothingLeft(name, List.of(server, agent));
    }

    @Test
    @DisplayName("issue 6's k3d.io/v1alpha2 file, verbatim: 1 server + 2 agents Ready, API on 127.0.0.1:6445 with the extra SAN, 8080:80 on the load balancer, context switched")
    void k3dConfigFileVerbatim() throws Exception {
        // the file names host ports 6445 and 8080; a machine using them can't run it as written
        org.junit.jupiter.api.Assumptions.assumeTrue(portFree(6445) && portFree(8080), "ports 6445 and 8080 are in use");
        String name = "cf" + id;
        clusters.add(name);
        Path file = work.resolve("k3d.yaml");
        Files.writeString(file, """
                apiVersion: k3d.io/v1alpha2
                kind: Simple
                name: mycluster
                servers: 1
                agents: 2
                kubeAPI:
                  hostIP: "127.0.0.1"
                  hostPort: "6445"
                ports:
                  - port: 8080:80
                    nodeFilters:
                      - loadbalancer
                options:
                  k3d:
                    wait: true
                    timeout: "60s"
                  k3s:
                    extraServerArgs:
                      - --tls-san=my.host.domain
                    extraAgentArgs: []
                  kubeconfig:
                    updateDefaultKubeconfig: true
                    switchCurrentContext: true
                """);
        List<String> nodes = List.of("k3j-" + name + "-server-0", "k3j-" + name + "-agent-0", "k3j-" + name + "-agent-1");
        // the NAME argument overrides the file's name (as with k3d), so the test can't clash with a user's mycluster;
        // the file's 60 s timeout holds on an idle machine, a loaded one gets more
        long t0 = System.nanoTime();
        k3j("cluster", "create", name, "-c", file.toString(), "--timeout", "240s");
        System.err.printf("ClusterFlagsE2ETest: create from the k3d file took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        String ready = kubectl("get", "nodes", "--no-headers");
        for (String n : nodes) assertTrue(ready.lines().anyMatch(l -> l.startsWith(n + " ") && l.contains(" Ready ")), ready);
        assertEquals("k3j-" + name, kubectl("config", "current-context").strip());
        assertEquals("https://127.0.0.1:6445", kubectl("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}").strip());
        assertTrue(servingCertNames(6445).contains("my.host.domain"), "the API's certificate carries --tls-san");
        List<String> listeners = listeners(name);
        assertTrue(listeners.stream().anyMatch(l -> l.contains(":80") && l.split(" ").length == 4), "8080 -> port 80 of all 3 nodes: " + listeners);
        assertTrue(Files.readString(root.resolve(name).resolve("lb.json")).contains("8080"), listeners.toString());
        k3j("cluster", "delete", name);
        assertNothingLeft(name, nodes);
    }

    private static boolean portFree(int port) {
        try (java.net.ServerSocket s = new java.net.ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------------------------------------------- helpers

    /** Waits until every one of {@code nodes} is registered and Ready. */
    private void awaitReady(List<String> nodes) throws InterruptedException {
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (true) {
            String now = kubectl("get", "nodes", "--no-headers");
            if (nodes.stream().allMatch(n -> now.lines().anyMatch(l -> l.startsWith(n + " ") && l.contains(" Ready ")))) return;
            if (System.nanoTime() > deadline) throw new AssertionError("nodes " + nodes + " not Ready: " + now);
            Thread.sleep(1000);
        }
    }

    /** The DNS names and addresses in the certificate that answers TLS on 127.0.0.1:port (retried up to 60 s). */
    private static String servingCertNames(int port) throws Exception {
        AtomicReference<X509Certificate> seen = new AtomicReference<>();
        // the kubelet asks for a client certificate and may end the handshake without one: keep what it showed first
        X509TrustManager keep = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                seen.set(chain[0]);
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {keep}, null);
        long deadline = System.nanoTime() + 60_000_000_000L;
        String last = "";
        while (true) {
            try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
                s.setSoTimeout(5000);
                s.startHandshake();
            } catch (IOException e) {
                last = e.toString();
            }
            X509Certificate c = seen.get();
            if (c != null) {
                StringBuilder names = new StringBuilder(c.getSubjectX500Principal().getName());
                if (c.getSubjectAlternativeNames() != null) c.getSubjectAlternativeNames().forEach(san -> names.append(' ').append(san.get(1)));
                return names.toString();
            }
            if (System.nanoTime() > deadline) throw new AssertionError("no TLS server on 127.0.0.1:" + port + ": " + last);
            Thread.sleep(500);
        }
    }

    /** The cluster's forwarder listeners as "NAME BACKEND..." from its lb.json. */
    private List<String> listeners(String name) throws IOException {
        List<String> out = new ArrayList<>();
        for (JsonNode l : JSON.readTree(root.resolve(name).resolve("lb.json").toFile()).path("listeners")) {
            StringBuilder sb = new StringBuilder(l.path("name").asText());
            for (JsonNode b : l.path("backends")) sb.append(' ').append(b.path("host").asText()).append(':').append(b.path("port").asInt());
            out.add(sb.toString());
        }
        return out;
    }

    private JsonNode state(String name) throws IOException {
        return JSON.readTree(root.resolve(name).resolve("cluster.json").toFile());
    }

    private static JsonNode nodeState(JsonNode state, String node) {
        for (JsonNode n : state.path("nodes")) if (n.path("name").asText().equals(node)) return n;
        throw new AssertionError("no node " + node + " in " + state);
    }

    private long pid(String cluster, String node) throws IOException {
        return Long.parseLong(Files.readString(root.resolve(cluster).resolve("nodes").resolve(node).resolve("node.pid")).strip());
    }

    private static List<String> environ(long pid) throws IOException {
        return List.of(new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ")), StandardCharsets.UTF_8).split("\0"));
    }

    private record Proc(long pid, String comm, String cmdline) {
    }

    private static List<Long> processes(java.util.function.Predicate<Proc> which) {
        List<Long> out = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(h -> {
            try {
                Path p = Path.of("/proc", Long.toString(h.pid()));
                Proc proc = new Proc(h.pid(), Files.readString(p.resolve("comm")).strip(),
                        new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' '));
                if (which.test(proc)) out.add(h.pid());
            } catch (IOException gone) {
                // exited
            }
        });
        return out;
    }

    /** As {@link ClusterE2ETest}'s check: no process, netns, link, cgroup, run dir, folder or kubeconfig entry of the cluster. */
    private void assertNothingLeft(String name, List<String> nodeNames) throws IOException {
        List<String> problems = new ArrayList<>();
        String folder = root.resolve(name).toString();
        List<Long> procs = processes(p -> p.cmdline().contains(folder) || p.cmdline().contains("/run/k3j/k3j-" + name + "-"));
        if (!procs.isEmpty()) problems.add("processes " + procs);
        for (String n : nodeNames) {
            if (NetworkNamespace.exists(n)) problems.add("netns " + n);
            if (Files.exists(Path.of("/run/k3j", n))) problems.add("run dir of " + n);
            try (Stream<Path> hs = Files.list(Path.of("/sys/fs/cgroup"))) {
                for (Path h : hs.toList()) if (Files.isDirectory(h.resolve("k3j").resolve(n))) problems.add("cgroup " + h.resolve("k3j").resolve(n));
            }
        }
        String bridge = "k3j-" + name;
        if (NetworkNamespace.linkExists(bridge)) problems.add("bridge " + bridge);
        // other sessions' clusters come and go meanwhile: only this cluster's names count (it runs no pods, so no cni-*)
        for (String f : netnsFiles()) if (!netnsBefore.contains(f) && f.startsWith("k3j-" + name + "-")) problems.add("/run/netns/" + f);
        for (String m : Files.readAllLines(Path.of("/proc/self/mountinfo"))) if (m.contains(work.toString())) problems.add("mount " + m);
        String tables = new String(new ProcessBuilder("nft", "list", "tables").redirectErrorStream(true).start().getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (tables.contains(name)) problems.add("nft tables " + tables);
        if (Files.exists(root.resolve(name))) problems.add("cluster folder");
        if (Files.exists(kubeconfig) && Kubeconfigs.mentions(kubeconfig, name)) problems.add("kubeconfig entries");
        assertTrue(problems.isEmpty(), "left behind: " + problems);
    }

    private static Set<String> netnsFiles() {
        try (Stream<Path> s = Files.list(Path.of("/run/netns"))) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        } catch (IOException e) {
            return Set.of();
        }
    }

    private String k3j(String... args) {
        return new ClusterCli(root, kubeconfig).k3j(args);
    }

    /** Runs a k3j command that must fail; returns its output. */
    private String k3jFails(String... args) {
        try {
            String out = k3j(args);
            throw new IllegalStateException("k3j " + String.join(" ", args) + " succeeded:\n" + out);
        } catch (AssertionError expected) {
            assertTrue(expected.getMessage().contains(" exited "), expected.getMessage());
            return expected.getMessage();
        }
    }

    private String kubectl(String... args) {
        return new ClusterCli(root, kubeconfig).kubectl(args);
    }
}
