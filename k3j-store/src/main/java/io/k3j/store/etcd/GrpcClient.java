package io.k3j.store.etcd;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * A small gRPC client over one HTTP/2 connection (TLS with ALPN "h2" for https endpoints, h2c with prior
 * knowledge for http ones) to one of several endpoints, with failover: when the connection is gone, the next
 * call connects again, starting with the endpoint that worked last and moving on to the others. Each call is one
 * HTTP/2 stream carrying 5-byte-prefixed protobuf messages, ended by trailers with {@code grpc-status}.
 *
 * <p>One event-loop thread serves every stream; listeners run on it and must not block.
 */
final class GrpcClient implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GrpcClient.class.getName());

    /** etcd sends at most its --max-request-bytes per request, but a range answer can be far larger. */
    private static final int MAX_MESSAGE = 1 << 30;
    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;
    private static final int KEEPALIVE_SECONDS = 10;

    /** Receives one stream's messages and its end, on the event loop. */
    interface StreamListener {
        void onMessage(byte[] message);

        /** The stream ended: {@code error} is null when the server ended it with status OK. Called once. */
        void onClose(GrpcException error);
    }

    /** Why a connection closed (a TLS alert, a reset), for the calls that were on it. */
    private static final AttributeKey<Throwable> CLOSE_CAUSE = AttributeKey.valueOf("k3j.etcd.closeCause");

    private final List<URI> endpoints;
    private final SslContext ssl;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Object lock = new Object();
    private Channel channel;
    private int preferred;
    private URI connectedTo;
    private volatile boolean closed;

    GrpcClient(List<URI> endpoints, SslContext ssl) {
        if (endpoints.isEmpty()) throw new IllegalArgumentException("no etcd endpoint");
        this.endpoints = List.copyOf(endpoints);
        this.ssl = ssl;
    }

    List<URI> endpoints() {
        return endpoints;
    }

    /** The endpoint of the open connection, or null. */
    URI connectedEndpoint() {
        synchronized (lock) {
            return channel != null && channel.isActive() ? connectedTo : null;
        }
    }

    /**
     * Sends one request and waits for the one answer.
     *
     * <p>The caller waits once: opening the stream, its HEADERS and its DATA frame happen in one task on the event
     * loop and leave in one flush (one write, usually one TCP segment). Waiting for the stream to open first and
     * then handing the frames over one by one cost the caller two more round trips through the event loop per call,
     * each a thread wake-up: on a busy machine that, not etcd, was most of a write's latency.
     *
     * @throws GrpcException with the server's status, UNAVAILABLE when no endpoint answers, DEADLINE_EXCEEDED
     */
    byte[] unary(String method, byte[] request, long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        Channel parent;
        URI endpoint;
        synchronized (lock) {
            parent = connection(method);
            endpoint = connectedTo;
        }
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        CallHandler handler = new CallHandler(method, endpoint, new StreamListener() {
            private byte[] answer;

            @Override
            public void onMessage(byte[] message) {
                answer = message;
            }

            @Override
            public void onClose(GrpcException error) {
                if (error != null) result.completeExceptionally(error);
                else if (answer == null) result.completeExceptionally(new GrpcException(method, GrpcException.INTERNAL, "answer without a message"));
                else result.complete(answer);
            }
        });
        Http2Headers headers = headers(method, endpoint, timeoutMillis);
        AtomicReference<Http2StreamChannel> stream = new AtomicReference<>();
        try {
            new Http2StreamChannelBootstrap(parent).handler(handler).open().addListener(open -> {
                if (!open.isSuccess()) {
                    // e.g. the server sent GOAWAY while shutting down: drop the connection so the next call dials again
                    parent.close();
                    result.completeExceptionally(new GrpcException(method, GrpcException.UNAVAILABLE,
                            "cannot open a stream to " + endpoint + ": " + open.cause(), open.cause()));
                    return;
                }
                Http2StreamChannel ch = (Http2StreamChannel) open.getNow();
                stream.set(ch);
                if (result.isDone()) { // timed out or interrupted before the stream opened
                    ch.close();
                    return;
                }
                ch.write(new DefaultHttp2HeadersFrame(headers, false));
                ch.writeAndFlush(new DefaultHttp2DataFrame(frame(ch, request), true)).addListener(f -> {
                    if (!f.isSuccess()) {
                        handler.close(new GrpcException(method, GrpcException.UNAVAILABLE, "cannot send to " + endpoint + ": " + f.cause(), f.cause()));
                    }
                });
            });
        } catch (RejectedExecutionException e) {
            throw new GrpcException(method, GrpcException.CANCELLED, "client closed");
        }
        try {
            return result.get(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            cancel(parent, stream, handler, method);
            throw new GrpcException(method, GrpcException.DEADLINE_EXCEEDED, "no answer within " + timeoutMillis + " ms from " + endpoint);
        } catch (InterruptedException e) {
            cancel(parent, stream, handler, method);
            Thread.currentThread().interrupt();
            throw new GrpcException(method, GrpcException.CANCELLED, "interrupted");
        } catch (ExecutionException e) {
            GrpcException g = (GrpcException) e.getCause();
            // again on the caller's thread, so that its stack shows which call failed
            throw new GrpcException(g.method(), g.code(), g.description(), g);
        }
    }

    /** Ends a unary call the caller gave up on: RST_STREAM if its stream opened (else the open listener closes it). */
    private static void cancel(Channel parent, AtomicReference<Http2StreamChannel> stream, CallHandler handler, String method) {
        Runnable task = () -> {
            handler.close(new GrpcException(method, GrpcException.CANCELLED, "cancelled by the client"));
            Http2StreamChannel ch = stream.get();
            if (ch != null) ch.close();
        };
        try {
            parent.eventLoop().execute(task);
        } catch (RejectedExecutionException e) {
            task.run();
        }
    }

    /** A gRPC request's HTTP/2 headers. */
    private static Http2Headers headers(String method, URI endpoint, long timeoutMillis, String... metadata) {
        Http2Headers headers = new DefaultHttp2Headers()
                .method("POST").scheme(endpoint.getScheme()).authority(endpoint.getHost() + ":" + endpoint.getPort()).path(method)
                .add("content-type", "application/grpc")
                .add("te", "trailers")
                .add("user-agent", "k3j-etcd");
        if (timeoutMillis > 0) headers.add("grpc-timeout", timeoutMillis + "m");
        for (int i = 0; i + 1 < metadata.length; i += 2) headers.add(metadata[i], metadata[i + 1]);
        return headers;
    }

    /** One length-prefixed, uncompressed gRPC message. */
    private static ByteBuf frame(Channel ch, byte[] message) {
        ByteBuf body = ch.alloc().buffer(5 + message.length);
        return body.writeByte(0).writeInt(message.length).writeBytes(message);
    }

    /**
     * Opens a stream to {@code method}; messages are sent with {@link Call#send}.
     *
     * @param timeoutMillis the call's deadline, told to the server; 0 for none (a watch)
     * @param metadata      extra request headers (gRPC metadata), as name, value, name, value...
     * @throws GrpcException UNAVAILABLE when no endpoint can be reached
     */
    Call stream(String method, long timeoutMillis, StreamListener listener, String... metadata) {
        Channel parent;
        URI endpoint;
        synchronized (lock) {
            parent = connection(method);
            endpoint = connectedTo;
        }
        CallHandler handler = new CallHandler(method, endpoint, listener);
        Http2StreamChannel ch;
        try {
            Future<Http2StreamChannel> open = new Http2StreamChannelBootstrap(parent).handler(handler).open();
            if (!open.awaitUninterruptibly(CONNECT_TIMEOUT_MILLIS) || !open.isSuccess()) {
                // e.g. the server sent GOAWAY while shutting down: drop the connection so the next call dials again
                parent.close();
                throw new GrpcException(method, GrpcException.UNAVAILABLE, "cannot open a stream to " + endpoint + ": " + open.cause(), open.cause());
            }
            ch = open.getNow();
        } catch (RejectedExecutionException e) {
            throw new GrpcException(method, GrpcException.CANCELLED, "client closed");
        }
        ch.writeAndFlush(new DefaultHttp2HeadersFrame(headers(method, endpoint, timeoutMillis, metadata), false));
        return new Call(ch, handler, endpoint);
    }

    /** One open stream. */
    static final class Call {
        private final Http2StreamChannel ch;
        private final CallHandler handler;
        final URI endpoint;

        private Call(Http2StreamChannel ch, CallHandler handler, URI endpoint) {
            this.ch = ch;
            this.handler = handler;
            this.endpoint = endpoint;
        }

        /** Sends one message; {@code last} half-closes the stream. */
        void send(byte[] message, boolean last) {
            ch.writeAndFlush(new DefaultHttp2DataFrame(frame(ch, message), last)).addListener(f -> {
                if (!f.isSuccess()) {
                    onLoop(() -> handler.close(new GrpcException(handler.method, GrpcException.UNAVAILABLE,
                            "cannot send to " + endpoint + ": " + f.cause(), f.cause())));
                }
            });
        }

        /** Runs {@code task} on the stream's event loop; here when the loop is gone (the client closed), as nothing else runs there. */
        private void onLoop(Runnable task) {
            try {
                ch.eventLoop().execute(task);
            } catch (RejectedExecutionException e) {
                task.run();
            }
        }

        /** Resets the stream (RST_STREAM CANCEL); the listener's onClose gets CANCELLED unless it already ended. */
        void cancel() {
            onLoop(() -> {
                handler.close(new GrpcException(handler.method, GrpcException.CANCELLED, "cancelled by the client"));
                ch.close();
            });
        }
    }

    /** Must hold {@link #lock}. */
    private Channel connection(String method) {
        if (closed) throw new GrpcException(method, GrpcException.CANCELLED, "client closed");
        if (channel != null && channel.isActive()) return channel;
        if (channel != null) channel.close();
        channel = null;
        StringBuilder failures = new StringBuilder();
        for (int i = 0; i < endpoints.size(); i++) {
            int index = (preferred + i) % endpoints.size();
            URI uri = endpoints.get(index);
            try {
                channel = connect(uri);
                connectedTo = uri;
                if (index != preferred) LOG.log(System.Logger.Level.INFO, "etcd: connected to " + uri + " (failover)");
                preferred = index;
                return channel;
            } catch (RuntimeException e) {
                failures.append(failures.isEmpty() ? "" : "; ").append(uri).append(": ").append(e.getMessage());
            }
        }
        throw new GrpcException(method, GrpcException.UNAVAILABLE, "no etcd endpoint reachable (" + failures + ")");
    }

    /** Drops the connection and prefers the next endpoint: the member it talked to can't serve (no leader, hung). */
    void failover(URI from) {
        synchronized (lock) {
            if (endpoints.size() < 2 || channel == null || !from.equals(connectedTo)) return;
            LOG.log(System.Logger.Level.INFO, "etcd: leaving " + from + " for the next endpoint");
            channel.close();
            channel = null;
            preferred = (preferred + 1) % endpoints.size();
        }
    }

    private Channel connect(URI uri) {
        boolean tls = "https".equals(uri.getScheme());
        if (tls && ssl == null) throw new IllegalStateException("https endpoint but no TLS configuration");
        ChannelFuture connect = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls) {
                            SslHandler h = ssl.newHandler(ch.alloc(), uri.getHost(), uri.getPort());
                            SSLEngine engine = h.engine();
                            SSLParameters params = engine.getSSLParameters();
                            params.setEndpointIdentificationAlgorithm("HTTPS"); // the server's certificate must name the host
                            engine.setSSLParameters(params);
                            ch.pipeline().addLast(h);
                        }
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                                .initialSettings(Http2Settings.defaultSettings().initialWindowSize(1 << 20).maxHeaderListSize(64 << 10))
                                .build());
                        ch.pipeline().addLast(new IdleStateHandler(KEEPALIVE_SECONDS, 0, 0));
                        ch.pipeline().addLast(new KeepAlive());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new SimpleChannelInboundHandler<Object>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                                // servers never push streams to a gRPC client
                            }
                        }));
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                // reset by peer, bad TLS: the streams fail UNAVAILABLE, the next call reconnects
                                ctx.channel().attr(CLOSE_CAUSE).setIfAbsent(cause);
                                ctx.close();
                            }
                        });
                    }
                })
                .connect(uri.getHost(), uri.getPort());
        if (!connect.awaitUninterruptibly(CONNECT_TIMEOUT_MILLIS + 500) || !connect.isSuccess()) {
            connect.channel().close();
            Throwable cause = connect.cause();
            throw new IllegalStateException(cause == null ? "no connection within " + CONNECT_TIMEOUT_MILLIS + " ms" : String.valueOf(cause.getMessage()), cause);
        }
        Channel ch = connect.channel();
        CompletableFuture<Void> settings = ch.pipeline().get(KeepAlive.class).settings;
        if (tls) {
            SslHandler h = ch.pipeline().get(SslHandler.class);
            Future<Channel> handshake = h.handshakeFuture();
            if (!handshake.awaitUninterruptibly(2L * CONNECT_TIMEOUT_MILLIS) || !handshake.isSuccess()) {
                ch.close();
                Throwable cause = handshake.cause();
                throw new IllegalStateException("TLS handshake failed: " + (cause == null ? "timeout" : cause.getMessage()), cause);
            }
            if (!ApplicationProtocolNames.HTTP_2.equals(h.applicationProtocol())) {
                ch.close();
                throw new IllegalStateException("the server did not agree to HTTP/2 (ALPN " + h.applicationProtocol() + ")");
            }
        }
        // a hung server still has its socket accept connections: only its HTTP/2 SETTINGS show it is alive
        try {
            settings.get(CONNECT_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            ch.close();
            throw new IllegalStateException("no HTTP/2 SETTINGS from the server within " + CONNECT_TIMEOUT_MILLIS + " ms");
        } catch (ExecutionException e) {
            // e.g. TLS 1.3: the handshake completed on our side, then the server refused our certificate
            ch.close();
            throw new IllegalStateException("connection closed before HTTP/2 started: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            ch.close();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
        return ch;
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            if (channel != null) channel.close().awaitUninterruptibly(1000);
            channel = null;
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2000);
    }

    /**
     * Notices a peer that vanished without closing the connection (host down, partition), which would leave a
     * quiet watch waiting forever: after {@value #KEEPALIVE_SECONDS} s without a frame it sends an HTTP/2 PING,
     * and closes the connection if the next {@value #KEEPALIVE_SECONDS} s bring nothing either. (etcd accepts
     * pings every 5 s or slower: --grpc-keepalive-min-time.)
     */
    private static final class KeepAlive extends ChannelDuplexHandler {
        /** Completed by the server's first SETTINGS: the HTTP/2 connection is up, not only the socket. */
        final CompletableFuture<Void> settings = new CompletableFuture<>();
        private boolean pingSent;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            pingSent = false;
            if (msg instanceof Http2SettingsFrame) settings.complete(null);
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            Throwable cause = ctx.channel().attr(CLOSE_CAUSE).get();
            settings.completeExceptionally(cause != null ? cause : new IllegalStateException("the server closed the connection"));
            ctx.fireChannelInactive();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                if (pingSent) {
                    ctx.channel().attr(CLOSE_CAUSE).setIfAbsent(new IllegalStateException("no answer to a keepalive ping"));
                    ctx.close();
                } else {
                    pingSent = true;
                    ctx.writeAndFlush(new DefaultHttp2PingFrame(System.nanoTime()));
                }
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }
    }

    /** Turns one stream's frames into messages and its trailers into the listener's onClose; on the event loop. */
    private static final class CallHandler extends SimpleChannelInboundHandler<Object> {
        private final String method;
        private final URI endpoint;
        private final StreamListener listener;
        private ByteBuf pending;
        private boolean headersSeen;
        private boolean done;

        CallHandler(String method, URI endpoint, StreamListener listener) {
            this.method = method;
            this.endpoint = endpoint;
            this.listener = listener;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (done) return;
            if (msg instanceof Http2HeadersFrame frame) {
                Http2Headers h = frame.headers();
                if (!headersSeen) {
                    headersSeen = true;
                    CharSequence status = h.status();
                    if (status != null && !"200".contentEquals(status)) {
                        close(new GrpcException(method, GrpcException.UNAVAILABLE, "HTTP status " + status));
                        ctx.close();
                        return;
                    }
                }
                if (frame.isEndStream()) trailers(h);
            } else if (msg instanceof Http2DataFrame frame) {
                ByteBuf content = frame.content();
                if (content.isReadable()) {
                    if (pending == null) pending = ctx.alloc().heapBuffer(content.readableBytes());
                    pending.writeBytes(content);
                    deliver(ctx);
                }
                if (frame.isEndStream() && !done) {
                    close(new GrpcException(method, GrpcException.INTERNAL, "stream ended without trailers"));
                }
            } else if (msg instanceof Http2ResetFrame reset) {
                close(new GrpcException(method, GrpcException.UNAVAILABLE, "stream reset by the server (HTTP/2 error " + reset.errorCode() + ")"));
            }
        }

        private void deliver(ChannelHandlerContext ctx) {
            while (!done && pending.readableBytes() >= 5) {
                int compressed = pending.getUnsignedByte(pending.readerIndex());
                long length = pending.getUnsignedInt(pending.readerIndex() + 1);
                if (compressed != 0 || length > MAX_MESSAGE) {
                    close(new GrpcException(method, GrpcException.INTERNAL,
                            compressed != 0 ? "compressed message but no grpc-encoding was offered" : "message of " + length + " bytes"));
                    ctx.close();
                    return;
                }
                if (pending.readableBytes() < 5 + length) break;
                pending.skipBytes(5);
                byte[] message = new byte[(int) length];
                pending.readBytes(message);
                listener.onMessage(message);
            }
            if (pending != null) pending.discardReadBytes();
        }

        private void trailers(Http2Headers trailers) {
            CharSequence status = trailers.get("grpc-status");
            int code = status == null ? GrpcException.UNKNOWN : parseCode(status.toString());
            if (code == 0) {
                close(null);
            } else {
                CharSequence message = trailers.get("grpc-message");
                close(new GrpcException(method, code, message == null ? "" : decodeMessage(message.toString())));
            }
        }

        /** Ends the call once: later frames, resets and the channel's end change nothing. */
        void close(GrpcException error) {
            if (done) return;
            done = true;
            if (pending != null) {
                pending.release();
                pending = null;
            }
            listener.onClose(error);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            Channel parent = ctx.channel().parent();
            Throwable cause = parent == null ? null : parent.attr(CLOSE_CAUSE).get();
            close(new GrpcException(method, GrpcException.UNAVAILABLE, "connection to " + endpoint + " closed"
                    + (cause == null ? "" : ": " + cause.getMessage()), cause));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            close(new GrpcException(method, GrpcException.UNAVAILABLE, String.valueOf(cause.getMessage()), cause));
            ctx.close();
        }

        private static int parseCode(String s) {
            try {
                return Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                return GrpcException.UNKNOWN;
            }
        }

        /** grpc-message is percent-encoded UTF-8 (a '+' is a plus, not a space). */
        private static String decodeMessage(String s) {
            try {
                return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return s;
            }
        }
    }
}
