package io.k3j.apiserver.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A streamed response delivered over a WebSocket instead of a chunked body: kube-apiserver serves
 * {@code ?watch=true} requests that ask to upgrade this way, one event per text message (JSON encodes as
 * text). fabric8's watches and informers only use this transport; they fall back to a chunked watch only when
 * the upgrade is answered with 200 or 503.
 *
 * <p>Sits on an HTTP/1.1 connection: the handshake replaces the HTTP codec (and the aggregator) with frame
 * codecs; a {@link Control} handler at the end of the pipeline answers pings and the client's close.
 */
final class WebSocketStream implements HttpExchange.Stream {
    private static final System.Logger LOG = System.getLogger(WebSocketStream.class.getName());
    private static final int MAX_INBOUND_FRAME = 64 * 1024;

    private final Channel channel;
    private final AtomicBoolean closed = new AtomicBoolean();

    private WebSocketStream(Channel channel) {
        this.channel = channel;
    }

    /** True for an HTTP/1.1 request that asks to switch to the WebSocket protocol. */
    static boolean isUpgrade(HttpRequest req) {
        return req.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                && req.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
    }

    /**
     * Completes the upgrade (101 Switching Protocols) and returns the stream of messages. When the handshake
     * fails (the client went away, or asked for a WebSocket version this server doesn't speak) the connection
     * is closed and so is the returned stream.
     */
    static WebSocketStream accept(Channel channel, FullHttpRequest upgrade, Map<String, String> headers) {
        WebSocketStream stream = new WebSocketStream(channel);
        try {
            handshake(channel, upgrade, headers);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "WebSocket upgrade from {0} failed: {1}", channel.remoteAddress(), e.toString());
            stream.closed.set(true);
            channel.close();
        }
        return stream;
    }

    private static void handshake(Channel channel, FullHttpRequest upgrade, Map<String, String> headers) throws IOException {
        // "*": echo the client's first subprotocol as Go's x/net/websocket does; watches don't depend on it
        WebSocketServerHandshakerFactory factory = new WebSocketServerHandshakerFactory("wss://" + upgrade.headers().get(HttpHeaderNames.HOST)
                + upgrade.uri(), "*", false, MAX_INBOUND_FRAME);
        WebSocketServerHandshaker handshaker = factory.newHandshaker(upgrade);
        if (handshaker == null) throw new IOException("unsupported WebSocket version " + upgrade.headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION));
        DefaultHttpHeaders extra = new DefaultHttpHeaders();
        headers.forEach(extra::set);
        ChannelFuture done = channel.eventLoop().submit(() -> {
            if (channel.pipeline().get(HttpServerKeepAliveHandler.class) != null) channel.pipeline().remove(HttpServerKeepAliveHandler.class);
            channel.pipeline().addLast(new Control(handshaker));
            return handshaker.handshake(channel, upgrade, extra, channel.newPromise());
        }).syncUninterruptibly().getNow();
        done.awaitUninterruptibly();
        if (!done.isSuccess()) throw new IOException("WebSocket handshake failed", done.cause());
    }

    @Override
    public void write(byte[] chunk) throws IOException {
        if (!isOpen()) throw new IOException("client went away");
        ChannelFuture f = channel.writeAndFlush(new TextWebSocketFrame(Unpooled.wrappedBuffer(chunk)));
        if (!channel.isWritable()) {
            // back-pressure, as for chunked streams
            f.awaitUninterruptibly();
            if (!f.isSuccess()) throw new IOException("write failed", f.cause());
        }
    }

    @Override
    public boolean isOpen() {
        return channel.isActive() && !closed.get();
    }

    @Override
    public void onClose(Runnable action) {
        channel.closeFuture().addListener(f -> action.run());
    }

    /** Ends the stream with a normal closure and closes the connection (a WebSocket is not reused for HTTP). */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        if (!channel.isActive()) return;
        channel.writeAndFlush(new CloseWebSocketFrame(1000, "")).addListener(ChannelFutureListener.CLOSE);
    }

    /** Answers pings, and a close from the client with a close; data from the client is not used by watches. */
    private static final class Control extends SimpleChannelInboundHandler<WebSocketFrame> {
        private final WebSocketServerHandshaker handshaker;

        Control(WebSocketServerHandshaker handshaker) {
            this.handshaker = handshaker;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof CloseWebSocketFrame close) {
                handshaker.close(ctx.channel(), close.retain());
            } else if (frame instanceof PingWebSocketFrame ping) {
                ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
