package io.k3j.store.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3j.store.Event;
import io.k3j.store.KeyValue;
import io.k3j.store.StoreException;
import io.k3j.store.Watch;
import io.k3j.store.testing.EtcdServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * https endpoints: an etcd that serves TLS and requires client certificates ({@code --client-cert-auth}), with a CA,
 * a server and a client certificate made for the test by the openssl CLI (EC P-256, PKCS#8 keys).
 */
class EtcdTlsTest {
    @TempDir static Path dir;
    private static EtcdServer etcd;
    private static Path pki;

    @BeforeAll
    static void start() throws Exception {
        EtcdServer.ensureInstalled();
        pki = Files.createDirectories(dir.resolve("pki"));
        makeCa("ca");
        makeCert("server", "ca", "etcd", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth");
        makeCert("client", "ca", "k3j", "extendedKeyUsage=clientAuth");
        makeCa("other-ca");
        makeCert("stranger", "other-ca", "stranger", "extendedKeyUsage=clientAuth");
        etcd = EtcdServer.builder(dir.resolve("etcd"))
                .tls(pki.resolve("server.crt"), pki.resolve("server.key"), pki.resolve("ca.crt")).start();
    }

    @AfterAll
    static void stop() {
        if (etcd != null) etcd.close();
    }

    @Test
    @DisplayName("with the CA and a client certificate: reads, writes and watches over TLS (ALPN h2)")
    void mutualTls() throws Exception {
        assertThat(etcd.clientUrl().getScheme()).isEqualTo("https");
        EtcdTls tls = new EtcdTls(pki.resolve("ca.crt"), pki.resolve("client.crt"), pki.resolve("client.key"));
        try (EtcdStore store = EtcdStore.open(List.of(etcd.clientUrl()), tls)) {
            LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
            try (Watch w = store.watch("/tls/", store.currentRevision(), events::addAll)) {
                KeyValue kv = store.create("/tls/a", "secret".getBytes(UTF_8));
                assertThat(new String(store.get("/tls/a").orElseThrow().value(), UTF_8)).isEqualTo("secret");
                Event e = events.poll(10, TimeUnit.SECONDS);
                assertThat(e).isNotNull();
                assertThat(e.revision()).isEqualTo(kv.modRevision());
            }
            assertThat(store.cluster().status().version()).startsWith("3.");
        }
    }

    @Test
    @DisplayName("without a client certificate, or with one from another CA, etcd refuses the connection")
    void clientCertificateRequired() {
        assertThatThrownBy(() -> EtcdStore.open(List.of(etcd.clientUrl()), new EtcdTls(pki.resolve("ca.crt"), null, null)))
                .isInstanceOf(StoreException.class).hasMessageContaining(etcd.clientUrl().toString());
        assertThatThrownBy(() -> EtcdStore.open(List.of(etcd.clientUrl()),
                new EtcdTls(pki.resolve("ca.crt"), pki.resolve("stranger.crt"), pki.resolve("stranger.key"))))
                .isInstanceOf(StoreException.class);
    }

    @Test
    @DisplayName("a server certificate from a CA the client does not trust fails the handshake")
    void untrustedServer() {
        assertThatThrownBy(() -> EtcdStore.open(List.of(etcd.clientUrl()),
                new EtcdTls(pki.resolve("other-ca.crt"), pki.resolve("client.crt"), pki.resolve("client.key"))))
                .isInstanceOf(StoreException.class).hasMessageContaining("TLS handshake failed");
    }

    @Test
    @DisplayName("a certificate without its key is refused before connecting")
    void certWithoutKey() {
        assertThatThrownBy(() -> new EtcdTls(pki.resolve("ca.crt"), pki.resolve("client.crt"), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("certfile and keyfile");
    }

    private static void makeCa(String name) throws Exception {
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", pki.resolve(name + ".key").toString(), "-out", pki.resolve(name + ".crt").toString(),
                "-days", "2", "-subj", "/CN=" + name);
    }

    private static void makeCert(String name, String ca, String cn, String extensions) throws Exception {
        Path ext = pki.resolve(name + ".ext");
        Files.writeString(ext, extensions + "\n");
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", pki.resolve(name + ".key").toString(), "-out", pki.resolve(name + ".csr").toString(), "-subj", "/CN=" + cn);
        openssl("x509", "-req", "-in", pki.resolve(name + ".csr").toString(), "-CA", pki.resolve(ca + ".crt").toString(),
                "-CAkey", pki.resolve(ca + ".key").toString(), "-CAcreateserial", "-out", pki.resolve(name + ".crt").toString(),
                "-days", "2", "-extfile", ext.toString());
    }

    private static void openssl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), UTF_8);
        if (p.waitFor() != 0) throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
    }
}
