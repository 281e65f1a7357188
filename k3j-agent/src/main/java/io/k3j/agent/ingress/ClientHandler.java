package io.k3j.agent.ingress;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Proxies the requests of one HTTP/2 stream (behind {@code Http2StreamFrameToHttpObjectCodec}) to the endpoints the
 * routing table picks, as decoded messages; HTTP/1.x client connections go through the cheaper {@link Http1Proxy}
 * instead (this class still handles an HTTP/1.1 connection behind {@code HttpServerCodec} the same way):
 *
 * <pre>
 *  client ─ [TLS] ─ HttpServerCodec | h2 stream codec ─ ClientHandler ⇄ UpstreamHandler ─ HttpClientCodec ─ endpoint
 * </pre>
 *
 * Bodies stream both ways chunk by chunk with back-pressure (a side stops reading while the other can't keep up);
 * nothing is buffered whole. Answers of the proxy itself: 404 when no rule matches, 503 when the backend has no
 * ready endpoint, 502 when the endpoint refuses or fails before answering. A {@code 101 Switching Protocols}
 * answer to an Upgrade request (WebSocket) turns both connections into a byte splice.
 */
final class ClientHandler extends ChannelInboundHandlerAdapter implements UpstreamOwner {
    /** The body Traefik (Go's http.NotFound) sends. */
    static final String NOT_FOUND_BODY = "404 page not found\n";
    // header names as AsciiString: their hash is computed once, not on every get/set/remove of every request
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("X-Forwarded-For");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("X-Forwarded-Proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("X-Forwarded-Host");
    private static final AsciiString X_FORWARDED_PORT = AsciiString.cached("X-Forwarded-Port");
    private static final AsciiString X_REAL_IP = AsciiString.cached("X-Real-Ip");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("Proxy-Connection");

    private final IngressProxy proxy;
    private final String scheme;
    private ChannelHandlerContext ctx;
    private Exchange current;
    /** Messages of pipelined requests that arrived while an exchange was in flight. */
    private final ArrayDeque<Object> queued = new ArrayDeque<>();
    /** After a 101: the other end of the byte splice. */
    private Channel relayPeer;
    private boolean flushUpstream;
    private String clientIp;
    private String localPort;

    /** Closes an HTTP/1.1 connection idle between requests for this long (0: never, HTTP/2 streams). */
    private final long idleNanos;
    /** When the client last sent something or an exchange last ended. */
    private long lastActivity;
    private ScheduledFuture<?> idleCheck;

    ClientHandler(IngressProxy proxy, String scheme, long idleNanos) {
        this.proxy = proxy;
        this.scheme = scheme;
        this.idleNanos = idleNanos;
    }

    /** One request and its response. */
    private static final class Exchange {
        boolean keepAlive;
        final boolean upgrade;
        final boolean head;
        final HttpVersion clientVersion;
        InetSocketAddress endpoint;
        Channel upstream;
        /** Request parts written before the upstream connection was open. */
        List<Object> pending;
        boolean requestDone;
        boolean responseStarted;
        boolean responseDone;
        boolean upstreamReusable;
        /** The response's head, when its body has not come yet (HTTP/1.1 clients). */
        HttpResponse heldHead;
        /** An informational answer (1xx other than 101) is being dropped up to its end. */
        boolean skippingInformational;

        Exchange(HttpRequest req, boolean keepAlive, boolean upgrade) {
            this.keepAlive = keepAlive;
            this.upgrade = upgrade;
            this.head = req.method().equals(HttpMethod.HEAD);
            this.clientVersion = req.protocolVersion();
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (idleNanos > 0) {
            // one timer per connection instead of IdleStateHandler, which puts a listener on every write
            lastActivity = System.nanoTime();
            idleCheck = ctx.executor().schedule(this::checkIdle, idleNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Closes the connection when no request came and none was in flight for the idle timeout (Traefik's 180 s). */
    private void checkIdle() {
        if (!ctx.channel().isActive()) return;
        long quiet = System.nanoTime() - lastActivity;
        var out = ctx.channel().unsafe().outboundBuffer();
        boolean writing = out != null && out.totalPendingWriteBytes() > 0;
        if (quiet >= idleNanos && current == null && relayPeer == null && !writing) {
            ctx.close();
            return;
        }
        long next = quiet >= idleNanos ? idleNanos : idleNanos - quiet;
        idleCheck = ctx.executor().schedule(this::checkIdle, next, TimeUnit.NANOSECONDS);
    }

    private boolean isHttp2() {
        return ctx.channel() instanceof Http2StreamChannel;
    }

    // ---- from the client ---------------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (idleNanos > 0) lastActivity = System.nanoTime();
        if (relayPeer != null) {
            relay(msg, relayPeer);
            return;
        }
        if (!queued.isEmpty() || (current != null && msg instanceof HttpRequest)) {
            queued.add(msg);
            updateReading();
            return;
        }
        dispatch(msg);
    }

    // The hot path writes with void promises: nobody waits for those writes, and a failed one fires exceptionCaught,
    // which closes the connection (the other side then answers 502 or cuts the response, as for any close).

    private void dispatch(Object msg) {
        if (msg instanceof FullHttpRequest full) {
            // HTTP/2 streams ending with their headers arrive whole: start, then treat the content as the body
            start(full);
            LastHttpContent body = new DefaultLastHttpContent(full.content());
            body.trailingHeaders().set(full.trailingHeaders());
            requestContent(body);
            return;
        }
        if (msg instanceof HttpRequest req) {
            start(req);
        }
        if (msg instanceof HttpContent content) {
            requestContent(content);
        } else if (!(msg instanceof HttpRequest)) {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (flushUpstream) {
            flushUpstream = false;
            Channel up = relayPeer != null ? relayPeer : current != null ? current.upstream : null;
            if (up != null) up.flush();
        }
        ctx.fireChannelReadComplete();
    }

    private void start(HttpRequest req) {
        if (req.decoderResult().isFailure()) {
            current = new Exchange(req, false, false);
            current.requestDone = true;
            answer(HttpResponseStatus.BAD_REQUEST, "400 Bad Request\n");
            return;
        }
        boolean keepAlive = isHttp2() || HttpUtil.isKeepAlive(req);
        boolean upgrade = !isHttp2() && req.headers().contains(HttpHeaderNames.UPGRADE)
                && req.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
        Exchange x = new Exchange(req, keepAlive, upgrade);
        current = x;
        String host = req.headers().get(HttpHeaderNames.HOST, "");
        Routes.Target target = proxy.routes().route(host, path(req.uri()));
        if (target == null) {
            answer(HttpResponseStatus.NOT_FOUND, NOT_FOUND_BODY);
            return;
        }
        InetSocketAddress endpoint = target.pick();
        if (endpoint == null) {
            answer(HttpResponseStatus.SERVICE_UNAVAILABLE, "Service Unavailable\n");
            return;
        }
        if (HttpUtil.is100ContinueExpected(req)) {
            // the proxy asks for the body itself and sends it on as it comes (the endpoint sees no Expect)
            req.headers().remove(HttpHeaderNames.EXPECT);
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
        }
        x.endpoint = endpoint;
        HttpRequest up = upstreamRequest(req, host, upgrade);
        Channel pooled = proxy.pool().acquire(ctx.channel().eventLoop(), endpoint);
        if (pooled != null) {
            attach(x, pooled);
            pooled.write(up, pooled.voidPromise());
            flushUpstream = true;
        } else {
            x.pending = new ArrayList<>();
            x.pending.add(up);
            ChannelFuture f = proxy.pool().connect(ctx.channel().eventLoop(), endpoint);
            f.addListener((ChannelFutureListener) cf -> connected(x, cf));
        }
        updateReading();
    }

    private void connected(Exchange x, ChannelFuture f) {
        List<Object> pending = x.pending;
        x.pending = null;
        if (x != current || !ctx.channel().isActive()) {
            pending.forEach(ReferenceCountUtil::release);
            if (f.isSuccess()) f.channel().close();
            return;
        }
        if (!f.isSuccess()) {
            pending.forEach(ReferenceCountUtil::release);
            answer(HttpResponseStatus.BAD_GATEWAY, "Bad Gateway\n");
            return;
        }
        attach(x, f.channel());
        for (Object o : pending) f.channel().write(o);
        f.channel().flush();
        updateReading();
    }

    private void attach(Exchange x, Channel up) {
        x.upstream = up;
        up.pipeline().get(UpstreamHandler.class).owner(this);
    }

    private void requestContent(HttpContent content) {
        Exchange x = current;
        boolean last = content instanceof LastHttpContent;
        if (x == null || x.requestDone) {
            content.release();
            return;
        }
        if (last) x.requestDone = true;
        if (x.responseDone) {
            // answered already (by the proxy, or early by the endpoint): the rest of the body is dropped
            content.release();
        } else if (x.pending != null) {
            x.pending.add(content);
        } else if (x.upstream != null) {
            x.upstream.write(content, x.upstream.voidPromise());
            flushUpstream = true;
        } else {
            content.release();
        }
        if (last && x.responseDone) finish(x);
        updateReading();
    }

    /**
     * The request for the endpoint: hop-by-hop headers dropped, X-Forwarded-* added (Traefik's set). The client's
     * header object is edited in place rather than copied: nothing reads the client's request after this.
     */
    private HttpRequest upstreamRequest(HttpRequest req, String host, boolean upgrade) {
        HttpHeaders h = req.headers();
        String upgradeTo = upgrade ? h.get(HttpHeaderNames.UPGRADE) : null;
        boolean chunked = HttpUtil.isTransferEncodingChunked(req);
        dropHopByHop(h);
        if (chunked) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        } else {
            h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        }
        // HttpConversionUtil's pseudo-header carriers (x-http2-scheme, x-http2-stream-id, ...) are not for the endpoint
        if (isHttp2()) {
            List<String> ext = new ArrayList<>();
            for (var e : h) {
                if (e.getKey().regionMatches(true, 0, "x-http2-", 0, 8)) ext.add(e.getKey());
            }
            ext.forEach(h::remove);
        }
        if (upgrade) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            h.set(HttpHeaderNames.UPGRADE, upgradeTo);
        }
        String clientIp = clientIp();
        String xff = h.get(X_FORWARDED_FOR);
        h.set(X_FORWARDED_FOR, xff == null || xff.isBlank() ? clientIp : xff + ", " + clientIp);
        h.set(X_FORWARDED_PROTO, upgrade ? (scheme.equals("https") ? "wss" : "ws") : scheme);
        h.set(X_FORWARDED_HOST, host);
        h.set(X_FORWARDED_PORT, localPort());
        h.set(X_REAL_IP, clientIp);
        String uri = req.uri();
        if (uri.startsWith("http://") || uri.startsWith("https://")) {
            int slash = uri.indexOf('/', uri.indexOf("//") + 2);
            uri = slash < 0 ? "/" : uri.substring(slash);
        }
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, req.method(), uri, h);
    }

    private String clientIp() {
        if (clientIp == null) {
            clientIp = ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "";
        }
        return clientIp;
    }

    private String localPort() {
        if (localPort == null) {
            Channel ch = isHttp2() ? ctx.channel().parent() : ctx.channel();
            localPort = ch.localAddress() instanceof InetSocketAddress a ? Integer.toString(a.getPort()) : "";
        }
        return localPort;
    }

    /** RFC 9110 7.6.1: Connection, the headers it names, and the classic hop-by-hop set. */
    private static void dropHopByHop(HttpHeaders h) {
        if (h.contains(HttpHeaderNames.CONNECTION)) {
            for (String v : h.getAll(HttpHeaderNames.CONNECTION)) {
                for (String token : v.split(",")) {
                    String t = token.trim();
                    if (!t.isEmpty()) h.remove(t);
                }
            }
            h.remove(HttpHeaderNames.CONNECTION);
        }
        h.remove(HttpHeaderNames.KEEP_ALIVE);
        h.remove(PROXY_CONNECTION);
        h.remove(HttpHeaderNames.PROXY_AUTHORIZATION);
        h.remove(HttpHeaderNames.TE);
        h.remove(HttpHeaderNames.TRAILER);
        h.remove(HttpHeaderNames.UPGRADE);
    }

    static String path(String uri) {
        String u = uri;
        if (u.startsWith("http://") || u.startsWith("https://")) {
            int slash = u.indexOf('/', u.indexOf("//") + 2);
            u = slash < 0 ? "/" : u.substring(slash);
        }
        int end = u.length();
        int q = u.indexOf('?');
        if (q >= 0) end = q;
        int hash = u.indexOf('#');
        if (hash >= 0 && hash < end) end = hash;
        return u.substring(0, end);
    }

    /** The proxy's own answer (404, 502, 503, 400); the rest of the request body is read and dropped. */
    private void answer(HttpResponseStatus status, String body) {
        Exchange x = current;
        if (x.upstream != null) {
            x.upstream.pipeline().get(UpstreamHandler.class).owner(null);
            x.upstream.close();
            x.upstream = null;
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        r.headers().set("X-Content-Type-Options", "nosniff");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        if (!x.keepAlive && !isHttp2()) r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        x.responseStarted = true;
        x.responseDone = true;
        ctx.writeAndFlush(r);
        if (x.requestDone) finish(x);
    }

    // ---- from the endpoint -------------------------------------------------------------------------------------

    @Override
    public void upstreamRead(Channel up, Object msg) {
        if (relayPeer != null) {
            relay(msg, ctx.channel());
            return;
        }
        Exchange x = current;
        if (x == null || x.upstream != up || x.responseDone) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse resp) {
            int code = resp.status().code();
            if (code == 101 && x.upgrade) {
                switchProtocols(x, resp);
                return;
            }
            if (code >= 100 && code < 200) {
                x.skippingInformational = true;
                ReferenceCountUtil.release(msg);
                return;
            }
            x.responseStarted = true;
            HttpResponse head = clientResponse(x, resp);
            if (!(msg instanceof HttpContent) && !isHttp2()) {
                // held until the first part of the body, which the decoder hands over in the same read: a small whole
                // body then leaves with its head as one message, encoded into one buffer
                x.heldHead = head;
                return;
            }
            ctx.write(head, ctx.voidPromise());
        }
        if (msg instanceof HttpContent content) {
            if (x.skippingInformational) {
                if (content instanceof LastHttpContent) x.skippingInformational = false;
                content.release();
                return;
            }
            Object out = content;
            if (x.heldHead != null) {
                HttpResponse head = x.heldHead;
                x.heldHead = null;
                if (content instanceof LastHttpContent last) {
                    out = new DefaultFullHttpResponse(head.protocolVersion(), head.status(), last.content(), head.headers(),
                            last.trailingHeaders());
                } else {
                    ctx.write(head, ctx.voidPromise());
                }
            }
            if (content instanceof LastHttpContent) {
                x.responseDone = true;
                x.upstreamReusable = x.upstreamReusable && x.requestDone;
                ctx.writeAndFlush(out, ctx.voidPromise());
                if (x.requestDone) {
                    finish(x);
                } else {
                    // the endpoint answered before taking the whole body: that connection can't carry another request
                    x.upstream.pipeline().get(UpstreamHandler.class).owner(null);
                    x.upstream.close();
                    x.upstream = null;
                }
                updateReading();
                return;
            }
            ctx.write(content, ctx.voidPromise());
            if (!ctx.channel().isWritable()) up.config().setAutoRead(false);
        }
    }

    @Override
    public void upstreamReadComplete() {
        Exchange x = current;
        if (x != null && x.heldHead != null) {
            ctx.write(x.heldHead, ctx.voidPromise()); // the body did not come with it: the head goes on its own
            x.heldHead = null;
        }
        ctx.flush();
    }

    private HttpResponse clientResponse(Exchange x, HttpResponse resp) {
        HttpHeaders h = resp.headers();
        x.upstreamReusable = HttpUtil.isKeepAlive(resp);
        boolean chunked = HttpUtil.isTransferEncodingChunked(resp);
        dropHopByHop(h);
        if (isHttp2()) return resp;
        int code = resp.status().code();
        boolean bodyless = x.head || code == 204 || code == 304;
        if (!chunked && !h.contains(HttpHeaderNames.CONTENT_LENGTH) && !bodyless) {
            // a body ended by the endpoint closing: re-frame it chunked so that the client connection stays open;
            // an HTTP/1.0 client knows no chunks, so its connection ends with the body
            if (x.clientVersion.equals(HttpVersion.HTTP_1_1)) {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            } else {
                x.keepAlive = false;
            }
        }
        if (!x.keepAlive) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (x.clientVersion.equals(HttpVersion.HTTP_1_0)) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        return resp;
    }

    @Override
    public void upstreamClosed(Channel up) {
        if (relayPeer != null) {
            ctx.close();
            return;
        }
        Exchange x = current;
        if (x == null || x.upstream != up) return;
        x.upstream = null;
        if (!x.responseStarted) {
            answer(HttpResponseStatus.BAD_GATEWAY, "Bad Gateway\n");
        } else if (!x.responseDone) {
            // cut in the middle of a response: the client must not mistake it for a whole one
            ctx.close();
        }
    }

    /** Both sides of an exchange are over: the upstream goes back to the pool, the next pipelined request starts. */
    private void finish(Exchange x) {
        current = null;
        if (idleNanos > 0) lastActivity = System.nanoTime();
        Channel up = x.upstream;
        if (up != null) {
            if (x.upstreamReusable && x.responseDone) {
                proxy.pool().release(up, x.endpoint);
            } else {
                up.pipeline().get(UpstreamHandler.class).owner(null);
                up.close();
            }
        }
        if (!x.keepAlive) {
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            queued.forEach(ReferenceCountUtil::release);
            queued.clear();
            return;
        }
        while (current == null && !queued.isEmpty()) dispatch(queued.poll());
        while (current != null && !current.requestDone && !queued.isEmpty() && !(queued.peek() instanceof HttpRequest)) {
            dispatch(queued.poll());
        }
        // a queued request was written from the endpoint's read, not the client's: no channelReadComplete flushes it
        if (flushUpstream && current != null && current.upstream != null) {
            flushUpstream = false;
            current.upstream.flush();
        }
        updateReading();
    }

    // ---- WebSocket and other upgrades ---------------------------------------------------------------------------

    private void switchProtocols(Exchange x, HttpResponse resp) {
        Channel up = x.upstream;
        HttpHeaders h = resp.headers();
        String upgradeTo = h.get(HttpHeaderNames.UPGRADE);
        dropHopByHop(h);
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        if (upgradeTo != null) h.set(HttpHeaderNames.UPGRADE, upgradeTo);
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        ctx.write(resp);
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        current = null;
        relayPeer = up;
        // both codecs go: from here on the bytes are the two ends' business (what the decoders still hold is
        // handed on as plain buffers when they are removed)
        ctx.pipeline().remove(IngressProxy.SERVER_CODEC);
        up.pipeline().remove(UpstreamPool.CODEC);
        queued.forEach(m -> relay(m, up));
        queued.clear();
        up.flush();
        updateReading();
    }

    private void relay(Object msg, Channel to) {
        if (msg instanceof ByteBuf buf) {
            to.write(buf);
            if (to == ctx.channel()) {
                to.flush();
            } else {
                flushUpstream = true;
            }
            updateReading();
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    // ---- back-pressure and lifecycle ----------------------------------------------------------------------------

    /** Reads from the client only while the other side can take it and no pipelined request is waiting. */
    @Override
    public void updateReading() {
        Channel ch = ctx.channel();
        if (relayPeer != null) {
            ch.config().setAutoRead(relayPeer.isWritable());
            relayPeer.config().setAutoRead(ch.isWritable());
            return;
        }
        Exchange x = current;
        boolean read;
        if (!queued.isEmpty()) {
            read = false; // a pipelined request waits its turn: hold back what follows it
        } else if (x == null || x.requestDone) {
            // keep reading while the response is pending (a next request is queued, a close noticed): switching
            // reading off and on around every exchange would cost two epoll_ctl calls per request
            read = true;
        } else if (x.pending != null) {
            read = false; // connecting: hold the body back rather than buffer it
        } else {
            read = x.upstream == null || x.upstream.isWritable();
        }
        if (ch.config().isAutoRead() != read) {
            ch.config().setAutoRead(read);
            if (read) ch.read();
        }
        if (x != null && x.upstream != null) {
            boolean upRead = ch.isWritable();
            if (x.upstream.config().isAutoRead() != upRead) x.upstream.config().setAutoRead(upRead);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        updateReading();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (idleCheck != null) idleCheck.cancel(false);
        queued.forEach(ReferenceCountUtil::release);
        queued.clear();
        if (relayPeer != null) {
            relayPeer.close();
        }
        Exchange x = current;
        current = null;
        if (x != null) {
            if (x.pending != null) {
                x.pending.forEach(ReferenceCountUtil::release);
                x.pending = null;
            }
            if (x.upstream != null) {
                x.upstream.pipeline().get(UpstreamHandler.class).owner(null);
                x.upstream.close();
            }
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
