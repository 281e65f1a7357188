package io.k3j.agent.join;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.k3j.agent.kube.KubeClient;
import io.k3j.agent.kube.TlsMaterial;
import io.k3j.api.ApiException;
import io.k3j.apiserver.pki.ClusterToken;
import io.k3j.controllers.testing.Kubectl;
import io.k3j.controllers.testing.TestCluster;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class JoinTest {
    static TestCluster cluster;
    static URI server;
    static String hash;
    static String password;
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(List.of());
        server = URI.create("https://127.0.0.1:" + cluster.controlPlane().port());
        ClusterToken t = cluster.controlPlane().token();
        hash = t.token().caHash().orElseThrow();
        password = t.password();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) cluster.close();
    }

    @BeforeEach
    void dir() throws Exception {
        dir = Files.createTempDirectory("k3j-join-test");
    }

    @AfterEach
    void clean() throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static String token() {
        return "K10" + hash + "::node:" + password;
    }

    @Test
    void joinsWithTheTokenAndGetsANodeIdentity() throws Exception {
        Join.Joined j = Join.bootstrap(server, token(), "edge-1", List.of("10.9.8.7"), dir);
        try (KubeClient c = j.client()) {
            X509Certificate client = TlsMaterial.certificates(j.clientCertPem()).getFirst();
            assertEquals(cluster.controlPlane().pki().clientCaPem(), j.clientCaPem());
            // the API server's identity towards kubelets is signed by that client CA
            TlsMaterial.certificates(cluster.controlPlane().pki().kubeletClientCredentials().certificatePem()).getFirst()
                    .verify(TlsMaterial.certificates(j.clientCaPem()).getFirst().getPublicKey());
            assertEquals("CN=system:node:edge-1,O=system:nodes", client.getSubjectX500Principal().getName());
            X509Certificate serving = TlsMaterial.certificates(j.servingCertPem()).getFirst();
            String sans = serving.getSubjectAlternativeNames().toString();
            assertTrue(sans.contains("edge-1") && sans.contains("10.9.8.7") && sans.contains("127.0.0.1")
                    && sans.contains("localhost"), sans);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("tls/client-kubelet.key"))));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("etc/kubelet.kubeconfig"))));

            // a kubelet's rights: read pods, write its node; nothing more
            c.list("/api/v1/pods", Map.of("fieldSelector", "spec.nodeName=edge-1"));
            c.list("/api/v1/namespaces/default/configmaps", Map.of());
            ApiException denied = assertThrows(ApiException.class, () -> c.delete("/api/v1/namespaces/default", null));
            assertEquals(403, denied.code());
            assertTrue(denied.getMessage().contains("system:node:edge-1"), denied.getMessage());

            // the written kubeconfig works for the real kubectl, with the node's identity
            Kubectl.Result r = Kubectl.run(j.kubeconfig(), "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}");
            assertEquals("system:node:edge-1", r.out().strip(), r.out());
        }

        // a restart reuses the certificates; another node name gets new ones
        String before = Files.readString(dir.resolve("tls/client-kubelet.crt"));
        try (KubeClient c = Join.bootstrap(server, token(), "edge-1", List.of("10.9.8.7"), dir).client()) {
            assertEquals(before, Files.readString(dir.resolve("tls/client-kubelet.crt")));
        }
        try (KubeClient c = Join.bootstrap(server, token(), "edge-1b", List.of("10.9.8.7"), dir).client()) {
            assertNotEquals(before, Files.readString(dir.resolve("tls/client-kubelet.crt")));
        }
    }

    @Test
    void theServerSideSpeaksK3s() throws Exception {
        try (java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
                .sslContext(TlsMaterial.context(cluster.controlPlane().pki().serverCaPem(), null, null)).build()) {
            var ca = http.send(java.net.http.HttpRequest.newBuilder(server.resolve("/cacerts")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, ca.statusCode());
            assertTrue(java.util.Arrays.equals(cluster.controlPlane().pki().serverCaBundle(), ca.body()));
            var ping = http.send(java.net.http.HttpRequest.newBuilder(server.resolve("/ping")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals("pong", ping.body());
            // no credentials: 401 as a Status
            var anonymous = http.send(java.net.http.HttpRequest.newBuilder(server.resolve("/v1-k3s/client-kubelet.crt"))
                    .header("k3s-Node-Name", "edge-9").header("k3s-Node-Password", "p").build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(401, anonymous.statusCode());
            assertTrue(anonymous.body().contains("\"kind\":\"Status\""), anonymous.body());
            // k3s's GET form: the server makes the key and answers certificate chain + key
            String basic = java.util.Base64.getEncoder().encodeToString(("node:" + password).getBytes());
            var k3s = http.send(java.net.http.HttpRequest.newBuilder(server.resolve("/v1-k3s/serving-kubelet.crt"))
                    .header("Authorization", "Basic " + basic).header("k3s-Node-Name", "edge-9")
                    .header("k3s-Node-Password", "p").header("k3s-Node-IP", "10.0.0.9").build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, k3s.statusCode(), k3s.body());
            X509Certificate serving = TlsMaterial.certificates(k3s.body()).getFirst();
            assertEquals("CN=edge-9", serving.getSubjectX500Principal().getName());
            assertTrue(serving.getSubjectAlternativeNames().toString().contains("10.0.0.9"));
            TlsMaterial.privateKey(k3s.body());
            // the node name is required
            var missingName = http.send(java.net.http.HttpRequest.newBuilder(server.resolve("/v1-k3s/client-kubelet.crt"))
                    .header("Authorization", "Basic " + basic).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(400, missingName.statusCode());
            assertTrue(missingName.body().contains("k3s-Node-Name"), missingName.body());
        }
    }

    @Test
    void anOfflineRestartUsesTheCertificatesOnDisk() throws Exception {
        Join.bootstrap(server, token(), "edge-6", List.of(), dir).client().close();
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        URI gone = URI.create("https://127.0.0.1:" + port);
        Join.Joined j = Join.bootstrap(gone, token(), "edge-6", List.of(), dir);
        try (KubeClient c = j.client()) {
            assertEquals("CN=system:node:edge-6,O=system:nodes",
                    TlsMaterial.certificates(j.clientCertPem()).getFirst().getSubjectX500Principal().getName());
            assertThrows(KubeClient.Unreachable.class, () -> c.list("/api/v1/nodes", Map.of()));
        }
        // without certificates there is nothing to fall back on
        Path empty = Files.createTempDirectory("k3j-join-empty");
        try {
            assertThrows(KubeClient.Unreachable.class, () -> Join.bootstrap(gone, token(), "edge-7", List.of(), empty));
        } finally {
            try (Stream<Path> s = Files.walk(empty)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void aWrongPasswordIsRefusedClearly() {
        JoinException e = assertThrows(JoinException.class,
                () -> Join.bootstrap(server, "K10" + hash + "::node:not-the-password", "edge-2", List.of(), dir));
        assertEquals("the server refused the join token (401): check --token", e.getMessage());
        JoinException bare = assertThrows(JoinException.class,
                () -> Join.bootstrap(server, "not-the-password", "edge-2", List.of(), dir));
        assertEquals("the server refused the join token (401): check --token", bare.getMessage());
    }

    @Test
    void aShortTokenJoinsWithoutPinning() {
        try (KubeClient c = Join.bootstrap(server, password, "edge-5", List.of(), dir).client()) {
            c.list("/api/v1/nodes", Map.of());
        }
    }

    @Test
    void aTokenForAnotherCaIsRefusedBeforeSendingThePassword() {
        String other = "K10" + "0".repeat(64) + "::node:" + password;
        JoinException e = assertThrows(JoinException.class, () -> Join.bootstrap(server, other, "edge-3", List.of(), dir));
        assertTrue(e.getMessage().startsWith("token CA hash does not match the server's CA: wrong server or wrong token"),
                e.getMessage());
        assertTrue(Files.notExists(dir.resolve("tls/client-kubelet.crt")));
    }

    @Test
    void aNodeNameHeldByAnotherAgentIsRefused() throws Exception {
        try (KubeClient c = Join.bootstrap(server, token(), "edge-4", List.of(), dir).client()) {
            c.list("/api/v1/nodes", Map.of());
        }
        Path other = Files.createTempDirectory("k3j-join-other");
        try {
            JoinException e = assertThrows(JoinException.class, () -> Join.bootstrap(server, token(), "edge-4", List.of(), other));
            assertTrue(e.getMessage().contains("(403)") && e.getMessage().contains("node password rejected"), e.getMessage());
        } finally {
            try (Stream<Path> s = Files.walk(other)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        // the rightful agent, with its certificates removed, still gets new ones
        Files.delete(dir.resolve("tls/client-kubelet.crt"));
        try (KubeClient c = Join.bootstrap(server, token(), "edge-4", List.of(), dir).client()) {
            c.list("/api/v1/nodes", Map.of());
        }
    }
}
