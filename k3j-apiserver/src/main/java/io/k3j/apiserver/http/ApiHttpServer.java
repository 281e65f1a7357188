package io.k3j.apiserver.http;

import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The HTTPS front of the API server: TLS with ALPN, HTTP/2 (each stream read from its frames) and
 * HTTP/1.1, bodies aggregated up to a limit (larger ones get a 413 Status), and every request handed to an
 * {@link HttpHandler} on a virtual thread.
 *
 * <pre>
 * TLS ─ ALPN ─┬─ h2:       flush consolidation ─ Http2FrameCodec ─ Http2MultiplexHandler ─(per stream)─ Http2RequestReader ─ dispatcher
 *             │           (per stream) Http2RequestReader: frames to request, answer as frames
 *             └─ http/1.1: HttpServerCodec ─ keep-alive ─ aggregator ─ dispatcher
 * </pre>
 */
public final class ApiHttpServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ApiHttpServer.class.getName());

    private final InetSocketAddress bindAddress;
    private final SslContext sslContext;
    private final HttpHandler handler;
    private final int maxBodyBytes;
    private final ExecutorService executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("api-", 0).factory());
    private EventLoopGroup boss;
    private EventLoopGroup workers;
    private Channel serverChannel;

    /**
     * @param sslContext TLS context with ALPN (h2, http/1.1); null serves plain HTTP/1.1 (tests, local sockets)
     */
    public ApiHttpServer(InetSocketAddress bindAddress, SslContext sslContext, HttpHandler handler, int maxBodyBytes) {
        this.bindAddress = bindAddress;
        this.sslContext = sslContext;
        this.handler = handler;
        this.maxBodyBytes = maxBodyBytes;
    }

    /**
     * Binds and starts serving.
     *
     * @throws IllegalStateException naming the address when it can't be bound (e.g. in use)
     */
    public void start() {
        boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        workers = new MultiThreadIoEventLoopGroup(Math.min(4, Runtime.getRuntime().availableProcessors()), NioIoHandler.newFactory());
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (sslContext == null) {
                            http1(ch);
                            return;
                        }
                        ch.pipeline().addLast(sslContext.newHandler(ch.alloc()));
                        ch.pipeline().addLast(new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
                            @Override
                            protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                                if (ApplicationProtocolNames.HTTP_2.equals(protocol)) http2(ctx.channel());
                                else http1(ctx.channel());
                            }

                            @Override
                            protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
                                LOG.log(System.Logger.Level.DEBUG, "TLS handshake failed from {0}: {1}", ctx.channel().remoteAddress(), cause.getMessage());
                                ctx.close();
                            }
                        });
                    }
                });
        try {
            serverChannel = b.bind(bindAddress).sync().channel();
        } catch (Exception e) {
            close();
            throw new IllegalStateException("cannot listen on " + bindAddress + ": " + e.getMessage(), e);
        }
    }

    /** The bound port (useful when started on port 0). */
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    private void http1(Channel ch) {
        ch.pipeline().addLast(new HttpServerCodec(8192, 65536, 65536),
                new HttpServerKeepAliveHandler(),
                new LimitedAggregator(maxBodyBytes),
                new Dispatcher(handler, executor));
    }

    private void http2(Channel ch) {
        ch.pipeline().addLast(
                // Streams answered in the same event-loop turn (a client multiplexing its requests, watch events
                // of many streams) leave in one TLS record and one write(2) instead of one each: a flush made
                // outside a read is deferred to a task that runs after the writes already queued.
                new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true),
                Http2FrameCodecBuilder.forServer()
                        .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(1000).initialWindowSize(1 << 20))
                        .validateHeaders(true)
                        .build(),
                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel stream) {
                        stream.pipeline().addLast(new Http2RequestReader(handler, executor, maxBodyBytes));
                    }
                }));
    }

    /** Runs the handler on a virtual thread; an exception it lets out becomes a 500 Status if nothing was sent. */
    static void dispatch(HttpHandler handler, ExecutorService executor, ApiRequest request, NettyExchange exchange) {
        executor.execute(() -> {
            try {
                handler.handle(request, exchange);
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.ERROR, "unhandled error serving " + request, t);
                if (!exchange.responded()) {
                    exchange.send(500, "application/json", Json.bytes(ApiException.internal(String.valueOf(t.getMessage())).toStatus()), java.util.Map.of());
                }
            }
        });
    }

    static X509Certificate[] peerCertificates(Channel ch) {
        Channel root = ch instanceof Http2StreamChannel s ? s.parent() : ch;
        SslHandler ssl = root.pipeline().get(SslHandler.class);
        if (ssl == null) return null;
        try {
            Certificate[] certs = ssl.engine().getSession().getPeerCertificates();
            X509Certificate[] out = new X509Certificate[certs.length];
            for (int i = 0; i < certs.length; i++) out[i] = (X509Certificate) certs[i];
            return out;
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            return null;
        }
    }

    /** Stops listening and closes every connection; bounded in time, so a stuck peer can't hold up shutdown. */
    @Override
    public void close() {
        if (serverChannel != null) serverChannel.close().awaitUninterruptibly(2, java.util.concurrent.TimeUnit.SECONDS);
        var bossDone = boss == null ? null : boss.shutdownGracefully(0, 200, java.util.concurrent.TimeUnit.MILLISECONDS);
        var workersDone = workers == null ? null : workers.shutdownGracefully(0, 500, java.util.concurrent.TimeUnit.MILLISECONDS);
        if (bossDone != null) bossDone.awaitUninterruptibly(2, java.util.concurrent.TimeUnit.SECONDS);
        if (workersDone != null) workersDone.awaitUninterruptibly(2, java.util.concurrent.TimeUnit.SECONDS);
        executor.shutdownNow();
    }


    /** Aggregates HTTP/1.1 bodies up to the limit; a larger body gets a 413 Status and a closed connection. */
    private static final class LimitedAggregator extends HttpObjectAggregator {
        /** How long a connection refused with a 413 keeps reading (and dropping) the upload before it closes. */
        private static final long LINGER_MILLIS = 5_000;
        private final int limit;
        private boolean draining;

        LimitedAggregator(int limit) {
            super(limit, true);
            this.limit = limit;
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) throws Exception {
            if (!(oversized instanceof HttpRequest)) {
                super.handleOversizedMessage(ctx, oversized);
                return;
            }
            DefaultFullHttpResponse response = tooLarge();
            // A lingering close: closing at once, with the client's upload still arriving, resets the connection
            // and the client loses the 413 before reading it (clients that read only after sending never see
            // it). The rest of the upload is read and dropped; the connection closes when it has all arrived, or
            // after LINGER_MILLIS at the latest. No further request on this connection is served.
            draining = true;
            response.headers().set(HttpHeaderNames.CONNECTION, "close");
            // written from the keep-alive handler's place (so it is encoded but not seen by it): it would close the connection as soon as it is sent
            ChannelHandlerContext keepAlive = ctx.pipeline().context(HttpServerKeepAliveHandler.class);
            (keepAlive != null ? keepAlive : ctx).writeAndFlush(response).addListener(f -> ctx.executor().schedule(() -> {
                ctx.close();
            }, LINGER_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (draining) {
                boolean last = msg instanceof io.netty.handler.codec.http.LastHttpContent;
                io.netty.util.ReferenceCountUtil.release(msg);
                if (last) ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> ctx.close());
                return;
            }
            super.channelRead(ctx, msg);
        }

        /** With {@code Expect: 100-continue} an oversized body is refused before it is sent: with a Status too. */
        @Override
        protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
            Object response = super.newContinueResponse(start, maxContentLength, pipeline);
            if (response instanceof FullHttpResponse r && r.status().equals(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE)) {
                r.release();
                DefaultFullHttpResponse status = tooLarge();
                status.headers().set(HttpHeaderNames.CONNECTION, "close");
                return status;
            }
            return response;
        }

        private DefaultFullHttpResponse tooLarge() {
            byte[] body = Json.bytes(ApiException.requestEntityTooLarge("Request entity too large: limit is " + limit).toStatus());
            DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, Unpooled.wrappedBuffer(body));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            HttpUtil.setContentLength(response, body.length);
            return response;
        }
    }

    /** Hands each aggregated HTTP/1.1 request to the handler on a virtual thread. */
    private static final class Dispatcher extends io.netty.channel.SimpleChannelInboundHandler<FullHttpRequest> {
        private final HttpHandler handler;
        private final ExecutorService executor;

        Dispatcher(HttpHandler handler, ExecutorService executor) {
            super(true);
            this.handler = handler;
            this.executor = executor;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            ByteBuf content = req.content();
            byte[] body = new byte[content.readableBytes()];
            content.readBytes(body);
            ApiRequest request = new ApiRequest(req.method().name(), req.uri(), req.headers().copy(), body, peerCertificates(ctx.channel()),
                    String.valueOf(ctx.channel().remoteAddress()));
            // the body is consumed above: the upgrade keeps an empty copy of the request line and headers for the handshake
            FullHttpRequest upgrade = WebSocketStream.isUpgrade(req)
                    ? new DefaultFullHttpRequest(req.protocolVersion(), req.method(), req.uri(), Unpooled.EMPTY_BUFFER, req.headers().copy(),
                            req.trailingHeaders().copy())
                    : null;
            dispatch(handler, executor, request, new NettyExchange(ctx.channel(), HttpUtil.isKeepAlive(req), false, upgrade));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.DEBUG, "connection error: {0}", cause.toString());
            ctx.close();
        }
    }
}
