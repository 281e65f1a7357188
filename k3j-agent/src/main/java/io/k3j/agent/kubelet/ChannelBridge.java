package io.k3j.agent.kubelet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.spdy.DefaultSpdyDataFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyGoAwayFrame;
import io.netty.handler.codec.spdy.SpdyPingFrame;
import io.netty.handler.codec.spdy.SpdyRstStreamFrame;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyVersion;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import java.util.Map;

/**
 * Translates the WebSocket remote-command protocol {@code v5.channel.k8s.io} (kubectl 1.30+ exec, attach, cp)
 * into SPDY/3.1 {@code v4.channel.k8s.io} toward the runtime's streaming server, which doesn't speak v5.
 *
 * <pre>
 * kubectl ─ WebSocket: [channel byte][data]          ─┐            ┌─ SPDY streams (streamtype header)
 *   0 stdin  1 stdout  2 stderr  3 error  4 resize    ├─ this ─────┤   error, stdin, stdout, stderr, resize
 *   [255, n]: stream n closed by the client (stdin EOF)┘            └─ DATA frames; FIN on stdin for EOF
 * </pre>
 *
 * The error stream carries a metav1.Status (its ExitCode cause becomes kubectl's exit code) in both protocols, so
 * it is passed through as is. The WebSocket ends (normal closure) when the runtime closes its connection, which
 * it does once the command has ended and its status was written.
 */
final class ChannelBridge {
    static final String V5 = "v5.channel.k8s.io";
    static final String V4 = "v4.channel.k8s.io";
    private static final int STDIN = 0, STDOUT = 1, STDERR = 2, ERROR = 3, RESIZE = 4, CLOSE = 255;

    private final Channel client;
    private final Channel runtime;
    /** SPDY stream id → v5 channel, and back. */
    private final Map<Integer, Integer> channelOf = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<Integer, Integer> streamOf = new java.util.concurrent.ConcurrentHashMap<>();

    private ChannelBridge(Channel client, Channel runtime) {
        this.client = client;
        this.runtime = runtime;
    }

    /**
     * Starts translating. {@code client} has finished its WebSocket handshake (frame codecs and an aggregator in
     * its pipeline, reading paused); {@code runtime} has switched to SPDY (no handlers, reading paused).
     */
    static void start(Channel client, Channel runtime, List<ByteBuf> early, boolean stdin, boolean stdout, boolean stderr, boolean tty) {
        ChannelBridge b = new ChannelBridge(client, runtime);
        // the same streams, in the same order, as client-go's SPDY v4 executor creates them; numbered here, before
        // either side runs, so that stdin arriving at once from kubectl already has its stream
        List<String> types = new java.util.ArrayList<>(List.of("error"));
        if (stdin) types.add("stdin");
        if (stdout) types.add("stdout");
        if (stderr && !tty) types.add("stderr");
        if (tty) types.add("resize");
        int id = 1;
        for (String type : types) {
            int channel = switch (type) {
                case "error" -> ERROR;
                case "stdin" -> STDIN;
                case "stdout" -> STDOUT;
                case "stderr" -> STDERR;
                default -> RESIZE;
            };
            b.channelOf.put(id, channel);
            b.streamOf.put(channel, id);
            id += 2;
        }
        runtime.eventLoop().execute(() -> {
            runtime.pipeline().addLast("spdy", new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
            runtime.pipeline().addLast("bridge", b.new FromRuntime());
            for (int i = 0; i < types.size(); i++) {
                SpdySynStreamFrame syn = new DefaultSpdySynStreamFrame(1 + 2 * i, 0, (byte) 0);
                syn.headers().set("streamtype", types.get(i));
                runtime.write(syn);
            }
            runtime.flush();
            for (ByteBuf buf : early) runtime.pipeline().fireChannelRead(buf);
            runtime.config().setAutoRead(true);
            runtime.read();
        });
        client.eventLoop().execute(() -> {
            client.pipeline().addLast("bridge", b.new FromClient());
            client.config().setAutoRead(true);
            client.read();
        });
    }

    private void closeBoth() {
        if (client.isActive()) client.writeAndFlush(new CloseWebSocketFrame(1000, "")).addListener(ChannelFutureListener.CLOSE);
        runtime.close();
    }

    /** WebSocket messages from kubectl. */
    private final class FromClient extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof BinaryWebSocketFrame f) {
                    ByteBuf data = f.content();
                    if (!data.isReadable()) return;
                    int channel = data.readUnsignedByte();
                    if (channel == CLOSE) {
                        Integer stream = data.isReadable() ? streamOf.get((int) data.readUnsignedByte()) : null;
                        if (stream != null) { SpdyDataFrame fin = new DefaultSpdyDataFrame(stream); fin.setLast(true); runtime.writeAndFlush(fin); }
                        return;
                    }
                    Integer stream = streamOf.get(channel);
                    if (stream != null && (channel == STDIN || channel == RESIZE)) {
                        runtime.writeAndFlush(new DefaultSpdyDataFrame(stream, data.retain()));
                        if (!runtime.isWritable()) ctx.channel().config().setAutoRead(false);
                    }
                } else if (msg instanceof PingWebSocketFrame ping) {
                    ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
                } else if (msg instanceof CloseWebSocketFrame) {
                    closeBoth();
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            runtime.close();
        }

        /** The client drained what the runtime sent: read from the runtime again. */
        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) runtime.config().setAutoRead(true);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closeBoth();
        }
    }

    /** SPDY frames from the runtime's streaming server. */
    private final class FromRuntime extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof SpdyDataFrame d) {
                    Integer channel = channelOf.get(d.streamId());
                    if (channel != null && d.content().isReadable()) {
                        ByteBuf out = Unpooled.buffer(1 + d.content().readableBytes());
                        out.writeByte(channel);
                        out.writeBytes(d.content());
                        client.writeAndFlush(new BinaryWebSocketFrame(out));
                        if (!client.isWritable()) ctx.channel().config().setAutoRead(false);
                    }
                } else if (msg instanceof SpdyPingFrame ping) {
                    ctx.writeAndFlush(ping);
                    return; // passed on, not released here
                } else if (msg instanceof SpdyGoAwayFrame) {
                    closeBoth();
                } else if (msg instanceof SpdyRstStreamFrame) {
                    // a stream the runtime gave up on: the command's end arrives as the connection's close
                }
            } finally {
                if (!(msg instanceof SpdyPingFrame)) ReferenceCountUtil.release(msg);
            }
        }

        /** The runtime drained what the client sent: read from the client again. */
        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) client.config().setAutoRead(true);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            // everything the runtime sent has been written to the client before this close frame
            if (client.isActive()) client.writeAndFlush(new CloseWebSocketFrame(1000, "")).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closeBoth();
        }
    }
}
