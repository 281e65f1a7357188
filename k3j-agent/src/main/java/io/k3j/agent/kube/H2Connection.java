package io.k3j.agent.kube;

import io.k3j.agent.host.EventLoops;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * HTTP/2 over TLS (ALPN {@code h2}) to one API server on Netty, the transport the agent's CRI client and kubelet API
 * already use: one connection, opened lazily and again after it dropped or the server sent GOAWAY, carries every
 * request and watch as its own stream. A stream's answer is read on demand (auto-read off), so a slow watch consumer
 * holds back its own stream through HTTP/2 flow control instead of buffering without bound.
 *
 * <p>Failures to reach or talk to the server are {@link IOException}s; {@link HttpKubeClient} turns them into
 * {@link KubeClient.Unreachable}.
 */
final class H2Connection implements AutoCloseable {
    static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    /** Per stream; the connection's window is raised to the same size times the streams that may stall at once. */
    private static final int STREAM_WINDOW = 1 << 20;
    private static final int CONNECTION_WINDOW = 32 << 20;
    /** The size of a fresh connection's flow-control window (RFC 9113 section 6.9.2). */
    private static final int DEFAULT_WINDOW = 65_535;
    private static final AttributeKey<Boolean> GOING_AWAY = AttributeKey.valueOf("k3j.kube.goaway");

    private final String host;
    private final int port;
    private final String authority;
    private final SslContext ssl;
    private final EventLoops.Lease loop;
    private final EventLoopGroup group;
    private final Object lock = new Object();
    private Channel channel;
    private boolean closed;

    H2Connection(URI server, SslContext ssl) {
        this.host = server.getHost();
        this.port = server.getPort() > 0 ? server.getPort() : 443;
        this.authority = server.getRawAuthority();
        this.ssl = ssl;
        this.loop = EventLoops.acquire();
        this.group = loop.group();
    }

    /** A request: {@code path} includes the query string; header names in lower case. */
    record Request(String method, String path, Map<String, String> headers, byte[] body) {
    }

    /** A whole answer. */
    record Response(int status, byte[] body) {
    }

    /** Sends {@code req} and reads the whole answer within {@code timeoutMillis}. */
    Response exchange(Request req, long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        try (Stream s = open(req, deadline)) {
            return new Response(s.status(), s.readAll(deadline));
        }
    }

    /**
     * Sends {@code req} and waits until the answer's headers arrived (before {@code deadlineNanos}, a
     * {@link System#nanoTime()}); the body is then read with {@link Stream#next(long)}. The caller closes the stream.
     */
    Stream open(Request req, long deadlineNanos) throws IOException, InterruptedException {
        Channel parent = connection(deadlineNanos);
        Stream s = new Stream();
        Future<Http2StreamChannel> opened = new Http2StreamChannelBootstrap(parent)
                .option(ChannelOption.AUTO_READ, false).handler(s).open();
        if (!opened.await(remainingMillis(deadlineNanos))) {
            opened.cancel(false);
            throw new SocketTimeoutException("no HTTP/2 stream within the request timeout");
        }
        if (!opened.isSuccess()) {
            // e.g. the server sent GOAWAY meanwhile: drop the connection so the next request dials again
            parent.attr(GOING_AWAY).set(Boolean.TRUE);
            throw new IOException("cannot open an HTTP/2 stream: " + opened.cause(), opened.cause());
        }
        Http2StreamChannel ch = opened.getNow();
        s.channel = ch;
        Http2Headers h = new DefaultHttp2Headers().method(req.method()).scheme("https").authority(authority).path(req.path());
        req.headers().forEach(h::add);
        byte[] body = req.body();
        if (body != null && body.length > 0) {
            h.addInt("content-length", body.length);
            ch.write(new DefaultHttp2HeadersFrame(h, false));
            ch.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true));
        } else {
            ch.write(new DefaultHttp2HeadersFrame(h, true));
        }
        ch.flush();
        ch.read();
        try {
            s.awaitHeaders(deadlineNanos);
        } catch (IOException | InterruptedException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    private Channel connection(long deadlineNanos) throws IOException, InterruptedException {
        synchronized (lock) {
            if (closed) throw new IOException("client closed");
            if (channel != null && channel.isActive() && !channel.hasAttr(GOING_AWAY)) return channel;
            // a connection going away keeps serving its open streams (watches) until the server ends them
            if (channel != null && !channel.isActive()) channel.close();
            channel = null;
            ChannelFuture connect = new Bootstrap().group(group).channel(EventLoops.socketChannel(group))
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new Initializer())
                    .connect(host, port);
            if (!connect.await(Math.min(CONNECT_TIMEOUT_MILLIS + 500L, Math.max(1, remainingMillis(deadlineNanos))))) {
                connect.channel().close();
                throw new SocketTimeoutException("connect timed out");
            }
            if (!connect.isSuccess()) {
                Throwable cause = connect.cause();
                ConnectException e = new ConnectException(cause == null ? "connect failed" : String.valueOf(cause.getMessage()));
                e.initCause(cause);
                throw e;
            }
            Channel ch = connect.channel();
            SslHandler tls = ch.pipeline().get(SslHandler.class);
            // closed at once (a load balancer with no server behind it does that): the pipeline is already empty
            if (tls == null) throw new java.io.EOFException("connection closed by " + host + ":" + port + " before the TLS handshake");
            Future<Channel> handshake = tls.handshakeFuture();
            if (!handshake.await(Math.max(1, remainingMillis(deadlineNanos)))) {
                ch.close();
                throw new SocketTimeoutException("TLS handshake timed out");
            }
            if (!handshake.isSuccess()) {
                ch.close();
                Throwable cause = handshake.cause();
                if (cause instanceof SSLException e) throw e;
                throw new SSLException("TLS handshake failed: " + cause, cause);
            }
            String alpn = tls.applicationProtocol();
            if (!"h2".equals(alpn)) {
                ch.close();
                throw new IOException("the server does not speak HTTP/2 (ALPN " + alpn + ")");
            }
            // the default connection window (64 KiB) would let one slow watch stall every other stream
            ch.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - DEFAULT_WINDOW));
            channel = ch;
            return ch;
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            if (channel != null) channel.close().awaitUninterruptibly(1000);
            channel = null;
        }
        loop.close();
    }

    private static long remainingMillis(long deadlineNanos) {
        return TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    }

    /** TLS, then the HTTP/2 frame codec (its preface waits in the TLS handler until the handshake is done). */
    private final class Initializer extends ChannelInitializer<SocketChannel> {
        @Override
        protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(ssl.newHandler(ch.alloc(), host, port));
            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                    .initialSettings(Http2Settings.defaultSettings().initialWindowSize(STREAM_WINDOW).maxHeaderListSize(64 << 10))
                    .build());
            ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ReferenceCountUtil.release(msg); // servers push nothing we asked for
                }
            }));
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    if (msg instanceof Http2GoAwayFrame) ctx.channel().attr(GOING_AWAY).set(Boolean.TRUE);
                    ReferenceCountUtil.release(msg);
                }

                @Override
                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    // reset by peer, a TLS alert, a protocol error: its streams fail, the next request reconnects
                    ctx.close();
                }
            });
        }
    }

    /**
     * One request's answer, handed from the event loop to the reading thread: the status once the headers arrived,
     * then the body's chunks, then the end (or the failure).
     */
    static final class Stream extends ChannelInboundHandlerAdapter implements AutoCloseable {
        private static final Object END = new Object();

        private final CompletableFuture<Integer> headers = new CompletableFuture<>();
        private final BlockingQueue<Object> chunks = new LinkedBlockingQueue<>();
        private volatile Http2StreamChannel channel;
        private boolean ended; // event loop only

        int status() {
            return headers.getNow(0);
        }

        void awaitHeaders(long deadlineNanos) throws IOException, InterruptedException {
            try {
                headers.get(Math.max(1, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                throw new SocketTimeoutException("request timed out");
            } catch (ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            }
        }

        /**
         * The next chunk of the body, or null at its end; waits until {@code deadlineNanos} (0: without limit).
         *
         * @throws IOException when the stream or connection failed, or on timeout
         */
        byte[] next(long deadlineNanos) throws IOException, InterruptedException {
            Object o = chunks.poll();
            if (o == null) {
                channel.read();
                if (deadlineNanos == 0) {
                    o = chunks.take();
                } else {
                    o = chunks.poll(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
                    if (o == null) throw new SocketTimeoutException("request timed out");
                }
            }
            if (o == END) {
                chunks.add(END); // stays at the end for any further call
                return null;
            }
            if (o instanceof IOException e) {
                chunks.add(e);
                throw new IOException(e.getMessage(), e);
            }
            return (byte[]) o;
        }

        /** The rest of the body. */
        byte[] readAll(long deadlineNanos) throws IOException, InterruptedException {
            byte[] first = next(deadlineNanos);
            if (first == null) return new byte[0];
            byte[] second = next(deadlineNanos);
            if (second == null) return first;
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(first.length + second.length);
            out.writeBytes(first);
            for (byte[] b = second; b != null; b = next(deadlineNanos)) out.writeBytes(b);
            return out.toByteArray();
        }

        /** Ends the stream (RST_STREAM CANCEL when the answer is not complete). */
        @Override
        public void close() {
            Http2StreamChannel ch = channel;
            if (ch != null) ch.close();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame frame) {
                    if (!headers.isDone()) {
                        int status = status(frame.headers());
                        if (status >= 100 && status < 200 && !frame.isEndStream()) {
                            ctx.read(); // informational: the real answer follows
                            return;
                        }
                        headers.complete(status);
                    }
                    if (frame.isEndStream()) end(null);
                } else if (msg instanceof Http2DataFrame frame) {
                    if (frame.content().isReadable()) chunks.add(ByteBufUtil.getBytes(frame.content()));
                    if (frame.isEndStream()) end(null);
                } else if (msg instanceof Http2ResetFrame reset) {
                    end(new IOException("stream reset by the server (HTTP/2 error " + reset.errorCode() + ")"));
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private static int status(Http2Headers h) {
            CharSequence s = h.status();
            try {
                return s == null ? 0 : Integer.parseInt(s.toString());
            } catch (NumberFormatException e) {
                return 0;
            }
        }

        private void end(IOException failure) {
            if (ended) return;
            ended = true;
            if (failure != null) headers.completeExceptionally(failure);
            else headers.complete(0);
            chunks.add(failure != null ? failure : END);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            end(new IOException("connection to the server closed"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            end(cause instanceof IOException e ? e : new IOException(String.valueOf(cause.getMessage()), cause));
            ctx.close();
        }
    }
}
