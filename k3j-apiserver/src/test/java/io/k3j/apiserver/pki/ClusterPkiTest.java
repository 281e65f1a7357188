package io.k3j.apiserver.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterPkiTest {

    @TempDir
    Path dataDir;

    private final MutableClock clock = new MutableClock(Instant.parse("2025-01-01T00:00:00Z"));

    private PkiOptions opts(String... sans) {
        return PkiOptions.defaults().withSans(List.of(sans)).withClock(clock);
    }

    @Test
    @DisplayName("first start writes k3s's file names with keys 0600 and certificates 0644")
    void layoutAndModes() throws Exception {
        ClusterPki.loadOrCreate(dataDir, opts());
        Path tls = dataDir.resolve("tls");
        for (String key : List.of("server-ca.key", "client-ca.key", "serving-kube-apiserver.key",
                "client-admin.key", "service.key")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.resolve(key))))
                    .as(key).isEqualTo("rw-------");
        }
        for (String crt : List.of("server-ca.crt", "client-ca.crt", "serving-kube-apiserver.crt", "client-admin.crt")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.resolve(crt))))
                    .as(crt).isEqualTo("rw-r--r--");
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tls))).isEqualTo("rwx------");
        assertThat(Files.readString(tls.resolve("client-admin.key"))).startsWith("-----BEGIN EC PRIVATE KEY-----\n");
        assertThat(Files.readString(tls.resolve("service.key"))).startsWith("-----BEGIN EC PRIVATE KEY-----\n");
        try (var files = Files.list(tls)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    @Test
    @DisplayName("CAs are P-256, self-signed, valid 10 years; leaves valid 1 year and chained to their CA")
    void certificateShapes() throws Exception {
        ClusterPki pki = ClusterPki.loadOrCreate(dataDir, opts());
        X509Certificate serverCa = pki.serverCaCertificate();
        X509Certificate clientCa = pki.clientCaCertificate();
        assertThat(serverCa.getPublicKey()).isInstanceOf(ECPublicKey.class);
        assertThat(((ECPublicKey) serverCa.getPublicKey()).getParams().getCurve().getField().getFieldSize())
                .isEqualTo(256);
        assertThat(serverCa.getBasicConstraints()).isGreaterThanOrEqualTo(0);
        assertThat(serverCa.getSubjectX500Principal().getName()).isEqualTo("CN=k3j-server-ca@1735689600");
        assertThat(clientCa.getSubjectX500Principal().getName()).isEqualTo("CN=k3j-client-ca@1735689600");
        assertThat(serverCa.getSubjectX500Principal()).isNotEqualTo(clientCa.getSubjectX500Principal());
        assertThat(Duration.between(serverCa.getNotBefore().toInstant(), serverCa.getNotAfter().toInstant()))
                .isEqualTo(Duration.ofDays(3650));
        serverCa.verify(serverCa.getPublicKey());

        X509Certificate[] serving = pki.servingCertificateChain();
        assertThat(serving).hasSize(2);
        assertThat(serving[1]).isEqualTo(serverCa);
        serving[0].verify(serverCa.getPublicKey());
        assertThat(serving[0].getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
        assertThat(serving[0].getBasicConstraints()).isEqualTo(-1);
        assertThat(serving[0].getNotAfter().toInstant()).isEqualTo(clock.instant().plus(Duration.ofDays(365)));

        List<X509Certificate> admin = Pem.parseCertificates(pki.adminCredentials().certificatePem());
        assertThat(admin).hasSize(2);
        admin.get(0).verify(clientCa.getPublicKey());
        assertThat(admin.get(1)).isEqualTo(clientCa);
        assertThat(admin.get(0).getSubjectX500Principal().getName()).isEqualTo("CN=system:admin,O=system:masters"); // RFC 2253 prints the last RDN first: encoded O then CN, as Go
        assertThat(admin.get(0).getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");

        assertThat(pki.serviceAccountKeyPair().getPublic()).isInstanceOf(ECPublicKey.class);
        assertThat(((ECPublicKey) pki.serviceAccountKeyPair().getPublic()).getParams().getOrder().bitLength())
                .isEqualTo(256);
    }

    @Test
    @DisplayName("a data dir whose service.key is RSA (made by an earlier k3j, or copied from k3s) keeps signing with it")
    void existingRsaServiceKeyIsKept() throws Exception {
        Path tls = dataDir.resolve("tls");
        SecureFiles.createPrivateDirectory(tls);
        java.security.KeyPairGenerator rsa = java.security.KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        java.security.KeyPair old = rsa.generateKeyPair();
        String pem = Pem.encode(old);
        assertThat(pem).startsWith("-----BEGIN RSA PRIVATE KEY-----\n");
        SecureFiles.write(tls.resolve("service.key"), pem, SecureFiles.KEY_MODE);

        ClusterPki pki = ClusterPki.loadOrCreate(dataDir, opts());
        assertThat(pki.serviceAccountKeyPair().getPublic()).isEqualTo(old.getPublic());
        assertThat(pki.serviceAccountKeyPair().getPrivate()).isInstanceOf(RSAPrivateCrtKey.class);
        assertThat(Files.readString(tls.resolve("service.key"))).isEqualTo(pem);
        assertThat(ClusterPki.loadOrCreate(dataDir, opts()).serviceAccountKeyPair().getPublic()).isEqualTo(old.getPublic());
    }

    @Test
    @DisplayName("the serving certificate names the fixed SANs, the first service IP and the configured ones")
    void servingSans() throws Exception {
        ClusterPki pki = ClusterPki.loadOrCreate(dataDir, opts("k3j.example.com", "192.168.5.10", "fd00::10",
                "Node-1."));
        assertThat(pki.servingSans()).containsExactlyInAnyOrder(
                "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local", "k3j.example.com", "node-1",
                "127.0.0.1", "0:0:0:0:0:0:0:1", "10.43.0.1", "192.168.5.10", "fd00:0:0:0:0:0:0:10");
        assertThat(ClusterPki.commonName(pki.servingCertificateChain()[0])).isEqualTo("kube-apiserver");
    }

    @Test
    @DisplayName("the kubernetes service IP is the first address of the service CIDR, IPv6 too")
    void serviceIp() {
        assertThat(SubjectAltNames.firstServiceIp("10.43.0.0/16").getHostAddress()).isEqualTo("10.43.0.1");
        assertThat(SubjectAltNames.firstServiceIp("10.96.5.7/12").getHostAddress()).isEqualTo("10.96.0.1");
        assertThat(SubjectAltNames.firstServiceIp("fd00:43::/112,10.43.0.0/16").getHostAddress())
                .isEqualTo("fd00:43:0:0:0:0:0:1");
        assertThatThrownBy(() -> SubjectAltNames.firstServiceIp("10.43.0.0"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected: a CIDR");
        assertThatThrownBy(() -> PkiOptions.defaults().withSans(List.of("bad name!")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SAN : \"bad name!\" (expected: an IP address or a DNS name)");
    }

    @Test
    @DisplayName("a second start loads its keys while BouncyCastle is a registered JCA provider (as client-java registers it)")
    void reloadWithBouncyCastleProvider() throws Exception {
        ClusterPki first = ClusterPki.loadOrCreate(dataDir, opts());
        boolean added = java.security.Security.addProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider()) != -1;
        try {
            ClusterPki second = ClusterPki.loadOrCreate(dataDir, opts());
            assertThat(second.serverCaPem()).isEqualTo(first.serverCaPem());
            assertThat(second.adminCredentials()).isEqualTo(first.adminCredentials());
        } finally {
            if (added) java.security.Security.removeProvider("BC");
        }
    }

    @Test
    @DisplayName("a second start loads the same CAs and leaves byte for byte")
    void reload() throws Exception {
        ClusterPki first = ClusterPki.loadOrCreate(dataDir, opts("10.0.0.5"));
        String servingBefore = Files.readString(dataDir.resolve("tls/serving-kube-apiserver.crt"));
        clock.advance(Duration.ofDays(30));
        ClusterPki second = ClusterPki.loadOrCreate(dataDir, opts("10.0.0.5"));
        assertThat(second.serverCaPem()).isEqualTo(first.serverCaPem());
        assertThat(second.clientCaPem()).isEqualTo(first.clientCaPem());
        assertThat(second.adminCredentials()).isEqualTo(first.adminCredentials());
        assertThat(second.servingCertificateChain()).isEqualTo(first.servingCertificateChain());
        assertThat(Files.readString(dataDir.resolve("tls/serving-kube-apiserver.crt"))).isEqualTo(servingBefore);
        assertThat(second.serviceAccountKeyPair().getPublic()).isEqualTo(first.serviceAccountKeyPair().getPublic());
        assertThat(second.serverCaBundle()).isEqualTo(Files.readAllBytes(dataDir.resolve("tls/server-ca.crt")));
    }

    @Test
    @DisplayName("a new --tls-san re-issues the serving certificate under the same CA; dropping one does not")
    void newSanReissuesLeafOnly() throws Exception {
        ClusterPki first = ClusterPki.loadOrCreate(dataDir, opts("10.0.0.5"));
        ClusterPki second = ClusterPki.loadOrCreate(dataDir, opts("10.0.0.5", "api.example.org"));
        assertThat(second.serverCaPem()).isEqualTo(first.serverCaPem());
        assertThat(second.servingCertificateChain()[0]).isNotEqualTo(first.servingCertificateChain()[0]);
        assertThat(second.servingSans()).contains("api.example.org", "10.0.0.5");
        second.servingCertificateChain()[0].verify(first.serverCaCertificate().getPublicKey());
        assertThat(second.adminCredentials()).isEqualTo(first.adminCredentials());

        ClusterPki third = ClusterPki.loadOrCreate(dataDir, opts("api.example.org"));
        assertThat(third.servingCertificateChain()[0]).isEqualTo(second.servingCertificateChain()[0]);
    }

    @Test
    @DisplayName("leaves are renewed within 90 days of expiry, the CAs are kept")
    void renewal() throws Exception {
        ClusterPki first = ClusterPki.loadOrCreate(dataDir, opts());
        clock.advance(Duration.ofDays(365 - 91));
        ClusterPki stillValid = ClusterPki.loadOrCreate(dataDir, opts());
        assertThat(stillValid.adminCredentials()).isEqualTo(first.adminCredentials());
        clock.advance(Duration.ofDays(2));
        ClusterPki renewed = ClusterPki.loadOrCreate(dataDir, opts());
        assertThat(renewed.adminCredentials()).isNotEqualTo(first.adminCredentials());
        assertThat(renewed.servingCertificateChain()[0]).isNotEqualTo(first.servingCertificateChain()[0]);
        assertThat(renewed.clientCaPem()).isEqualTo(first.clientCaPem());
        assertThat(renewed.servingCertificateChain()[0].getNotAfter().toInstant())
                .isEqualTo(clock.instant().plus(Duration.ofDays(365)));
    }

    @Test
    @DisplayName("a leaf whose key no longer matches (crash between writes) is re-issued")
    void mismatchedKeyReissued() throws Exception {
        ClusterPki first = ClusterPki.loadOrCreate(dataDir, opts());
        Path tls = dataDir.resolve("tls");
        Files.copy(tls.resolve("serving-kube-apiserver.key"), tls.resolve("client-admin.key"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ClusterPki second = ClusterPki.loadOrCreate(dataDir, opts());
        assertThat(second.adminCredentials()).isNotEqualTo(first.adminCredentials());
        assertThat(Certificates.pairs(Pem.parseCertificates(second.adminCredentials().certificatePem()).get(0)
                .getPublicKey(), Pem.parsePrivateKey(second.adminCredentials().privateKeyPem()))).isTrue();
    }

    @Test
    @DisplayName("a CA certificate without its key stops the start instead of silently replacing the CA")
    void halfCaIsAnError() throws Exception {
        ClusterPki.loadOrCreate(dataDir, opts());
        Files.delete(dataDir.resolve("tls/client-ca.key"));
        assertThatThrownBy(() -> ClusterPki.loadOrCreate(dataDir, opts()))
                .isInstanceOf(java.io.IOException.class)
                .hasMessageContaining("client-ca.crt without")
                .hasMessageContaining("client-ca.key");
    }

    @Test
    @DisplayName("issued node client certificates and kubelet serving certificates chain to the right CA")
    void issuing() throws Exception {
        ClusterPki pki = ClusterPki.loadOrCreate(dataDir, opts());
        CertAndKey node = pki.issueClientCert("system:node:agent-1", List.of("system:nodes"), Duration.ofDays(30));
        List<X509Certificate> chain = Pem.parseCertificates(node.certificatePem());
        chain.get(0).verify(pki.clientCaCertificate().getPublicKey());
        assertThat(chain.get(0).getSubjectX500Principal().getName()).isEqualTo("CN=system:node:agent-1,O=system:nodes");
        assertThat(chain.get(0).getNotAfter().toInstant()).isEqualTo(clock.instant().plus(Duration.ofDays(30)));
        assertThat(Certificates.pairs(chain.get(0).getPublicKey(), Pem.parsePrivateKey(node.privateKeyPem()))).isTrue();
        assertThat(node.toString()).doesNotContain("PRIVATE");

        CertAndKey kubelet = pki.issueServingCert("agent-1", List.of("agent-1", "10.0.0.7"), Duration.ofDays(365));
        X509Certificate leaf = Pem.parseCertificates(kubelet.certificatePem()).get(0);
        leaf.verify(pki.serverCaCertificate().getPublicKey());
        assertThat(SubjectAltNames.namesOf(leaf)).containsExactly("agent-1", "10.0.0.7");
        assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");

        assertThatThrownBy(() -> pki.issueClientCert("", List.of(), Duration.ofDays(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> pki.issueClientCert("x", List.of(), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("validity : PT0S (expected: > 0)");
    }
}
