package io.k3j.agent.kubelet;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.spdy.DefaultSpdyDataFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynReplyFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyPingFrame;
import io.netty.handler.codec.spdy.SpdyRstStreamFrame;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for containerd's CRI streaming server, for tests: plain HTTP on loopback, one-time URLs, SPDY/3.1
 * with the {@code v4.channel.k8s.io} remote-command protocol (runs the command as a local process) and
 * {@code portforward.k8s.io} (connects to the port on 127.0.0.1). Speaks what client-go's SPDY client and
 * kubelet's streaming server speak: a SYN_REPLY for every stream, a Status on the error stream, then a close.
 */
final class FakeStreamingServer implements StreamingRuntime, AutoCloseable {
    private record Request(String kind, List<String> command, boolean tty, boolean stdin, boolean stdout, boolean stderr) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Map<String, Request> tokens = new ConcurrentHashMap<>();
    private final Channel server;
    /** Every protocol version negotiated, for assertions. */
    final List<String> negotiated = new java.util.concurrent.CopyOnWriteArrayList<>();

    FakeStreamingServer() {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("http", new HttpServerCodec());
                        ch.pipeline().addLast("agg", new HttpObjectAggregator(65536));
                        ch.pipeline().addLast("upgrade", new Upgrade());
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    }

    private URI url(String kind, Request r) {
        String token = UUID.randomUUID().toString();
        tokens.put(token, r);
        return URI.create("http://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort() + "/" + kind + "/" + token);
    }

    @Override
    public URI exec(String containerId, List<String> command, boolean tty, boolean stdin, boolean stdout, boolean stderr) {
        return url("exec", new Request("exec", command, tty, stdin, stdout, stderr));
    }

    @Override
    public URI attach(String containerId, boolean tty, boolean stdin, boolean stdout, boolean stderr) {
        // attaching to "the container's process" = a cat echoing stdin, enough to prove the streams
        return url("attach", new Request("attach", List.of("cat"), tty, stdin, stdout, stderr));
    }

    @Override
    public URI portForward(String sandboxId, List<Integer> ports) {
        return url("portforward", new Request("portforward", List.of(), false, false, false, false));
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).syncUninterruptibly();
    }

    private final class Upgrade extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            String[] p = req.uri().substring(1).split("/");
            Request r = p.length == 2 ? tokens.remove(p[1]) : null;
            if (r == null) {
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND,
                        Unpooled.copiedBuffer("unknown token\n", StandardCharsets.UTF_8))).addListener(f -> ctx.close());
                return;
            }
            List<String> offered = req.headers().getAll("X-Stream-Protocol-Version").stream()
                    .flatMap(v -> java.util.Arrays.stream(v.split(","))).map(String::trim).toList();
            String want = r.kind.equals("portforward") ? "portforward.k8s.io" : "v4.channel.k8s.io";
            if (!"SPDY/3.1".equalsIgnoreCase(req.headers().get("Upgrade")) || !offered.contains(want)) {
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST,
                        Unpooled.copiedBuffer("unsupported protocols " + offered + "\n", StandardCharsets.UTF_8))).addListener(f -> ctx.close());
                return;
            }
            negotiated.add(want);
            DefaultFullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
            ok.headers().set("Connection", "Upgrade").set("Upgrade", "SPDY/3.1").set("X-Stream-Protocol-Version", want);
            ctx.writeAndFlush(ok).addListener(f -> {
                ctx.pipeline().remove("agg");
                ctx.pipeline().remove("http");
                ctx.pipeline().addLast(new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
                ctx.pipeline().addLast(r.kind.equals("portforward") ? new PortForwardSession() : new ExecSession(r));
                ctx.pipeline().remove(this);
            });
        }
    }

    /**
     * A SYN_REPLY with the stream's type: Netty encodes an empty header set as no header block at all, which Go's
     * SPDY framer (kubectl) can't read, while Go's own replies always carry a compressed block.
     */
    private static DefaultSpdySynReplyFrame reply(SpdySynStreamFrame syn) {
        DefaultSpdySynReplyFrame reply = new DefaultSpdySynReplyFrame(syn.streamId());
        reply.headers().set("streamtype", syn.headers().getAsString("streamtype"));
        return reply;
    }

    /** Runs one command; its streams are SPDY streams named by their streamtype header. */
    private static final class ExecSession extends ChannelInboundHandlerAdapter {
        private final Request r;
        private final Map<String, Integer> streams = new HashMap<>();
        private Process process;
        private boolean started;

        ExecSession(Request r) {
            this.r = r;
        }

        private int expected() {
            return 1 + (r.stdin ? 1 : 0) + (r.stdout ? 1 : 0) + (r.stderr && !r.tty ? 1 : 0) + (r.tty ? 1 : 0);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            try {
                if (msg instanceof SpdySynStreamFrame syn) {
                    streams.put(syn.headers().getAsString("streamtype"), syn.streamId());
                    ctx.writeAndFlush(reply(syn));
                    if (!started && streams.size() == expected()) start(ctx.channel());
                } else if (msg instanceof SpdyDataFrame d && process != null && Integer.valueOf(d.streamId()).equals(streams.get("stdin"))) {
                    OutputStream in = process.getOutputStream();
                    byte[] b = new byte[d.content().readableBytes()];
                    d.content().readBytes(b);
                    in.write(b);
                    in.flush();
                    if (d.isLast()) in.close();
                } else if (msg instanceof SpdyPingFrame ping) {
                    ctx.writeAndFlush(ping);
                    return;
                }
            } finally {
                if (!(msg instanceof SpdyPingFrame)) ReferenceCountUtil.release(msg);
            }
        }

        private void start(Channel ch) throws IOException {
            started = true;
            process = new ProcessBuilder(r.command).redirectErrorStream(r.tty).start();
            if (!r.stdin) process.getOutputStream().close();
            Thread out = pump(process.getInputStream(), ch, streams.get("stdout"));
            Thread err = r.tty ? null : pump(process.getErrorStream(), ch, streams.get("stderr"));
            Thread.ofVirtual().start(() -> {
                try {
                    int code = process.waitFor();
                    out.join();
                    if (err != null) err.join();
                    String status = code == 0 ? "{\"metadata\":{},\"status\":\"Success\"}"
                            : "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero exit code: exit status "
                            + code + "\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"" + code + "\"}]}}";
                    SpdyDataFrame f = new DefaultSpdyDataFrame(streams.get("error"), Unpooled.copiedBuffer(status, StandardCharsets.UTF_8));
                    f.setLast(true);
                    ch.writeAndFlush(f).addListener(x -> ch.close());
                } catch (InterruptedException e) {
                    process.destroyForcibly();
                    ch.close();
                }
            });
        }

        private static Thread pump(InputStream in, Channel ch, Integer stream) {
            return Thread.ofVirtual().start(() -> {
                byte[] buf = new byte[8192];
                try {
                    for (int n; (n = in.read(buf)) > 0; ) {
                        if (stream != null) ch.writeAndFlush(new DefaultSpdyDataFrame(stream, Unpooled.copiedBuffer(buf, 0, n))).syncUninterruptibly();
                    }
                } catch (IOException e) {
                    // process gone
                }
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (process != null) process.destroyForcibly();
        }
    }

    /** portforward.k8s.io: per connection an error and a data stream with port and requestid headers. */
    private static final class PortForwardSession extends ChannelInboundHandlerAdapter {
        private final Map<Integer, Socket> sockets = new ConcurrentHashMap<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            try {
                if (msg instanceof SpdySynStreamFrame syn) {
                    ctx.writeAndFlush(reply(syn));
                    if ("data".equals(syn.headers().getAsString("streamtype"))) {
                        int port = Integer.parseInt(syn.headers().getAsString("port"));
                        Socket s = new Socket("127.0.0.1", port);
                        sockets.put(syn.streamId(), s);
                        Channel ch = ctx.channel();
                        Thread.ofVirtual().start(() -> {
                            byte[] buf = new byte[8192];
                            try (InputStream in = s.getInputStream()) {
                                for (int n; (n = in.read(buf)) > 0; ) {
                                    ch.writeAndFlush(new DefaultSpdyDataFrame(syn.streamId(), Unpooled.copiedBuffer(buf, 0, n))).syncUninterruptibly();
                                }
                            } catch (IOException e) {
                                // closed
                            }
                            SpdyDataFrame fin = new DefaultSpdyDataFrame(syn.streamId());
                            fin.setLast(true);
                            ch.writeAndFlush(fin);
                        });
                    }
                } else if (msg instanceof SpdyDataFrame d) {
                    Socket s = sockets.get(d.streamId());
                    if (s != null) {
                        byte[] b = new byte[d.content().readableBytes()];
                        d.content().readBytes(b);
                        s.getOutputStream().write(b);
                        if (d.isLast()) s.shutdownOutput();
                    }
                } else if (msg instanceof SpdyRstStreamFrame rst) {
                    Socket s = sockets.remove(rst.streamId());
                    if (s != null) s.close();
                } else if (msg instanceof SpdyPingFrame ping) {
                    ctx.writeAndFlush(ping);
                    return;
                }
            } finally {
                if (!(msg instanceof SpdyPingFrame)) ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws IOException {
            for (Socket s : sockets.values()) s.close();
        }
    }
}
