package io.k3j.agent.pod;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.ByteArrayOutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * kubelet's gRPC probe: one {@code grpc.health.v1.Health/Check} call over a fresh plain HTTP/2 connection (h2c with
 * prior knowledge, as grpc-go dials without TLS) to the pod's IP, within the probe's timeout. The messages are
 * encoded by hand: {@code HealthCheckRequest{string service = 1}} and {@code HealthCheckResponse{ServingStatus status
 * = 1}}. The probe succeeds only on grpc-status 0 with SERVING; failures read as kubelet's.
 *
 * <p>One event-loop thread, started on the first probe, serves every probe of the node.
 */
final class GrpcHealth implements AutoCloseable {
    static final String PATH = "/grpc.health.v1.Health/Check";
    private static final int MAX_ANSWER = 64 << 10;
    private static final String[] STATUS_NAMES = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};

    private final Object lock = new Object();
    private EventLoopGroup group;
    private boolean closed;

    /** Checks {@code service} (empty: the whole server) at host:port. */
    Prober.Result check(String host, int port, String service, int timeoutSeconds) {
        String addr = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        long timeoutMillis = timeoutSeconds * 1000L;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        String connectFailed = "timeout: failed to connect service \"" + addr + "\" within " + timeoutSeconds + "s: context deadline exceeded";
        EventLoopGroup g = group();
        if (g == null) return Prober.Result.fail("error: failed to connect service at \"" + addr + "\": prober stopped");
        CompletableFuture<Answer> answer = new CompletableFuture<>();
        ChannelFuture connect;
        try {
            connect = new Bootstrap().group(g).channel(NioSocketChannel.class)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) timeoutMillis)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
                            ch.pipeline().addLast(new Http2MultiplexHandler(new SimpleChannelInboundHandler<Object>() {
                                @Override
                                protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                                    // servers don't push streams to a gRPC client
                                }
                            }));
                        }
                    })
                    .connect(new InetSocketAddress(host, port));
        } catch (IllegalArgumentException e) {
            return Prober.Result.fail("error: failed to connect service at \"" + addr + "\": " + e.getMessage());
        }
        Channel parent = connect.channel();
        try {
            if (!connect.awaitUninterruptibly(Math.max(1, remainingMillis(deadline)))) return Prober.Result.fail(connectFailed);
            if (!connect.isSuccess()) {
                // grpc-go's blocking dial retries a refused connection until the deadline, so kubelet reports a timeout
                // for both; this one answers at once
                if (connect.cause() instanceof ConnectException || connect.cause() instanceof io.netty.channel.ConnectTimeoutException) {
                    return Prober.Result.fail(connectFailed);
                }
                return Prober.Result.fail("error: failed to connect service at \"" + addr + "\": " + connect.cause());
            }
            parent.closeFuture().addListener(f -> answer.completeExceptionally(new IllegalStateException("connection closed")));
            new Http2StreamChannelBootstrap(parent).handler(new CallHandler(answer)).open().addListener(f -> {
                if (!f.isSuccess()) {
                    answer.completeExceptionally(f.cause());
                    return;
                }
                Http2StreamChannel ch = (Http2StreamChannel) f.getNow();
                Http2Headers headers = new DefaultHttp2Headers()
                        .method("POST").scheme("http").authority(addr).path(PATH)
                        .add("content-type", "application/grpc")
                        .add("te", "trailers")
                        .add("user-agent", "kube-probe")
                        .add("grpc-timeout", Math.max(1, remainingMillis(deadline)) + "m");
                byte[] request = request(service);
                ByteBuf body = ch.alloc().buffer(5 + request.length);
                body.writeByte(0).writeInt(request.length).writeBytes(request);
                ch.write(new DefaultHttp2HeadersFrame(headers, false));
                ch.writeAndFlush(new DefaultHttp2DataFrame(body, true)).addListener(w -> {
                    if (!w.isSuccess()) answer.completeExceptionally(w.cause());
                });
            });
            Answer a;
            try {
                a = answer.get(Math.max(1, remainingMillis(deadline)), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                return Prober.Result.fail("timeout: health rpc did not complete within " + timeoutSeconds + "s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Prober.Result.fail("error: health rpc probe failed: interrupted");
            } catch (ExecutionException e) {
                return Prober.Result.fail("error: health rpc probe failed: rpc error: code = Unavailable desc = " + e.getCause().getMessage());
            }
            return judge(a, timeoutSeconds);
        } finally {
            parent.close();
        }
    }

    private static Prober.Result judge(Answer a, int timeoutSeconds) {
        if (a.grpcStatus != 0) {
            return switch (a.grpcStatus) {
                case 12 -> Prober.Result.fail("this server does not implement the grpc health protocol (grpc.health.v1.Health): " + a.grpcMessage);
                case 4 -> Prober.Result.fail("timeout: health rpc did not complete within " + timeoutSeconds + "s");
                default -> Prober.Result.fail("error: health rpc probe failed: rpc error: code = " + codeName(a.grpcStatus) + " desc = " + a.grpcMessage);
            };
        }
        int status;
        try {
            status = servingStatus(a.message);
        } catch (IllegalArgumentException e) {
            return Prober.Result.fail("error: health rpc probe failed: rpc error: code = Internal desc = " + e.getMessage());
        }
        if (status != 1) {
            String name = status >= 0 && status < STATUS_NAMES.length ? STATUS_NAMES[status] : Integer.toString(status);
            return Prober.Result.fail("service unhealthy (responded with \"" + name + "\")");
        }
        return Prober.Result.ok("service healthy");
    }

    /** HealthCheckRequest: field 1 (string), omitted when empty as proto3 does. */
    static byte[] request(String service) {
        byte[] s = service.getBytes(StandardCharsets.UTF_8);
        if (s.length == 0) return new byte[0];
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length + 6);
        out.write(0x0a);
        int n = s.length;
        while ((n & ~0x7f) != 0) {
            out.write((n & 0x7f) | 0x80);
            n >>>= 7;
        }
        out.write(n);
        out.write(s, 0, s.length);
        return out.toByteArray();
    }

    /**
     * HealthCheckResponse's field 1 (an enum, varint); 0 (UNKNOWN) when absent. Other fields are skipped by wire type.
     *
     * @throws IllegalArgumentException for a malformed message
     */
    static int servingStatus(byte[] msg) {
        int[] pos = {0};
        int status = 0;
        while (pos[0] < msg.length) {
            long key = varint(msg, pos);
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            switch (wire) {
                case 0 -> {
                    long v = varint(msg, pos);
                    if (field == 1) status = (int) v;
                }
                case 1 -> pos[0] += 8;
                case 2 -> pos[0] += (int) varint(msg, pos);
                case 5 -> pos[0] += 4;
                default -> throw new IllegalArgumentException("bad wire type " + wire);
            }
            if (pos[0] > msg.length) throw new IllegalArgumentException("truncated message");
        }
        return status;
    }

    private static long varint(byte[] b, int[] pos) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos[0] >= b.length) throw new IllegalArgumentException("truncated varint");
            int x = b[pos[0]++];
            v |= (long) (x & 0x7f) << shift;
            if ((x & 0x80) == 0) return v;
        }
        throw new IllegalArgumentException("varint too long");
    }

    private static String codeName(int code) {
        String[] names = {"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
                "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented",
                "Internal", "Unavailable", "DataLoss", "Unauthenticated"};
        return code >= 0 && code < names.length ? names[code] : "Code(" + code + ")";
    }

    private static long remainingMillis(long deadlineNanos) {
        return TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    }

    private EventLoopGroup group() {
        synchronized (lock) {
            if (closed) return null;
            if (group == null) group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("k3j-grpc-probe", true), NioIoHandler.newFactory());
            return group;
        }
    }

    @Override
    public void close() {
        EventLoopGroup g;
        synchronized (lock) {
            closed = true;
            g = group;
            group = null;
        }
        if (g != null) g.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2000);
    }

    /** What the server answered: the message (when grpc-status is 0) and the status. */
    private record Answer(int grpcStatus, String grpcMessage, byte[] message) {}

    /** Collects one stream's answer on the event loop. */
    private static final class CallHandler extends SimpleChannelInboundHandler<Object> {
        private final CompletableFuture<Answer> result;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();

        CallHandler(CompletableFuture<Answer> result) {
            this.result = result;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2HeadersFrame frame) {
                Http2Headers h = frame.headers();
                CharSequence http = h.status();
                if (http != null && !"200".contentEquals(http)) {
                    result.complete(new Answer(httpToGrpc(http.toString()), "HTTP status " + http, null));
                    return;
                }
                if (frame.isEndStream()) finish(h);
            } else if (msg instanceof Http2DataFrame frame) {
                ByteBuf c = frame.content();
                if (body.size() + c.readableBytes() > MAX_ANSWER) {
                    result.complete(new Answer(8, "answer larger than " + MAX_ANSWER + " bytes", null));
                    return;
                }
                byte[] bytes = new byte[c.readableBytes()];
                c.readBytes(bytes);
                body.writeBytes(bytes);
                if (frame.isEndStream()) result.completeExceptionally(new IllegalStateException("answer ended without trailers"));
            } else if (msg instanceof Http2ResetFrame reset) {
                result.completeExceptionally(new IllegalStateException("stream reset (HTTP/2 error " + reset.errorCode() + ")"));
            }
        }

        private void finish(Http2Headers trailers) {
            CharSequence s = trailers.get("grpc-status");
            int code;
            try {
                code = s == null ? 2 : Integer.parseInt(s.toString().trim());
            } catch (NumberFormatException e) {
                code = 2;
            }
            CharSequence m = trailers.get("grpc-message");
            String message = m == null ? "" : URLDecoder.decode(m.toString().replace("+", "%2B"), StandardCharsets.UTF_8);
            if (code != 0) {
                result.complete(new Answer(code, message, null));
                return;
            }
            byte[] framed = body.toByteArray();
            if (framed.length < 5 || framed[0] != 0) {
                result.complete(new Answer(13, framed.length < 5 ? "answer without a message" : "compressed answer", null));
                return;
            }
            int len = ((framed[1] & 0xff) << 24) | ((framed[2] & 0xff) << 16) | ((framed[3] & 0xff) << 8) | (framed[4] & 0xff);
            if (len < 0 || len > framed.length - 5) {
                result.complete(new Answer(13, "truncated message", null));
                return;
            }
            byte[] msg = new byte[len];
            System.arraycopy(framed, 5, msg, 0, len);
            result.complete(new Answer(0, "", msg));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.completeExceptionally(new IllegalStateException("connection closed"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.completeExceptionally(cause);
            ctx.close();
        }

        private static int httpToGrpc(String status) {
            return switch (status) {
                case "400" -> 13;
                case "401" -> 16;
                case "403" -> 7;
                case "404" -> 12;
                case "429", "502", "503", "504" -> 14;
                default -> 2;
            };
        }
    }
}
