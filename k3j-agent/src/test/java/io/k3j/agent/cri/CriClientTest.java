package io.k3j.agent.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3j.agent.cri.v1.*;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gRPC client against a tiny HTTP/2 (h2c) server on a unix socket written for the test: framing, request
 * headers, answers split over many DATA frames, trailers-only errors, deadlines and reconnects.
 */
class CriClientTest {

    @TempDir
    Path dir;
    private Path socket;
    private EventLoopGroup group;
    private Channel server;
    private final Map<String, Http2Headers> seen = new ConcurrentHashMap<>();
    private final java.util.List<Channel> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() {
        socket = dir.resolve("fake.sock");
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        startServer();
    }

    @AfterEach
    void tearDown() {
        if (server != null) server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    @DisplayName("a unary call sends gRPC headers and a length-prefixed message and decodes the answer")
    void unaryCall() {
        try (CriClient cri = CriClient.connect(socket, Duration.ofSeconds(5))) {
            VersionResponse v = cri.version(VersionRequest.newBuilder().setVersion("v1").build());
            assertThat(v.getRuntimeName()).isEqualTo("fake");
            assertThat(v.getVersion()).isEqualTo("v1"); // the server echoes what it decoded
            Http2Headers h = seen.get("/runtime.v1.RuntimeService/Version");
            assertThat(h.method().toString()).isEqualTo("POST");
            assertThat(h.get("content-type").toString()).isEqualTo("application/grpc");
            assertThat(h.get("te").toString()).isEqualTo("trailers");
            assertThat(h.get("grpc-timeout").toString()).matches("[0-9]{1,8}m");
            assertThat(Long.parseLong(h.get("grpc-timeout").toString().replace("m", ""))).isBetween(1L, 5000L);
        }
    }

    @Test
    @DisplayName("an answer larger than one DATA frame and the connection window arrives whole")
    void largeAnswer() {
        try (CriClient cri = CriClient.connect(socket, Duration.ofSeconds(5))) {
            StatusResponse s = cri.status(StatusRequest.getDefaultInstance());
            assertThat(s.getInfoMap().get("big")).hasSize(3 << 20).matches("x+");
        }
    }

    @Test
    @DisplayName("a trailers-only error becomes a CriException with code and decoded message")
    void trailersOnlyError() {
        try (CriClient cri = CriClient.connect(socket, Duration.ofSeconds(5))) {
            assertThatThrownBy(() -> cri.containerStatus(ContainerStatusRequest.newBuilder().setContainerId("x").build()))
                    .isInstanceOfSatisfying(CriException.class, e -> {
                        assertThat(e.notFound()).isTrue();
                        assertThat(e.code()).isEqualTo(5);
                        assertThat(e.codeName()).isEqualTo("NOT_FOUND");
                        assertThat(e.statusMessage()).isEqualTo("container \"x\" not found: 100%");
                        assertThat(e.method()).isEqualTo("/runtime.v1.RuntimeService/ContainerStatus");
                    });
        }
    }

    @Test
    @DisplayName("a call without an answer fails DEADLINE_EXCEEDED at its deadline; the connection stays usable")
    void deadline() {
        try (CriClient cri = CriClient.connect(socket, Duration.ofSeconds(5))) {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> cri.withTimeout(Duration.ofMillis(300)).listImages(ListImagesRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(CriException.class, e -> assertThat(e.deadlineExceeded()).isTrue());
            assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(250L, 3000L);
            assertThat(cri.version(VersionRequest.getDefaultInstance()).getRuntimeName()).isEqualTo("fake");
        }
    }

    @Test
    @DisplayName("without a server calls fail UNAVAILABLE; once it is back the next call reconnects")
    void reconnect() throws Exception {
        try (CriClient cri = CriClient.connect(socket, Duration.ofSeconds(5))) {
            assertThat(cri.version(VersionRequest.getDefaultInstance()).getRuntimeName()).isEqualTo("fake");
            var pending = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    cri.withTimeout(Duration.ofSeconds(20)).listImages(ListImagesRequest.getDefaultInstance());
                    return null;
                } catch (CriException e) {
                    return e;
                }
            });
            long until = System.nanoTime() + 5_000_000_000L;
            while (!seen.containsKey("/runtime.v1.ImageService/ListImages") && System.nanoTime() < until) Thread.sleep(10);
            // the runtime dies: its listening socket and its connections close (as the kernel does for a killed process)
            server.close().sync();
            for (Channel c : accepted) c.close().sync();
            Files.deleteIfExists(socket);
            // the call in flight fails at once, not at its deadline
            CriException inFlight = pending.get(3, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(inFlight).isNotNull();
            assertThat(inFlight.unavailable()).as(inFlight.getMessage()).isTrue();
            assertThatThrownBy(() -> cri.version(VersionRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(CriException.class, e -> assertThat(e.unavailable()).as(e.getMessage()).isTrue());
            startServer();
            assertThat(cri.version(VersionRequest.getDefaultInstance()).getRuntimeName()).isEqualTo("fake");
        }
    }

    private void startServer() {
        server = new ServerBootstrap()
                .group(group)
                .channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted.add(ch);
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                            @Override
                            protected void initChannel(Http2StreamChannel stream) {
                                stream.pipeline().addLast(new FakeRuntime());
                            }
                        }));
                    }
                })
                .bind(new DomainSocketAddress(socket.toFile())).syncUninterruptibly().channel();
    }

    /** Answers one stream: Version echoes, Status is large, ContainerStatus fails trailers-only, ListImages never answers. */
    private final class FakeRuntime extends SimpleChannelInboundHandler<Object> {
        private String path;
        private final ByteBuf body = Unpooled.buffer();

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof Http2HeadersFrame h) {
                path = h.headers().path().toString();
                seen.put(path, h.headers());
            } else if (msg instanceof Http2DataFrame d) {
                body.writeBytes(d.content());
                if (d.isEndStream()) answer(ctx);
            }
        }

        private void answer(ChannelHandlerContext ctx) throws Exception {
            assertThat(body.readUnsignedByte()).isZero();
            byte[] request = new byte[body.readInt()];
            body.readBytes(request);
            body.release();
            switch (path) {
                case "/runtime.v1.RuntimeService/Version" -> ok(ctx, VersionResponse.newBuilder()
                        .setRuntimeName("fake").setVersion(VersionRequest.parseFrom(request).getVersion()).build().toByteArray());
                case "/runtime.v1.RuntimeService/Status" -> ok(ctx, StatusResponse.newBuilder()
                        .putInfo("big", "x".repeat(3 << 20)).build().toByteArray());
                case "/runtime.v1.RuntimeService/ContainerStatus" -> ctx.writeAndFlush(new DefaultHttp2HeadersFrame(
                        new DefaultHttp2Headers().status("200").add("content-type", "application/grpc")
                                .add("grpc-status", "5").add("grpc-message", "container%20%22x%22 not found: 100%25"), true));
                default -> { } // ListImages: silence until the client gives up
            }
        }

        private void ok(ChannelHandlerContext ctx, byte[] message) {
            ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200").add("content-type", "application/grpc"), false));
            ByteBuf data = ctx.alloc().buffer(5 + message.length).writeByte(0).writeInt(message.length).writeBytes(message);
            // in 16 KiB frames, as an HTTP/2 server must send a large message
            while (data.readableBytes() > 16384) ctx.write(new DefaultHttp2DataFrame(data.readRetainedSlice(16384), false));
            ctx.write(new DefaultHttp2DataFrame(data, false));
            ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("grpc-status", "0"), true));
        }
    }
}
