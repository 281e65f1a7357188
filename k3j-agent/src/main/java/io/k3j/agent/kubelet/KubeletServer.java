package io.k3j.agent.kubelet;

import io.k3j.agent.host.EventLoops;
import io.k3j.agent.kube.Der;
import io.k3j.agent.kube.TlsMaterial;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * The kubelet API on :10250, over TLS with the node's serving certificate; every client must present a
 * certificate from the cluster's client CA in {@code system:masters} (the API server's {@code system:apiserver}
 * identity is one), others get 403.
 *
 * <pre>
 * GET  /healthz
 * GET  /metrics            requests served, by endpoint (Prometheus text)
 * GET  /containerLogs/{ns}/{pod}/{container}?follow&amp;previous&amp;tailLines&amp;sinceSeconds&amp;sinceTime&amp;timestamps&amp;limitBytes
 * *    /exec/{ns}/{pod}/{container}?command=..&amp;stdin&amp;stdout&amp;stderr&amp;tty   (also /exec/{ns}/{pod}/{uid}/{container})
 * *    /attach/{ns}/{pod}/{container}?stdin&amp;stdout&amp;stderr&amp;tty
 * *    /portForward/{ns}/{pod}
 * GET  /stats/summary, /metrics/resource   (io.k3j.agent.stats, when the config has a StatsProvider)
 * </pre>
 *
 * Exec, attach and port-forward ask the runtime for a streaming URL, then: a SPDY upgrade is forwarded to it and
 * the connections spliced; a WebSocket {@code v5.channel.k8s.io} upgrade is translated to SPDY
 * ({@link ChannelBridge}); a WebSocket {@code SPDY/3.1+portforward.k8s.io} tunnel is unwrapped into the runtime's
 * SPDY session ({@link TunnelBridge}).
 */
public final class KubeletServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(KubeletServer.class.getName());
    private static final String SYSTEM_MASTERS = "system:masters";

    /**
     * @param servingCertPem the node's serving certificate chain (leaf first), PEM
     * @param clientCaPem    the CA whose client certificates may call (the cluster's client CA), PEM
     */
    public record Config(InetSocketAddress bindAddress, String servingCertPem, String servingKeyPem, String clientCaPem,
                         StreamingRuntime runtime, PodLookup pods, io.k3j.agent.stats.StatsProvider stats) {
        /** A kubelet API without {@code /stats/summary} and {@code /metrics/resource} (they answer 404). */
        public Config(InetSocketAddress bindAddress, String servingCertPem, String servingKeyPem, String clientCaPem,
                      StreamingRuntime runtime, PodLookup pods) {
            this(bindAddress, servingCertPem, servingKeyPem, clientCaPem, runtime, pods, null);
        }

        public Config {
            Objects.requireNonNull(bindAddress, "bindAddress");
            Objects.requireNonNull(servingCertPem, "servingCertPem");
            Objects.requireNonNull(servingKeyPem, "servingKeyPem");
            Objects.requireNonNull(clientCaPem, "clientCaPem");
            Objects.requireNonNull(runtime, "runtime");
            Objects.requireNonNull(pods, "pods");
        }
    }

    private final Config config;
    /** The agent's shared event loops accept and serve the connections (and dial the streaming upstreams). */
    private final EventLoops.Lease loop = EventLoops.acquire();
    private final EventLoopGroup workers = loop.group();
    private final ExecutorService executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("kubelet-api-", 0).factory());
    private Channel server;

    private KubeletServer(Config config) {
        this.config = config;
    }

    /**
     * Binds and serves.
     *
     * @throws SSLException when the certificates or key can't be used
     * @throws IOException  naming the address when it can't be bound
     */
    public static KubeletServer start(Config config) throws IOException {
        KubeletServer s = new KubeletServer(config);
        try {
            s.bind();
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    private void bind() throws IOException {
        PrivateKey key;
        List<X509Certificate> chain;
        List<X509Certificate> clientCas;
        try {
            key = TlsMaterial.privateKey(config.servingKeyPem());
            chain = TlsMaterial.certificates(config.servingCertPem());
            clientCas = TlsMaterial.certificates(config.clientCaPem());
        } catch (IllegalArgumentException e) {
            throw new SSLException(e.getMessage(), e);
        }
        SslContext ssl = SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new))
                .trustManager(clientCas.toArray(X509Certificate[]::new))
                .clientAuth(ClientAuth.REQUIRE)
                .protocols("TLSv1.3", "TLSv1.2")
                .build();
        ServerBootstrap b = new ServerBootstrap().group(workers).channel(EventLoops.serverChannel(workers))
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("tls", ssl.newHandler(ch.alloc()));
                        ch.pipeline().addLast("http", new HttpServerCodec());
                        ch.pipeline().addLast("aggregate", new HttpObjectAggregator(1 << 20));
                        ch.pipeline().addLast("router", new Router());
                    }
                });
        ChannelFuture f = b.bind(config.bindAddress()).awaitUninterruptibly();
        if (!f.isSuccess()) throw new IOException("cannot listen on " + config.bindAddress() + ": " + f.cause().getMessage(), f.cause());
        server = f.channel();
    }

    /** The bound port (useful when started on port 0). */
    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        if (server != null) server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        loop.close();
        executor.shutdownNow();
    }

    // ------------------------------------------------------------------ routing

    private final class Router extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            Channel ch = ctx.channel();
            String who = caller(ch);
            if (who != null) {
                send(ch, 403, "Forbidden (user=" + who + ", verb=" + req.method().name().toLowerCase() + ", resource=nodes, subresource=proxy)");
                return;
            }
            FullHttpRequest copy = req.retainedDuplicate();
            executor.execute(() -> {
                try {
                    route(ch, copy);
                } catch (HttpError e) {
                    send(ch, e.status, e.getMessage());
                } catch (Exception e) {
                    LOG.log(System.Logger.Level.WARNING, "kubelet API: " + req.method() + " " + req.uri() + ": " + e, e);
                    send(ch, 500, e.getMessage() == null ? e.toString() : e.getMessage());
                } finally {
                    copy.release();
                }
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Null when the client may call, else its name for the 403. */
    private static String caller(Channel ch) {
        SslHandler tls = ch.pipeline().get(SslHandler.class);
        try {
            X509Certificate cert = (X509Certificate) tls.engine().getSession().getPeerCertificates()[0];
            return callerName(cert.getSubjectX500Principal().getEncoded());
        } catch (Exception e) {
            return "anonymous";
        }
    }

    private static final byte[] OID_CN = {0x06, 0x03, 0x55, 0x04, 0x03};
    private static final byte[] OID_O = {0x06, 0x03, 0x55, 0x04, 0x0a};

    /**
     * From a certificate subject (DER Name: {@code SEQUENCE OF SET OF SEQUENCE { type, value }}): null when one of
     * its organizations is system:masters, else its first common name ("unknown" without one). Read with the JDK
     * alone: the agent-only jar has no BouncyCastle.
     */
    static String callerName(byte[] subject) {
        String cn = null;
        for (Der.Element rdn : Der.Element.parse(subject).children()) {
            for (Der.Element attribute : rdn.children()) {
                List<Der.Element> typeAndValue = attribute.children();
                if (typeAndValue.size() != 2) continue;
                byte[] type = typeAndValue.get(0).encoded();
                Der.Element value = typeAndValue.get(1);
                // BMPString is UTF-16; UTF8String, PrintableString and IA5String are all read right as UTF-8
                String text = new String(value.contents(), value.tag() == 0x1e ? StandardCharsets.UTF_16BE : StandardCharsets.UTF_8);
                if (Arrays.equals(type, OID_O) && SYSTEM_MASTERS.equals(text)) return null;
                if (Arrays.equals(type, OID_CN) && cn == null) cn = text;
            }
        }
        return cn == null ? "unknown" : cn;
    }

    /** An answer other than 200, with a plain-text body (the API server turns it into a Status). */
    static final class HttpError extends RuntimeException {
        final int status;

        HttpError(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private void route(Channel ch, FullHttpRequest req) throws Exception {
        QueryStringDecoder q = new QueryStringDecoder(req.uri());
        String[] p = q.path().substring(1).split("/");
        requests.computeIfAbsent(METERED.contains(p[0]) ? p[0] : "other", k -> new java.util.concurrent.atomic.LongAdder()).increment();
        switch (p[0]) {
            case "healthz" -> send(ch, 200, "ok");
            case "metrics" -> {
                // /metrics: this server's own counters; /metrics/resource: the stats provider's resource metrics
                if (p.length == 1) sendMetrics(ch);
                else io.k3j.agent.stats.StatsHttp.respond(ch, req.method().name(), req.uri(), config.stats());
            }
            case "stats" -> io.k3j.agent.stats.StatsHttp.respond(ch, req.method().name(), req.uri(), config.stats());
            case "containerLogs" -> {
                if (p.length != 4) throw new HttpError(404, "404 page not found");
                logs(ch, q, p[1], p[2], p[3]);
            }
            case "exec", "attach" -> {
                if (p.length != 4 && p.length != 5) throw new HttpError(404, "404 page not found");
                String ns = p[1], pod = p[2], container = p[p.length - 1];
                remoteCommand(ch, req, q, p[0].equals("exec"), ns, pod, container);
            }
            case "portForward" -> {
                if (p.length != 3 && p.length != 4) throw new HttpError(404, "404 page not found");
                portForward(ch, req, q, p[1], p[2]);
            }
            default -> throw new HttpError(404, "404 page not found");
        }
    }

    private static final java.util.Set<String> METERED = java.util.Set.of("healthz", "metrics", "stats", "containerLogs", "exec", "attach", "portForward");
    private final Map<String, java.util.concurrent.atomic.LongAdder> requests = new java.util.concurrent.ConcurrentHashMap<>();

    /** Prometheus text: requests served by endpoint (kubelet's kubelet_http_requests_total, without its other labels). */
    private void sendMetrics(Channel ch) {
        StringBuilder b = new StringBuilder("# HELP kubelet_http_requests_total Number of the http requests received since the server started\n"
                + "# TYPE kubelet_http_requests_total counter\n");
        new java.util.TreeMap<>(requests).forEach((path, n) -> b.append("kubelet_http_requests_total{path=\"").append(path)
                .append("\",server_type=\"readwrite\"} ").append(n.sum()).append('\n'));
        byte[] body = b.toString().getBytes(StandardCharsets.UTF_8);
        DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        HttpUtil.setContentLength(r, body.length);
        ch.writeAndFlush(r);
    }

    // ------------------------------------------------------------------ logs

    private void logs(Channel ch, QueryStringDecoder q, String ns, String podName, String containerName) throws Exception {
        PodLookup.Pod pod = config.pods().pod(ns, podName).orElseThrow(() -> new HttpError(404, "pod \"" + podName + "\" not found"));
        PodLookup.Container c = pod.containers().get(containerName);
        if (c == null) throw new HttpError(404, "container \"" + containerName + "\" in pod \"" + podName + "\" not found");
        boolean previous = bool(q, "previous");
        Path file;
        if (previous) {
            file = previousLog(c).orElseThrow(() -> new HttpError(400,
                    "previous terminated container \"" + containerName + "\" in pod \"" + podName + "\" not found"));
        } else {
            file = c.logDir().resolve(c.attempt() + ".log");
            if (!Files.exists(file) && !c.running()) {
                throw new HttpError(400, "container \"" + containerName + "\" in pod \"" + podName + "\" is waiting to start: ContainerCreating");
            }
        }
        Instant since = null;
        if (param(q, "sinceSeconds") != null) since = Instant.now().minusSeconds(Long.parseLong(param(q, "sinceSeconds")));
        if (param(q, "sinceTime") != null) since = java.time.OffsetDateTime.parse(param(q, "sinceTime")).toInstant();
        ContainerLogs.Options opts = new ContainerLogs.Options(bool(q, "follow") && !previous, since, bool(q, "timestamps"),
                longParam(q, "tailLines"), longParam(q, "limitBytes"));
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
        head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ch.writeAndFlush(head);
        ContainerLogs.Sink sink = new ContainerLogs.Sink() {
            @Override
            public void write(byte[] bytes) throws IOException {
                if (!ch.isActive()) throw new IOException("client went away");
                ChannelFuture f = ch.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(bytes)));
                if (!ch.isWritable()) f.awaitUninterruptibly();
            }

            @Override
            public boolean isOpen() {
                return ch.isActive();
            }
        };
        try {
            // a follow ends once the container no longer runs, or a newer attempt has started
            ContainerLogs.copy(file, opts, sink, () -> config.pods().pod(ns, podName)
                    .map(now -> now.containers().get(containerName))
                    .map(now -> now.running() && now.attempt() == c.attempt()).orElse(false));
        } catch (IOException e) {
            // client gone
        }
        ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
    }

    /** The newest attempt's log before the current one. */
    private static Optional<Path> previousLog(PodLookup.Container c) throws IOException {
        if (!Files.isDirectory(c.logDir())) return Optional.empty();
        int best = -1;
        try (var files = Files.list(c.logDir())) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String n = f.getFileName().toString();
                if (!n.endsWith(".log")) continue;
                try {
                    int attempt = Integer.parseInt(n.substring(0, n.length() - 4));
                    if (attempt < c.attempt() && attempt > best) best = attempt;
                } catch (NumberFormatException e) {
                    // not an attempt's log
                }
            }
        }
        return best < 0 ? Optional.empty() : Optional.of(c.logDir().resolve(best + ".log"));
    }

    // ------------------------------------------------------------------ exec, attach, port-forward

    private void remoteCommand(Channel ch, FullHttpRequest req, QueryStringDecoder q, boolean exec, String ns, String podName,
                               String containerName) throws Exception {
        PodLookup.Pod pod = config.pods().pod(ns, podName).orElseThrow(() -> new HttpError(404, "pod \"" + podName + "\" not found"));
        PodLookup.Container c = pod.containers().get(containerName);
        if (c == null || c.id().isEmpty()) throw new HttpError(404, "container \"" + containerName + "\" in pod \"" + podName + "\" not found");
        boolean stdin = bool(q, "stdin"), stdout = bool(q, "stdout"), tty = bool(q, "tty");
        // with a TTY stderr is merged into stdout: kubelet drops the flag (CRI runtimes refuse tty and stderr together)
        boolean stderr = bool(q, "stderr") && !tty;
        if (exec && q.parameters().getOrDefault("command", List.of()).isEmpty()) throw new HttpError(400, "you must specify at least 1 command");
        if (!stdin && !stdout && !bool(q, "stderr")) throw new HttpError(400, "you must specify at least 1 of stdin, stdout, stderr");
        Protocol protocol = protocol(req, ChannelBridge.V5);
        URI url = runtimeCall(() -> exec
                ? config.runtime().exec(c.id(), q.parameters().get("command"), tty, stdin, stdout, stderr)
                : config.runtime().attach(c.id(), tty, stdin, stdout, stderr));
        if (protocol == Protocol.SPDY) {
            spliceSpdy(ch, req, url);
            return;
        }
        Upstream.Upgraded up = upgrade(url, ChannelBridge.V4);
        if (!acceptWebSocket(ch, req, ChannelBridge.V5)) {
            up.channel().close();
            return;
        }
        ChannelBridge.start(ch, up.channel(), up.early(), stdin, stdout, stderr, tty);
    }

    private void portForward(Channel ch, FullHttpRequest req, QueryStringDecoder q, String ns, String podName) throws Exception {
        PodLookup.Pod pod = config.pods().pod(ns, podName).orElseThrow(() -> new HttpError(404, "pod \"" + podName + "\" not found"));
        if (pod.sandboxId().isEmpty()) throw new HttpError(400, "pod \"" + podName + "\" has no running sandbox");
        Protocol protocol = protocol(req, TunnelBridge.PROTOCOL);
        List<Integer> ports = new ArrayList<>();
        for (String v : q.parameters().getOrDefault("ports", List.of())) {
            for (String s : v.split(",")) {
                try {
                    ports.add(Integer.parseInt(s.trim()));
                } catch (NumberFormatException e) {
                    throw new HttpError(400, "invalid port " + s);
                }
            }
        }
        URI url = runtimeCall(() -> config.runtime().portForward(pod.sandboxId(), ports));
        if (protocol == Protocol.SPDY) {
            spliceSpdy(ch, req, url);
            return;
        }
        Upstream.Upgraded up = upgrade(url, "portforward.k8s.io");
        if (!acceptWebSocket(ch, req, TunnelBridge.PROTOCOL)) {
            up.channel().close();
            return;
        }
        TunnelBridge.start(ch, up.channel(), up.early());
    }

    private enum Protocol { SPDY, WEBSOCKET }

    private static Protocol protocol(FullHttpRequest req, String webSocketProtocol) {
        String upgrade = req.headers().get(HttpHeaderNames.UPGRADE, "");
        if (upgrade.equalsIgnoreCase("websocket")) {
            String offered = req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "");
            for (String s : offered.split(",")) {
                if (s.trim().equals(webSocketProtocol)) return Protocol.WEBSOCKET;
            }
            // kubectl falls back to SPDY when the WebSocket upgrade is refused
            throw new HttpError(400, "unsupported WebSocket subprotocols " + offered + ": expected " + webSocketProtocol);
        }
        if (upgrade.toUpperCase().startsWith("SPDY/3.1")) return Protocol.SPDY;
        throw new HttpError(400, "Upgrade request required");
    }

    @FunctionalInterface
    private interface RuntimeCall {
        URI call();
    }

    private static URI runtimeCall(RuntimeCall call) {
        try {
            return call.call();
        } catch (StreamingRuntime.RuntimeStreamingException e) {
            throw new HttpError(e.httpStatus(), e.getMessage());
        }
    }

    /** Forwards a SPDY upgrade to the runtime as it came and splices both connections after the runtime's 101. */
    private void spliceSpdy(Channel ch, FullHttpRequest req, URI url) throws IOException {
        HttpHeaders headers = new DefaultHttpHeaders();
        req.headers().forEach(h -> {
            String n = h.getKey().toLowerCase();
            if (!n.equals("host") && !n.equals("content-length") && !n.equals("authorization") && !n.equals("transfer-encoding")) headers.add(h.getKey(), h.getValue());
        });
        Upstream.Upgraded up;
        try {
            up = Upstream.open(workers, url, req.method(), headers);
        } catch (Upstream.Refused e) {
            throw new HttpError(e.status, new String(e.body, StandardCharsets.UTF_8).trim());
        }
        takeOver(ch);
        ch.writeAndFlush(Unpooled.wrappedBuffer(head(up.response()))).awaitUninterruptibly();
        Splice.join(ch, up.channel(), up.early());
    }

    private Upstream.Upgraded upgrade(URI url, String streamProtocol) throws IOException {
        HttpHeaders headers = new DefaultHttpHeaders();
        headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        headers.set(HttpHeaderNames.UPGRADE, "SPDY/3.1");
        headers.set("X-Stream-Protocol-Version", streamProtocol);
        try {
            return Upstream.open(workers, url, HttpMethod.POST, headers);
        } catch (Upstream.Refused e) {
            throw new HttpError(e.status, new String(e.body, StandardCharsets.UTF_8).trim());
        }
    }

    /** Completes the client's WebSocket handshake with {@code subprotocol}; false when it failed (connection closed). */
    private static boolean acceptWebSocket(Channel ch, FullHttpRequest req, String subprotocol) {
        WebSocketServerHandshakerFactory factory = new WebSocketServerHandshakerFactory("wss://" + req.headers().get(HttpHeaderNames.HOST) + req.uri(),
                subprotocol, false, 16 << 20);
        WebSocketServerHandshaker hs = factory.newHandshaker(req);
        if (hs == null) throw new HttpError(400, "unsupported WebSocket version " + req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION));
        ChannelFuture done = ch.eventLoop().submit(() -> {
            ch.config().setAutoRead(false);
            ch.pipeline().remove("router");
            ChannelFuture f = hs.handshake(ch, req);
            ch.pipeline().addLast("ws-aggregate", new WebSocketFrameAggregator(16 << 20));
            return f;
        }).syncUninterruptibly().getNow();
        done.awaitUninterruptibly();
        return done.isSuccess();
    }

    /** Removes HTTP from the pipeline (TLS stays) and pauses reading. */
    private static void takeOver(Channel ch) {
        ch.eventLoop().submit(() -> {
            ch.config().setAutoRead(false);
            for (String name : List.of("router", "aggregate", "http")) {
                ChannelHandler h = ch.pipeline().get(name);
                if (h != null) ch.pipeline().remove(name);
            }
        }).syncUninterruptibly();
    }

    private static byte[] head(HttpResponse r) {
        StringBuilder sb = new StringBuilder("HTTP/1.1 ").append(r.status().code()).append(' ').append(r.status().reasonPhrase()).append("\r\n");
        r.headers().forEach(h -> sb.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n"));
        return sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    // ------------------------------------------------------------------ helpers

    private static void send(Channel ch, int status, String text) {
        if (!ch.isActive()) return;
        byte[] body = (text + (text.endsWith("\n") ? "" : "\n")).getBytes(StandardCharsets.UTF_8);
        DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        HttpUtil.setContentLength(r, body.length);
        ch.writeAndFlush(r);
    }

    private static String param(QueryStringDecoder q, String name) {
        List<String> v = q.parameters().get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    private static boolean bool(QueryStringDecoder q, String name) {
        String v = param(q, name);
        return v != null && (v.equals("1") || v.equalsIgnoreCase("true") || v.equalsIgnoreCase("t"));
    }

    private static long longParam(QueryStringDecoder q, String name) {
        String v = param(q, name);
        if (v == null) return -1;
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new HttpError(400, name + ": invalid value \"" + v + "\"");
        }
    }
}
