package io.k3j.agent.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.host.Processes;
import io.k3j.agent.kube.HttpKubeClient;
import io.k3j.agent.kube.Informer;
import io.k3j.api.Json;
import io.k3j.apiserver.pki.CertAndKey;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.testing.TestCluster;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The proxy's rules in a real kernel with real traffic. A throwaway "node" network namespace holds the table, a
 * bridge with the pod gateway address 10.42.0.1 and three "pods" (namespaces on veths, each running busybox httpd
 * whose CGI answers "NAME CLIENT-ADDRESS"); a "client" namespace outside the node reaches the node address
 * 192.168.77.1 over another veth, and a fourth pod is a client on the bridge. Services and EndpointSlices are real
 * API objects in an in-process control plane, read through real informers. Everything is removed afterwards.
 */
class ServiceProxyNetnsTest {
    static final String HEX = HexFormat.of().formatHex(java.nio.ByteBuffer.allocate(3).put((byte) ThreadLocalRandom.current().nextInt())
            .put((byte) ThreadLocalRandom.current().nextInt()).put((byte) ThreadLocalRandom.current().nextInt()).array());
    static final String NODE = "k3jpx-" + HEX + "-node";
    static final String CLIENT = "k3jpx-" + HEX + "-cl";
    static final String POD_CLIENT = "k3jpx-" + HEX + "-pc";
    static final String[] PODS = {"k3jpx-" + HEX + "-e1", "k3jpx-" + HEX + "-e2", "k3jpx-" + HEX + "-e3"};
    static final String[] POD_IPS = {"10.42.0.11", "10.42.0.12", "10.42.0.13"};
    static final String BRIDGE = "k3jpb" + HEX;
    static final String TABLE = "k3jt-proxy-" + HEX;
    static final String NODE_IP = "192.168.77.1";
    static final String CLIENT_IP = "192.168.77.2";

    static final List<String> namespaces = new ArrayList<>();
    static final List<Process> servers = new ArrayList<>();
    static Path dir;
    static TestCluster cluster;
    static HttpKubeClient client;
    static Informer services;
    static Informer slices;
    static ServiceProxy proxy;
    static final List<ServiceProxy.SyncReport> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** System.nanoTime() when each report arrived, for failure messages that tell the proxy's share of a delay. */
    static final List<Long> reportTimes = new java.util.concurrent.CopyOnWriteArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root for network namespaces");
        // nft programs the rules, conntrack drops UDP flows to removed endpoints (a fresh machine may lack them)
        io.k3j.agent.host.Packages.ensure("nftables", "conntrack", "python3"); // python3: the UDP test clients
        dir = Files.createTempDirectory("k3j-proxy-test");
        netns(NODE);
        in(NODE, "ip", "link", "set", "lo", "up");
        in(NODE, "sysctl", "-qw", "net.ipv4.ip_forward=1");
        in(NODE, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1");
        in(NODE, "ip", "link", "add", BRIDGE, "type", "bridge");
        in(NODE, "ip", "addr", "add", "10.42.0.1/24", "dev", BRIDGE);
        in(NODE, "ip", "link", "set", BRIDGE, "up");
        // the node's "uplink" to a client outside the cluster
        netns(CLIENT);
        sh("ip", "link", "add", "k3jpv" + HEX + "n", "netns", NODE, "type", "veth", "peer", "name", "k3jpv" + HEX + "c", "netns", CLIENT);
        in(NODE, "ip", "addr", "add", NODE_IP + "/24", "dev", "k3jpv" + HEX + "n");
        in(NODE, "ip", "link", "set", "k3jpv" + HEX + "n", "up");
        in(NODE, "ip", "route", "add", "default", "via", CLIENT_IP); // a route covering the service CIDR
        in(CLIENT, "ip", "link", "set", "lo", "up");
        in(CLIENT, "ip", "addr", "add", CLIENT_IP + "/24", "dev", "k3jpv" + HEX + "c");
        in(CLIENT, "ip", "link", "set", "k3jpv" + HEX + "c", "up");
        in(CLIENT, "ip", "route", "add", "default", "via", NODE_IP);
        for (int i = 0; i < PODS.length; i++) {
            pod(PODS[i], "e" + (i + 1), POD_IPS[i]);
            server(PODS[i], "e" + (i + 1), "8080");
        }
        pod(POD_CLIENT, "pc", "10.42.0.20");
        server(NODE, "gw", "10.42.0.1:9090"); // what the node-local DNS/ingress would be

        cluster = TestCluster.start(List.of());
        CertAndKey a = cluster.controlPlane().pki().adminCredentials();
        client = HttpKubeClient.withClientCertificate(URI.create("https://127.0.0.1:" + cluster.controlPlane().port()),
                cluster.controlPlane().pki().serverCaPem(), a.certificatePem(), a.privateKeyPem());
        services = new Informer(client, "/api/v1/services", Map.of(), null);
        slices = new Informer(client, "/apis/discovery.k8s.io/v1/endpointslices", Map.of(), null);
        ServiceProxy.Config cfg = ServiceProxy.Config.defaults("node-a", List.of(NODE_IP), "10.42.0.1").withTable(TABLE)
                .withNftCommand(List.of("nsenter", "--net=/run/netns/" + NODE, "nft")).withHealthCheckAddress("127.0.0.1");
        proxy = new ServiceProxy(cfg, services, slices).onSync(r -> {
            reportTimes.add(System.nanoTime());
            reports.add(r);
        });
        services.start();
        slices.start();
        proxy.start();
        cluster.await("the first sync", Duration.ofSeconds(10), () -> !reports.isEmpty());
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (proxy != null) proxy.close();
        if (services != null) services.close();
        if (slices != null) slices.close();
        if (client != null) client.close();
        if (cluster != null) cluster.close();
        for (Process p : servers) Processes.terminate(p.toHandle(), Duration.ofSeconds(2));
        if (namespaces.contains(NODE)) {
            try {
                ServiceProxy.remove(List.of("nsenter", "--net=/run/netns/" + NODE, "nft"), TABLE);
            } catch (RuntimeException e) {
                System.err.println("removing " + TABLE + ": " + e.getMessage());
            }
        }
        for (String ns : namespaces) Processes.run(Duration.ofSeconds(10), "ip", "netns", "del", ns); // veths and bridge go with them
        if (dir != null) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    // ---- tests -----------------------------------------------------------------------------------------------

    @Test
    void clusterIpBalancesAcrossThreeEndpointsFromAPodAndFromTheHost() throws Exception {
        String ip = service("bal", "type: ClusterIP");
        slice("bal", ep(0, "node-a"), ep(1, "node-a"), ep(2, "node-b"));
        awaitAnswer(POD_CLIENT, ip, 80, Duration.ofSeconds(5));
        Map<String, Integer> fromPod = count(fetch(POD_CLIENT, ip, 80, 60));
        assertEquals(List.of("e1", "e2", "e3"), List.copyOf(fromPod.keySet()), "answers from a pod on the bridge: " + fromPod);
        for (int n : fromPod.values()) assertTrue(n >= 5, "roughly even: " + fromPod);
        // a pod keeps its own address towards the endpoint (no masquerade inside the cluster)
        assertTrue(fetch(POD_CLIENT, ip, 80, 3).stream().allMatch(l -> l.endsWith(" 10.42.0.20")));
        Map<String, Integer> fromHost = count(fetch(NODE, ip, 80, 30));
        assertEquals(List.of("e1", "e2", "e3"), List.copyOf(fromHost.keySet()), "answers to the node itself: " + fromHost);
    }

    @Test
    void serviceWithoutEndpointsRejectsAtOnce() throws Exception {
        String ip = service("empty", "type: NodePort");
        int nodePort = nodePort("empty");
        slice("empty");
        awaitRules("empty");
        for (String[] target : new String[][] {{POD_CLIENT, ip, "80"}, {NODE, ip, "80"}, {CLIENT, NODE_IP, Integer.toString(nodePort)}}) {
            long t0 = System.nanoTime();
            Processes.Result r = Processes.run(Duration.ofSeconds(20), "ip", "netns", "exec", target[0], "busybox", "wget", "-q", "-O", "-",
                    "http://" + target[1] + ":" + target[2] + "/");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(r.output().contains("refused"), String.join(" ", target) + ": " + r.output());
            assertTrue(ms < 1000, "refused after " + ms + " ms");
        }
    }

    @Test
    void nodePortAnswersOnTheNodeAddressWithMasquerade() throws Exception {
        service("np", "type: NodePort");
        int nodePort = nodePort("np");
        slice("np", ep(0, "node-a"), ep(1, "node-a"), ep(2, "node-b"));
        awaitAnswer(CLIENT, NODE_IP, nodePort, Duration.ofSeconds(5));
        List<String> answers = fetch(CLIENT, NODE_IP, nodePort, 30);
        assertEquals(List.of("e1", "e2", "e3"), List.copyOf(count(answers).keySet()));
        // externalTrafficPolicy Cluster: the endpoint sees the node (the bridge's address), not the client
        assertTrue(answers.stream().allMatch(l -> l.endsWith(" 10.42.0.1")), answers.toString());
        // and from the host itself
        assertEquals(List.of("e1", "e2", "e3"), List.copyOf(count(fetch(NODE, NODE_IP, nodePort, 30)).keySet()));
    }

    @Test
    void externalTrafficPolicyLocalUsesLocalEndpointsAndKeepsTheClientAddress() throws Exception {
        service("local", "type: NodePort\n  externalTrafficPolicy: Local");
        int nodePort = nodePort("local");
        slice("local", ep(0, "node-b"), ep(1, "node-a"), ep(2, "node-b"));
        awaitAnswer(CLIENT, NODE_IP, nodePort, Duration.ofSeconds(5));
        List<String> answers = fetch(CLIENT, NODE_IP, nodePort, 20);
        assertEquals(Map.of("e2", 20), count(answers), "only the endpoint on node-a");
        assertTrue(answers.stream().allMatch(l -> l.equals("e2 " + CLIENT_IP)), answers.toString());
    }

    @Test
    void loadBalancerIpAnswers() throws Exception {
        service("lb", "type: LoadBalancer");
        ApiClient api = cluster.api();
        api.modify(api.type("", "v1", "services"), "default", "lb", "status", s -> {
            ((ObjectNode) s.with("status").with("loadBalancer")).putArray("ingress").addObject().put("ip", NODE_IP);
            return s;
        });
        slice("lb", ep(2, "node-a"));
        int port = 80;
        awaitAnswer(CLIENT, NODE_IP, port, Duration.ofSeconds(5));
        assertEquals(Map.of("e3", 10), count(fetch(CLIENT, NODE_IP, port, 10)));
    }

    @Test
    void sessionAffinityClientIpSticks() throws Exception {
        String ip = service("sticky", "type: ClusterIP\n  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}");
        slice("sticky", ep(0, "node-a"), ep(1, "node-a"), ep(2, "node-b"));
        awaitAnswer(POD_CLIENT, ip, 80, Duration.ofSeconds(5));
        Map<String, Integer> c = count(fetch(POD_CLIENT, ip, 80, 30));
        assertEquals(1, c.size(), "one endpoint for one client: " + c);
        Map<String, Integer> host = count(fetch(NODE, ip, 80, 15));
        assertEquals(1, host.size(), "and another client sticks too: " + host);
    }

    @Test
    void hairpinAPodReachesItsOwnService() throws Exception {
        String ip = service("hairpin", "type: ClusterIP");
        slice("hairpin", ep(0, "node-a"));
        awaitAnswer(PODS[0], ip, 80, Duration.ofSeconds(5));
        List<String> answers = fetch(PODS[0], ip, 80, 3);
        // answered by itself, through the gateway's masquerade
        assertEquals(List.of("e1 10.42.0.1", "e1 10.42.0.1", "e1 10.42.0.1"), answers);
    }

    @Test
    void nodeLocalServiceGoesToThisNodesGateway() throws Exception {
        String ip = service("nl", "type: ClusterIP", Map.of("k3j.io/node-local", "true"), 9090);
        awaitAnswer(POD_CLIENT, ip, 80, Duration.ofSeconds(5));
        assertEquals(List.of("gw 10.42.0.20", "gw 10.42.0.20"), fetch(POD_CLIENT, ip, 80, 2));
    }

    @Test
    void endpointChangesAreAppliedWithinOneSecond() throws Exception {
        String ip = service("upd", "type: ClusterIP");
        slice("upd", ep(0, "node-a"));
        awaitAnswer(POD_CLIENT, ip, 80, Duration.ofSeconds(5));
        assertEquals(Map.of("e1", 5), count(fetch(POD_CLIENT, ip, 80, 5)));
        ApiClient api = cluster.api();
        var type = api.type("discovery.k8s.io", "v1", "endpointslices");
        long t0 = System.nanoTime();
        api.modify(type, "default", "upd-1", "", s -> {
            ArrayNode eps = s.putArray("endpoints");
            eps.add(ep(1, "node-a"));
            return s;
        });
        long ms = awaitOnly(POD_CLIENT, ip, "e2", t0);
        assertTrue(ms < 1000, "new endpoint served after " + ms + " ms; " + syncsSince(t0));
        t0 = System.nanoTime();
        api.modify(type, "default", "upd-1", "", s -> {
            s.putArray("endpoints");
            return s;
        });
        long deadline = t0 + 5_000_000_000L;
        while (true) {
            Processes.Result r = Processes.run(Duration.ofSeconds(10), "ip", "netns", "exec", POD_CLIENT, "busybox", "wget", "-q", "-O", "-",
                    "http://" + ip + ":80/cgi-bin/who");
            if (r.output().contains("refused")) break;
            assertTrue(System.nanoTime() < deadline, "still answered: " + r.output());
        }
        ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 1000, "rejecting after " + ms + " ms");
    }

    @Test
    void nodePortAnswersOnLocalhostOfTheNodeButNotToMartians() throws Exception {
        service("lh", "type: NodePort");
        int nodePort = nodePort("lh");
        slice("lh", ep(0, "node-a"), ep(1, "node-b"));
        awaitAnswer(NODE, "127.0.0.1", nodePort, Duration.ofSeconds(5));
        List<String> answers = fetch(NODE, "127.0.0.1", nodePort, 20);
        assertEquals(List.of("e1", "e2"), List.copyOf(count(answers).keySet()), answers.toString());
        // 127.0.0.1 cannot leave the host: masqueraded to the address towards the pod
        assertTrue(answers.stream().allMatch(l -> l.endsWith(" 10.42.0.1")), answers.toString());
        assertEquals("1", in(NODE, "sysctl", "-n", "net.ipv4.conf.all.route_localnet").strip());

        service("lhe", "type: NodePort");
        int empty = nodePort("lhe");
        slice("lhe");
        awaitRules("lhe");
        Processes.Result r = Processes.run(Duration.ofSeconds(20), "ip", "netns", "exec", NODE, "busybox", "wget", "-q", "-O", "-",
                "http://127.0.0.1:" + empty + "/");
        assertTrue(r.output().contains("refused"), "no endpoints: rejected on localhost too: " + r.output());

        // CVE-2020-8558: with route_localnet on, a neighbour routing 127.0.0.0/8 to the node must get nothing
        in(CLIENT, "sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1");
        in(CLIENT, "ip", "route", "del", "table", "local", "local", "127.0.0.0/8", "dev", "lo");
        try {
            in(CLIENT, "ip", "route", "add", "127.0.0.5/32", "via", NODE_IP);
            List<String> martian = fetchWithTimeout(CLIENT, "127.0.0.5", nodePort, 2);
            assertEquals(List.of(), martian, "a packet for 127.0.0.5 from outside is dropped");
            assertEquals(List.of("e1", "e2"), List.copyOf(count(fetch(CLIENT, NODE_IP, nodePort, 10)).keySet()), "the node address still answers");
        } finally {
            Processes.run(Duration.ofSeconds(10), "ip", "netns", "exec", CLIENT, "ip", "route", "del", "127.0.0.5/32");
            Processes.run(Duration.ofSeconds(10), "ip", "netns", "exec", CLIENT, "ip", "route", "add", "table", "local", "local", "127.0.0.0/8",
                    "dev", "lo", "proto", "kernel", "scope", "host", "src", "127.0.0.1");
            Processes.run(Duration.ofSeconds(10), "ip", "netns", "exec", CLIENT, "sysctl", "-qw", "net.ipv4.conf.all.route_localnet=0");
        }
    }

    @Test
    void udpClientKeepingItsPortMovesOffARemovedEndpointAtOnce() throws Exception {
        String ip = cluster.create("""
                apiVersion: v1
                kind: Service
                metadata: {namespace: default, name: udp}
                spec:
                  ports: [{name: dns, port: 53, protocol: UDP, targetPort: 5353}]
                """).path("spec").path("clusterIP").asText();
        udpServer(PODS[0], "e1");
        udpServer(PODS[1], "e2");
        ObjectNode s = Json.object();
        s.put("apiVersion", "discovery.k8s.io/v1").put("kind", "EndpointSlice");
        s.putObject("metadata").put("namespace", "default").put("name", "udp-1").putObject("labels").put("kubernetes.io/service-name", "udp");
        s.put("addressType", "IPv4");
        s.putArray("endpoints").add(ep(0, "node-a"));
        s.putArray("ports").addObject().put("name", "dns").put("port", 5353).put("protocol", "UDP");
        cluster.create(Json.string(s));

        // one socket, one source port, a datagram every 100 ms: the shape of a resolver's client
        Process client = new ProcessBuilder("ip", "netns", "exec", POD_CLIENT, "python3", "-u", "-c", """
                import socket, sys, time
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("0.0.0.0", 40053))
                s.settimeout(0.2)
                end = time.time() + 20
                while time.time() < end:
                    s.sendto(b"q", (sys.argv[1], 53))
                    try:
                        print(s.recvfrom(512)[0].decode().split()[0], flush=True)
                    except OSError:
                        print("-", flush=True)
                    time.sleep(0.1)
                """, ip).redirectErrorStream(true).start();
        servers.add(client);
        try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(client.getInputStream()))) {
            int e1 = 0;
            String line;
            while (e1 < 5 && (line = lines.readLine()) != null) if (line.equals("e1")) e1++;
            assertEquals(5, e1, "the client reaches e1 through the Service");
            ApiClient api = cluster.api();
            long t0 = System.nanoTime();
            api.modify(api.type("discovery.k8s.io", "v1", "endpointslices"), "default", "udp-1", "", slice -> {
                slice.putArray("endpoints").add(ep(1, "node-a"));
                return slice;
            });
            // e1 still runs and answers: only the proxy deleting the conntrack flow moves the client
            while ((line = lines.readLine()) != null && !line.equals("e2")) {
                assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "still on the removed endpoint after 5 s");
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals("e2", line);
            assertTrue(ms < 1500, "moved to e2 after " + ms + " ms");
            for (int i = 0; i < 5; i++) assertEquals("e2", lines.readLine(), "and stays there");
        } finally {
            Processes.terminate(client.toHandle(), Duration.ofSeconds(2));
        }
    }

    @Test
    void healthCheckNodePortReportsLocalEndpoints() throws Exception {
        service("hc", "type: LoadBalancer\n  externalTrafficPolicy: Local");
        int port = cluster.get("", "v1", "services", "default", "hc").path("spec").path("healthCheckNodePort").asInt();
        assertTrue(port >= 30000 && port <= 32767, "allocated by the API server: " + port);
        slice("hc", ep(0, "node-b"));
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        URI uri = URI.create("http://127.0.0.1:" + port + "/");
        cluster.await("503 on the health check port", Duration.ofSeconds(5), () -> status(http, uri) == 503);
        var r = http.send(java.net.http.HttpRequest.newBuilder(uri).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(json("{\"service\":{\"namespace\":\"default\",\"name\":\"hc\"},\"localEndpoints\":0,\"serviceProxyHealthy\":true}"),
                json(r.body()));
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));

        ApiClient api = cluster.api();
        api.modify(api.type("discovery.k8s.io", "v1", "endpointslices"), "default", "hc-1", "", s -> {
            s.withArray("endpoints").add(ep(1, "node-a"));
            return s;
        });
        cluster.await("200 on the health check port", Duration.ofSeconds(5), () -> status(http, uri) == 200);
        r = http.send(java.net.http.HttpRequest.newBuilder(uri).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(1, json(r.body()).path("localEndpoints").asInt(), r.body());

        api.modify(api.type("", "v1", "services"), "default", "hc", "", s -> {
            s.with("spec").put("externalTrafficPolicy", "Cluster");
            return s;
        });
        cluster.await("the port closed", Duration.ofSeconds(5), () -> status(http, uri) == -1);
        assertTrue(proxy.healthCheckPorts().isEmpty(), proxy.healthCheckPorts().toString());
    }

    @Test
    void loadBalancerSourceRangesAdmitOnlyThoseClients() throws Exception {
        String lbIp = "192.168.77.10";
        in(NODE, "ip", "addr", "add", lbIp + "/32", "dev", "k3jpv" + HEX + "n");
        service("fw", "type: LoadBalancer\n  loadBalancerSourceRanges: [10.99.0.0/16]");
        int nodePort = nodePort("fw");
        ApiClient api = cluster.api();
        api.modify(api.type("", "v1", "services"), "default", "fw", "status", s -> {
            ((ObjectNode) s.with("status").with("loadBalancer")).putArray("ingress").addObject().put("ip", lbIp);
            return s;
        });
        slice("fw", ep(0, "node-a"));
        awaitAnswer(CLIENT, NODE_IP, nodePort, Duration.ofSeconds(5)); // the node port is not fenced, and the rules are in
        cluster.await("the firewall rule", Duration.ofSeconds(5), () -> in(NODE, "nft", "list", "map", "ip", TABLE, "firewall-ips").contains(lbIp));
        assertEquals(List.of(), fetchWithTimeout(CLIENT, lbIp, 80, 2), "a client outside the ranges is dropped");

        api.modify(api.type("", "v1", "services"), "default", "fw", "", s -> {
            s.with("spec").putArray("loadBalancerSourceRanges").add("10.99.0.0/16").add(CLIENT_IP + "/32");
            return s;
        });
        awaitAnswer(CLIENT, lbIp, 80, Duration.ofSeconds(5));
        assertEquals(Map.of("e1", 5), count(fetch(CLIENT, lbIp, 80, 5)));
    }

    // ---- fixtures ----------------------------------------------------------------------------------------------

    static ObjectNode ep(int pod, String node) {
        ObjectNode e = Json.object();
        e.putArray("addresses").add(POD_IPS[pod]);
        e.put("nodeName", node);
        e.putObject("conditions").put("ready", true);
        return e;
    }

    static String service(String name, String specExtra) {
        return service(name, specExtra, Map.of(), 8080);
    }

    /** Creates a selector-less Service with port 80 → targetPort; returns its allocated cluster IP. */
    static String service(String name, String specExtra, Map<String, String> annotations, int targetPort) {
        List<String> ann = new ArrayList<>();
        annotations.forEach((k, v) -> ann.add("\"" + k + "\": \"" + v + "\""));
        ObjectNode svc = cluster.create("""
                apiVersion: v1
                kind: Service
                metadata:
                  namespace: default
                  name: %s
                  annotations: {%s}
                spec:
                  %s
                  ports: [{name: http, port: 80, protocol: TCP, targetPort: %d}]
                """.formatted(name, String.join(", ", ann), specExtra, targetPort));
        return svc.path("spec").path("clusterIP").asText();
    }

    static int nodePort(String name) {
        return cluster.get("", "v1", "services", "default", name).path("spec").path("ports").get(0).path("nodePort").asInt();
    }

    static void slice(String service, ObjectNode... endpoints) {
        ObjectNode s = Json.object();
        s.put("apiVersion", "discovery.k8s.io/v1");
        s.put("kind", "EndpointSlice");
        s.putObject("metadata").put("namespace", "default").put("name", service + "-1").putObject("labels")
                .put("kubernetes.io/service-name", service);
        s.put("addressType", "IPv4");
        ArrayNode eps = s.putArray("endpoints");
        for (ObjectNode e : endpoints) eps.add(e);
        s.putArray("ports").addObject().put("name", "http").put("port", 8080).put("protocol", "TCP");
        cluster.create(Json.string(s));
    }

    /** Waits until the table has something for the service (an element naming it in any map). */
    static void awaitRules(String name) {
        cluster.await("rules for " + name, Duration.ofSeconds(5), () -> {
            Processes.Result r = Processes.run(Duration.ofSeconds(10), "ip", "netns", "exec", NODE, "nft", "list", "table", "ip", TABLE);
            return r.ok() && (r.output().contains("default/" + name + "/") || r.output().contains("reject-chain") && noEndpointsListed(r.output()));
        });
    }

    private static boolean noEndpointsListed(String table) {
        int i = table.indexOf("map no-endpoint-services");
        return i >= 0 && table.indexOf("elements", i) > 0 && table.indexOf("elements", i) < table.indexOf("}", table.indexOf("}", i) + 1);
    }

    static void awaitAnswer(String ns, String ip, int port, Duration timeout) {
        cluster.await("an answer from " + ip + ":" + port + " in " + ns, timeout, () -> !fetch(ns, ip, port, 1).isEmpty());
    }

    /** The syncs applied since {@code t0}: when (ms after t0) and their compute + nft time. */
    static String syncsSince(long t0) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < reportTimes.size() && i < reports.size(); i++) {
            if (reportTimes.get(i) >= t0) {
                out.add("sync at +" + (reportTimes.get(i) - t0) / 1_000_000 + " ms (compute + nft " + reports.get(i).took().toMillis() + " ms)");
            }
        }
        return "proxy: " + out;
    }

    /** Polls until the only answer is {@code name}; the milliseconds since {@code t0}. */
    static long awaitOnly(String ns, String ip, String name, long t0) {
        long deadline = t0 + 5_000_000_000L;
        while (true) {
            List<String> a = fetch(ns, ip, 80, 1);
            if (!a.isEmpty() && a.getFirst().startsWith(name + " ")) return (System.nanoTime() - t0) / 1_000_000;
            assertTrue(System.nanoTime() < deadline, "still answered by " + a);
        }
    }

    /** {@code n} HTTP GETs of the CGI from inside {@code ns}, one connection each; the answer lines. */
    static List<String> fetch(String ns, String ip, int port, int n) {
        String url = "http://" + ip + ":" + port + "/cgi-bin/who";
        Processes.Result r = Processes.run(Duration.ofSeconds(60), "ip", "netns", "exec", ns, "timeout", "20", "sh", "-c",
                "for i in $(seq " + n + "); do busybox wget -q -O - " + url + " 2>/dev/null; done");
        List<String> lines = new ArrayList<>();
        // httpd listens dual-stack, so REMOTE_ADDR reads [::ffff:a.b.c.d]
        for (String l : r.output().split("\n")) if (!l.isBlank()) lines.add(l.strip().replace("[::ffff:", "").replace("]", ""));
        return lines;
    }

    static Map<String, Integer> count(List<String> answers) {
        Map<String, Integer> m = new TreeMap<>();
        for (String a : answers) m.merge(a.split(" ")[0], 1, Integer::sum);
        return m;
    }

    static void netns(String name) {
        sh("ip", "netns", "add", name);
        namespaces.add(name);
    }

    static void pod(String ns, String shortName, String ip) {
        netns(ns);
        String host = "k3jpv" + HEX + shortName;
        sh("ip", "link", "add", host, "netns", NODE, "type", "veth", "peer", "name", "eth0", "netns", ns);
        in(NODE, "ip", "link", "set", host, "master", BRIDGE);
        in(NODE, "ip", "link", "set", host, "up");
        // as the CNI bridge plugin's hairpinMode: a pod DNATed to itself is bridged back out of its own port
        in(NODE, "bridge", "link", "set", "dev", host, "hairpin", "on");
        in(ns, "ip", "link", "set", "lo", "up");
        in(ns, "ip", "addr", "add", ip + "/24", "dev", "eth0");
        in(ns, "ip", "link", "set", "eth0", "up");
        in(ns, "ip", "route", "add", "default", "via", "10.42.0.1");
    }

    /** busybox httpd in {@code ns} whose /cgi-bin/who answers "NAME CLIENT-ADDRESS". */
    static void server(String ns, String name, String listen) throws Exception {
        Path root = dir.resolve(name);
        Files.createDirectories(root.resolve("cgi-bin"));
        Path cgi = root.resolve("cgi-bin/who");
        Files.writeString(cgi, "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s %s\\n' " + name + " \"$REMOTE_ADDR\"\n");
        Files.setPosixFilePermissions(cgi, PosixFilePermissions.fromString("rwxr-xr-x"));
        Process p = new ProcessBuilder("ip", "netns", "exec", ns, "busybox", "httpd", "-f", "-p", listen, "-h", root.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile()).start();
        servers.add(p);
    }

    static String in(String ns, String... cmd) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(List.of(cmd));
        return sh(c.toArray(String[]::new));
    }

    static String sh(String... cmd) {
        Processes.Result r = Processes.run(Duration.ofSeconds(10), cmd);
        if (!r.ok()) throw new IllegalStateException(String.join(" ", cmd) + ": " + r.output());
        return r.output();
    }

    /** As {@link #fetch} with each GET given up after {@code seconds} (for addresses that drop packets). */
    static List<String> fetchWithTimeout(String ns, String ip, int port, int seconds) {
        String url = "http://" + ip + ":" + port + "/cgi-bin/who";
        Processes.Result r = Processes.run(Duration.ofSeconds(seconds + 10), "ip", "netns", "exec", ns, "timeout", Integer.toString(seconds),
                "busybox", "wget", "-q", "-O", "-", url);
        List<String> lines = new ArrayList<>();
        for (String l : r.output().split("\n")) if (!l.isBlank() && !l.contains("wget")) lines.add(l.strip());
        return lines;
    }

    /** The HTTP status of a GET, -1 when the connection fails. */
    static int status(java.net.http.HttpClient http, URI uri) {
        try {
            return http.send(java.net.http.HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (java.io.IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** A UDP server in {@code ns} on port 5353 answering every datagram with "NAME CLIENT-ADDRESS". */
    static void udpServer(String ns, String name) throws Exception {
        Process p = new ProcessBuilder("ip", "netns", "exec", ns, "python3", "-c", """
                import socket, sys
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("0.0.0.0", 5353))
                while True:
                    d, a = s.recvfrom(512)
                    s.sendto((sys.argv[1] + " " + a[0] + "\\n").encode(), a)
                """, name).redirectErrorStream(true).redirectOutput(dir.resolve(name + "-udp.log").toFile()).start();
        servers.add(p);
    }

    static com.fasterxml.jackson.databind.JsonNode json(String text) {
        return Json.parse(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
