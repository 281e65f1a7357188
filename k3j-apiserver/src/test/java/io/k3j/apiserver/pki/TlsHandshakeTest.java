package io.k3j.apiserver.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.k3j.apiserver.auth.Authenticator;
import io.k3j.apiserver.auth.Credentials;
import io.k3j.apiserver.auth.UserInfo;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslHandler;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end: a tiny Netty server on the real {@link ClusterPki#serverSslContext()} answering with the user the
 * authenticators see, spoken to by the JDK's clients and, when installed, by kubectl (Go's TLS stack).
 */
class TlsHandshakeTest {

    @TempDir
    static Path dataDir;

    private static ClusterPki pki;
    private static EventLoopGroup group;
    private static Channel server;
    private static int port;
    private static final String JOIN_PASSWORD = "0123456789abcdef0123456789abcdef";

    @BeforeAll
    static void start() throws Exception {
        pki = ClusterPki.loadOrCreate(dataDir, PkiOptions.defaults());
        Authenticator authn = Authenticator.union(
                Authenticator.clientCertificates(List.of(pki.clientCaCertificate()), Clock.systemUTC()),
                Authenticator.joinToken(JOIN_PASSWORD, JOIN_PASSWORD));
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) throws Exception {
                        ch.pipeline().addLast(pki.serverSslContext().newHandler(ch.alloc()),
                                new Negotiation(authn));
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
        port = ((InetSocketAddress) server.localAddress()).getPort();
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close().sync();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** Picks HTTP/2 or HTTP/1.1 by ALPN, then answers every request with {@code <user> <groups> <protocol>}. */
    private static final class Negotiation extends ApplicationProtocolNegotiationHandler {
        private final Authenticator authn;

        Negotiation(Authenticator authn) {
            super(ApplicationProtocolNames.HTTP_1_1);
            this.authn = authn;
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                ctx.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(),
                        new Http2MultiplexHandler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel stream) {
                                stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true),
                                        new HttpObjectAggregator(65536), new WhoAmI(authn, ssl, "h2"));
                            }
                        }));
            } else {
                ctx.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                        new WhoAmI(authn, ssl, "http/1.1"));
            }
        }
    }

    private static final class WhoAmI extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Authenticator authn;
        private final SslHandler ssl;
        private final String protocol;

        WhoAmI(Authenticator authn, SslHandler ssl, String protocol) {
            this.authn = authn;
            this.ssl = ssl;
            this.protocol = protocol;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            X509Certificate[] peer = null;
            try {
                Certificate[] certs = ssl.engine().getSession().getPeerCertificates();
                peer = java.util.Arrays.copyOf(certs, certs.length, X509Certificate[].class);
            } catch (SSLPeerUnverifiedException e) {
                // anonymous TLS client
            }
            Credentials creds = Credentials.fromAuthorizationHeader(
                    req.headers().get(HttpHeaderNames.AUTHORIZATION), peer);
            var user = authn.authenticate(creds);
            String body = user.map(u -> u.name() + " " + String.join(",", u.groups()) + " " + protocol)
                    .orElse("anonymous " + protocol);
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    user.isPresent() ? HttpResponseStatus.OK : HttpResponseStatus.UNAUTHORIZED,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, resp.content().readableBytes());
            ctx.writeAndFlush(resp);
        }
    }

    private static SSLContext clientContext(CertAndKey identity) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", pki.serverCaCertificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (identity != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            List<X509Certificate> chain = new ArrayList<>();
            for (Certificate c : java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(
                    new ByteArrayInputStream(identity.certificatePem().getBytes(StandardCharsets.US_ASCII)))) {
                chain.add((X509Certificate) c);
            }
            keys.setKeyEntry("me", Pem.parsePrivateKey(identity.privateKeyPem()), new char[0],
                    chain.toArray(Certificate[]::new));
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, new char[0]);
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    private static HttpResponse<String> get(CertAndKey identity, HttpClient.Version version, String host,
                                            String bearer) throws Exception {
        try (HttpClient client = HttpClient.newBuilder().sslContext(clientContext(identity)).version(version)
                .connectTimeout(Duration.ofSeconds(10)).build()) {
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("https://" + host + ":" + port + "/whoami"))
                    .timeout(Duration.ofSeconds(10));
            if (bearer != null) {
                req.header("Authorization", "Bearer " + bearer);
            }
            return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    @Test
    @DisplayName("the admin certificate authenticates as system:admin in system:masters over HTTP/2")
    void adminOverHttp2() throws Exception {
        HttpResponse<String> resp = get(pki.adminCredentials(), HttpClient.Version.HTTP_2, "127.0.0.1", null);
        assertThat(resp.statusCode()).isEqualTo(200);
        assertThat(resp.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(resp.body()).isEqualTo("system:admin system:masters,system:authenticated h2");
    }

    @Test
    @DisplayName("HTTP/1.1 clients are served too, and the DNS SAN localhost verifies")
    void adminOverHttp1ByName() throws Exception {
        HttpResponse<String> resp = get(pki.adminCredentials(), HttpClient.Version.HTTP_1_1, "localhost", null);
        assertThat(resp.body()).isEqualTo("system:admin system:masters,system:authenticated http/1.1");
    }

    @Test
    @DisplayName("without a client certificate the handshake succeeds and the request is anonymous")
    void anonymous() throws Exception {
        HttpResponse<String> resp = get(null, HttpClient.Version.HTTP_2, "127.0.0.1", null);
        assertThat(resp.statusCode()).isEqualTo(401);
        assertThat(resp.body()).isEqualTo("anonymous h2");
    }

    @Test
    @DisplayName("an issued node certificate authenticates as system:node:<name> in system:nodes")
    void nodeCertificate() throws Exception {
        CertAndKey node = pki.issueClientCert("system:node:agent-1", List.of("system:nodes"), Duration.ofHours(1));
        HttpResponse<String> resp = get(node, HttpClient.Version.HTTP_2, "127.0.0.1", null);
        assertThat(resp.body()).isEqualTo("system:node:agent-1 system:nodes,system:authenticated h2");
    }

    @Test
    @DisplayName("the join password as a bearer token authenticates the joiner")
    void joinerBearer() throws Exception {
        HttpResponse<String> resp = get(null, HttpClient.Version.HTTP_1_1, "127.0.0.1", JOIN_PASSWORD);
        assertThat(resp.body())
                .isEqualTo("system:k3j:joiner system:k3j:agents,system:k3j:servers,system:authenticated http/1.1");
    }

    @Test
    @DisplayName("a client certificate from a foreign CA is not offered by the JDK, and fails the handshake if forced")
    void foreignClientCa(@TempDir Path other) throws Exception {
        // CA names carry their creation second (k3j-client-ca@<unix>, as in k3s): made in the same second as
        // the server's, the foreign CA would have the same name, and the JDK would offer its certificate
        ClusterPki foreign = ClusterPki.loadOrCreate(other, PkiOptions.defaults()
                .withClock(java.time.Clock.offset(java.time.Clock.systemUTC(), Duration.ofHours(-1))));
        // The JDK client only offers a certificate whose issuer the server's CertificateRequest names.
        HttpResponse<String> resp = get(foreign.adminCredentials(), HttpClient.Version.HTTP_1_1, "127.0.0.1", null);
        assertThat(resp.body()).isEqualTo("anonymous http/1.1");

        // Go clients (kubectl) send the configured certificate regardless; the server must refuse it.
        SSLContext forced = SSLContext.getInstance("TLS");
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("me", Pem.parsePrivateKey(foreign.adminCredentials().privateKeyPem()), new char[0],
                Pem.parseCertificates(foreign.adminCredentials().certificatePem()).toArray(Certificate[]::new));
        kmf.init(keys, new char[0]);
        javax.net.ssl.X509KeyManager delegate = (javax.net.ssl.X509KeyManager) kmf.getKeyManagers()[0];
        javax.net.ssl.X509KeyManager always = new javax.net.ssl.X509ExtendedKeyManager() {
            @Override
            public String[] getClientAliases(String keyType, java.security.Principal[] issuers) {
                return new String[] {"me"};
            }

            @Override
            public String chooseClientAlias(String[] keyType, java.security.Principal[] issuers,
                                            java.net.Socket socket) {
                return "me";
            }

            @Override
            public String[] getServerAliases(String keyType, java.security.Principal[] issuers) {
                return null;
            }

            @Override
            public String chooseServerAlias(String keyType, java.security.Principal[] issuers,
                                            java.net.Socket socket) {
                return null;
            }

            @Override
            public X509Certificate[] getCertificateChain(String alias) {
                return delegate.getCertificateChain(alias);
            }

            @Override
            public java.security.PrivateKey getPrivateKey(String alias) {
                return delegate.getPrivateKey(alias);
            }
        };
        forced.init(new javax.net.ssl.KeyManager[] {always}, clientContextTrust(), null);
        try (SSLSocket socket = (SSLSocket) forced.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            // TLS 1.3 reports the server's rejection of the client certificate on the first read.
            assertThatThrownBy(() -> {
                socket.startHandshake();
                socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                socket.getInputStream().read();
            }).isInstanceOf(javax.net.ssl.SSLException.class);
        }
    }

    private static javax.net.ssl.TrustManager[] clientContextTrust() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", pki.serverCaCertificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        return tmf.getTrustManagers();
    }

    @Test
    @DisplayName("a client that does not trust the server CA rejects the server")
    void serverVerifiedByCa() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, null, null); // the JDK's public roots only
        try (SSLSocket socket = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            assertThatThrownBy(socket::startHandshake).isInstanceOf(SSLHandshakeException.class);
        }
    }

    @Test
    @DisplayName("ALPN selects h2 when offered first, http/1.1 when only it is offered")
    void alpn() throws Exception {
        assertThat(negotiate("h2", "http/1.1")).isEqualTo("h2");
        assertThat(negotiate("http/1.1")).isEqualTo("http/1.1");
    }

    private static String negotiate(String... protocols) throws Exception {
        try (SSLSocket socket = (SSLSocket) clientContext(null).getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            SSLParameters params = socket.getSSLParameters();
            params.setApplicationProtocols(protocols);
            socket.setSSLParameters(params);
            socket.startHandshake();
            assertThat(socket.getSession().getPeerCertificates()[0]).isEqualTo(pki.servingCertificateChain()[0]);
            return socket.getApplicationProtocol();
        }
    }

    @Test
    @DisplayName("kubectl (Go TLS, ECDSA, HTTP/2) authenticates with the written admin kubeconfig")
    void kubectl(@TempDir Path home) throws Exception {
        Path kubectl = Path.of("/usr/bin/kubectl");
        assumeTrue(Files.isExecutable(kubectl), "kubectl not installed");
        for (String host : List.of("127.0.0.1", "localhost")) {
            Path config = home.resolve("kubeconfig-" + host);
            KubeconfigWriter.write(config, 0600, "https://" + host + ":" + port, pki.serverCaPem(),
                    pki.adminCredentials());
            ProcessBuilder pb = new ProcessBuilder(kubectl.toString(), "--kubeconfig", config.toString(),
                    "--request-timeout=20s", "get", "--raw", "/whoami").redirectErrorStream(true);
            pb.environment().put("HOME", home.toString());
            Process p = pb.start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(out).as(host).isEqualTo("system:admin system:masters,system:authenticated h2");
            assertThat(p.exitValue()).isZero();
        }
    }
}
