package io.k3j.agent.kubelet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.k3j.api.Json;
import io.k3j.apiserver.pki.CertAndKey;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.testing.TestCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kubectl logs, exec, attach, cp and port-forward through a real in-process API server to a {@link KubeletServer}
 * on loopback, whose runtime is {@link FakeStreamingServer} (a SPDY streaming server like containerd's that runs
 * commands as local processes). kubectl 1.27 speaks SPDY end to end (spliced by the API server and the kubelet);
 * 1.32 and 1.33 speak WebSocket v5 (translated to SPDY by the kubelet) and SPDY tunneled in WebSocket for
 * port-forward.
 */
class KubectlStreamingTest {
    private static final String SDK = "/usr/lib/google-cloud-sdk/bin/kubectl.";
    private static TestCluster cluster;
    private static FakeStreamingServer runtime;
    private static KubeletServer kubelet;
    private static Path logs;
    private static final Map<String, PodLookup.Pod> pods = new ConcurrentHashMap<>();
    private static Path webLogDir;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(List.of());
        runtime = new FakeStreamingServer();
        logs = Files.createTempDirectory("k3j-kubelet-logs");
        var pki = cluster.controlPlane().pki();
        CertAndKey serving = pki.issueServingCert("node-1", List.of("127.0.0.1", "node-1"), Duration.ofDays(1));
        kubelet = KubeletServer.start(new KubeletServer.Config(new InetSocketAddress("127.0.0.1", 0), serving.certificatePem(),
                serving.privateKeyPem(), pki.clientCaPem(), runtime, (ns, name) -> Optional.ofNullable(pods.get(ns + "/" + name))));

        ResourceType nodes = cluster.type("", "v1", "nodes");
        cluster.api().create(nodes, null, Json.parseObject("""
                {"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1"},
                 "status":{"addresses":[{"type":"Hostname","address":"node-1"},{"type":"InternalIP","address":"127.0.0.1"}],
                           "daemonEndpoints":{"kubeletEndpoint":{"Port":%d}}}}
                """.formatted(kubelet.port()).getBytes(StandardCharsets.UTF_8)));
        ObjectNode web = createRunningPod("web", List.of("c1"), 1);
        createRunningPod("two", List.of("a", "b"), 0);
        ResourceType podType = cluster.type("", "v1", "pods");
        ObjectNode waiting = (ObjectNode) Json.parseYamlOrJson("""
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"starting","namespace":"default"},
                 "spec":{"nodeName":"node-1","containers":[{"name":"c","image":"busybox"}]}}""".getBytes(StandardCharsets.UTF_8));
        cluster.api().create(podType, "default", waiting);

        String uid = web.path("metadata").path("uid").asText();
        webLogDir = logs.resolve("default_web_" + uid).resolve("c1");
        Files.createDirectories(webLogDir);
        Files.writeString(webLogDir.resolve("0.log"), """
                2026-01-01T00:00:00.000000001Z stdout F previous run
                """);
        Files.writeString(webLogDir.resolve("1.log"), """
                2026-01-01T00:00:01.000000001Z stdout F line one
                2026-01-01T00:00:02.000000001Z stderr P line\s
                2026-01-01T00:00:02.500000001Z stderr F two
                2026-01-01T00:00:03.000000001Z stdout F line three
                """);
        pods.put("default/web", new PodLookup.Pod(uid, "sandbox-web", Map.of("c1", new PodLookup.Container("ctr-c1", webLogDir, 1, true))));
        pods.put("default/two", new PodLookup.Pod("u2", "sandbox-two", Map.of(
                "a", new PodLookup.Container("ctr-a", logs.resolve("two/a"), 0, true),
                "b", new PodLookup.Container("ctr-b", logs.resolve("two/b"), 0, true))));
    }

    private static ObjectNode createRunningPod(String name, List<String> containers, int restarts) {
        ResourceType podType = cluster.type("", "v1", "pods");
        StringBuilder cs = new StringBuilder();
        StringBuilder st = new StringBuilder();
        for (String c : containers) {
            if (!cs.isEmpty()) {
                cs.append(',');
                st.append(',');
            }
            cs.append("{\"name\":\"").append(c).append("\",\"image\":\"busybox\"}");
            st.append("{\"name\":\"").append(c).append("\",\"image\":\"busybox\",\"imageID\":\"\",\"ready\":true,\"started\":true,\"restartCount\":")
                    .append(restarts).append(",\"state\":{\"running\":{\"startedAt\":\"2026-01-01T00:00:00Z\"}}")
                    .append(restarts > 0 ? ",\"lastState\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}" : "").append('}');
        }
        ObjectNode pod = cluster.api().create(podType, "default", Json.parseObject("""
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"default"},
                 "spec":{"nodeName":"node-1","containers":[%s]}}""".formatted(name, cs).getBytes(StandardCharsets.UTF_8)));
        return cluster.api().modify(podType, "default", name, "status", p -> {
            ObjectNode status = Json.parseObject(("{\"phase\":\"Running\",\"podIP\":\"127.0.0.1\",\"containerStatuses\":[" + st + "]}")
                    .getBytes(StandardCharsets.UTF_8));
            p.set("status", status);
            return p;
        });
    }

    @AfterAll
    static void stop() throws IOException {
        if (kubelet != null) kubelet.close();
        if (runtime != null) runtime.close();
        if (cluster != null) cluster.close();
        if (logs != null) {
            try (var files = Files.walk(logs)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    // ------------------------------------------------------------------ kubectl

    record Run(int exit, String out, String err) {
    }

    private static Run kubectl(String version, String stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(SDK + version, "--kubeconfig", cluster.kubeconfig().toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("kubectl", ".out");
        Path err = Files.createTempFile("kubectl", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            Process p = pb.start();
            try (var in = p.getOutputStream()) {
                if (stdin != null) in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("kubectl " + String.join(" ", args) + " hung: " + Files.readString(out) + Files.readString(err));
            }
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    // ------------------------------------------------------------------ logs

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.32", "1.33"})
    @DisplayName("kubectl logs joins partial lines; --tail, --previous, --timestamps and --limit-bytes as kubelet does")
    void logs(String version) throws Exception {
        Run all = kubectl(version, null, "logs", "web");
        assertEquals(0, all.exit(), all.err());
        assertEquals("line one\nline two\nline three\n", all.out());
        assertEquals("line three\n", kubectl(version, null, "logs", "web", "--tail=1").out());
        assertEquals("line two\nline three\n", kubectl(version, null, "logs", "web", "--tail=2").out());
        assertEquals("previous run\n", kubectl(version, null, "logs", "web", "-p").out());
        assertEquals("2026-01-01T00:00:03.000000001Z line three\n", kubectl(version, null, "logs", "web", "--tail=1", "--timestamps").out());
        assertEquals("line", kubectl(version, null, "logs", "web", "--limit-bytes=4").out());
        assertEquals("line three\n", kubectl(version, null, "logs", "web", "--since-time=2026-01-01T00:00:03Z").out());
    }

    @Test
    @DisplayName("kubectl logs -f streams lines as they are written and ends when the container stops")
    void follow() throws Exception {
        Path dir = logs.resolve("follow");
        Files.createDirectories(dir);
        Path file = dir.resolve("0.log");
        Files.writeString(file, "2026-01-01T00:00:01Z stdout F first\n");
        ResourceType podType = cluster.type("", "v1", "pods");
        createRunningPod("follow", List.of("c"), 0);
        pods.put("default/follow", new PodLookup.Pod("uf", "sb", Map.of("c", new PodLookup.Container("ctr-f", dir, 0, true))));
        Path out = Files.createTempFile("follow", ".out");
        Process p = new ProcessBuilder(SDK + "1.32", "--kubeconfig", cluster.kubeconfig().toString(), "logs", "-f", "follow")
                .redirectOutput(out.toFile()).redirectErrorStream(false).start();
        try {
            cluster.await("the first line", Duration.ofSeconds(20), () -> read(out).equals("first\n"));
            Files.writeString(file, "2026-01-01T00:00:02Z stdout F second\n", java.nio.file.StandardOpenOption.APPEND);
            cluster.await("the second line", Duration.ofSeconds(20), () -> read(out).equals("first\nsecond\n"));
            assertTrue(p.isAlive(), "kubectl logs -f ended while the container runs");
            pods.put("default/follow", new PodLookup.Pod("uf", "sb", Map.of("c", new PodLookup.Container("ctr-f", dir, 0, false))));
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "kubectl logs -f did not end after the container stopped");
            assertEquals(0, p.exitValue());
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(out);
            cluster.api().delete(podType, "default", "follow", io.k3j.apiserver.registry.DeleteOptions.DEFAULT);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    @DisplayName("pods/log errors are Statuses as kube-apiserver and kubelet word them")
    void logErrors() throws Exception {
        Run two = kubectl("1.32", null, "get", "--raw", "/api/v1/namespaces/default/pods/two/log");
        assertEquals(1, two.exit());
        assertTrue(two.err().contains("a container name must be specified for pod two, choose one of: [a b]"), two.err());
        Run missing = kubectl("1.32", null, "logs", "nope");
        assertTrue(missing.err().contains("pods \"nope\" not found"), missing.err());
        Run starting = kubectl("1.32", null, "logs", "starting");
        assertTrue(starting.err().contains("(BadRequest): container \"c\" in pod \"starting\" is waiting to start: ContainerCreating"), starting.err());
        Run badContainer = kubectl("1.32", null, "logs", "web", "-c", "zz");
        assertTrue(badContainer.err().contains("container zz is not valid for pod web"), badContainer.err());
    }

    // ------------------------------------------------------------------ exec, attach, cp

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33"})
    @DisplayName("kubectl exec runs the command, passes stdin, and exits with the command's exit code")
    void exec(String version) throws Exception {
        Run hi = kubectl(version, null, "exec", "web", "--", "echo", "hi");
        assertEquals(0, hi.exit(), hi.err());
        assertEquals("hi\n", hi.out());
        Run exit3 = kubectl(version, null, "exec", "web", "--", "sh", "-c", "echo out; echo err >&2; exit 3");
        assertEquals(3, exit3.exit(), exit3.err());
        assertEquals("out\n", exit3.out());
        assertTrue(exit3.err().contains("err\n"), exit3.err());
        Run cat = kubectl(version, "hello\nworld\n", "exec", "-i", "web", "--", "cat");
        assertEquals(0, cat.exit(), cat.err());
        assertEquals("hello\nworld\n", cat.out());
        Run two = kubectl(version, null, "exec", "two", "-c", "b", "--", "echo", "b");
        assertEquals("b\n", two.out(), two.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.32", "1.33"})
    @DisplayName("kubectl 1.30+ exec speaks WebSocket v5 to the end (no fallback to SPDY)")
    void execUsesWebSocket(String version) throws Exception {
        Run hi = kubectl(version, null, "-v=4", "exec", "web", "--", "echo", "hi");
        assertEquals("hi\n", hi.out(), hi.err());
        assertTrue(hi.err().contains("v5.channel.k8s.io"), hi.err());
        assertTrue(!hi.err().toLowerCase().contains("falling back"), hi.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    @DisplayName("kubectl attach -i streams stdin to the container's process and its output back")
    void attach(String version) throws Exception {
        Run r = kubectl(version, "attached\n", "attach", "-i", "web");
        assertTrue(r.out().contains("attached"), r.out() + r.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.33"})
    @DisplayName("kubectl cp copies a 3 MiB file into and out of the container (tar over exec)")
    void cp(String version) throws Exception {
        Path dir = Files.createTempDirectory("k3j-cp");
        try {
            Path src = dir.resolve("in.txt");
            StringBuilder big = new StringBuilder("copied content\n");
            java.util.Random random = new java.util.Random(7);
            while (big.length() < 3 << 20) big.append(Long.toHexString(random.nextLong())).append('\n');
            Files.writeString(src, big);
            // the "container" is this machine: copy the file to a path inside dir and back out
            Path inside = dir.resolve("inside.txt");
            Run up = kubectl(version, null, "cp", src.toString(), "web:" + inside);
            assertEquals(0, up.exit(), up.err());
            assertEquals(Files.readString(src), Files.readString(inside));
            Path back = dir.resolve("back.txt");
            Run down = kubectl(version, null, "cp", "web:" + inside, back.toString());
            assertEquals(0, down.exit(), down.err());
            assertEquals(Files.readString(src), Files.readString(back));
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    // ------------------------------------------------------------------ port-forward

    @ParameterizedTest
    @ValueSource(strings = {"1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33"})
    @DisplayName("kubectl port-forward carries HTTP requests to the pod's port")
    void portForward(String version) throws Exception {
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/", ex -> {
            byte[] body = ("pong " + ex.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.start();
        Path out = Files.createTempFile("pf", ".out");
        Process p = new ProcessBuilder(SDK + version, "--kubeconfig", cluster.kubeconfig().toString(), "port-forward", "pod/web",
                ":" + http.getAddress().getPort()).redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            Pattern forwarding = Pattern.compile("Forwarding from 127\\.0\\.0\\.1:(\\d+) ->");
            cluster.await("kubectl port-forward to listen", Duration.ofSeconds(30), () -> forwarding.matcher(read(out)).find());
            Matcher m = forwarding.matcher(read(out));
            assertTrue(m.find());
            int local = Integer.parseInt(m.group(1));
            for (int i = 0; i < 3; i++) {
                Process curl = new ProcessBuilder("curl", "-s", "--max-time", "20", "http://127.0.0.1:" + local + "/x" + i)
                        .redirectErrorStream(true).start();
                assertTrue(curl.waitFor(30, TimeUnit.SECONDS));
                assertEquals("pong /x" + i, new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
        } finally {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly();
            http.stop(0);
            Files.deleteIfExists(out);
        }
    }

    // ------------------------------------------------------------------ nodes/proxy, kubelet auth

    @Test
    @DisplayName("nodes/proxy reaches the kubelet; the kubelet refuses clients outside system:masters")
    void nodeProxyAndAuth() throws Exception {
        Run health = kubectl("1.32", null, "get", "--raw", "/api/v1/nodes/node-1/proxy/healthz");
        assertEquals("ok\n", health.out(), health.err());
        Run metrics = kubectl("1.32", null, "get", "--raw", "/api/v1/nodes/node-1/proxy/metrics");
        assertTrue(metrics.out().contains("kubelet_http_requests_total{path=\"healthz\",server_type=\"readwrite\"} "), metrics.out() + metrics.err());
        Path dir = Files.createTempDirectory("k3j-kubelet-auth");
        try {
            var pki = cluster.controlPlane().pki();
            CertAndKey node = pki.issueClientCert("system:node:node-2", List.of("system:nodes"), Duration.ofHours(1));
            CertAndKey admin = pki.issueClientCert("someone", List.of("system:masters"), Duration.ofHours(1));
            Files.writeString(dir.resolve("ca.crt"), pki.serverCaPem());
            Files.writeString(dir.resolve("node.crt"), node.certificatePem());
            Files.writeString(dir.resolve("node.key"), node.privateKeyPem());
            Files.writeString(dir.resolve("admin.crt"), admin.certificatePem());
            Files.writeString(dir.resolve("admin.key"), admin.privateKeyPem());
            String url = "https://127.0.0.1:" + kubelet.port() + "/healthz";
            assertEquals("403", curl(dir, "node", url));
            assertEquals("200", curl(dir, "admin", url));
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    @DisplayName("pods/proxy reaches the pod's IP and port directly")
    void podProxy() throws Exception {
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/", ex -> {
            byte[] body = ("pod says " + ex.getRequestURI()).getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.start();
        try {
            int port = http.getAddress().getPort();
            Run r = kubectl("1.32", null, "get", "--raw", "/api/v1/namespaces/default/pods/web:" + port + "/proxy/hello/there?x=1");
            assertEquals("pod says /hello/there?x=1", r.out(), r.err());
        } finally {
            http.stop(0);
        }
    }

    @Test
    @DisplayName("RBAC: pods/log needs get, pods/exec and pods/portforward need create")
    void authorization() throws Exception {
        cluster.create("""
                apiVersion: rbac.authorization.k8s.io/v1
                kind: Role
                metadata: {name: log-reader, namespace: default}
                rules:
                - {apiGroups: [""], resources: [pods, pods/log], verbs: [get]}
                """);
        cluster.create("""
                apiVersion: rbac.authorization.k8s.io/v1
                kind: RoleBinding
                metadata: {name: dev-reads-logs, namespace: default}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: log-reader}
                subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: dev}]
                """);
        cluster.await("the binding to apply", Duration.ofSeconds(10), () -> {
            try {
                return kubectl("1.32", null, "--as=dev", "logs", "web", "--tail=1").exit() == 0;
            } catch (Exception e) {
                return false;
            }
        });
        for (String version : List.of("1.27", "1.33")) {
            Run exec = kubectl(version, null, "--as=dev", "exec", "web", "--", "echo", "hi");
            assertEquals(1, exec.exit(), exec.out());
            assertTrue(exec.err().contains("cannot create resource \"pods/exec\" in API group \"\" in the namespace \"default\""), exec.err());
        }
    }

    @Test
    @DisplayName("an unreachable kubelet is a Status saying so, not an empty 500")
    void unreachableKubelet() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        cluster.api().create(cluster.type("", "v1", "nodes"), null, Json.parseObject("""
                {"apiVersion":"v1","kind":"Node","metadata":{"name":"node-gone"},
                 "status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":%d}}}}
                """.formatted(closed).getBytes(StandardCharsets.UTF_8)));
        ResourceType podType = cluster.type("", "v1", "pods");
        cluster.api().create(podType, "default", Json.parseObject("""
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"lost","namespace":"default"},
                 "spec":{"nodeName":"node-gone","containers":[{"name":"c","image":"busybox"}]}}""".getBytes(StandardCharsets.UTF_8)));
        cluster.api().modify(podType, "default", "lost", "status", p -> {
            p.set("status", Json.parseObject("""
                    {"phase":"Running","containerStatuses":[{"name":"c","image":"busybox","imageID":"","ready":true,"restartCount":0,
                     "state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}}]}""".getBytes(StandardCharsets.UTF_8)));
            return p;
        });
        Run logs = kubectl("1.32", null, "logs", "lost");
        assertEquals(1, logs.exit());
        assertTrue(logs.err().contains("error dialing backend"), logs.err());
        Run exec = kubectl("1.27", null, "exec", "lost", "--", "true");
        assertEquals(1, exec.exit());
        assertTrue(exec.err().contains("error dialing backend"), exec.err());
    }

    private static String curl(Path dir, String who, String url) throws Exception {
        Process p = new ProcessBuilder("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", dir.resolve("ca.crt").toString(),
                "--cert", dir.resolve(who + ".crt").toString(), "--key", dir.resolve(who + ".key").toString(), url)
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    }
}
