package io.k3j.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.k3j.agent.host.Packages;
import io.k3j.agent.testing.Kubectls;
import io.k3j.agent.testing.TestNode;
import io.k3j.controllers.testing.TestCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kubectl logs, exec, port-forward and cp through the real API server to a real node's kubelet API and containerd,
 * with kubectl 1.32 and, for the streaming verbs, 1.27 (SPDY) and 1.33 (WebSocket). One cluster and node for all.
 */
class StreamingE2ETest {
    private static TestCluster cluster;
    private static TestNode node;
    private static Kubectls kubectl;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Packages.isRoot(), "needs root");
        cluster = TestNode.startCluster();
        node = TestNode.start(cluster);
        kubectl = new Kubectls(Kubectls.DEFAULT, cluster.kubeconfig());
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: logger}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: main
                    image: docker.io/library/busybox:1.35
                    command: [sh, -c, 'echo one; echo two; echo three; i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done']
                  - name: side
                    image: docker.io/library/busybox:1.35
                    command: [sh, -c, 'echo side-out; exec sleep 3600']
                """);
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: web}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: httpd
                    image: docker.io/library/busybox:1.35
                    command: [sh, -c, 'mkdir -p /www && echo served-by-busybox > /www/index.html && exec httpd -f -p 8080 -h /www']
                    ports: [{containerPort: 8080}]
                """);
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: restarter}
                spec:
                  terminationGracePeriodSeconds: 1
                  volumes: [{name: data, emptyDir: {}}]
                  containers:
                  - name: main
                    image: docker.io/library/busybox:1.35
                    volumeMounts: [{name: data, mountPath: /data}]
                    command: [sh, -c, 'n=$(cat /data/n 2>/dev/null || echo 0); echo attempt $n; echo $((n+1)) > /data/n; if [ $n -ge 1 ]; then exec sleep 3600; fi; exit 1']
                """);
        kubectl.run("wait", "--for=condition=Ready", "pod/logger", "pod/web", "--timeout=60s").ok();
    }

    @AfterAll
    static void stop() {
        try {
            if (node != null) node.close();
        } finally {
            if (cluster != null) cluster.close();
        }
    }

    @Test
    @DisplayName("kubectl logs: output, -c, --tail, --timestamps, --all-containers, --since")
    void logs() {
        String main = awaitLogs("logger", "-c", "main");
        assertTrue(main.startsWith("one\ntwo\nthree\ntick 1\n"), main);
        assertEquals("side-out\n", kubectl.run("logs", "logger", "-c", "side").ok());

        String tail = kubectl.run("logs", "logger", "-c", "main", "--tail=2").ok();
        assertEquals(2, tail.lines().count(), tail);
        assertTrue(tail.lines().allMatch(l -> l.startsWith("tick ")), tail);

        String stamped = kubectl.run("logs", "logger", "-c", "side", "--timestamps").ok();
        Matcher m = Pattern.compile("^(\\S+) side-out\n$").matcher(stamped);
        assertTrue(m.matches(), stamped);
        Instant t = Instant.parse(m.group(1));
        assertTrue(Duration.between(t, Instant.now()).abs().toMinutes() < 5, stamped);

        String all = kubectl.run("logs", "logger", "--all-containers").ok();
        assertTrue(all.contains("one\n") && all.contains("side-out\n"), all);
        assertTrue(kubectl.run("logs", "logger", "-c", "side", "--since=1h").ok().contains("side-out"));
        var wrong = kubectl.run("logs", "logger", "-c", "nope");
        assertTrue(wrong.exit() != 0 && (wrong.err() + wrong.out()).contains("nope"), wrong.toString());
    }

    private static String awaitLogs(String... args) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            String[] full = new String[args.length + 1];
            full[0] = "logs";
            System.arraycopy(args, 0, full, 1, args.length);
            var r = kubectl.run(full);
            if (r.exit() == 0 && r.out().contains("tick 1")) return r.out();
            if (System.nanoTime() > deadline) throw new AssertionError("logs: " + r);
            sleep(300);
        }
    }

    @Test
    @DisplayName("kubectl logs -f streams new lines as they are written, until stopped")
    void follow() {
        try (var f = kubectl.start(null, "logs", "-f", "logger", "-c", "main", "--tail=1")) {
            String first = f.awaitOut(Duration.ofSeconds(20), o -> o.contains("tick"));
            int n = lastTick(first);
            String later = f.awaitOut(Duration.ofSeconds(10), o -> lastTick(o) >= n + 2);
            assertTrue(f.process().isAlive(), "still following: " + later);
            assertFalse(later.contains("one\n"), "--tail=1 skipped the start: " + later);
        }
    }

    private static int lastTick(String out) {
        Matcher m = Pattern.compile("tick (\\d+)").matcher(out);
        int n = -1;
        while (m.find()) n = Integer.parseInt(m.group(1));
        return n;
    }

    @Test
    @DisplayName("kubectl logs --previous shows the terminated attempt after a restart, the current attempt without it")
    void previous() {
        cluster.await("restarter to restart and run", Duration.ofSeconds(40), () -> {
            var p = cluster.get("", "v1", "pods", "default", "restarter");
            var cs = p.path("status").path("containerStatuses").path(0);
            return cs.path("restartCount").asInt() >= 1 && cs.path("state").has("running");
        });
        assertEquals("attempt 0\n", kubectl.run("logs", "restarter", "--previous").ok());
        assertEquals("attempt 1\n", kubectl.run("logs", "restarter").ok());
        var none = kubectl.run("logs", "logger", "-c", "side", "--previous");
        assertTrue(none.exit() != 0, "no previous attempt: " + none);
    }

    @Test
    @DisplayName("kubectl exec runs a command in the container, propagates the exit code, passes stdin with -i")
    void exec() {
        var r = kubectl.run("exec", "logger", "-c", "main", "--", "sh", "-c", "echo in $(hostname); echo oops >&2; exit 3");
        assertEquals(3, r.exit(), r.toString());
        assertEquals("in logger\n", r.out());
        assertTrue(r.err().contains("oops"), r.err());

        var in = kubectl.run("hello stdin\nsecond line\n".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60),
                "exec", "-i", "logger", "-c", "main", "--", "sh", "-c", "tr a-z A-Z; echo done");
        assertEquals("HELLO STDIN\nSECOND LINE\ndone\n", in.ok());

        var missing = kubectl.run("exec", "logger", "-c", "main", "--", "/no/such/binary");
        assertTrue(missing.exit() != 0, missing.toString());
    }

    @Test
    @DisplayName("kubectl port-forward reaches busybox httpd in the pod from a local port")
    void portForward() throws Exception {
        assertEquals("served-by-busybox\n", forwardAndFetch(kubectl));
    }

    private static String forwardAndFetch(Kubectls k) throws Exception {
        try (var pf = k.start(null, "port-forward", "pod/web", ":8080")) {
            String out = pf.awaitOut(Duration.ofSeconds(30), o -> o.contains("Forwarding from 127.0.0.1:"));
            Matcher m = Pattern.compile("Forwarding from 127\\.0\\.0\\.1:(\\d+) -> 8080").matcher(out);
            assertTrue(m.find(), out);
            int port = Integer.parseInt(m.group(1));
            try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()) {
                String body = null;
                for (int i = 0; i < 2; i++) { // a second request over a fresh stream of the same forward
                    HttpResponse<String> resp = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/index.html"))
                            .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, resp.statusCode());
                    body = resp.body();
                }
                return body;
            }
        }
    }

    @Test
    @DisplayName("kubectl cp copies a file out of the pod")
    void copyOut() throws Exception {
        kubectl.run("exec", "logger", "-c", "main", "--", "sh", "-c", "printf 'line 1\\nline 2\\n' > /tmp/copied.txt").ok();
        Path local = Files.createTempFile("k3j-cp", ".txt");
        try {
            kubectl.run("cp", "-c", "main", "default/logger:/tmp/copied.txt", local.toString()).ok();
            assertEquals("line 1\nline 2\n", Files.readString(local));
        } finally {
            Files.deleteIfExists(local);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {27, 33})
    @DisplayName("kubectl 1.27 (SPDY) and 1.33 (WebSocket): logs, exec with exit code and stdin, port-forward")
    void otherVersions(int minor) throws Exception {
        Path binary = Kubectls.version(minor);
        assumeTrue(Files.isExecutable(binary), binary + " is not installed");
        Kubectls k = kubectl.with(binary);
        assertEquals("side-out\n", k.run("logs", "logger", "-c", "side").ok());
        var r = k.run("exec", "logger", "-c", "main", "--", "sh", "-c", "echo v1." + minor + "; exit 7");
        assertEquals(7, r.exit(), r.toString());
        assertEquals("v1." + minor + "\n", r.out());
        var in = k.run("abc\n".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60), "exec", "-i", "logger", "-c", "main", "--", "tr", "a-z", "A-Z");
        assertEquals("ABC\n", in.ok());
        assertEquals("served-by-busybox\n", forwardAndFetch(k));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
