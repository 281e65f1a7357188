package io.k3j.agent.ingress;

import io.k3j.agent.host.EventLoops;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The listeners: cleartext HTTP/1.1 (and HTTP/2 with prior knowledge, RFC 9113 3.3) and TLS with SNI-selected
 * certificates offering h2 and http/1.1 by ALPN. An HTTP/1.1 connection ends in an {@link Http1Proxy}, which forwards
 * bytes; every HTTP/2 stream in a {@link ClientHandler}, which forwards decoded messages. Epoll when the platform has it, NIO otherwise.
 */
final class IngressProxy implements AutoCloseable {
    static final String SERVER_CODEC = "http";
    /** Traefik's default idle timeout for client connections. */
    private static final int CLIENT_IDLE_SECONDS = 180;

    private final Supplier<Routes> routes;
    private final Supplier<Map<String, SslContext>> sni;
    private final SslContext defaultTls;
    /** Accepts on the agent's shared event loops; the connections get loops of their own ({@code threads}). */
    private final EventLoops.Lease boss;
    private final EventLoopGroup workers;
    private final Class<? extends ServerChannel> serverType;
    private final UpstreamPool pool;
    private final UpstreamPool rawPool;
    private final List<Channel> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    IngressProxy(Supplier<Routes> routes, Supplier<Map<String, SslContext>> sni, SslContext defaultTls, int threads,
            int connectTimeoutMillis) {
        this.routes = routes;
        this.sni = sni;
        this.defaultTls = defaultTls;
        boolean epoll = Epoll.isAvailable();
        this.boss = EventLoops.acquire();
        this.workers = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("k3j-ingress", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        this.serverType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        this.pool = new UpstreamPool(epoll, connectTimeoutMillis, false);
        this.rawPool = new UpstreamPool(epoll, connectTimeoutMillis, true);
    }

    Routes routes() {
        return routes.get();
    }

    /** Upstream connections with an HTTP codec, for HTTP/2 streams. */
    UpstreamPool pool() {
        return pool;
    }

    /** Upstream connections carrying raw bytes, for HTTP/1.1 client connections. */
    UpstreamPool rawPool() {
        return rawPool;
    }

    /** Binds the cleartext listener; returns the bound address (port 0 picks one). */
    InetSocketAddress bindHttp(InetSocketAddress address) throws InterruptedException {
        return bind(address, new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new PrefaceSniffer());
            }
        });
    }

    /** Binds the TLS listener; returns the bound address. */
    InetSocketAddress bindHttps(InetSocketAddress address) throws InterruptedException {
        return bind(address, new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new SniHandler(name -> Certificates.select(sni.get(), defaultTls, name)));
                ch.pipeline().addLast(new Alpn());
            }
        });
    }

    private InetSocketAddress bind(InetSocketAddress address, ChannelInitializer<SocketChannel> init) throws InterruptedException {
        Channel ch = new ServerBootstrap()
                .group(boss.group(), workers)
                .channel(serverType)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                // no TCP_NODELAY child option: accepted channels have it from Netty already (a setsockopt per connection)
                .childHandler(init)
                .bind(address).sync().channel();
        listeners.add(ch);
        return (InetSocketAddress) ch.localAddress();
    }

    private void http1(ChannelPipeline p, String scheme) {
        p.addLast(new Http1Proxy(this, scheme, TimeUnit.SECONDS.toNanos(CLIENT_IDLE_SECONDS)));
    }

    private void http2(ChannelPipeline p, String scheme) {
        p.addLast(Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(250))
                .build());
        p.addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true));
                ch.pipeline().addLast(new ClientHandler(IngressProxy.this, scheme, 0));
            }
        }));
    }

    /** Picks HTTP/2 when a cleartext connection opens with the HTTP/2 preface, HTTP/1.1 otherwise. */
    private final class PrefaceSniffer extends ByteToMessageDecoder {
        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            ByteBuf preface = Http2CodecUtil.connectionPrefaceBuf();
            try {
                int n = Math.min(in.readableBytes(), preface.readableBytes());
                boolean h2 = ByteBufUtil.equals(in, in.readerIndex(), preface, 0, n);
                if (h2 && n < preface.readableBytes()) return; // could still be either: wait for more
                if (h2) {
                    http2(ctx.pipeline(), "http");
                } else {
                    http1(ctx.pipeline(), "http");
                }
                ctx.pipeline().remove(this); // hands the bytes read so far to the protocol just added
            } finally {
                preface.release();
            }
        }
    }

    /** After the TLS handshake: h2 or http/1.1 as ALPN agreed (http/1.1 for clients without ALPN). */
    private final class Alpn extends ApplicationProtocolNegotiationHandler {
        Alpn() {
            super(ApplicationProtocolNames.HTTP_1_1);
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                http2(ctx.pipeline(), "https");
            } else {
                http1(ctx.pipeline(), "https");
            }
        }

        @Override
        protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a client that rejects the default certificate: nothing to log
        }
    }

    @Override
    public void close() {
        for (Channel ch : listeners) ch.close().syncUninterruptibly();
        boss.close();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
