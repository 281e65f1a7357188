package io.k3j.agent.ingress;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.util.concurrent.FastThreadLocal;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Keep-alive HTTP/1.1 connections to endpoints, pooled per event loop: a client connection and the upstream
 * connections serving it share one loop, so the pool needs no locks and a request never hops threads. A connection
 * idle for longer than {@link #MAX_IDLE_NANOS} is closed rather than reused, staying under the keep-alive timeouts
 * common servers use, so that a request rarely meets a connection the server is closing.
 */
final class UpstreamPool {
    static final String CODEC = "http";
    private static final long MAX_IDLE_NANOS = 30_000_000_000L;
    private static final int MAX_IDLE_PER_ENDPOINT = 128;

    /** Sockets of the endpoint's own family: an IPv4 endpoint reached through a dual-stack IPv6 socket costs a setsockopt more per connection. */
    private final Bootstrap bootstrap4;
    private final Bootstrap bootstrap6;
    private final FastThreadLocal<Map<InetSocketAddress, ArrayDeque<Idle>>> idle = new FastThreadLocal<>() {
        @Override
        protected Map<InetSocketAddress, ArrayDeque<Idle>> initialValue() {
            return new HashMap<>();
        }
    };

    private record Idle(Channel channel, long since) { }

    /**
     * @param epoll epoll sockets (else NIO)
     * @param raw   without an HTTP codec: the connection carries the bytes {@link Http1Proxy} forwards as they are
     *              (otherwise {@code HttpClientCodec} for {@link ClientHandler}'s decoded messages)
     */
    UpstreamPool(boolean epoll, int connectTimeoutMillis, boolean raw) {
        this.bootstrap4 = bootstrap(epoll, SocketProtocolFamily.INET, connectTimeoutMillis, raw);
        this.bootstrap6 = bootstrap(epoll, SocketProtocolFamily.INET6, connectTimeoutMillis, raw);
    }

    private static Bootstrap bootstrap(boolean epoll, SocketProtocolFamily family, int connectTimeoutMillis, boolean raw) {
        // no TCP_NODELAY option: Netty's socket channels set it by default, and the option would set it again on
        // every connection (one setsockopt per request to endpoints that close after each response)
        return new Bootstrap()
                .channelFactory(() -> epoll ? new EpollSocketChannel(family) : new NioSocketChannel(SelectorProvider.provider(), family))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (!raw) ch.pipeline().addLast(CODEC, new HttpClientCodec(4096, 32 * 1024, 16 * 1024));
                        ch.pipeline().addLast(new UpstreamHandler());
                    }
                });
    }

    /** An idle open connection to {@code address} on {@code loop}, or null. Call on the loop. */
    Channel acquire(EventLoop loop, InetSocketAddress address) {
        ArrayDeque<Idle> q = idle.get().get(address);
        if (q == null) return null;
        long now = System.nanoTime();
        for (Idle i = q.pollLast(); i != null; i = q.pollLast()) {
            if (i.channel().isActive() && now - i.since() < MAX_IDLE_NANOS && i.channel().eventLoop() == loop) {
                return i.channel();
            }
            i.channel().close();
        }
        return null;
    }

    /** Opens a new connection on {@code loop}. */
    ChannelFuture connect(EventLoop loop, InetSocketAddress address) {
        return (address.getAddress() instanceof Inet4Address ? bootstrap4 : bootstrap6).clone(loop).connect(address);
    }

    /** Returns a connection whose last exchange ended cleanly. Call on its loop. */
    void release(Channel ch, InetSocketAddress address) {
        if (!ch.isActive()) return;
        ArrayDeque<Idle> q = idle.get().computeIfAbsent(address, a -> new ArrayDeque<>());
        if (q.size() >= MAX_IDLE_PER_ENDPOINT) {
            ch.close();
            return;
        }
        ch.config().setAutoRead(true);
        q.addLast(new Idle(ch, System.nanoTime()));
        // a pooled connection the server closes is dropped from the queue at once
        ch.pipeline().get(UpstreamHandler.class).pooled(() -> q.removeIf(i -> i.channel() == ch));
    }
}
