package io.k3j.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.k3j.agent.host.Packages;
import io.k3j.agent.image.TestImages;
import io.k3j.agent.network.PodNetwork;
import io.k3j.agent.testing.NetnsNodes;
import io.k3j.api.Json;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The pod network across real nodes: two (then three) agents, each in its own network namespace with its own
 * containerd, on one test bridge ({@link NetnsNodes}). Every pod serves busybox httpd on 8080 with a CGI script that
 * answers the client address it saw, so "which source address arrived" is read from the receiving side.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PodNetworkE2ETest {
    private static final Duration EXEC = Duration.ofSeconds(15);
    private static NetnsNodes cluster;
    private static NetnsNodes.Node a;
    private static NetnsNodes.Node b;
    private static String webA;
    private static String webB;
    private static String webA2;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Packages.isRoot(), "needs root");
        cluster = NetnsNodes.start(2);
        a = cluster.node(0);
        b = cluster.node(1);
        createWebPod("web-a", a, null);
        createWebPod("web-b", b, null);
        createWebPod("web-a2", a, null);
        webA = awaitPodIp("web-a");
        webB = awaitPodIp("web-b");
        webA2 = awaitPodIp("web-a2");
    }

    @AfterAll
    static void stop() {
        if (cluster != null) cluster.close();
    }

    @Test
    @Order(1)
    @DisplayName("each node's bridge holds its pod gateway address, and routes to the peer's podCIDR via the peer's node IP carry proto 75")
    void bridgeAndRoutes() {
        String gatewayA = firstHost(a.podCidr());
        assertTrue(a.check("ip", "-4", "addr", "show", "dev", a.bridge()).contains("inet " + gatewayA + "/24"), "gateway " + gatewayA + " on " + a.bridge());
        assertEquals("1", a.check("cat", "/proc/sys/net/ipv4/ip_forward").strip());
        assertEquals("1", a.check("cat", "/proc/sys/net/bridge/bridge-nf-call-iptables").strip());
        String route = a.check("ip", "route", "show", b.podCidr()).strip();
        assertTrue(route.startsWith(b.podCidr() + " via " + b.ip()) && route.contains("proto 75"), route);
        assertTrue(b.check("ip", "route", "show", "proto", "75").contains(a.podCidr() + " via " + a.ip()));
    }

    @Test
    @Order(2)
    @DisplayName("a pod on node A reaches a pod on node B by pod IP and vice versa, and the receiver sees the sender's pod IP (no masquerade)")
    void podToPodAcrossNodes() {
        assertEquals(webA, get("web-a", a, "http://" + webB + ":8080/cgi-bin/ip"), "web-b sees web-a's own address");
        assertEquals(webB, get("web-b", b, "http://" + webA + ":8080/cgi-bin/ip"), "web-a sees web-b's own address");
        assertEquals("hello from web-b", get("web-a", a, "http://" + webB + ":8080/"));
    }

    @Test
    @Order(3)
    @DisplayName("a pod reaches another pod on its own node, unmasqueraded")
    void podToPodSameNode() {
        assertEquals(webA, get("web-a", a, "http://" + webA2 + ":8080/cgi-bin/ip"));
    }

    @Test
    @Order(4)
    @DisplayName("a pod's traffic leaving the pod network (to the host) is masqueraded to its node's IP")
    void egressIsMasqueraded() throws IOException {
        AtomicReference<String> seen = new AtomicReference<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(cluster.hostAddress(), 0), 0);
        server.createContext("/", ex -> {
            String remote = ex.getRemoteAddress().getAddress().getHostAddress();
            seen.set(remote);
            byte[] body = remote.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        try {
            String url = "http://" + cluster.hostAddress() + ":" + server.getAddress().getPort() + "/";
            assertEquals(a.ip(), get("web-a", a, url), "the host sees node A's address, not the pod's");
            assertEquals(a.ip(), seen.get());
            assertEquals(b.ip(), get("web-b", b, url));
            String rules = a.check("nft", "list", "table", "ip", a.table());
            assertTrue(rules.contains("ip saddr " + a.podCidr()) && rules.contains("masquerade"), rules);
        } finally {
            server.stop(0);
        }
    }

    @Test
    @Order(5)
    @DisplayName("a pod with hostPort 8080 answers on its node's IP:8080 from the host (portmap inside the node)")
    void hostPort() throws Exception {
        createWebPod("hostport", b, 8080);
        awaitPodIp("hostport");
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
        String body = retry(Duration.ofSeconds(30), () -> http.send(HttpRequest.newBuilder(URI.create("http://" + b.ip() + ":8080/"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body().strip());
        assertEquals("hello from hostport", body);
    }

    @Test
    @Order(6)
    @DisplayName("a node added later gets routes on the existing nodes and its pods are reachable; deleting it removes them, and stale proto-75 routes too")
    void nodesComeAndGo() throws Exception {
        NetnsNodes.Node c = cluster.addNode();
        String cidrC = c.podCidr();
        awaitRoute(a, cidrC, c.ip());
        awaitRoute(b, cidrC, c.ip());
        awaitRoute(c, a.podCidr(), a.ip());
        createWebPod("web-c", c, null);
        String webC = awaitPodIp("web-c");
        assertEquals(webA, get("web-a", a, "http://" + webC + ":8080/cgi-bin/ip"));
        assertEquals(webC, get("web-c", c, "http://" + webB + ":8080/cgi-bin/ip"));

        // a route a previous run made for a node that no longer exists: recognised by its protocol and removed
        String stale = a.podCidr().replaceFirst("\\.\\d+\\.0/24$", ".250.0/24");
        a.check("ip", "route", "add", stale, "via", b.ip(), "proto", "75");
        cluster.cluster().api().deleteIfExists(cluster.cluster().type("", "v1", "pods"), "default", "web-c", null, null);
        cluster.removeNode(c);
        awaitNoRoute(a, cidrC);
        awaitNoRoute(b, cidrC);
        awaitNoRoute(a, stale);
        assertTrue(a.check("ip", "route", "show", b.podCidr()).contains("via " + b.ip()), "the live peer's route stays");
        assertEquals(webA, get("web-a", a, "http://" + webB + ":8080/cgi-bin/ip"));
    }

    @Test
    @Order(7)
    @DisplayName("vxlan backend: a second cluster in the same JVM; pods reach each other across nodes through the VXLAN device, "
            + "which publishes its MAC on the Node")
    void vxlan() throws Exception {
        // the host-gw cluster goes first: this also proves fixtures can follow each other in one JVM
        cluster.close();
        cluster = NetnsNodes.start(2, "vxlan");
        a = cluster.node(0);
        b = cluster.node(1);
        createWebPod("vx-a", a, null);
        createWebPod("vx-b", b, null);
        String vxA = awaitPodIp("vx-a");
        String vxB = awaitPodIp("vx-b");
        String macB = b.nodeObject().path("metadata").path("annotations").path(PodNetwork.VXLAN_MAC_ANNOTATION).asText();
        assertTrue(b.check("ip", "link", "show", "dev", b.vxlanDevice()).contains(macB), "published MAC " + macB + " is the device's");
        String route = awaitRoute(a, b.podCidr(), networkAddress(b.podCidr()));
        assertTrue(route.contains("dev " + a.vxlanDevice()) && route.contains("onlink"), route);
        long before = txPackets(a);
        assertEquals(vxA, get("vx-a", a, "http://" + vxB + ":8080/cgi-bin/ip"));
        assertEquals(vxB, get("vx-b", b, "http://" + vxA + ":8080/cgi-bin/ip"));
        assertTrue(txPackets(a) > before, "the packets went through " + a.vxlanDevice());
        assertTrue(a.check("bridge", "fdb", "show", "dev", a.vxlanDevice()).contains(macB + " dst " + b.ip()));
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    /** busybox httpd on 8080 (IPv4, so that CGI's REMOTE_ADDR is a plain address) serving "hello from NAME" and /cgi-bin/ip (the client's address as httpd saw it). */
    private static void createWebPod(String name, NetnsNodes.Node node, Integer hostPort) {
        ObjectNode pod = Json.object();
        pod.put("apiVersion", "v1");
        pod.put("kind", "Pod");
        pod.putObject("metadata").put("name", name).put("namespace", "default");
        ObjectNode spec = pod.putObject("spec");
        spec.put("nodeName", node.name());
        spec.put("terminationGracePeriodSeconds", 1);
        ObjectNode c = spec.putArray("containers").addObject();
        c.put("name", "web");
        c.put("image", TestImages.BUSYBOX);
        c.put("imagePullPolicy", "Never");
        ArrayNode cmd = c.putArray("command");
        cmd.add("sh").add("-c").add("mkdir -p /www/cgi-bin && echo hello from " + name + " > /www/index.html"
                + " && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n' > /www/cgi-bin/ip"
                + " && chmod +x /www/cgi-bin/ip && exec httpd -f -p 0.0.0.0:8080 -h /www");
        ObjectNode port = c.putArray("ports").addObject().put("containerPort", 8080).put("protocol", "TCP");
        if (hostPort != null) port.put("hostPort", hostPort);
        cluster.cluster().create(Json.string(pod));
    }

    private static String awaitPodIp(String name) {
        AtomicReference<String> ip = new AtomicReference<>();
        cluster.cluster().await("pod " + name + " to run with an IP", Duration.ofSeconds(60), () -> {
            ObjectNode p = cluster.cluster().get("", "v1", "pods", "default", name);
            if (p == null) return false;
            JsonNode status = p.path("status");
            ip.set(status.path("podIP").asText(""));
            return "Running".equals(status.path("phase").asText()) && !ip.get().isEmpty();
        });
        return ip.get();
    }

    /** wget from inside a pod, retried while httpd starts; the body, stripped. */
    private static String get(String pod, NetnsNodes.Node node, String url) {
        return retry(Duration.ofSeconds(20), () -> {
            NetnsNodes.Node.ExecResult r = node.exec("default", pod, EXEC, "timeout", "5", "wget", "-q", "-O-", url);
            if (r.exitCode() != 0) throw new AssertionError("wget " + url + " from " + pod + " exited " + r.exitCode() + ": " + r.stderr());
            return r.stdout().strip();
        });
    }

    private static String awaitRoute(NetnsNodes.Node node, String cidr, String via) {
        AtomicReference<String> route = new AtomicReference<>("");
        cluster.cluster().await("a route to " + cidr + " via " + via + " on " + node, Duration.ofSeconds(30), () -> {
            route.set(node.check("ip", "route", "show", cidr).strip());
            return route.get().contains("via " + via);
        });
        return route.get();
    }

    private static void awaitNoRoute(NetnsNodes.Node node, String cidr) {
        cluster.cluster().await("the route to " + cidr + " to go on " + node, Duration.ofSeconds(30),
                () -> node.check("ip", "route", "show", cidr).isBlank());
    }

    private static long txPackets(NetnsNodes.Node node) {
        JsonNode link = Json.parse(node.check("ip", "-j", "-s", "link", "show", "dev", node.vxlanDevice()).getBytes(StandardCharsets.UTF_8)).path(0);
        return link.path("stats64").path("tx").path("packets").asLong();
    }

    private static String firstHost(String cidr) {
        String net = cidr.substring(0, cidr.indexOf('/'));
        int dot = net.lastIndexOf('.');
        return net.substring(0, dot + 1) + (Integer.parseInt(net.substring(dot + 1)) + 1);
    }

    private static String networkAddress(String cidr) {
        return cidr.substring(0, cidr.indexOf('/'));
    }

    private interface Attempt<T> {
        T run() throws Exception;
    }

    private static <T> T retry(Duration timeout, Attempt<T> attempt) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                return attempt.run();
            } catch (Exception | AssertionError e) {
                if (System.nanoTime() > deadline) throw new AssertionError("still failing after " + timeout + ": " + e.getMessage(), e);
                try {
                    Thread.sleep(250);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted");
                }
            }
        }
    }
}
