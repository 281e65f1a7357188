package io.k3j.agent.dns;

import static io.k3j.agent.dns.DnsMessage.A;
import static io.k3j.agent.dns.DnsMessage.AAAA;
import static io.k3j.agent.dns.DnsMessage.CNAME;
import static io.k3j.agent.dns.DnsMessage.NOERROR;
import static io.k3j.agent.dns.DnsMessage.NS;
import static io.k3j.agent.dns.DnsMessage.NXDOMAIN;
import static io.k3j.agent.dns.DnsMessage.PTR;
import static io.k3j.agent.dns.DnsMessage.SOA;
import static io.k3j.agent.dns.DnsMessage.SRV;
import static io.k3j.agent.dns.DnsMessage.TXT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.k3j.agent.dns.DnsMessage.Address;
import io.k3j.agent.dns.DnsMessage.Rr;
import io.k3j.agent.dns.DnsMessage.Srv;
import io.k3j.agent.kube.HttpKubeClient;
import io.k3j.agent.kube.Informer;
import io.k3j.apiserver.pki.CertAndKey;
import io.k3j.controllers.endpoints.EndpointControllers;
import io.k3j.controllers.testing.FakeKubelet;
import io.k3j.controllers.testing.FakeNodes;
import io.k3j.controllers.testing.TestCluster;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The cluster DNS against a real control plane with the EndpointSlice controller: Services, pods (run by a fake
 * kubelet, so they become Ready with IPs) and EndpointSlices created through the API, the DNS fed by informers on an
 * HTTPS client with the admin credentials, queried over UDP and TCP on 127.0.0.1, and a fake upstream on 127.0.0.1.
 */
class ClusterDnsTest {
    static final String NS_ = "dns-test";
    static final String ZONE = "cluster.local";
    static TestCluster cluster;
    static FakeNodes fakeNodes;
    static FakeKubelet kubelet;
    static HttpKubeClient client;
    static List<Informer> informers = new ArrayList<>();
    static FakeUpstream upstream;
    static ClusterDns dns;
    static InetSocketAddress server;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(List.of(EndpointControllers.endpointSlices()));
        fakeNodes = new FakeNodes(cluster.api());
        fakeNodes.add("node-a");
        kubelet = new FakeKubelet(cluster.api()).manage("node-a");
        CertAndKey admin = cluster.controlPlane().pki().adminCredentials();
        client = HttpKubeClient.withClientCertificate(URI.create("https://127.0.0.1:" + cluster.controlPlane().port()),
                cluster.controlPlane().pki().serverCaPem(), admin.certificatePem(), admin.privateKeyPem());
        upstream = new FakeUpstream();
        Informer services = new Informer(client, "/api/v1/services", Map.of(), null);
        Informer slices = new Informer(client, "/apis/discovery.k8s.io/v1/endpointslices", Map.of(), null);
        Informer nodes = new Informer(client, "/api/v1/nodes", Map.of(), null);
        informers.addAll(List.of(services, slices, nodes));
        dns = new ClusterDns(ClusterDns.Config.of(new InetSocketAddress("127.0.0.1", 0), ZONE, List.of(upstream.address()))
                .withUpstreamTimeout(Duration.ofMillis(800)), services, slices, nodes);
        informers.forEach(Informer::start);
        dns.start();
        server = dns.address();

        cluster.create("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + NS_ + "\"}}");
        service("web", "\"selector\":{\"app\":\"web\"},\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":8080},"
                + "{\"name\":\"metrics\",\"port\":9100,\"protocol\":\"UDP\"},{\"name\":\"alt\",\"port\":81}]");
        service("db", "\"clusterIP\":\"None\",\"selector\":{\"app\":\"db\"},\"ports\":[{\"name\":\"pg\",\"port\":5432}]");
        service("ext", "\"type\":\"ExternalName\",\"externalName\":\"www.example.test\"");
        service("alias", "\"type\":\"ExternalName\",\"externalName\":\"web." + NS_ + ".svc.cluster.local\"");
        service("many", "\"clusterIP\":\"None\",\"ports\":[{\"name\":\"p\",\"port\":1}]");
        service("v6", "\"clusterIP\":\"None\",\"ports\":[{\"name\":\"p\",\"port\":1}]");
        pod("web-a", "app: web", "", "");
        pod("web-b", "app: web", "", "");
        pod("db-0", "app: db", "db-0", "db");
        pod("db-1", "app: db", "db-1", "db");
        pod("db-x", "app: db", "", "");
        StringBuilder eps = new StringBuilder();
        for (int i = 0; i < 60; i++) eps.append(i == 0 ? "" : ",").append("{\"addresses\":[\"10.99.0.").append(i + 1).append("\"]}");
        cluster.create("{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"many-1\",\"namespace\":\"" + NS_
                + "\",\"labels\":{\"kubernetes.io/service-name\":\"many\"}},\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"p\",\"port\":1}],"
                + "\"endpoints\":[" + eps + "]}");
        cluster.create("{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"v6-1\",\"namespace\":\"" + NS_
                + "\",\"labels\":{\"kubernetes.io/service-name\":\"v6\"}},\"addressType\":\"IPv6\",\"ports\":[{\"name\":\"p\",\"port\":1}],"
                + "\"endpoints\":[{\"addresses\":[\"fd00::5\"],\"hostname\":\"h\"},{\"addresses\":[\"fd00::6\"],\"conditions\":{\"ready\":false}}]}");
        // the three db pods ready in the slice and seen by the DNS
        awaitAnswer("db." + NS_ + ".svc.cluster.local", A, r -> r.answers.size() == 3);
    }

    static void service(String name, String spec) {
        cluster.create("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"" + name + "\",\"namespace\":\"" + NS_
                + "\"},\"spec\":{" + spec + "}}");
    }

    static void pod(String name, String labels, String hostname, String subdomain) {
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: %s, namespace: %s, labels: {%s}}
                spec:
                  nodeName: node-a
                  %s
                  %s
                  containers: [{name: c, image: busybox, ports: [{name: http, containerPort: 8080}]}]
                """.formatted(name, NS_, labels, hostname.isEmpty() ? "" : "hostname: " + hostname,
                subdomain.isEmpty() ? "" : "subdomain: " + subdomain));
    }

    @AfterAll
    static void stop() throws Exception {
        if (dns != null) dns.close();
        informers.forEach(Informer::close);
        if (upstream != null) upstream.close();
        if (client != null) client.close();
        if (kubelet != null) kubelet.close();
        if (fakeNodes != null) fakeNodes.close();
        if (cluster != null) cluster.close();
    }

    // ---- a client ------------------------------------------------------------------------------------------

    static DnsMessage udp(InetSocketAddress to, byte[] query) throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            s.setSoTimeout(3000);
            s.send(new DatagramPacket(query, query.length, to));
            byte[] buf = new byte[65535];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            s.receive(p);
            return DnsMessage.parse(buf, p.getLength());
        } catch (DnsMessage.FormatException e) {
            throw new AssertionError("the server sent a malformed reply", e);
        }
    }

    static DnsMessage udp(String name, int type) throws IOException {
        DnsMessage q = DnsMessage.query(ThreadLocalRandom.current().nextInt(0x10000), name, type);
        DnsMessage r = udp(server, q.encode());
        assertEquals(q.id, r.id);
        assertTrue(r.qr);
        assertEquals(q.questions, r.questions);
        return r;
    }

    static DnsMessage tcp(InetSocketAddress to, byte[] query) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(to, 3000);
            s.setSoTimeout(3000);
            OutputStream out = s.getOutputStream();
            out.write(new byte[] {(byte) (query.length >> 8), (byte) query.length});
            out.write(query);
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            byte[] a = new byte[in.readUnsignedShort()];
            in.readFully(a);
            return DnsMessage.parse(a);
        } catch (DnsMessage.FormatException e) {
            throw new AssertionError("the server sent a malformed reply", e);
        }
    }

    static DnsMessage awaitAnswer(String name, int type, Predicate<DnsMessage> ok) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        DnsMessage last = null;
        while (System.nanoTime() < deadline) {
            last = udp(name, type);
            if (ok.test(last)) return last;
            Thread.sleep(50);
        }
        throw new AssertionError("no matching answer for " + name + "; last: " + last);
    }

    static Set<String> addresses(List<Rr> rrs) {
        Set<String> out = new TreeSet<>();
        for (Rr r : rrs) {
            if (r.data() instanceof Address a) out.add(a.address().getHostAddress());
        }
        return out;
    }

    static String clusterIp(String svc) {
        return cluster.get("", "v1", "services", NS_, svc).path("spec").path("clusterIP").asText();
    }

    static Set<String> podIps(String... pods) {
        Set<String> out = new TreeSet<>();
        for (String p : pods) {
            cluster.await("pod " + p + " to get an IP", Duration.ofSeconds(20),
                    () -> !cluster.get("", "v1", "pods", NS_, p).path("status").path("podIP").asText().isEmpty());
            out.add(cluster.get("", "v1", "pods", NS_, p).path("status").path("podIP").asText());
        }
        return out;
    }

    static void assertNegative(DnsMessage r, int rcode) {
        assertEquals(rcode, r.rcode, r.toString());
        assertTrue(r.answers.isEmpty(), r.toString());
        assertEquals(1, r.authority.size(), r.toString());
        assertEquals(SOA, r.authority.get(0).type());
        assertEquals(ZONE, r.authority.get(0).name());
        assertTrue(r.aa);
    }

    // ---- tests -----------------------------------------------------------------------------------------------

    @Test
    @DisplayName("a ClusterIP Service's name is its clusterIP with TTL 5, case-insensitively, over UDP and TCP")
    void clusterIpService() throws Exception {
        String ip = clusterIp("web");
        DnsMessage r = awaitAnswer("web." + NS_ + ".svc.cluster.local", A, m -> !m.answers.isEmpty());
        assertEquals(NOERROR, r.rcode);
        assertTrue(r.aa && r.ra && r.rd);
        assertEquals(Set.of(ip), addresses(r.answers));
        assertEquals(5, r.answers.get(0).ttl());

        DnsMessage mixed = udp("WEB.Dns-Test.SVC.Cluster.Local", A);
        assertEquals(Set.of(ip), addresses(mixed.answers));
        assertEquals("WEB.Dns-Test.SVC.Cluster.Local", mixed.answers.get(0).name(), "the owner is spelled as asked");

        DnsMessage overTcp = tcp(server, DnsMessage.query(77, "web." + NS_ + ".svc.cluster.local", A).encode());
        assertEquals(77, overTcp.id);
        assertEquals(Set.of(ip), addresses(overTcp.answers));

        // no IPv6 clusterIP: NODATA, with the SOA for negative caching
        assertNegative(udp("web." + NS_ + ".svc.cluster.local", AAAA), NOERROR);
    }

    @Test
    @DisplayName("a headless Service answers its ready endpoints, per-pod hostnames (StatefulSet style) and dashed IPs")
    void headlessService() throws Exception {
        Set<String> ips = podIps("db-0", "db-1", "db-x");
        DnsMessage all = awaitAnswer("db." + NS_ + ".svc.cluster.local", A, m -> m.answers.size() == 3);
        assertEquals(ips, addresses(all.answers));
        assertEquals(podIps("db-0"), addresses(udp("db-0.db." + NS_ + ".svc.cluster.local", A).answers));
        assertEquals(podIps("db-1"), addresses(udp("DB-1.db." + NS_ + ".svc.cluster.local", A).answers));
        String x = podIps("db-x").iterator().next();
        assertEquals(Set.of(x), addresses(udp(x.replace('.', '-') + ".db." + NS_ + ".svc.cluster.local", A).answers));
        assertNegative(udp("db-9.db." + NS_ + ".svc.cluster.local", A), NXDOMAIN);

        // IPv6 endpoints: AAAA, a hostname, and a not-ready endpoint left out
        DnsMessage v6 = awaitAnswer("v6." + NS_ + ".svc.cluster.local", AAAA, m -> !m.answers.isEmpty());
        assertEquals(Set.of(InetAddress.getByName("fd00::5").getHostAddress()), addresses(v6.answers));
        assertEquals(1, udp("h.v6." + NS_ + ".svc.cluster.local", AAAA).answers.size());
        assertNegative(udp("v6." + NS_ + ".svc.cluster.local", A), NOERROR);
    }

    @Test
    @DisplayName("SRV records for named ports: the Service for a ClusterIP, each endpoint for a headless one, with addresses")
    void srv() throws Exception {
        DnsMessage r = awaitAnswer("_http._tcp.web." + NS_ + ".svc.cluster.local", SRV, m -> !m.answers.isEmpty());
        assertEquals(1, r.answers.size());
        Srv s = (Srv) r.answers.get(0).data();
        assertEquals(80, s.port());
        assertEquals("web." + NS_ + ".svc.cluster.local", s.target());
        assertEquals(Set.of(clusterIp("web")), addresses(r.additional));
        assertEquals(9100, ((Srv) udp("_metrics._udp.web." + NS_ + ".svc.cluster.local", SRV).answers.get(0).data()).port());
        // wrong protocol, unknown port name: NXDOMAIN; the protocol label alone is an empty non-terminal
        assertNegative(udp("_metrics._tcp.web." + NS_ + ".svc.cluster.local", SRV), NXDOMAIN);
        assertNegative(udp("_nope._tcp.web." + NS_ + ".svc.cluster.local", SRV), NXDOMAIN);
        assertNegative(udp("_tcp.web." + NS_ + ".svc.cluster.local", SRV), NOERROR);

        DnsMessage h = awaitAnswer("_pg._tcp.db." + NS_ + ".svc.cluster.local", SRV, m -> m.answers.size() == 3);
        Set<String> targets = new TreeSet<>();
        for (Rr rr : h.answers) {
            Srv v = (Srv) rr.data();
            assertEquals(5432, v.port());
            assertEquals(33, v.weight());
            targets.add(v.target());
        }
        String x = podIps("db-x").iterator().next().replace('.', '-');
        assertEquals(new TreeSet<>(List.of("db-0.db." + NS_ + ".svc.cluster.local", "db-1.db." + NS_ + ".svc.cluster.local",
                x + ".db." + NS_ + ".svc.cluster.local")), targets);
        assertEquals(podIps("db-0", "db-1", "db-x"), addresses(h.additional));
        // SRV on the Service name itself: all its named ports
        assertEquals(3, udp("web." + NS_ + ".svc.cluster.local", SRV).answers.size());
    }

    @Test
    @DisplayName("ExternalName: a CNAME, followed here for an in-cluster target and upstream for an outside one")
    void externalName() throws Exception {
        DnsMessage alias = awaitAnswer("alias." + NS_ + ".svc.cluster.local", A, m -> m.answers.size() == 2);
        assertEquals(CNAME, alias.answers.get(0).type());
        assertEquals("web." + NS_ + ".svc.cluster.local", ((DnsMessage.Name) alias.answers.get(0).data()).target());
        assertEquals(Set.of(clusterIp("web")), addresses(alias.answers));

        DnsMessage ext = awaitAnswer("ext." + NS_ + ".svc.cluster.local", A, m -> m.answers.size() == 2);
        assertEquals(CNAME, ext.answers.get(0).type());
        assertEquals("www.example.test", ((DnsMessage.Name) ext.answers.get(0).data()).target());
        assertEquals(Set.of("192.0.2.10"), addresses(ext.answers));
        assertTrue(upstream.names.contains("www.example.test"));
        DnsMessage cnameOnly = udp("ext." + NS_ + ".svc.cluster.local", CNAME);
        assertEquals(1, cnameOnly.answers.size());
        assertTrue(cnameOnly.aa);
    }

    @Test
    @DisplayName("pod names (pods insecure), node names, PTR for clusterIPs and endpoints, the zone apex, dns-version")
    void otherRecords() throws Exception {
        assertEquals(Set.of("10.42.0.9"), addresses(udp("10-42-0-9." + NS_ + ".pod.cluster.local", A).answers));
        assertEquals(Set.of(InetAddress.getByName("fd00::9").getHostAddress()), addresses(udp("fd00--9." + NS_ + ".pod.cluster.local", AAAA).answers));
        assertNegative(udp("not-an-ip." + NS_ + ".pod.cluster.local", A), NXDOMAIN);
        assertNegative(udp(NS_ + ".pod.cluster.local", A), NOERROR);

        DnsMessage node = awaitAnswer("node-a", A, m -> !m.answers.isEmpty());
        assertEquals(Set.of("127.0.0.1"), addresses(node.answers));
        assertEquals(60, node.answers.get(0).ttl());

        String ip = clusterIp("web");
        DnsMessage ptr = awaitAnswer(Ips.reverseName(InetAddress.getByName(ip)), PTR, m -> !m.answers.isEmpty());
        assertEquals("web." + NS_ + ".svc.cluster.local", ((DnsMessage.Name) ptr.answers.get(0).data()).target());
        String db0 = podIps("db-0").iterator().next();
        DnsMessage ptr2 = udp(Ips.reverseName(InetAddress.getByName(db0)), PTR);
        assertEquals("db-0.db." + NS_ + ".svc.cluster.local", ((DnsMessage.Name) ptr2.answers.get(0).data()).target());
        DnsMessage ptr6 = udp(Ips.reverseName(InetAddress.getByName("fd00::5")), PTR);
        assertEquals("h.v6." + NS_ + ".svc.cluster.local", ((DnsMessage.Name) ptr6.answers.get(0).data()).target());
        // an address the cluster doesn't know falls through to the upstream (which says NXDOMAIN, without SOA)
        DnsMessage unknown = udp("4.3.2.1.in-addr.arpa", PTR);
        assertEquals(NXDOMAIN, unknown.rcode);
        assertFalse(unknown.aa);
        assertTrue(upstream.names.contains("4.3.2.1.in-addr.arpa"));

        DnsMessage soa = udp(ZONE, SOA);
        assertEquals(SOA, soa.answers.get(0).type());
        DnsMessage.Soa s = (DnsMessage.Soa) soa.answers.get(0).data();
        assertEquals("ns.dns.cluster.local", s.mname());
        assertEquals(5, s.minimum());
        DnsMessage ns = udp(ZONE, NS);
        assertEquals("ns.dns.cluster.local", ((DnsMessage.Name) ns.answers.get(0).data()).target());
        assertEquals(Set.of("127.0.0.1"), addresses(ns.additional), "no kube-dns Service here: the server's own address");
        assertNegative(udp(ZONE, A), NOERROR);
        assertEquals(List.of("1.1.0"), ((DnsMessage.Txt) udp("dns-version.cluster.local", TXT).answers.get(0).data()).strings());
    }

    @Test
    @DisplayName("NXDOMAIN for names that don't exist, NODATA (NOERROR) for empty non-terminals, both with the SOA")
    void negatives() throws Exception {
        awaitAnswer("web." + NS_ + ".svc.cluster.local", A, m -> !m.answers.isEmpty());
        assertNegative(udp("nosuch." + NS_ + ".svc.cluster.local", A), NXDOMAIN);
        assertNegative(udp(NS_ + ".svc.cluster.local", A), NOERROR);
        assertNegative(udp("svc.cluster.local", A), NOERROR);
        assertNegative(udp("nosuchns.svc.cluster.local", A), NXDOMAIN);
        assertNegative(udp("a.b.web." + NS_ + ".svc.cluster.local", A), NXDOMAIN);
        assertNegative(udp("whatever.cluster.local", A), NXDOMAIN);
    }

    @Test
    @DisplayName("other names go upstream with a new ID and come back with the client's; no answer in time is SERVFAIL")
    void forwarding() throws Exception {
        DnsMessage q = DnsMessage.query(4242, "www.example.test", A);
        DnsMessage r = udp(server, q.encode());
        assertEquals(4242, r.id);
        assertEquals(Set.of("192.0.2.10"), addresses(r.answers));
        int i = upstream.names.lastIndexOf("www.example.test");
        assertNotEquals(4242, (int) upstream.ids.get(i), "the upstream sees the forwarder's ID (1 in 65536 to collide)");

        DnsMessage t = tcp(server, DnsMessage.query(4343, "tcp.example.test", A).encode());
        assertEquals(4343, t.id);
        assertEquals(Set.of("192.0.2.10"), addresses(t.answers));

        long t0 = System.nanoTime();
        DnsMessage slow = udp("slow.example.test", A);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(DnsMessage.SERVFAIL, slow.rcode);
        assertTrue(ms >= 600 && ms < 2500, "SERVFAIL after the 800 ms timeout, took " + ms + " ms");
        assertEquals(DnsMessage.SERVFAIL, tcp(server, DnsMessage.query(1, "slow.example.test", A).encode()).rcode);
    }

    @Test
    @DisplayName("EDNS0: the OPT record is echoed; an answer too big for UDP has TC set and comes whole over TCP")
    void ednsAndTruncation() throws Exception {
        String many = "many." + NS_ + ".svc.cluster.local";
        DnsMessage plain = awaitAnswer(many, A, m -> m.tc);
        assertTrue(plain.answers.isEmpty());
        assertEquals(-1, plain.udpSize, "no OPT in the reply to a query without one");

        DnsMessage q = DnsMessage.query(5, many, A);
        q.udpSize = 4096;
        DnsMessage edns = udp(server, q.encode());
        assertFalse(edns.tc);
        assertEquals(60, edns.answers.size());
        assertEquals(ClusterDns.UDP_PAYLOAD, edns.udpSize);

        DnsMessage whole = tcp(server, DnsMessage.query(6, many, A).encode());
        assertFalse(whole.tc);
        assertEquals(60, whole.answers.size());

        q.ednsVersion = 1;
        DnsMessage badvers = udp(server, q.encode());
        assertEquals(DnsMessage.BADVERS, badvers.rcode);
        assertEquals(0, badvers.ednsVersion);
    }

    @Test
    @DisplayName("malformed queries get FORMERR (or nothing) and the server keeps answering, over UDP and TCP")
    void malformed() throws Exception {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            s.setSoTimeout(500);
            s.send(new DatagramPacket(new byte[] {1, 2, 3}, 3, server));
            assertThrows(SocketTimeoutException.class, () -> s.receive(new DatagramPacket(new byte[512], 512)));
        }
        // a header announcing one question, then a self-referencing pointer
        byte[] loop = DnsMessageTest.hex("abcd 0100 0001 0000 0000 0000 c00c 0001 0001");
        DnsMessage formerr = udp(server, loop);
        assertEquals(0xABCD, formerr.id);
        assertEquals(DnsMessage.FORMERR, formerr.rcode);
        assertEquals(DnsMessage.FORMERR, tcp(server, loop).rcode);
        // two questions: FORMERR too; an IQUERY (opcode 1): NOTIMP
        DnsMessage two = DnsMessage.query(3, "a.example.test", A);
        two.questions.add(new DnsMessage.Question("b.example.test", A, DnsMessage.IN));
        assertEquals(DnsMessage.FORMERR, udp(server, two.encode()).rcode);
        DnsMessage iq = DnsMessage.query(4, "web." + NS_ + ".svc.cluster.local", A);
        iq.opcode = 1;
        assertEquals(DnsMessage.NOTIMP, udp(server, iq.encode()).rcode);
        // random garbage: never a crash
        java.util.Random rnd = new java.util.Random(7);
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            for (int i = 0; i < 300; i++) {
                byte[] g = new byte[rnd.nextInt(80)];
                rnd.nextBytes(g);
                if (g.length > 2) g[2] &= (byte) 0x7F; // queries, not answers (those are dropped)
                s.send(new DatagramPacket(g, g.length, server));
            }
        }
        assertFalse(udp("web." + NS_ + ".svc.cluster.local", A).answers.isEmpty());
    }

    @Test
    @DisplayName("changes follow the API: a new Service appears, a deleted pod leaves the headless answer, a deleted Service is NXDOMAIN")
    void updates() throws Exception {
        service("late", "\"ports\":[{\"port\":80}]");
        awaitAnswer("late." + NS_ + ".svc.cluster.local", A, m -> !m.answers.isEmpty());
        client.delete("/api/v1/namespaces/" + NS_ + "/services/late", null);
        awaitAnswer("late." + NS_ + ".svc.cluster.local", A, m -> m.rcode == NXDOMAIN);

        pod("tmp-0", "app: tmp", "", "");
        service("tmp", "\"clusterIP\":\"None\",\"selector\":{\"app\":\"tmp\"},\"ports\":[{\"port\":80}]");
        awaitAnswer("tmp." + NS_ + ".svc.cluster.local", A, m -> m.answers.size() == 1);
        client.delete("/api/v1/namespaces/" + NS_ + "/pods/tmp-0", null);
        DnsMessage gone = awaitAnswer("tmp." + NS_ + ".svc.cluster.local", A, m -> m.answers.isEmpty());
        assertEquals(NOERROR, gone.rcode, "the Service still exists: NODATA");
    }

    @Test
    @DisplayName("real resolvers agree: busybox nslookup (port 53 on a loopback address of our own) and dig over UDP and TCP")
    void realClients() throws Exception {
        awaitAnswer("db." + NS_ + ".svc.cluster.local", A, m -> m.answers.size() == 3);
        String ip = clusterIp("web");
        if (!Files.isExecutable(Path.of("/usr/bin/busybox"))) io.k3j.agent.host.Packages.ensure("busybox-static");
        // busybox nslookup only speaks to port 53: a second server on a random 127.x address
        InetAddress loop = null;
        ClusterDns on53 = null;
        Informer services = new Informer(client, "/api/v1/services", Map.of(), null);
        Informer slices = new Informer(client, "/apis/discovery.k8s.io/v1/endpointslices", Map.of(), null);
        try {
            for (int i = 0; i < 10 && on53 == null; i++) {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                loop = InetAddress.getByAddress(new byte[] {127, (byte) (100 + r.nextInt(100)), (byte) r.nextInt(256), (byte) (1 + r.nextInt(250))});
                ClusterDns d = new ClusterDns(ClusterDns.Config.of(new InetSocketAddress(loop, 53), ZONE, List.of(upstream.address())),
                        services, slices, null);
                try {
                    d.start();
                    on53 = d;
                } catch (java.io.UncheckedIOException e) {
                    d.close();
                }
            }
            assertTrue(on53 != null, "a loopback address with port 53 free");
            services.start();
            slices.start();
            assertTrue(services.awaitSynced(Duration.ofSeconds(20)) && slices.awaitSynced(Duration.ofSeconds(20)));
            InetSocketAddress second = on53.address();
            cluster.await("the second server to know db", Duration.ofSeconds(20), () -> {
                try {
                    return udp(second, DnsMessage.query(1, "db." + NS_ + ".svc.cluster.local", A).encode()).answers.size() == 3;
                } catch (IOException e) {
                    return false;
                }
            });
            String out = run("busybox", "nslookup", "web." + NS_ + ".svc.cluster.local", loop.getHostAddress());
            assertTrue(out.contains("Address: " + ip), out);
            String headless = run("busybox", "nslookup", "db-0.db." + NS_ + ".svc.cluster.local", loop.getHostAddress());
            assertTrue(headless.contains("Address: " + podIps("db-0").iterator().next()), headless);
            String srv = run("busybox", "nslookup", "-type=srv", "_pg._tcp.db." + NS_ + ".svc.cluster.local", loop.getHostAddress());
            assertTrue(srv.contains("5432 db-0.db." + NS_ + ".svc.cluster.local"), srv);
            String nx = run("busybox", "nslookup", "nosuch." + NS_ + ".svc.cluster.local", loop.getHostAddress());
            assertTrue(nx.contains("NXDOMAIN"), nx);
            String fwd = run("busybox", "nslookup", "www.example.test", loop.getHostAddress());
            assertTrue(fwd.contains("Address: 192.0.2.10"), fwd);
        } finally {
            if (on53 != null) on53.close();
            services.close();
            slices.close();
        }

        if (!Files.isExecutable(Path.of("/usr/bin/dig"))) io.k3j.agent.host.Packages.ensure("bind9-dnsutils");
        String port = Integer.toString(server.getPort());
        String a = run("dig", "@127.0.0.1", "-p", port, "+short", "+tries=1", "+time=3", "web." + NS_ + ".svc.cluster.local", "A");
        assertEquals(ip, a.strip());
        String big = run("dig", "@127.0.0.1", "-p", port, "+tries=1", "+time=3", "+noedns", "many." + NS_ + ".svc.cluster.local", "A");
        assertTrue(big.contains("Truncated, retrying in TCP mode"), big);
        assertTrue(big.contains("ANSWER: 60"), big);
        String tcpSrv = run("dig", "@127.0.0.1", "-p", port, "+tcp", "+short", "_http._tcp.web." + NS_ + ".svc.cluster.local", "SRV");
        assertEquals("0 100 80 web." + NS_ + ".svc.cluster.local.", tcpSrv.strip());
        String nx = run("dig", "@127.0.0.1", "-p", port, "+tries=1", "nosuch." + NS_ + ".svc.cluster.local", "A");
        assertTrue(nx.contains("status: NXDOMAIN") && nx.contains("flags: qr aa rd ra") && nx.contains("AUTHORITY: 1"), nx);
        String ptr = run("dig", "@127.0.0.1", "-p", port, "+short", "-x", ip);
        assertEquals("web." + NS_ + ".svc.cluster.local.", ptr.strip());
    }

    static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out;
        try {
            out = p.getInputStream().readAllBytes();
            if (!p.waitFor(20, TimeUnit.SECONDS)) throw new AssertionError(String.join(" ", command) + " did not finish");
        } finally {
            p.destroyForcibly();
        }
        return new String(out, StandardCharsets.UTF_8);
    }
}
