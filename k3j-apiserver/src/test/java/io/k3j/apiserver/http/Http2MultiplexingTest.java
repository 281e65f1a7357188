package io.k3j.apiserver.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3j.apiserver.pki.ClusterPki;
import io.k3j.apiserver.pki.PkiOptions;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many requests in flight on one HTTP/2 connection, answered in any order by handlers on virtual threads: each
 * stream gets its own answer, whole, although the server consolidates the flushes of streams answered together.
 */
class Http2MultiplexingTest {

    @TempDir
    Path dataDir;

    private ApiHttpServer server;
    private HttpClient client;

    @BeforeEach
    void start() throws Exception {
        ClusterPki pki = ClusterPki.loadOrCreate(dataDir, PkiOptions.defaults());
        server = new ApiHttpServer(new InetSocketAddress("127.0.0.1", 0), pki.serverSslContext(), Http2MultiplexingTest::answer, 1 << 20);
        server.start();
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(trusting(pki.serverCaCertificate()))
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    @AfterEach
    void stop() {
        if (client != null) client.close();
        if (server != null) server.close();
    }

    /** Echoes the request after a random pause, so answers leave in another order than requests came; /stream streams. */
    private static void answer(ApiRequest req, HttpExchange ex) throws Exception {
        Thread.sleep(ThreadLocalRandom.current().nextInt(20));
        if (req.path().equals("/stream")) {
            try (HttpExchange.Stream s = ex.stream(200, "text/plain", Map.of())) {
                for (int i = 0; i < 5; i++) s.write(("line " + i + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return;
        }
        byte[] body = (req.method() + " " + req.path() + "?n=" + req.param("n") + " " + new String(req.body(), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
        ex.send(201, "text/plain", body, Map.of("X-Path", req.path()));
    }

    @Test
    @DisplayName("Given one HTTP/2 connection, when 200 requests are in flight at once, then each stream gets its own answer")
    void concurrentStreamsOnOneConnection() throws Exception {
        URI base = URI.create("https://127.0.0.1:" + server.port());
        // one request first: a fresh JDK client opens a connection per concurrent request until HTTP/2 is known
        HttpResponse<String> first = client.send(HttpRequest.newBuilder(base.resolve("/first")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(first.version()).isEqualTo(HttpClient.Version.HTTP_2);

        List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            HttpRequest r = HttpRequest.newBuilder(base.resolve("/item/" + i + "?n=" + i)).timeout(Duration.ofSeconds(30))
                    .POST(HttpRequest.BodyPublishers.ofString("body-" + i)).build();
            pending.add(client.sendAsync(r, HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture<HttpResponse<String>> streamed = client.sendAsync(HttpRequest.newBuilder(base.resolve("/stream")).build(),
                HttpResponse.BodyHandlers.ofString());
        for (int i = 0; i < 200; i++) {
            HttpResponse<String> r = pending.get(i).get();
            assertThat(r.statusCode()).isEqualTo(201);
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(r.headers().firstValue("x-path")).contains("/item/" + i);
            assertThat(r.body()).isEqualTo("POST /item/" + i + "?n=" + i + " body-" + i);
        }
        assertThat(streamed.get().body()).isEqualTo("line 0\nline 1\nline 2\nline 3\nline 4\n");
    }

    @Test
    @DisplayName("Given HTTP/2 requests with Expect: 100-continue, when the body fits it is read and answered, and when its declared length is over the limit a 413 Status comes back")
    void expectContinueAndOversizedBodies() throws Exception {
        URI base = URI.create("https://127.0.0.1:" + server.port());
        client.send(HttpRequest.newBuilder(base.resolve("/first")).build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> small = client.send(HttpRequest.newBuilder(base.resolve("/small")).expectContinue(true)
                .POST(HttpRequest.BodyPublishers.ofString("hello")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(small.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(small.statusCode()).isEqualTo(201);
        assertThat(small.body()).isEqualTo("POST /small?n=null hello");

        byte[] big = new byte[(1 << 20) + 1];
        HttpResponse<String> tooBig = client.send(HttpRequest.newBuilder(base.resolve("/big")).expectContinue(true)
                .POST(HttpRequest.BodyPublishers.ofByteArray(big)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(tooBig.statusCode()).isEqualTo(413);
        assertThat(tooBig.body()).contains("\"reason\":\"RequestEntityTooLarge\"");
        // the connection still serves
        HttpResponse<String> after = client.send(HttpRequest.newBuilder(base.resolve("/after")).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(after.statusCode()).isEqualTo(201);
    }

    private static SSLContext trusting(X509Certificate ca) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        ks.setCertificateEntry("ca", (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(ca.getEncoded())));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
