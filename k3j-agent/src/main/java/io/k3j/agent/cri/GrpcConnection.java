package io.k3j.agent.cri;

import io.k3j.agent.host.EventLoops;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.AttributeKey;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Unary gRPC over one HTTP/2 connection (h2c with prior knowledge) on a unix domain socket, the way containerd serves
 * CRI. Each call is one HTTP/2 stream: HEADERS (POST path, {@code content-type: application/grpc},
 * {@code te: trailers}, {@code grpc-timeout}), one DATA frame carrying the 5-byte-prefixed message, then the answer's
 * HEADERS, DATA and trailers ({@code grpc-status}, {@code grpc-message}); a failed call may answer with trailers only.
 * The connection is opened lazily and again after it dropped (containerd restarted), so a caller never holds a dead
 * one. The agent's shared event loops ({@link EventLoops}) serve every call.
 */
final class GrpcConnection implements AutoCloseable {

    /** gRPC refuses larger messages by default too; containerd caps exec output at 16 MiB per stream. */
    private static final int MAX_MESSAGE = 64 << 20;

    private static final AttributeKey<Map<CompletableFuture<byte[]>, String>> INFLIGHT = AttributeKey.valueOf("k3j.cri.inflight");

    private final Path socket;
    private final EventLoops.Lease loop;
    private final EventLoopGroup group;
    private final Object lock = new Object();
    private Channel channel;
    private volatile boolean closed;

    GrpcConnection(Path socket) {
        this.socket = socket;
        this.loop = EventLoops.acquire(); // epoll: a unix socket needs it, and Linux is what the agent runs on
        this.group = loop.group();
    }

    Path socket() {
        return socket;
    }

    /**
     * Sends {@code request} (an encoded protobuf message) to {@code path} and waits for the answer's message bytes.
     *
     * @throws CriException with the runtime's status, UNAVAILABLE when the socket can't be reached, DEADLINE_EXCEEDED
     */
    byte[] call(String path, byte[] request, long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        Channel parent = connection(path, timeoutMillis);
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        // the connection's death fails its calls at once, whatever state their streams are in
        Map<CompletableFuture<byte[]>, String> inflight = parent.attr(INFLIGHT).get();
        inflight.put(result, path);
        result.whenComplete((r, e) -> inflight.remove(result));
        if (!parent.isActive()) result.completeExceptionally(connectionClosed(path));
        AtomicReference<Http2StreamChannel> stream = new AtomicReference<>();
        new Http2StreamChannelBootstrap(parent).handler(new CallHandler(path, result)).open().addListener(f -> {
            if (!f.isSuccess()) {
                // e.g. the runtime sent GOAWAY while shutting down: drop the connection so the next call dials again
                parent.close();
                result.completeExceptionally(new CriException(path, CriException.UNAVAILABLE, "cannot open stream: " + f.cause(), f.cause()));
                return;
            }
            Http2StreamChannel ch = (Http2StreamChannel) f.getNow();
            stream.set(ch);
            if (result.isDone()) { // the caller gave up meanwhile
                ch.close();
                return;
            }
            Http2Headers headers = new DefaultHttp2Headers()
                    .method("POST").scheme("http").authority("localhost").path(path)
                    .add("content-type", "application/grpc")
                    .add("te", "trailers")
                    .add("user-agent", "k3j-agent")
                    .add("grpc-timeout", grpcTimeout(remainingMillis(deadline)));
            ByteBuf body = ch.alloc().buffer(5 + request.length);
            body.writeByte(0).writeInt(request.length).writeBytes(request);
            ch.write(new DefaultHttp2HeadersFrame(headers, false));
            ch.writeAndFlush(new DefaultHttp2DataFrame(body, true)).addListener(w -> {
                if (!w.isSuccess()) {
                    result.completeExceptionally(new CriException(path, CriException.UNAVAILABLE, "cannot send: " + w.cause(), w.cause()));
                }
            });
        });
        try {
            return result.get(Math.max(1, remainingMillis(deadline)), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new CriException(path, CriException.DEADLINE_EXCEEDED, "no answer within " + timeoutMillis + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CriException(path, CriException.CANCELLED, "interrupted", e);
        } catch (ExecutionException e) {
            // again on the caller's thread, so that its stack shows which call failed
            if (e.getCause() instanceof CriException c) throw new CriException(c.method(), c.code(), c.statusMessage(), c);
            throw new CriException(path, CriException.INTERNAL, String.valueOf(e.getCause()), e.getCause());
        } finally {
            // closing an unfinished stream resets it (RST_STREAM CANCEL), so the runtime can stop working on it
            Http2StreamChannel ch = stream.get();
            if (ch != null && ch.isOpen()) ch.close();
        }
    }

    private Channel connection(String path, long timeoutMillis) {
        synchronized (lock) {
            if (closed) throw new CriException(path, CriException.CANCELLED, "client closed");
            if (channel != null && channel.isActive()) return channel;
            if (channel != null) channel.close();
            channel = null;
            ChannelFuture connect = new Bootstrap()
                    .group(group)
                    .channel(EpollDomainSocketChannel.class)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(timeoutMillis, 10_000))
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                                    .initialSettings(Http2Settings.defaultSettings().initialWindowSize(1 << 20).maxHeaderListSize(64 << 10))
                                    .build());
                            ch.pipeline().addLast(new Http2MultiplexHandler(new SimpleChannelInboundHandler<Object>() {
                                @Override
                                protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                                    // runtimes never push streams to a client
                                }
                            }));
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                    // the runtime went away (reset by peer): its calls fail UNAVAILABLE, the next reconnects
                                    ctx.close();
                                }
                            });
                        }
                    })
                    .connect(new DomainSocketAddress(socket.toFile()));
            if (!connect.awaitUninterruptibly(timeoutMillis + 100) || !connect.isSuccess()) {
                connect.channel().close();
                Throwable cause = connect.cause();
                throw new CriException(path, CriException.UNAVAILABLE,
                        "cannot connect to " + socket + (cause == null ? " (timeout)" : ": " + cause.getMessage()), cause);
            }
            channel = connect.channel();
            Map<CompletableFuture<byte[]>, String> inflight = new ConcurrentHashMap<>();
            channel.attr(INFLIGHT).set(inflight);
            channel.closeFuture().addListener(f -> inflight.forEach((call, p) -> call.completeExceptionally(connectionClosed(p))));
            return channel;
        }
    }

    /** True when a connection is open (not a health check: the runtime may still be starting). */
    boolean connected() {
        synchronized (lock) {
            return channel != null && channel.isActive();
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

    private static CriException connectionClosed(String path) {
        return new CriException(path, CriException.UNAVAILABLE, "connection to the runtime closed");
    }

    private static long remainingMillis(long deadlineNanos) {
        return TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    }

    /** gRPC's TimeoutValue is at most 8 digits: milliseconds while they fit, else seconds. */
    static String grpcTimeout(long millis) {
        long m = Math.max(1, millis);
        return m <= 99_999_999L ? m + "m" : Math.min(m / 1000, 99_999_999L) + "S";
    }

    /** Collects one stream's answer; completes the future exactly once, on the event loop. */
    private static final class CallHandler extends SimpleChannelInboundHandler<Object> {
        private final String path;
        private final CompletableFuture<byte[]> result;
        private CompositeByteBuf body;
        private boolean headersSeen;

        CallHandler(String path, CompletableFuture<byte[]> result) {
            this.path = path;
            this.result = result;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2HeadersFrame frame) {
                Http2Headers h = frame.headers();
                if (!headersSeen) {
                    headersSeen = true;
                    CharSequence status = h.status();
                    if (status != null && !"200".contentEquals(status)) {
                        fail(ctx, new CriException(path, httpToGrpc(status.toString()), "HTTP status " + status));
                        return;
                    }
                }
                if (frame.isEndStream()) finish(ctx, h);
            } else if (msg instanceof Http2DataFrame frame) {
                ByteBuf content = frame.content();
                if (content.isReadable()) {
                    if (body == null) body = ctx.alloc().compositeBuffer(64);
                    if (body.readableBytes() + content.readableBytes() > MAX_MESSAGE + 5) {
                        fail(ctx, new CriException(path, CriException.RESOURCE_EXHAUSTED, "answer larger than " + MAX_MESSAGE + " bytes"));
                        return;
                    }
                    body.addComponent(true, content.retain());
                }
                if (frame.isEndStream()) finish(ctx, null);
            } else if (msg instanceof Http2ResetFrame reset) {
                fail(ctx, new CriException(path, CriException.UNAVAILABLE, "stream reset by the runtime (HTTP/2 error " + reset.errorCode() + ")"));
            }
        }

        private void finish(ChannelHandlerContext ctx, Http2Headers trailers) {
            if (trailers == null) {
                fail(ctx, new CriException(path, CriException.INTERNAL, "answer ended without trailers"));
                return;
            }
            CharSequence status = trailers.get("grpc-status");
            int code = status == null ? CriException.UNKNOWN : parseCode(status.toString());
            if (code != 0) {
                CharSequence message = trailers.get("grpc-message");
                fail(ctx, new CriException(path, code, message == null ? "" : decodeMessage(message.toString())));
                return;
            }
            try {
                result.complete(decode(body));
            } catch (CriException e) {
                result.completeExceptionally(e);
            } finally {
                release();
            }
        }

        private byte[] decode(ByteBuf buf) {
            if (buf == null || buf.readableBytes() < 5) {
                throw new CriException(path, CriException.INTERNAL, "answer without a message");
            }
            int compressed = buf.readUnsignedByte();
            if (compressed != 0) {
                throw new CriException(path, CriException.INTERNAL, "compressed answer but no grpc-encoding was offered");
            }
            int length = buf.readInt();
            if (length < 0 || length > buf.readableBytes()) {
                throw new CriException(path, CriException.INTERNAL, "truncated message: " + length + " bytes announced, " + buf.readableBytes() + " received");
            }
            byte[] bytes = new byte[length];
            buf.readBytes(bytes);
            return bytes;
        }

        private void fail(ChannelHandlerContext ctx, CriException e) {
            result.completeExceptionally(e);
            release();
            ctx.close();
        }

        private void release() {
            if (body != null) {
                body.release();
                body = null;
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            release();
            // a no-op when the answer is complete; otherwise the connection (or stream) died under the call
            result.completeExceptionally(new CriException(path, CriException.UNAVAILABLE, "connection to the runtime closed"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(ctx, new CriException(path, CriException.UNAVAILABLE, String.valueOf(cause.getMessage()), cause));
        }

        private static int parseCode(String s) {
            try {
                return Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                return CriException.UNKNOWN;
            }
        }

        /** grpc-message is percent-encoded UTF-8 (but '+' is a plus, not a space). */
        private static String decodeMessage(String s) {
            try {
                return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return s;
            }
        }

        /** The gRPC spec's mapping for answers that are not gRPC at all (a proxy or a wrong socket). */
        private static int httpToGrpc(String status) {
            return switch (status) {
                case "400" -> CriException.INTERNAL;
                case "401" -> CriException.UNAUTHENTICATED;
                case "403" -> CriException.PERMISSION_DENIED;
                case "404" -> CriException.UNIMPLEMENTED;
                case "429", "502", "503", "504" -> CriException.UNAVAILABLE;
                default -> CriException.UNKNOWN;
            };
        }
    }

}
