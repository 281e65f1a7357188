package io.k3j.agent.netpol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.cri.CriClient;
import io.k3j.agent.cri.v1.Container;
import io.k3j.agent.cri.v1.ContainerFilter;
import io.k3j.agent.cri.v1.ContainerState;
import io.k3j.agent.cri.v1.ExecSyncRequest;
import io.k3j.agent.cri.v1.ExecSyncResponse;
import io.k3j.agent.cri.v1.ListContainersRequest;
import io.k3j.agent.host.Packages;
import io.k3j.agent.kube.Informer;
import io.k3j.agent.kube.KubeClient;
import io.k3j.agent.testing.TestNode;
import io.k3j.controllers.testing.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * NetworkPolicies enforced on a real node: busybox httpd (ports 8080 named {@code http}, and 8081) and client pods
 * on a real bridge with containerd, an enforcer beside the node reading the API with the node's own credentials,
 * connections tried with busybox wget from inside the client pods. Denied connections are rejected, so a blocked
 * wget fails at once.
 */
class NetworkPolicyE2ETest {
    /**
     * The enforcer applies a change within 1 s of its informer event (asserted); what a client sees also includes
     * the watch delivering the event and each wget exec'ed through CRI (~0.3 s on a loaded 2-CPU machine).
     */
    private static final Duration EFFECTIVE = Duration.ofSeconds(2);
    private static final Duration RULES = Duration.ofSeconds(1);

    private static TestCluster cluster;
    private static TestNode node;
    private static final List<Informer> informers = new ArrayList<>();
    private static NetworkPolicyEnforcer enforcer;
    private static String table;
    private static String serverIp;
    private static final List<String> createdPolicies = new ArrayList<>();
    private static final List<String> timings = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Packages.isRoot(), "needs root");
        cluster = TestNode.startCluster();
        node = TestNode.start(cluster);
        table = "k3jt-np-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt(1 << 24)).substring(2);

        KubeClient client = node.agent().client();
        Informer policies = NetworkPolicyEnforcer.networkPolicyInformer(client, null);
        Informer pods = NetworkPolicyEnforcer.podInformer(client, null);
        Informer namespaces = NetworkPolicyEnforcer.namespaceInformer(client, null);
        informers.addAll(List.of(policies, pods, namespaces));
        enforcer = new NetworkPolicyEnforcer(new NetworkPolicyEnforcer.Config(node.name(), table, node.bridge(), Duration.ofMillis(50),
                Duration.ofSeconds(10)), policies, pods, namespaces);
        informers.forEach(Informer::start);
        enforcer.start();

        cluster.create("apiVersion: v1\nkind: Namespace\nmetadata: {name: srv}");
        cluster.create("apiVersion: v1\nkind: Namespace\nmetadata: {name: team-x, labels: {team: x}}");
        cluster.create("apiVersion: v1\nkind: Namespace\nmetadata: {name: plain}");
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {namespace: srv, name: server, labels: {app: server}}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: httpd
                    image: docker.io/library/busybox:1.35
                    command: [sh, -c, 'mkdir -p /www && echo ok > /www/index.html && httpd -p 8081 -h /www && exec httpd -f -p 8080 -h /www']
                    ports: [{name: http, containerPort: 8080}, {name: alt, containerPort: 8081}]
                    readinessProbe: {httpGet: {port: 8080, path: /}, periodSeconds: 1, failureThreshold: 1}
                """);
        client("srv", "client-a", "role: a");
        client("srv", "client-b", "role: b");
        client("team-x", "client-x", "role: a");
        client("plain", "client-p", "role: a");
        for (String[] p : List.of(new String[] {"srv", "server"}, new String[] {"srv", "client-a"}, new String[] {"srv", "client-b"},
                new String[] {"team-x", "client-x"}, new String[] {"plain", "client-p"})) {
            cluster.await(p[1] + " to run with an address", Duration.ofSeconds(90), () -> !podIp(p[0], p[1]).isEmpty() && containerId(p[0], p[1]) != null);
        }
        serverIp = podIp("srv", "server");
        // bridged pod-to-pod traffic reaches the inet forward hook only through bridge netfilter; the pod network
        // component enables it for the node (net.bridge.bridge-nf-call-iptables=1). Here: the bridge's own switch,
        // which goes with the bridge and leaves the host's setting alone.
        Files.writeString(Path.of("/sys/class/net", node.bridge(), "bridge", "nf_call_iptables"), "1");
        assertEquals("1", Files.readString(Path.of("/sys/class/net", node.bridge(), "bridge", "nf_call_iptables")).strip());
        cluster.await("the enforcer to write its table", Duration.ofSeconds(20), () -> enforcer.appliedCount() > 0);
    }

    private static void client(String ns, String name, String labels) {
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {namespace: %s, name: %s, labels: {%s}}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: c
                    image: docker.io/library/busybox:1.35
                    command: [sleep, '3600']
                """.formatted(ns, name, labels));
    }

    @AfterAll
    static void stop() {
        try {
            if (enforcer != null) {
                enforcer.close();
                assertEquals(0, Nft.run(null, "list", "table", "inet", table).exit(), "close() leaves the rules");
                enforcer.cleanup();
                assertNotEquals(0, Nft.run(null, "list", "table", "inet", table).exit(), "cleanup() removes the table");
            }
            informers.forEach(Informer::close);
            System.out.println("NetworkPolicyE2ETest timings: " + timings);
        } finally {
            try {
                if (node != null) node.close();
            } finally {
                if (table != null) NetworkPolicyEnforcer.remove(table);
                if (cluster != null) cluster.close();
            }
        }
    }

    @AfterEach
    void deletePolicies() {
        for (String key : createdPolicies) {
            String[] k = key.split("/");
            cluster.api().deleteIfExists(cluster.type("networking.k8s.io", "v1", "networkpolicies"), k[0], k[1], null, null);
        }
        createdPolicies.clear();
        // every test starts from an open network
        awaitReach("srv", "client-a", 8080, true, "no policies");
        awaitReach("srv", "client-b", 8080, true, "no policies");
    }

    @Test
    @DisplayName("default-deny ingress blocks new connections within ~1 s, kubelet probes still pass, and deleting it restores access")
    void defaultDeny() throws Exception {
        assertTrue(reach("srv", "client-a", 8080), "without policies the client reaches the server");
        assertTrue(reach("team-x", "client-x", 8081));
        policy("""
                metadata: {namespace: srv, name: deny-all}
                spec: {podSelector: {}}
                """);
        awaitReach("srv", "client-a", 8080, false, "deny-all");
        assertFalse(reach("team-x", "client-x", 8080), "from another namespace");
        assertFalse(reach("srv", "client-b", 8081));
        // refused at once, every time: a TCP reset is not rate-limited as ICMP errors are (1/s per peer after a burst)
        for (int i = 0; i < 8; i++) {
            long t0 = System.nanoTime();
            assertFalse(reach("srv", "client-a", 8080));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 900, "attempt " + i + " took " + ms + " ms to be refused");
        }
        // the probe runs every second from the node: Ready stays True
        Thread.sleep(2500);
        assertTrue(ready("srv", "server"), "the readiness probe from the node is not subject to policies");

        cluster.api().deleteIfExists(cluster.type("networking.k8s.io", "v1", "networkpolicies"), "srv", "deny-all", null, null);
        awaitReach("srv", "client-a", 8080, true, "deny-all deleted");
    }

    @Test
    @DisplayName("an allow rule by podSelector admits client A (role=a) and not client B; the same labels in another namespace don't count")
    void podSelector() {
        policy("""
                metadata: {namespace: srv, name: deny-all}
                spec: {podSelector: {}}
                """);
        policy("""
                metadata: {namespace: srv, name: allow-a}
                spec:
                  podSelector: {matchLabels: {app: server}}
                  ingress: [{from: [{podSelector: {matchLabels: {role: a}}}]}]
                """);
        awaitReach("srv", "client-b", 8080, false, "allow-a");
        assertTrue(reach("srv", "client-a", 8080));
        assertFalse(reach("team-x", "client-x", 8080), "role=a in namespace team-x");
    }

    @Test
    @DisplayName("a namespaceSelector admits a pod of the labelled namespace only")
    void namespaceSelector() {
        policy("""
                metadata: {namespace: srv, name: from-team-x}
                spec:
                  podSelector: {matchLabels: {app: server}}
                  ingress: [{from: [{namespaceSelector: {matchLabels: {team: x}}}]}]
                """);
        awaitReach("srv", "client-a", 8080, false, "from-team-x");
        assertTrue(reach("team-x", "client-x", 8080));
        assertFalse(reach("plain", "client-p", 8080));
    }

    @Test
    @DisplayName("an ipBlock of the pod network except client B's address admits A, not B")
    void ipBlock() {
        String cidr = node.nodeObject().path("spec").path("podCIDR").asText();
        policy("""
                metadata: {namespace: srv, name: block}
                spec:
                  podSelector: {matchLabels: {app: server}}
                  ingress: [{from: [{ipBlock: {cidr: "%s", except: ["%s/32"]}}]}]
                """.formatted(cidr, podIp("srv", "client-b")));
        awaitReach("srv", "client-b", 8080, false, "ipBlock except");
        assertTrue(reach("srv", "client-a", 8080));
        assertTrue(reach("plain", "client-p", 8080));
    }

    @Test
    @DisplayName("egress default-deny blocks the client's outbound connections, other pods are unaffected")
    void egressDefaultDeny() {
        policy("""
                metadata: {namespace: srv, name: no-egress-a}
                spec:
                  podSelector: {matchLabels: {role: a}}
                  policyTypes: [Egress]
                """);
        awaitReach("srv", "client-a", 8080, false, "egress deny");
        assertTrue(reach("srv", "client-b", 8080));
        assertTrue(reach("team-x", "client-x", 8080), "role=a of another namespace");
    }

    @Test
    @DisplayName("named ports: ingress 'http' of the server (8080, not 8081); egress 'http' resolved on the peer pod")
    void namedPorts() {
        policy("""
                metadata: {namespace: srv, name: http-only}
                spec:
                  podSelector: {matchLabels: {app: server}}
                  ingress: [{ports: [{port: http}]}]
                """);
        awaitReach("srv", "client-a", 8081, false, "ingress named port");
        assertTrue(reach("srv", "client-a", 8080));
        assertTrue(reach("plain", "client-p", 8080));

        policy("""
                metadata: {namespace: plain, name: egress-alt}
                spec:
                  podSelector: {}
                  policyTypes: [Egress]
                  egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {app: server}}}], ports: [{port: alt}]}]
                """);
        // client-p may now only send to the server's 'alt' port (8081), which the server's ingress policy refuses
        awaitReach("plain", "client-p", 8080, false, "egress named port");
        assertFalse(reach("plain", "client-p", 8081));
        deletePolicy("srv", "http-only");
        awaitReach("plain", "client-p", 8081, true, "egress named port, ingress open");
        assertFalse(reach("plain", "client-p", 8080));
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private static void policy(String yaml) {
        ObjectNode np = cluster.create("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n" + yaml);
        createdPolicies.add(np.path("metadata").path("namespace").asText() + "/" + np.path("metadata").path("name").asText());
    }

    private static void deletePolicy(String ns, String name) {
        cluster.api().deleteIfExists(cluster.type("networking.k8s.io", "v1", "networkpolicies"), ns, name, null, null);
    }

    /** Polls until a wget from the client to the server gives {@code expected}; fails after {@link #EFFECTIVE}. */
    private static void awaitReach(String ns, String client, int port, boolean expected, String what) {
        long t0 = System.nanoTime();
        long deadline = t0 + EFFECTIVE.toNanos();
        while (reach(ns, client, port) != expected) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(client + " -> server:" + port + " still " + (expected ? "blocked" : "open") + " " + EFFECTIVE
                        + " after " + what + "\n" + Nft.run(null, "list", "table", "inet", table).output());
            }
        }
        assertTrue(enforcer.lastLatency().compareTo(RULES) <= 0, "rules applied " + enforcer.lastLatency() + " after the change (" + what + ")");
        timings.add(what + ": seen after " + (System.nanoTime() - t0) / 1_000_000 + " ms (event to rules " + enforcer.lastLatency().toMillis() + " ms)");
    }

    /** wget http://server:port/ from the client pod's container; true when it got the server's page. */
    private static boolean reach(String ns, String client, int port) {
        ExecSyncResponse r = cri().execSync(ExecSyncRequest.newBuilder().setContainerId(containerId(ns, client))
                .addAllCmd(List.of("timeout", "3", "wget", "-q", "-O", "-", "http://" + serverIp + ":" + port + "/")).setTimeout(10).build());
        return r.getExitCode() == 0 && r.getStdout().toStringUtf8().strip().equals("ok");
    }

    private static CriClient cri() {
        return node.agent().containerd().cri();
    }

    private static String containerId(String ns, String pod) {
        for (Container c : cri().listContainers(ListContainersRequest.newBuilder().setFilter(ContainerFilter.newBuilder()
                .putLabelSelector("io.kubernetes.pod.namespace", ns).putLabelSelector("io.kubernetes.pod.name", pod)).build()).getContainersList()) {
            if (c.getState() == ContainerState.CONTAINER_RUNNING) return c.getId();
        }
        return null;
    }

    private static String podIp(String ns, String name) {
        ObjectNode pod = cluster.get("", "v1", "pods", ns, name);
        return pod == null ? "" : pod.path("status").path("podIP").asText("");
    }

    private static boolean ready(String ns, String name) {
        for (JsonNode c : cluster.get("", "v1", "pods", ns, name).path("status").path("conditions")) {
            if ("Ready".equals(c.path("type").asText())) return "True".equals(c.path("status").asText());
        }
        return false;
    }
}
