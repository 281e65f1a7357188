package io.k3j.agent.kubelet;

import io.k3j.agent.host.EventLoops;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A connection to the runtime's streaming server, upgraded: sends the upgrade request to the one-time URL CRI
 * gave, waits for the answer and, after a 101, leaves the connection with no handlers and reading paused for
 * whoever takes it over (a byte splice, or a SPDY codec).
 */
final class Upstream {
    private static final int MAX_ERROR_BODY = 16 * 1024;

    /** The upgraded connection, the runtime's 101 answer, and bytes it sent right after it. */
    record Upgraded(Channel channel, HttpResponse response, List<ByteBuf> early) {
    }

    /** The runtime didn't switch protocols: its status and body. */
    static final class Refused extends IOException {
        final int status;
        final byte[] body;
        final String contentType;

        Refused(int status, byte[] body, String contentType) {
            super("the runtime's streaming server answered " + status + ": " + new String(body, StandardCharsets.UTF_8).trim());
            this.status = status;
            this.body = body;
            this.contentType = contentType;
        }
    }

    private Upstream() {
    }

    /**
     * Opens {@code url} and asks it to switch protocols with {@code headers} (Upgrade, Connection,
     * X-Stream-Protocol-Version...).
     *
     * @throws Refused when it answers anything but 101
     * @throws IOException when it can't be reached
     */
    static Upgraded open(EventLoopGroup group, URI url, HttpMethod method, HttpHeaders headers) throws IOException {
        boolean tls = "https".equals(url.getScheme());
        String host = url.getHost();
        int port = url.getPort() > 0 ? url.getPort() : tls ? 443 : 80;
        Reader reader = new Reader();
        Bootstrap b = new Bootstrap().group(group).channel(EventLoops.socketChannel(group))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) throws Exception {
                        // containerd serves its streaming server over TLS only with a self-signed certificate
                        if (tls) ch.pipeline().addLast(SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE)
                                .endpointIdentificationAlgorithm(null).build().newHandler(ch.alloc(), host, port));
                        ch.pipeline().addLast("http", new HttpClientCodec());
                        ch.pipeline().addLast("reader", reader);
                    }
                });
        ChannelFuture connect = b.connect(host, port).awaitUninterruptibly();
        if (!connect.isSuccess()) throw new IOException("connecting to the runtime's streaming server " + host + ":" + port + ": " + connect.cause().getMessage(), connect.cause());
        Channel ch = connect.channel();
        String path = url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, path, Unpooled.EMPTY_BUFFER);
        req.headers().add(headers);
        req.headers().set(HttpHeaderNames.HOST, host + ":" + port);
        req.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
        ch.writeAndFlush(req);
        try {
            HttpResponse resp = reader.head.get(30, TimeUnit.SECONDS);
            if (resp.status().code() != 101) {
                byte[] body = reader.body.get(10, TimeUnit.SECONDS);
                ch.close();
                throw new Refused(resp.status().code(), body, resp.headers().get(HttpHeaderNames.CONTENT_TYPE, "text/plain"));
            }
            return ch.eventLoop().submit(() -> {
                ch.config().setAutoRead(false);
                ch.pipeline().remove("reader");
                List<ByteBuf> early = new ArrayList<>(reader.early);
                ch.pipeline().addLast("early", new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof ByteBuf buf) early.add(buf);
                        else ReferenceCountUtil.release(msg);
                    }
                });
                ch.pipeline().remove("http");
                ch.pipeline().remove("early");
                return new Upgraded(ch, resp, early);
            }).syncUninterruptibly().getNow();
        } catch (Refused e) {
            throw e;
        } catch (Exception e) {
            ch.close();
            Throwable c = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
            throw new IOException("upgrading the connection to the runtime's streaming server: " + c, c);
        }
    }

    private static final class Reader extends ChannelInboundHandlerAdapter {
        final CompletableFuture<HttpResponse> head = new CompletableFuture<>();
        final CompletableFuture<byte[]> body = new CompletableFuture<>();
        final List<ByteBuf> early = new ArrayList<>();
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private boolean switched;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf buf) {
                early.add(buf);
                return;
            }
            try {
                if (msg instanceof HttpResponse r) {
                    switched = r.status().code() == 101;
                    head.complete(r);
                }
                if (msg instanceof HttpContent c && !switched) {
                    if (bytes.size() < MAX_ERROR_BODY) {
                        byte[] b = new byte[Math.min(c.content().readableBytes(), MAX_ERROR_BODY - bytes.size())];
                        c.content().readBytes(b);
                        bytes.writeBytes(b);
                    }
                    if (msg instanceof io.netty.handler.codec.http.LastHttpContent) body.complete(bytes.toByteArray());
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            head.completeExceptionally(new IOException("the runtime's streaming server closed the connection"));
            body.complete(bytes.toByteArray());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            head.completeExceptionally(cause);
            body.complete(bytes.toByteArray());
            ctx.close();
        }
    }
}
