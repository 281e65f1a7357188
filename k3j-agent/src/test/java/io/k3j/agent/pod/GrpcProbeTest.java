package io.k3j.agent.pod;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gRPC probe against a grpc.health.v1 server written here on Netty's HTTP/2 server codec (the wire format by
 * hand, as a grpc-go server answers): SERVING, NOT_SERVING, an unknown service, a slow answer, nothing listening.
 */
class GrpcProbeTest {
    private EventLoopGroup group;
    private Channel server;
    private int port;
    private Prober prober;
    /** What the server received: path, content-type, te and the decoded service name of each call. */
    private final List<String> calls = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                            @Override
                            protected void initChannel(Http2StreamChannel stream) {
                                stream.pipeline().addLast(new HealthService());
                            }
                        }));
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        port = ((InetSocketAddress) server.localAddress()).getPort();
        prober = new Prober(null);
    }

    @AfterEach
    void stop() {
        prober.close();
        server.close().awaitUninterruptibly(2000);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3000);
    }

    private Prober.Result probe(int port, String service, int timeout) {
        ObjectNode h = Json.object();
        ObjectNode g = h.putObject("grpc");
        g.put("port", port);
        if (service != null) g.put("service", service);
        return prober.run(h, Json.object(), "", "127.0.0.1", timeout);
    }

    @Test
    void servingServerPasses() {
        Prober.Result r = probe(port, null, 1);
        assertTrue(r.success(), r.output());
        assertEquals("service healthy", r.output());
        // an empty service is an empty message; path and headers as gRPC wants them
        assertEquals(List.of("/grpc.health.v1.Health/Check application/grpc trailers service="), calls);
    }

    @Test
    void namedServiceIsEncodedAndItsStatusCounts() {
        Prober.Result ok = probe(port, "checkout.v1.Cart", 1);
        assertTrue(ok.success(), ok.output());
        Prober.Result down = probe(port, "down", 1);
        assertFalse(down.success());
        assertEquals("service unhealthy (responded with \"NOT_SERVING\")", down.output());
        assertEquals(List.of("/grpc.health.v1.Health/Check application/grpc trailers service=checkout.v1.Cart",
                "/grpc.health.v1.Health/Check application/grpc trailers service=down"), calls);
    }

    @Test
    void longServiceNameUsesAMultiByteLength() {
        String name = "s".repeat(300);
        Prober.Result r = probe(port, name, 1);
        assertTrue(r.success(), r.output());
        assertEquals("/grpc.health.v1.Health/Check application/grpc trailers service=" + name, calls.get(0));
    }

    @Test
    void grpcErrorStatusFails() {
        Prober.Result r = probe(port, "missing", 1);
        assertFalse(r.success());
        assertEquals("error: health rpc probe failed: rpc error: code = NotFound desc = unknown service", r.output());
    }

    @Test
    void slowServerTimesOut() {
        long t0 = System.nanoTime();
        Prober.Result r = probe(port, "slow", 1);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertFalse(r.success());
        assertEquals("timeout: health rpc did not complete within 1s", r.output());
        assertTrue(ms >= 900 && ms < 2500, "took " + ms + " ms");
    }

    @Test
    void nothingListeningFailsToConnect() throws Exception {
        int free;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            free = s.getLocalPort();
        }
        Prober.Result r = probe(free, null, 1);
        assertFalse(r.success());
        assertEquals("timeout: failed to connect service \"127.0.0.1:" + free + "\" within 1s: context deadline exceeded", r.output());
    }

    @Test
    void closedProberFailsWithoutThreads() {
        prober.close();
        assertFalse(probe(port, null, 1).success());
        assertTrue(calls.isEmpty());
    }

    /** One stream of the health service: "down" is NOT_SERVING, "missing" unknown, "slow" answers after 3 s. */
    private final class HealthService extends SimpleChannelInboundHandler<Object> {
        private Http2Headers request;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2HeadersFrame f) {
                request = f.headers();
                if (f.isEndStream()) answer(ctx);
            } else if (msg instanceof Http2DataFrame f) {
                ByteBuf c = f.content();
                byte[] b = new byte[c.readableBytes()];
                c.readBytes(b);
                body.writeBytes(b);
                if (f.isEndStream()) answer(ctx);
            }
        }

        private void answer(ChannelHandlerContext ctx) {
            byte[] framed = body.toByteArray();
            byte[] msg = java.util.Arrays.copyOfRange(framed, 5, framed.length);
            String service = decodeService(msg);
            calls.add(request.path() + " " + request.get("content-type") + " " + request.get("te") + " service=" + service);
            switch (service) {
                case "missing" -> ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                        .add("content-type", "application/grpc").add("grpc-status", "5").add("grpc-message", "unknown%20service"), true));
                case "slow" -> ctx.executor().schedule(() -> reply(ctx, 1), 3, TimeUnit.SECONDS);
                case "down" -> reply(ctx, 2);
                default -> reply(ctx, 1);
            }
        }

        private void reply(ChannelHandlerContext ctx, int status) {
            if (!ctx.channel().isActive()) return;
            ByteBuf data = ctx.alloc().buffer();
            data.writeByte(0).writeInt(2).writeByte(0x08).writeByte(status);
            ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200").add("content-type", "application/grpc"), false));
            ctx.write(new DefaultHttp2DataFrame(data, false));
            ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("grpc-status", "0"), true));
        }

        /** HealthCheckRequest's field 1 (tag 0x0a, varint length, UTF-8). */
        private String decodeService(byte[] msg) {
            if (msg.length == 0) return "";
            assertEquals(0x0a, msg[0]);
            int i = 1;
            int len = 0;
            for (int shift = 0; ; shift += 7) {
                int b = msg[i++];
                len |= (b & 0x7f) << shift;
                if ((b & 0x80) == 0) break;
            }
            assertEquals(msg.length - i, len);
            return new String(msg, i, len, StandardCharsets.UTF_8);
        }
    }
}
