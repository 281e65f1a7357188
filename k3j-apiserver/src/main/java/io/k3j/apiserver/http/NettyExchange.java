package io.k3j.apiserver.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link HttpExchange} over a Netty channel: an HTTP/1.1 connection (HTTP/1 response objects) or one HTTP/2 stream
 * (HEADERS and DATA frames, the last with end-of-stream; never trailers).
 */
final class NettyExchange implements HttpExchange {
    private final Channel channel;
    private final boolean keepAlive;
    private final boolean http2;
    private final AtomicBoolean responded = new AtomicBoolean();
    /** The request, when it asked for a WebSocket upgrade: a streamed response then goes out as messages. */
    private final FullHttpRequest webSocketUpgrade;

    NettyExchange(Channel channel, boolean keepAlive, boolean http2, FullHttpRequest webSocketUpgrade) {
        this.channel = channel;
        this.keepAlive = keepAlive;
        this.http2 = http2;
        this.webSocketUpgrade = webSocketUpgrade;
    }

    @Override
    public void send(int status, String contentType, byte[] body, Map<String, String> headers) {
        if (!responded.compareAndSet(false, true)) throw new IllegalStateException("response already started");
        if (http2) {
            Http2Headers h = h2Headers(status, contentType, headers).setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            if (body.length == 0) {
                channel.writeAndFlush(new DefaultHttp2HeadersFrame(h, true));
            } else {
                // one task on the event loop for both frames, not one each
                channel.eventLoop().execute(() -> {
                    channel.write(new DefaultHttp2HeadersFrame(h, false));
                    channel.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true));
                });
            }
            return;
        }
        DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.wrappedBuffer(body));
        if (contentType != null) response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        headers.forEach((k, v) -> response.headers().set(k, v));
        HttpUtil.setContentLength(response, body.length);
        if (!http2) HttpUtil.setKeepAlive(response, keepAlive);
        ChannelFuture f = channel.writeAndFlush(response);
        if (!keepAlive) f.addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public Stream stream(int status, String contentType, Map<String, String> headers) {
        if (!responded.compareAndSet(false, true)) throw new IllegalStateException("response already started");
        if (webSocketUpgrade != null) return WebSocketStream.accept(channel, webSocketUpgrade, headers);
        if (http2) {
            channel.writeAndFlush(new DefaultHttp2HeadersFrame(h2Headers(status, contentType, headers), false));
            return new NettyStream();
        }
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        headers.forEach((k, v) -> response.headers().set(k, v));
        if (!http2) response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        channel.writeAndFlush(response);
        return new NettyStream();
    }

    @Override
    public Stream stream(int status, String contentType, long contentLength, Map<String, String> headers) {
        if (webSocketUpgrade != null) return HttpExchange.super.stream(status, contentType, contentLength, headers);
        if (!responded.compareAndSet(false, true)) throw new IllegalStateException("response already started");
        if (http2) {
            channel.write(new DefaultHttp2HeadersFrame(h2Headers(status, contentType, headers).setLong(HttpHeaderNames.CONTENT_LENGTH, contentLength), false));
            return new NettyStream();
        }
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
        if (contentType != null) response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        headers.forEach((k, v) -> response.headers().set(k, v));
        HttpUtil.setContentLength(response, contentLength);
        if (!http2) HttpUtil.setKeepAlive(response, keepAlive);
        channel.write(response);
        return new NettyStream();
    }

    /**
     * An HTTP/2 answer's header block: lower-case names (RFC 9113 §8.2.1) and none of the connection-specific
     * fields HTTP/2 forbids (§8.2.2).
     */
    private static Http2Headers h2Headers(int status, String contentType, Map<String, String> headers) {
        Http2Headers h = new DefaultHttp2Headers().status(HttpResponseStatus.valueOf(status).codeAsText());
        if (contentType != null) h.set(HttpHeaderNames.CONTENT_TYPE, contentType);
        headers.forEach((k, v) -> {
            AsciiString name = AsciiString.of(k).toLowerCase();
            if (!CONNECTION_SPECIFIC.contains(name)) h.set(name, v);
        });
        return h;
    }

    private static final java.util.Set<AsciiString> CONNECTION_SPECIFIC = java.util.Set.of(HttpHeaderNames.CONNECTION,
            HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.PROXY_CONNECTION, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE);

    @Override
    public boolean responded() {
        return responded.get();
    }

    @Override
    public Channel takeOver() {
        if (http2) return null;
        if (!responded.compareAndSet(false, true)) throw new IllegalStateException("response already started");
        channel.eventLoop().submit(() -> {
            channel.config().setAutoRead(false);
            // everything after TLS is HTTP: codec, keep-alive, aggregator, dispatcher
            java.util.List<String> names = new java.util.ArrayList<>(channel.pipeline().names());
            for (String name : names) {
                io.netty.channel.ChannelHandler h = channel.pipeline().get(name);
                if (h != null && !(h instanceof io.netty.handler.ssl.SslHandler)) channel.pipeline().remove(name);
            }
        }).syncUninterruptibly();
        return channel;
    }

    private final class NettyStream implements Stream {
        private final AtomicBoolean closed = new AtomicBoolean();

        @Override
        public void write(byte[] chunk) throws IOException {
            if (!channel.isActive()) throw new IOException("client went away");
            ChannelFuture f = channel.writeAndFlush(http2 ? new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(chunk), false)
                    : new DefaultHttpContent(Unpooled.wrappedBuffer(chunk)));
            if (!channel.isWritable()) {
                // back-pressure: wait for the peer to drain instead of queueing without bound
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

        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) return;
            if (!channel.isActive()) return;
            ChannelFuture f = channel.writeAndFlush(http2 ? new DefaultHttp2DataFrame(true) : LastHttpContent.EMPTY_LAST_CONTENT);
            if (!keepAlive && !http2) f.addListener(ChannelFutureListener.CLOSE);
        }
    }
}
