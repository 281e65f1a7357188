package io.k3j.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.host.Packages;
import io.k3j.agent.image.TestImages;
import io.k3j.agent.testing.NetnsNodes;
import io.k3j.controllers.servicelb.PackagedManifests;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 5 end to end: three real nodes ({@link NetnsNodes}: each an agent with its own containerd in its own network
 * namespace) running the k3j server's packaged networking objects (kube-dns, k3j-ingress, IngressClass k3j), with
 * traffic from pods and from the host: Services balanced across nodes, cluster DNS, NodePort and LoadBalancer on
 * every node address, the seed scenario's Ingress for {@code myapp.k3d.localhost}, and a NetworkPolicy.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterNetworkE2ETest {
    private static final Duration EXEC = Duration.ofSeconds(20);
    private static NetnsNodes cluster;
    private static NetnsNodes.Node a;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Packages.isRoot(), "needs root");
        Packages.ensure("curl");
        cluster = NetnsNodes.start(3);
        a = cluster.node(0);
        // what `k3j server` stages in its auto-deploy folder
        Path manifests = Files.createTempDirectory("k3j-manifests");
        try {
            PackagedManifests.stage(manifests, "10.43.0.10", Set.of());
            cluster.kubectl().run("apply", "-f", manifests.toString()).ok();
        } finally {
            try (var files = Files.list(manifests)) {
                for (Path f : (Iterable<Path>) files::iterator) Files.delete(f);
            }
            Files.delete(manifests);
        }
        apply("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: default}
                spec:
                  replicas: 3
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      terminationGracePeriodSeconds: 1
                      affinity:
                        podAntiAffinity:
                          requiredDuringSchedulingIgnoredDuringExecution:
                          - labelSelector: {matchLabels: {app: web}}
                            topologyKey: kubernetes.io/hostname
                      containers:
                      - name: web
                        image: %s
                        imagePullPolicy: Never
                        command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 0.0.0.0:8080 -h /www']
                        ports: [{containerPort: 8080, name: http}]
                        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: default}
                spec:
                  selector: {app: web}
                  ports: [{name: http, port: 80, targetPort: http}]
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: client, namespace: default, labels: {role: client}}
                spec:
                  nodeName: %s
                  terminationGracePeriodSeconds: 0
                  containers:
                  - {name: c, image: %s, imagePullPolicy: Never, command: [sleep, '3600']}
                """.formatted(TestImages.BUSYBOX, a.name(), TestImages.BUSYBOX));
        awaitRunning("default", "client");
        cluster.cluster().await("3 ready web endpoints", Duration.ofSeconds(120), () -> readyEndpoints("default", "web") == 3);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) cluster.close();
    }

    @Test
    @Order(1)
    @DisplayName("a ClusterIP Service balances a pod's requests across 3 replicas on 3 nodes")
    void clusterIpAcrossNodes() {
        Set<String> nodes = new TreeSet<>();
        for (ObjectNode p : pods("default", "app=web")) nodes.add(p.path("spec").path("nodeName").asText());
        assertEquals(3, nodes.size(), "one replica per node: " + nodes);
        String ip = service("default", "web").path("spec").path("clusterIP").asText();
        Map<String, Integer> answers = new TreeMap<>();
        String out = retry(() -> execOk(a, "default", "client", "sh", "-c",
                "for i in $(seq 40); do timeout 5 wget -q -O- http://" + ip + "/ || echo FAILED; done"));
        for (String line : out.strip().split("\n")) answers.merge(line.strip(), 1, Integer::sum);
        Set<String> names = new TreeSet<>();
        for (ObjectNode p : pods("default", "app=web")) names.add(p.path("metadata").path("name").asText());
        assertEquals(names, answers.keySet(), "every replica answered, nothing failed: " + answers);
    }

    @Test
    @Order(2)
    @DisplayName("pods resolve Services, headless StatefulSet pods and node names through the cluster DNS at 10.43.0.10")
    void clusterDns() {
        apply("""
                apiVersion: v1
                kind: Service
                metadata: {name: db, namespace: default}
                spec:
                  clusterIP: None
                  selector: {app: db}
                  ports: [{name: tcp, port: 9000}]
                ---
                apiVersion: apps/v1
                kind: StatefulSet
                metadata: {name: db, namespace: default}
                spec:
                  serviceName: db
                  replicas: 1
                  selector: {matchLabels: {app: db}}
                  template:
                    metadata: {labels: {app: db}}
                    spec:
                      terminationGracePeriodSeconds: 0
                      containers:
                      - {name: db, image: %s, imagePullPolicy: Never, command: [sleep, '3600']}
                """.formatted(TestImages.BUSYBOX));
        String webIp = service("default", "web").path("spec").path("clusterIP").asText();
        String resolv = execOk(a, "default", "client", "cat", "/etc/resolv.conf");
        assertTrue(resolv.contains("nameserver 10.43.0.10") && resolv.contains("search default.svc.cluster.local svc.cluster.local cluster.local")
                && resolv.contains("ndots:5"), resolv);
        String svc = retry(() -> execOk(a, "default", "client", "nslookup", "web.default.svc.cluster.local"));
        assertTrue(svc.contains(webIp), svc);
        // the search path: the short name is enough, as in Kubernetes
        assertTrue(execOk(a, "default", "client", "timeout", "5", "wget", "-q", "-O-", "http://web/").strip().startsWith("web-"));
        String dbIp = awaitRunning("default", "db-0");
        String db = retry(() -> execOk(a, "default", "client", "nslookup", "db-0.db.default.svc.cluster.local"));
        assertTrue(db.contains(dbIp), db);
        NetnsNodes.Node c = cluster.node(2);
        // an absolute name: busybox's nslookup stops at the first search domain's NXDOMAIN
        String node = retry(() -> execOk(a, "default", "client", "nslookup", c.name() + "."));
        assertTrue(node.contains(c.ip()), node);
        NetnsNodes.Node.ExecResult missing = a.exec("default", "client", EXEC, "nslookup", "nothing.default.svc.cluster.local");
        assertTrue(missing.exitCode() != 0, "an unknown name does not resolve: " + missing);
    }

    @Test
    @Order(3)
    @DisplayName("a NodePort answers from the host on every node's address")
    void nodePortOnEveryNode() {
        apply("""
                apiVersion: v1
                kind: Service
                metadata: {name: web-np, namespace: default}
                spec:
                  type: NodePort
                  selector: {app: web}
                  ports: [{port: 80, targetPort: 8080}]
                """);
        int nodePort = service("default", "web-np").path("spec").path("ports").path(0).path("nodePort").asInt();
        for (NetnsNodes.Node n : cluster.nodes()) {
            String body = retry(() -> curl("http://" + n.ip() + ":" + nodePort + "/"));
            assertTrue(body.startsWith("web-"), n + ": " + body);
        }
    }

    @Test
    @Order(4)
    @DisplayName("a LoadBalancer Service gets the nodes' addresses and answers on each of them")
    void loadBalancer() {
        apply("""
                apiVersion: v1
                kind: Service
                metadata: {name: web-lb, namespace: default}
                spec:
                  type: LoadBalancer
                  selector: {app: web}
                  ports: [{port: 8088, targetPort: 8080}]
                """);
        Set<String> expected = new TreeSet<>();
        for (NetnsNodes.Node n : cluster.nodes()) expected.add(n.ip());
        AtomicReference<Set<String>> ips = new AtomicReference<>(Set.of());
        cluster.cluster().await("web-lb's status to list the 3 node addresses", Duration.ofSeconds(30), () -> {
            Set<String> got = new TreeSet<>();
            for (JsonNode i : service("default", "web-lb").path("status").path("loadBalancer").path("ingress")) got.add(i.path("ip").asText());
            ips.set(got);
            return got.equals(expected);
        });
        for (String ip : ips.get()) {
            String body = retry(() -> curl("http://" + ip + ":8088/"));
            assertTrue(body.startsWith("web-"), ip + ": " + body);
        }
    }

    @Test
    @Order(5)
    @DisplayName("the seed scenario: a ConfigMap page behind a Service and an Ingress for myapp.k3d.localhost, reached on port 80 of every node")
    void ingressSeedScenario() {
        apply("""
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: myapp-page, namespace: default}
                data: {index.html: "hello from myapp\\n"}
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: myapp, namespace: default}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: myapp}}
                  template:
                    metadata: {labels: {app: myapp}}
                    spec:
                      terminationGracePeriodSeconds: 1
                      containers:
                      - name: httpd
                        image: %s
                        imagePullPolicy: Never
                        command: [httpd, -f, -p, '0.0.0.0:8080', -h, /www]
                        ports: [{containerPort: 8080}]
                        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
                        volumeMounts: [{name: page, mountPath: /www}]
                      volumes: [{name: page, configMap: {name: myapp-page}}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: myapp, namespace: default}
                spec:
                  selector: {app: myapp}
                  ports: [{port: 80, targetPort: 8080}]
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: myapp, namespace: default}
                spec:
                  rules:
                  - host: myapp.k3d.localhost
                    http:
                      paths:
                      - {path: /, pathType: Prefix, backend: {service: {name: myapp, port: {number: 80}}}}
                """.formatted(TestImages.BUSYBOX));
        cluster.cluster().await("2 ready myapp endpoints", Duration.ofSeconds(90), () -> readyEndpoints("default", "myapp") == 2);
        for (NetnsNodes.Node n : cluster.nodes()) {
            String body = retry(() -> {
                String[] r = curlStatus("-H", "Host: myapp.k3d.localhost", "http://" + n.ip() + "/");
                if (!r[0].equals("200")) throw new AssertionError("status " + r[0] + " from " + n + ": " + r[1]);
                return r[1];
            });
            assertEquals("hello from myapp", body.strip(), n.toString());
            String[] unknown = curlStatus("-H", "Host: unknown.k3d.localhost", "http://" + n.ip() + "/");
            assertEquals("404", unknown[0], "an unknown host: " + unknown[1]);
        }
        // kubectl shows the Ingress's ADDRESS: the k3j-ingress Service's node addresses
        cluster.cluster().await("the Ingress's ADDRESS", Duration.ofSeconds(30), () -> {
            String out = cluster.kubectl().run("get", "ingress", "myapp").ok();
            return out.contains(a.ip());
        });
        String out = cluster.kubectl().run("get", "ingress", "myapp").ok();
        assertTrue(out.contains("k3j") && out.contains("myapp.k3d.localhost") && out.contains("80"), out);
    }

    @Test
    @Order(6)
    @DisplayName("a pod reaches the API server the way in-cluster clients do: $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT with its service-account token")
    void podReachesApiServer() {
        String out = retry(() -> execOk(a, "default", "client", "sh", "-c",
                "timeout 10 wget -q -O- --no-check-certificate"
                        + " --header \"Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)\""
                        + " https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api"));
        assertTrue(out.contains("APIVersions") && out.contains("serverAddressByClientCIDRs"), out);
    }

    @Test
    @Order(7)
    @DisplayName("a Service without endpoints refuses at once; a default-deny NetworkPolicy blocks a client until an allow rule admits it")
    void rejectsAndPolicies() {
        apply("""
                apiVersion: v1
                kind: Service
                metadata: {name: nobody, namespace: default}
                spec:
                  selector: {app: nobody}
                  ports: [{port: 80}]
                """);
        String nobody = service("default", "nobody").path("spec").path("clusterIP").asText();
        long t0 = System.nanoTime();
        NetnsNodes.Node.ExecResult refused = a.exec("default", "client", EXEC, "timeout", "5", "wget", "-q", "-O-", "http://" + nobody + "/");
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(refused.exitCode() != 0 && ms < 3000, "refused in " + ms + " ms: " + refused);

        String webIp = service("default", "web").path("spec").path("clusterIP").asText();
        execOk(a, "default", "client", "timeout", "5", "wget", "-q", "-O-", "http://" + webIp + "/");
        apply("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: deny-all, namespace: default}
                spec:
                  podSelector: {matchLabels: {app: web}}
                  policyTypes: [Ingress]
                """);
        awaitWget(webIp, false);
        apply("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: allow-clients, namespace: default}
                spec:
                  podSelector: {matchLabels: {app: web}}
                  ingress:
                  - from: [{podSelector: {matchLabels: {role: client}}}]
                    ports: [{port: http}]
                """);
        awaitWget(webIp, true);
        cluster.kubectl().run("delete", "networkpolicy", "deny-all", "allow-clients").ok();
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    /** Waits until 5 requests in a row through the Service all pass (or all fail): every replica on every node enforces. */
    private static void awaitWget(String ip, boolean pass) {
        cluster.cluster().await("requests to " + ip + " to " + (pass ? "pass" : "be blocked"), Duration.ofSeconds(20), () -> {
            String out = execOk(a, "default", "client", "sh", "-c",
                    "for i in 1 2 3 4 5 6; do timeout 3 wget -q -O /dev/null http://" + ip + "/ && echo OK || echo NO; done");
            return pass ? !out.contains("NO") : !out.contains("OK");
        });
    }

    private static void apply(String yaml) {
        cluster.kubectl().run(yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8), Duration.ofSeconds(60), "apply", "-f", "-").ok();
    }

    private static ObjectNode service(String ns, String name) {
        return cluster.cluster().get("", "v1", "services", ns, name);
    }

    private static List<ObjectNode> pods(String ns, String selector) {
        String[] kv = selector.split("=");
        List<ObjectNode> out = new ArrayList<>();
        for (ObjectNode p : cluster.cluster().list("", "v1", "pods", ns)) {
            if (kv[1].equals(p.path("metadata").path("labels").path(kv[0]).asText())) out.add(p);
        }
        return out;
    }

    private static int readyEndpoints(String ns, String service) {
        int n = 0;
        for (ObjectNode s : cluster.cluster().list("discovery.k8s.io", "v1", "endpointslices", ns)) {
            if (!service.equals(s.path("metadata").path("labels").path("kubernetes.io/service-name").asText())) continue;
            for (JsonNode e : s.path("endpoints")) if (e.path("conditions").path("ready").asBoolean(false)) n++;
        }
        return n;
    }

    private static String awaitRunning(String ns, String name) {
        AtomicReference<String> ip = new AtomicReference<>("");
        cluster.cluster().await("pod " + ns + "/" + name + " Running", Duration.ofSeconds(90), () -> {
            ObjectNode p = cluster.cluster().get("", "v1", "pods", ns, name);
            if (p == null) return false;
            ip.set(p.path("status").path("podIP").asText(""));
            return "Running".equals(p.path("status").path("phase").asText()) && !ip.get().isEmpty();
        });
        return ip.get();
    }

    private static String execOk(NetnsNodes.Node node, String ns, String pod, String... cmd) {
        NetnsNodes.Node.ExecResult r = node.exec(ns, pod, EXEC, cmd);
        if (r.exitCode() != 0) throw new AssertionError(String.join(" ", cmd) + " in " + pod + " exited " + r.exitCode() + ": " + r.stdout() + r.stderr());
        return r.stdout();
    }

    /** curl from the host (the test's own namespace, on the nodes' bridge): {status, body}. */
    private static String[] curlStatus(String... args) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-m", "5", "-w", "\n%{http_code}"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            p.waitFor(15, TimeUnit.SECONDS);
            int nl = out.lastIndexOf('\n');
            return new String[] {out.substring(nl + 1).strip(), nl < 0 ? "" : out.substring(0, nl)};
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static String curl(String url) {
        String[] r = curlStatus(url);
        if (!r[0].equals("200")) throw new AssertionError(url + " answered " + r[0] + ": " + r[1]);
        return r[1].strip();
    }

    private interface Attempt<T> {
        T get();
    }

    /** Retries for up to 30 s (rules, routes and DNS settle within a second or two of a change; pods' apps take longer). */
    private static <T> T retry(Attempt<T> attempt) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                return attempt.get();
            } catch (AssertionError e) {
                if (System.nanoTime() > deadline) throw e;
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }
}
