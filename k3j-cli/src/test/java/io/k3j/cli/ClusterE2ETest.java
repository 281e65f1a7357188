package io.k3j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.k3j.agent.host.NetworkNamespace;
import io.k3j.agent.image.TestImages;
import io.k3j.cluster.Kubeconfigs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code k3j cluster} end to end, every command a new CLI process (as from a new shell) with its own cluster folder
 * ({@code K3J_CLUSTER_DIR}) and kubeconfig ({@code KUBECONFIG}): create 1 server + 2 agents behind the load balancer
 * (API and a mapped port), a volume on the agents, image import, an Ingress reached through the mapped port, cluster
 * edit --port-add/--port-delete, hostPath pods, stop/start, node create, delete, and nothing left behind. Needs root.
 */
class ClusterE2ETest {
    private final String id = ClusterCli.newId();
    private final String name = "e2e" + id;
    private Path work;
    private Path root;
    private Path kubeconfig;
    private final java.util.Set<String> netnsBefore = ClusterHaE2ETest.netnsFiles();

    @Test
    @DisplayName("create 1 server + 2 agents, volumes on agents, image import, stop/start keeps IPs and pods, node create, delete leaves nothing")
    void lifecycle() throws Exception {
        work = Files.createTempDirectory("k3jc");
        root = work.resolve("clusters");
        kubeconfig = work.resolve("kubeconfig");
        Path code = Files.createDirectories(work.resolve("code"));
        Files.writeString(code.resolve("from-host.txt"), "hello\n");
        String dest = "/k3jt-" + name;
        Path busybox = TestImages.busybox(work.resolve("img")).archive();
        int apiPort = freePort();
        int webPort = freePort();
        int editPort = freePort();
        String extra = "x" + id;
        List<String> nodeNames = new ArrayList<>(List.of("k3j-" + name + "-server-0", "k3j-" + name + "-agent-0", "k3j-" + name + "-agent-1"));
        try {
            long t0 = System.nanoTime();
            k3j("cluster", "create", name, "--agents", "2", "--api-port", "127.0.0.1:" + apiPort, "--port", webPort + ":80@loadbalancer",
                    "-v", code + ":" + dest + "@agent:*", "--timeout", "240s");
            System.err.printf("ClusterE2ETest: cluster create took %d ms%n", (System.nanoTime() - t0) / 1_000_000);

            // every node Ready, with k3d's names and roles
            String nodes = kubectl("get", "nodes", "--no-headers", "-o", "custom-columns=N:.metadata.name,R:.status.conditions[?(@.type=='Ready')].status,"
                    + "CP:.metadata.labels.node-role\\.kubernetes\\.io/control-plane");
            for (String n : nodeNames) assertTrue(nodes.lines().anyMatch(l -> l.startsWith(n + " ") && l.contains("True")), nodes);
            assertTrue(nodes.lines().anyMatch(l -> l.startsWith(nodeNames.get(0) + " ") && l.endsWith("true")), "server-0 is a control plane: " + nodes);
            assertTrue(nodes.lines().anyMatch(l -> l.startsWith(nodeNames.get(1) + " ") && l.endsWith("<none>")), "agents are not: " + nodes);
            assertTrue(Kubeconfigs.mentions(kubeconfig, name));
            assertEquals("k3j-" + name, kubectl("config", "current-context").strip());
            // kubectl goes through the load balancer's API listener
            assertTrue(kubectl("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}").contains("https://127.0.0.1:" + apiPort));
            assertEquals(1, lbProcesses().size(), "one load balancer: " + lbProcesses());
            assertTrue(k3j("cluster", "list", "--no-headers").lines().anyMatch(l -> l.startsWith(name + " ") && l.strip().endsWith("true")));
            assertTrue(k3j("cluster", "list", "-o", "json").contains("\"name\" : \"" + name + "\""));

            k3j("image", "import", busybox.toString(), "-c", name);

            // the seed scenario: an app behind an Ingress, reached through the load balancer's mapped port
            long tWeb = System.nanoTime();
            kubectlIn(webApp(), "apply", "-f", "-");
            Map<String, String> nodeIpsNow = nodeIps();
            String external = "";
            for (long until = System.nanoTime() + 30_000_000_000L; ; Thread.sleep(500)) {
                external = kubectl("-n", "kube-system", "get", "svc", "k3j-ingress", "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}");
                if (List.of(external.trim().split("\\s+")).containsAll(nodeIpsNow.values()) || System.nanoTime() > until) break;
            }
            for (String ip : nodeIpsNow.values()) assertTrue(List.of(external.trim().split("\\s+")).contains(ip), "k3j-ingress EXTERNAL-IP " + external + " lacks " + ip);
            kubectl("rollout", "status", "deployment/web", "--timeout=120s");
            assertEquals("hello from k3j " + id, httpGet(webPort, "myapp.k3d.localhost"));
            System.err.printf("ClusterE2ETest: app reachable via the load balancer after %d ms%n", (System.nanoTime() - tWeb) / 1_000_000);

            // cluster edit --port-add: a new port, live, without touching the others
            long tEdit = System.nanoTime();
            k3j("cluster", "edit", name, "--port-add", "127.0.0.1:" + editPort + ":80");
            System.err.printf("ClusterE2ETest: cluster edit --port-add took %d ms%n", (System.nanoTime() - tEdit) / 1_000_000);
            assertEquals("hello from k3j " + id, httpGet(editPort, "myapp.k3d.localhost"));
            assertEquals("hello from k3j " + id, httpGet(webPort, "myapp.k3d.localhost"));
            k3j("cluster", "edit", name, "--port-delete", editPort + ":80");
            assertThrowsConnect(editPort);

            // the volume: agents' hostPath pods see the host folder, the server's doesn't
            for (String n : nodeNames) kubectlIn(pod("code-" + n.substring(n.lastIndexOf('-', n.lastIndexOf('-') - 1) + 1), n, dest), "apply", "-f", "-");
            kubectl("wait", "--for=condition=Ready", "pod", "--all", "--timeout=120s");
            assertEquals("from-host.txt", kubectl("logs", "code-agent-0").strip());
            assertEquals("from-host.txt", kubectl("logs", "code-agent-1").strip());
            assertEquals("", kubectl("logs", "code-server-0").strip());

            kubectlIn(deployment(), "apply", "-f", "-");
            kubectl("rollout", "status", "deployment/app", "--timeout=120s");
            Map<String, String> ips = nodeIps();
            String appPods = kubectl("get", "pods", "-l", "app=app", "-o", "name");

            // stop/start: same node IPs, the Deployment's pods back
            t0 = System.nanoTime();
            k3j("cluster", "stop", name);
            System.err.printf("ClusterE2ETest: cluster stop took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            assertTrue(k3j("cluster", "list", "--no-headers").contains("0/1"), "stopped");
            assertTrue(nodeProcesses().isEmpty(), "no node process after stop: " + nodeProcesses());
            t0 = System.nanoTime();
            k3j("cluster", "start", name, "--timeout", "180s");
            System.err.printf("ClusterE2ETest: cluster start took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            assertEquals(ips, nodeIps());
            kubectl("rollout", "status", "deployment/app", "--timeout=120s");
            kubectl("wait", "--for=condition=Ready", "pod", "-l", "app=app", "--timeout=120s");
            assertEquals(appPods, kubectl("get", "pods", "-l", "app=app", "-o", "name"));

            // node create adds a Ready agent
            k3j("node", "create", extra, "--role", "agent", "-c", name, "--timeout", "180s");
            nodeNames.add("k3j-" + extra + "-0");
            assertTrue(kubectl("get", "node", "k3j-" + extra + "-0", "--no-headers").contains(" Ready "));
            assertTrue(k3j("node", "list", "--no-headers").contains("k3j-" + extra + "-0"));

            // the bridge and the veths, as the state names them
            com.fasterxml.jackson.databind.JsonNode state = new com.fasterxml.jackson.databind.ObjectMapper().readTree(root.resolve(name).resolve("cluster.json").toFile());
            List<String> links = new ArrayList<>(List.of(state.path("bridge").asText()));
            state.path("nodes").forEach(n -> links.add(n.path("veth").asText()));
            assertEquals(nodeNames.size() + 1, links.size());
            for (String link : links) assertTrue(NetworkNamespace.linkExists(link), link);
            t0 = System.nanoTime();
            k3j("cluster", "delete", name);
            System.err.printf("ClusterE2ETest: cluster delete took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            assertNothingLeft(nodeNames, links, dest);
        } finally {
            if (Files.exists(root.resolve(name))) {
                try {
                    k3j("cluster", "delete", name);
                } catch (AssertionError e) {
                    System.err.println("cleanup: " + e.getMessage());
                }
            }
            deleteTree(work);
        }
    }

    private static int freePort() throws IOException {
        return ClusterCli.freePort();
    }

    /** GET / with a Host header on 127.0.0.1:port, retried for up to 60 s (ingress and endpoints settle). */
    private static String httpGet(int port, String host) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        String last = "";
        while (true) {
            try {
                List<String> cmd = List.of("curl", "-sS", "--max-time", "5", "-H", "Host: " + host, "http://127.0.0.1:" + port + "/");
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (p.waitFor() == 0 && out.startsWith("hello")) return out.strip();
                last = out;
            } catch (IOException e) {
                last = e.toString();
            }
            if (System.nanoTime() > deadline) throw new AssertionError("http://127.0.0.1:" + port + "/ (Host " + host + ") never answered the page: " + last);
            Thread.sleep(500);
        }
    }

    private static void assertThrowsConnect(int port) {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 1000);
            throw new AssertionError("port " + port + " still accepts after --port-delete");
        } catch (IOException expected) {
            // refused: the listener is gone
        }
    }

    /** The cluster's load balancer processes (command line names its lb.json). */
    private List<Long> lbProcesses() {
        String marker = root.resolve(name).resolve("lb.json").toString();
        return ProcessHandle.allProcesses().filter(p -> {
            try {
                return new String(Files.readAllBytes(Path.of("/proc/" + p.pid() + "/cmdline")), StandardCharsets.UTF_8).contains(marker);
            } catch (IOException gone) {
                return false;
            }
        }).map(ProcessHandle::pid).toList();
    }

    private String webApp() {
        return """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: web-page}
                data: {index.html: "hello from k3j %s\\n"}
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  replicas: 1
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers:
                      - name: httpd
                        image: docker.io/library/busybox:1.35
                        imagePullPolicy: Never
                        command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
                        ports: [{containerPort: 8080}]
                        volumeMounts: [{name: page, mountPath: /www}]
                      volumes: [{name: page, configMap: {name: web-page}}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec:
                  selector: {app: web}
                  ports: [{port: 80, targetPort: 8080}]
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: web}
                spec:
                  rules:
                  - host: myapp.k3d.localhost
                    http:
                      paths:
                      - path: /
                        pathType: Prefix
                        backend: {service: {name: web, port: {number: 80}}}
                """.formatted(id);
    }

    private void assertNothingLeft(List<String> nodeNames, List<String> links, String dest) throws IOException {
        List<String> problems = new ArrayList<>();
        if (!nodeProcesses().isEmpty()) problems.add("processes " + nodeProcesses());
        if (!lbProcesses().isEmpty()) problems.add("load balancer " + lbProcesses());
        for (String n : nodeNames) {
            if (NetworkNamespace.exists(n)) problems.add("netns " + n);
            if (Files.exists(Path.of("/run/k3j", n))) problems.add("run dir of " + n);
            try (Stream<Path> hs = Files.list(Path.of("/sys/fs/cgroup"))) {
                for (Path h : hs.toList()) if (Files.isDirectory(h.resolve("k3j").resolve(n))) problems.add("cgroup " + h.resolve("k3j").resolve(n));
            }
        }
        for (String link : links) if (NetworkNamespace.linkExists(link)) problems.add("link " + link);
        // other sessions' clusters (and their pods' cni-* files) may come and go meanwhile: this cluster's node names
        // always count, new cni-* files only when no other cluster's node namespace was there before or is now
        java.util.Set<String> now = ClusterHaE2ETest.netnsFiles();
        List<String> appeared = now.stream().filter(f -> !netnsBefore.contains(f)).toList();
        boolean others = Stream.concat(netnsBefore.stream(), now.stream()).anyMatch(f -> f.startsWith("k3j-") && !f.startsWith("k3j-" + name + "-"));
        for (String f : appeared) {
            if (f.startsWith("k3j-" + name + "-") || !others && !f.startsWith("k3j-")) problems.add("/run/netns/" + f);
        }
        for (String m : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            if (m.contains(work.toString()) || m.contains(dest)) problems.add("mount " + m);
        }
        if (Files.exists(Path.of(dest))) problems.add("volume destination " + dest);
        if (Files.exists(root.resolve(name))) problems.add("cluster folder");
        if (Kubeconfigs.mentions(kubeconfig, name)) problems.add("kubeconfig entries");
        assertTrue(problems.isEmpty(), "left behind: " + problems);
    }

    /** Processes whose command line names the cluster's folder (node JVMs, containerd, shims). */
    private List<String> nodeProcesses() {
        List<String> out = new ArrayList<>();
        String marker = root.resolve(name).toString();
        ProcessHandle.allProcesses().forEach(p -> {
            try {
                String cmd = new String(Files.readAllBytes(Path.of("/proc/" + p.pid() + "/cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
                if (cmd.contains(marker) || cmd.contains("/run/k3j/k3j-" + name + "-")) out.add(p.pid() + ":" + cmd);
            } catch (IOException gone) {
                // exited
            }
        });
        return out;
    }

    private Map<String, String> nodeIps() {
        Map<String, String> ips = new TreeMap<>();
        for (String l : kubectl("get", "nodes", "--no-headers", "-o", "custom-columns=N:.metadata.name,IP:.status.addresses[?(@.type=='InternalIP')].address").lines().toList()) {
            String[] f = l.trim().split("\\s+");
            ips.put(f[0], f[1]);
        }
        return ips;
    }

    private static String pod(String podName, String node, String dest) {
        return """
                apiVersion: v1
                kind: Pod
                metadata: {name: %s}
                spec:
                  nodeName: %s
                  restartPolicy: Never
                  containers:
                  - name: c
                    image: docker.io/library/busybox:1.35
                    imagePullPolicy: Never
                    command: ["sh", "-c", "ls /code; sleep 3600"]
                    volumeMounts: [{name: code, mountPath: /code}]
                  volumes: [{name: code, hostPath: {path: %s, type: DirectoryOrCreate}}]
                """.formatted(podName, node, dest);
    }

    private static String deployment() {
        return """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: app}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: app}}
                  template:
                    metadata: {labels: {app: app}}
                    spec:
                      containers:
                      - name: c
                        image: docker.io/library/busybox:1.35
                        imagePullPolicy: Never
                        command: ["sleep", "3600"]
                """;
    }

    private String k3j(String... args) {
        return new ClusterCli(root, kubeconfig).k3j(args);
    }

    private String kubectl(String... args) {
        return kubectlIn(null, args);
    }

    private String kubectlIn(String stdin, String... args) {
        return new ClusterCli(root, kubeconfig).kubectlIn(stdin, args);
    }

    private static void deleteTree(Path dir) {
        ClusterCli.deleteTree(dir);
    }
}
