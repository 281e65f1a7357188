package io.k3j.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;

/**
 * The backend of the ingress benchmark, run as its own process ({@code java -cp k3j-bench.jar
 * io.k3j.bench.HelloBackend PORT THREADS}): a keep-alive HTTP/1.1 server answering every request with a fixed
 * 13-byte body, the kind of small fast pod an ingress fronts. It prints {@code READY} once listening.
 */
public final class HelloBackend {
    private static final ByteBuf BODY = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer().writeBytes("hello, world\n".getBytes(StandardCharsets.US_ASCII)));

    private HelloBackend() {
    }

    public static void main(String[] args) throws InterruptedException {
        int port = Integer.parseInt(args[0]);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, EpollIoHandler.newFactory());
        new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new Hello());
                    }
                }).bind("127.0.0.1", port).sync();
        System.out.println("READY");
        System.out.flush();
        Thread.currentThread().join(); // until the benchmark stops this process
    }

    private static final class Hello extends SimpleChannelInboundHandler<HttpObject> {
        private boolean keepAlive = true;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpRequest req) keepAlive = HttpUtil.isKeepAlive(req);
            if (msg instanceof LastHttpContent) {
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, BODY.duplicate());
                r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
                r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, BODY.readableBytes());
                if (keepAlive) {
                    ctx.write(r);
                } else {
                    ctx.write(r).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
                }
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }
}
