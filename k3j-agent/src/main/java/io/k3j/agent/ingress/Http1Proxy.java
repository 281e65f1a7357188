package io.k3j.agent.ingress;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Proxies one HTTP/1.x client connection (cleartext, or behind the TLS handler) to the endpoints the routing table
 * picks, as bytes: the request and response heads are scanned for the few fields that matter (Host and path for
 * routing, framing, Connection and the other hop-by-hop fields, Expect, Upgrade) and copied on with those edited
 * and the X-Forwarded-* set added; bodies pass as slices of the buffers they were read into, never decoded nor
 * copied to the heap (a small one shares its head's buffer, so that a whole request or response is one write).
 *
 * <pre>
 *  client ─ [TLS] ─ Http1Proxy ⇄ UpstreamHandler ─ endpoint (a raw keep-alive connection from the pool, same loop)
 * </pre>
 *
 * One exchange at a time per connection; a pipelined request waits in the read buffer until the previous response
 * is over. Back-pressure both ways (a side stops reading while the other can't keep up). Answers of the proxy
 * itself: 400 for what is not HTTP/1.x, 404 when no rule matches, 503 when the backend has no ready endpoint, 502
 * when the endpoint refuses, fails or answers garbage before its response started. A {@code 101 Switching
 * Protocols} answer to an Upgrade request (WebSocket) turns both connections into a byte splice.
 */
final class Http1Proxy extends ChannelInboundHandlerAdapter implements UpstreamOwner {
    /** The limits HttpServerCodec had here: an 8 KiB request line plus 32 KiB of fields. */
    private static final int MAX_HEAD = 8192 + 32 * 1024;
    /** A body at most this long that came with its head goes out in the head's buffer: one buffer, one write. */
    private static final int INLINE_BODY = 4096;
    private static final byte[] HTTP_11 = ascii("HTTP/1.1");
    private static final byte[] CONTINUE = ascii("HTTP/1.1 100 Continue\r\n\r\n");
    private static final byte[] CHUNKED = ascii("chunked");
    private static final byte[] CONTINUE_100 = ascii("100-continue");
    private static final byte[] CONNECTION_CLOSE = ascii("Connection: close\r\n");
    private static final byte[] CONNECTION_KEEP_ALIVE = ascii("Connection: keep-alive\r\n");
    private static final byte[] CONNECTION_UPGRADE = ascii("Connection: Upgrade\r\n");
    private static final byte[] TRANSFER_CHUNKED = ascii("Transfer-Encoding: chunked\r\n");
    private static final byte[] LAST_CHUNK = ascii("0\r\n\r\n");
    private static final byte[] HEX = ascii("0123456789abcdef");

    private final IngressProxy proxy;
    private final String scheme;
    private ChannelHandlerContext ctx;

    // ---- the client's side: bytes read and not yet consumed, and where the request stands
    private ByteBuf in;
    private final Http1Head reqHead = new Http1Head();
    private final Http1Chunks reqChunks = new Http1Chunks();
    private static final int BODY_NONE = 0, BODY_FIXED = 1, BODY_CHUNKED = 2, BODY_UNTIL_CLOSE = 3;
    /** The framing of the request body being read (BODY_NONE: waiting for a head). */
    private int reqBody;
    private long reqRemaining;

    // ---- the exchange in flight (fields rather than an object: nothing allocated per request)
    private boolean active;
    /** Counts exchanges, so that a connect finishing late knows whether its exchange is still the current one. */
    private int generation;
    private boolean keepAlive;
    private boolean upgrade;
    private boolean headRequest;
    private boolean client10;
    private InetSocketAddress endpoint;
    private Channel upstream;
    /** What was to be written while the upstream connection was being opened. */
    private List<ByteBuf> pending;
    private boolean requestDone;
    private boolean responseStarted;
    private boolean responseDone;
    private boolean upstreamReusable;
    private boolean flushUpstream;

    // ---- the endpoint's side
    private ByteBuf upIn;
    private final Http1Head respHead = new Http1Head();
    private final Http1Chunks respChunks = new Http1Chunks();
    private int respBody;
    private long respRemaining;
    /** A body ended by the endpoint's close goes to an HTTP/1.1 client as chunks. */
    private boolean reframe;
    /** A chunked body goes to an HTTP/1.0 client as its data only. */
    private boolean dechunk;
    private final Http1Chunks.DataSink toClient = (buf, from, length) ->
            ctx.write(buf.retainedSlice(from, length), ctx.voidPromise());

    /** After a 101: the other end of the byte splice. */
    private Channel relayPeer;

    // ---- what stays the same from one request to the next on a connection, kept to skip work and garbage
    private Routes lastRoutes;
    private byte[] lastHost = new byte[0];
    private String lastHostString = "";
    private byte[] lastPath;
    private Routes.Target lastTarget;
    /** "X-Forwarded-Proto: …" up to "X-Real-Ip: …\r\n" for lastHost on a plain (not upgrade) request. */
    private byte[] lastForwarded;
    private byte[] forwardedFor;
    private byte[] clientIp;
    private String localPort;

    /** Closes a connection idle between requests for this long (Traefik's 180 s). */
    private final long idleNanos;
    private long lastActivity;
    private ScheduledFuture<?> idleCheck;

    Http1Proxy(IngressProxy proxy, String scheme, long idleNanos) {
        this.proxy = proxy;
        this.scheme = scheme;
        this.idleNanos = idleNanos;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
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

    private void checkIdle() {
        if (!ctx.channel().isActive()) return;
        long quiet = System.nanoTime() - lastActivity;
        var out = ctx.channel().unsafe().outboundBuffer();
        boolean writing = out != null && out.totalPendingWriteBytes() > 0;
        if (quiet >= idleNanos && !active && relayPeer == null && !writing) {
            ctx.close();
            return;
        }
        long next = quiet >= idleNanos ? idleNanos : idleNanos - quiet;
        idleCheck = ctx.executor().schedule(this::checkIdle, next, TimeUnit.NANOSECONDS);
    }

    // ---- from the client ---------------------------------------------------------------------------------------

    // The hot path writes with void promises: nobody waits for those writes, and a failed one fires exceptionCaught,
    // which closes the connection (the other side then answers 502 or cuts the response, as for any close).

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        lastActivity = System.nanoTime();
        if (relayPeer != null) {
            relayPeer.write(buf, relayPeer.voidPromise());
            flushUpstream = true;
            return;
        }
        in = in == null ? buf : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), in, buf);
        processRequests();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (flushUpstream) {
            flushUpstream = false;
            Channel up = relayPeer != null ? relayPeer : upstream;
            if (up != null) up.flush();
        }
        ctx.fireChannelReadComplete();
    }

    /** Consumes what the client sent as far as the current exchange allows. */
    private void processRequests() {
        if (processing) return; // an exchange finished inside the loop below: the loop goes on with the next request
        processing = true;
        try {
            consumeRequests();
        } finally {
            processing = false;
        }
        if (in != null && !in.isReadable()) {
            in.release();
            in = null;
        }
        updateReading();
    }

    private boolean processing;

    private void consumeRequests() {
        while (in != null && in.isReadable() && ctx.channel().isActive()) {
            if (relayPeer != null) {
                relayPeer.write(in, relayPeer.voidPromise());
                in = null;
                flushUpstream = true;
                break;
            }
            if (reqBody == BODY_NONE) {
                if (active) break; // a pipelined request (or the bytes after an upgrade request) waits its turn
                int r = reqHead.parse(in, in.readerIndex(), Math.min(in.writerIndex(), in.readerIndex() + MAX_HEAD));
                if (r == Http1Head.INCOMPLETE) {
                    if (in.readableBytes() >= MAX_HEAD) badRequest();
                    break;
                }
                if (r == Http1Head.MALFORMED) {
                    badRequest();
                    break;
                }
                startRequest();
            } else {
                requestBody();
            }
        }
    }

    /** A request that is not HTTP/1.x: 400, and the connection closes (where the next request starts is unknown). */
    private void badRequest() {
        beginExchange();
        keepAlive = false;
        requestDone = true;
        in.skipBytes(in.readableBytes());
        answer(400, "Bad Request", "400 Bad Request\n");
    }

    private void beginExchange() {
        active = true;
        generation++;
        keepAlive = true;
        upgrade = false;
        headRequest = false;
        client10 = false;
        endpoint = null;
        upstream = null;
        requestDone = false;
        responseStarted = false;
        responseDone = false;
        upstreamReusable = false;
        respBody = BODY_NONE;
        reframe = false;
        dechunk = false;
    }

    private void startRequest() {
        ByteBuf b = in;
        Http1Head h = reqHead;
        beginExchange();
        // the request line: method SP target SP version
        int ls = h.start[0];
        int le = h.end[0];
        int sp1 = b.indexOf(ls, le, (byte) ' ');
        int sp2 = sp1 < 0 ? -1 : b.indexOf(sp1 + 1, le, (byte) ' ');
        if (sp1 <= ls || sp2 <= sp1 + 1 || le - sp2 - 1 != 8 || !Http1Head.equalsIgnoreCase(b, sp2 + 1, LOWER_HTTP_1)
                || b.getByte(sp2 + 7) != '.') {
            badRequest();
            return;
        }
        byte minor = b.getByte(sp2 + 8);
        if (b.getByte(sp2 + 6) != '1' || (minor != '1' && minor != '0')) {
            badRequest();
            return;
        }
        client10 = minor == '0';
        headRequest = sp1 - ls == 4 && b.getByte(ls) == 'H' && b.getByte(ls + 1) == 'E' && b.getByte(ls + 2) == 'A'
                && b.getByte(ls + 3) == 'D';
        int tokens = h.dropHopByHop(b);
        keepAlive = client10 ? (tokens & Http1Head.KEEP_ALIVE_TOKEN) != 0 : (tokens & Http1Head.CLOSE_TOKEN) == 0;
        int hostLine = -1;
        int teLine = -1;
        int clLine = -1;
        int upgradeLine = -1;
        boolean expectContinue = false;
        boolean forwarded = false;
        for (int i = 1; i < h.count; i++) {
            switch (h.kind[i]) {
                case Http1Head.HOST -> {
                    if (hostLine < 0) hostLine = i;
                }
                case Http1Head.TRANSFER_ENCODING -> teLine = i;
                case Http1Head.CONTENT_LENGTH -> {
                    if (clLine >= 0) {
                        badRequest(); // two lengths
                        return;
                    }
                    clLine = i;
                }
                case Http1Head.UPGRADE -> upgradeLine = i;
                case Http1Head.EXPECT -> {
                    int vs = h.valueStart(b, i);
                    if (h.valueEnd(b, i) - vs == 12 && Http1Head.equalsIgnoreCase(b, vs, CONTINUE_100)) {
                        expectContinue = true;
                        h.drop[i] = true; // the proxy asks for the body itself; the endpoint sees no Expect
                    }
                }
                case Http1Head.X_FORWARDED_FOR, Http1Head.X_FORWARDED_PROTO, Http1Head.X_FORWARDED_HOST,
                        Http1Head.X_FORWARDED_PORT, Http1Head.X_REAL_IP -> {
                    forwarded = true;
                    h.drop[i] = true; // replaced by the proxy's own (the client's X-Forwarded-For is appended to)
                }
                default -> { }
            }
        }
        upgrade = upgradeLine >= 0 && (tokens & Http1Head.UPGRADE_TOKEN) != 0;
        // the body's framing (RFC 9112 6.3): Transfer-Encoding over Content-Length, which is then not forwarded
        if (teLine >= 0) {
            if (!lastCodingChunked(b, h)) {
                badRequest();
                return;
            }
            if (clLine >= 0) h.drop[clLine] = true;
            reqBody = BODY_CHUNKED;
            reqChunks.reset();
        } else if (clLine >= 0) {
            long n = parseLength(b, h.valueStart(b, clLine), h.valueEnd(b, clLine));
            if (n < 0) {
                badRequest();
                return;
            }
            reqRemaining = n;
            reqBody = n > 0 ? BODY_FIXED : BODY_NONE;
        } else {
            reqBody = BODY_NONE;
        }
        if (reqBody == BODY_NONE) requestDone = true;

        Routes.Target target = route(b, h, hostLine, sp1 + 1, sp2);
        if (target == null) {
            in.readerIndex(h.headEnd);
            answer(404, "Not Found", ClientHandler.NOT_FOUND_BODY);
            return;
        }
        InetSocketAddress ep = target.pick();
        if (ep == null) {
            in.readerIndex(h.headEnd);
            answer(503, "Service Unavailable", "Service Unavailable\n");
            return;
        }
        endpoint = ep;
        if (expectContinue && !requestDone) ctx.writeAndFlush(Unpooled.wrappedBuffer(CONTINUE), ctx.voidPromise());

        ByteBuf out = upstreamHead(b, h, sp1, sp2, hostLine, upgradeLine, forwarded);
        in.readerIndex(h.headEnd);
        if (reqBody == BODY_FIXED && reqRemaining <= INLINE_BODY && in.readableBytes() >= reqRemaining) {
            out.writeBytes(in, (int) reqRemaining);
            reqRemaining = 0;
            reqBody = BODY_NONE;
            requestDone = true;
        }
        Channel pooled = proxy.rawPool().acquire(ctx.channel().eventLoop(), ep);
        if (pooled != null) {
            attach(pooled);
            pooled.write(out, pooled.voidPromise());
            flushUpstream = true;
        } else {
            pending = new ArrayList<>(2);
            pending.add(out);
            int g = generation;
            ChannelFuture f = proxy.rawPool().connect(ctx.channel().eventLoop(), ep);
            f.addListener((ChannelFutureListener) cf -> connected(g, cf));
        }
    }

    private static final byte[] LOWER_HTTP_1 = ascii("http/1");

    /** Whether the last coding of the Transfer-Encoding fields is chunked (else the request's end is unknown). */
    private static boolean lastCodingChunked(ByteBuf b, Http1Head h) {
        int last = -1;
        for (int i = 1; i < h.count; i++) {
            if (h.kind[i] == Http1Head.TRANSFER_ENCODING) last = i;
        }
        int ve = h.valueEnd(b, last);
        int vs = h.valueStart(b, last);
        int comma = vs;
        for (int j = ve - 1; j >= vs; j--) {
            if (b.getByte(j) == ',') {
                comma = j + 1;
                break;
            }
        }
        while (comma < ve && Http1Head.isBlank(b.getByte(comma))) comma++;
        return ve - comma == 7 && Http1Head.equalsIgnoreCase(b, comma, CHUNKED);
    }

    /** A Content-Length value, or -1 when it is not a plain decimal number. */
    private static long parseLength(ByteBuf b, int from, int to) {
        if (from >= to || to - from > 18) return -1;
        long n = 0;
        for (int i = from; i < to; i++) {
            byte c = b.getByte(i);
            if (c < '0' || c > '9') return -1;
            n = n * 10 + (c - '0');
        }
        return n;
    }

    /**
     * The routing target for this request's Host and path. A connection mostly repeats one host and a few paths:
     * when they are the bytes of the last request and the table is the same, the last answer stands, with no
     * string made.
     */
    private Routes.Target route(ByteBuf b, Http1Head h, int hostLine, int targetStart, int targetEnd) {
        int hs = hostLine < 0 ? 0 : h.valueStart(b, hostLine);
        int he = hostLine < 0 ? 0 : h.valueEnd(b, hostLine);
        if (!sameBytes(b, hs, he, lastHost)) {
            lastHost = new byte[he - hs];
            b.getBytes(hs, lastHost);
            lastHostString = new String(lastHost, StandardCharsets.ISO_8859_1);
            lastForwarded = null;
            lastPath = null;
        }
        Routes routes = proxy.routes();
        int ps = targetStart;
        int pe = targetEnd;
        if (b.getByte(ps) == '/') {
            int q = b.indexOf(ps, pe, (byte) '?');
            if (q >= 0) pe = q;
            int hash = b.indexOf(ps, pe, (byte) '#');
            if (hash >= 0) pe = hash;
            if (routes == lastRoutes && lastPath != null && sameBytes(b, ps, pe, lastPath)) return lastTarget;
            lastPath = new byte[pe - ps];
            b.getBytes(ps, lastPath);
            lastRoutes = routes;
            lastTarget = routes.route(lastHostString, new String(lastPath, StandardCharsets.ISO_8859_1));
            return lastTarget;
        }
        // absolute-form or asterisk-form: rare, not cached
        lastPath = null;
        return routes.route(lastHostString, ClientHandler.path(b.toString(ps, pe - ps, StandardCharsets.ISO_8859_1)));
    }

    private static boolean sameBytes(ByteBuf b, int from, int to, byte[] known) {
        if (to - from != known.length) return false;
        for (int i = 0; i < known.length; i++) {
            if (b.getByte(from + i) != known[i]) return false;
        }
        return true;
    }

    /**
     * The request head for the endpoint: the request line in origin form and HTTP/1.1, the client's fields but the
     * hop-by-hop and X-Forwarded-* ones, Connection/Upgrade again for an upgrade, then the proxy's X-Forwarded-For
     * (appended to the client's), -Proto, -Host, -Port and X-Real-Ip (Traefik's set).
     */
    private ByteBuf upstreamHead(ByteBuf b, Http1Head h, int sp1, int sp2, int hostLine, int upgradeLine, boolean forwarded) {
        byte[] fwd = forwardedTail(b, h, hostLine);
        int size = h.keptBytes() + fwd.length + 64 + (reqBody == BODY_FIXED && reqRemaining <= INLINE_BODY ? (int) reqRemaining : 0);
        if (upgrade) size += CONNECTION_UPGRADE.length + h.end[upgradeLine] - h.start[upgradeLine] + 2;
        ByteBuf out = ctx.alloc().directBuffer(size);
        // request line
        int ts = sp1 + 1;
        int ls = h.start[0];
        out.writeBytes(b, ls, ts - ls);
        if (b.getByte(ts) != '/' && b.getByte(ts) != '*') {
            // absolute-form: the endpoint gets the path (and query) only
            int schemeEnd = b.indexOf(ts, sp2, (byte) ':');
            int slash = schemeEnd < 0 ? -1 : b.indexOf(schemeEnd + 3, sp2, (byte) '/');
            if (slash < 0) {
                out.writeByte('/');
            } else {
                out.writeBytes(b, slash, sp2 - slash);
            }
        } else {
            out.writeBytes(b, ts, sp2 - ts);
        }
        out.writeByte(' ').writeBytes(HTTP_11).writeShort(Http1Head.CRLF);
        for (int i = 1; i < h.count; i++) {
            if (!h.drop[i]) h.copyLine(b, i, out);
        }
        if (upgrade) {
            out.writeBytes(CONNECTION_UPGRADE);
            h.copyLine(b, upgradeLine, out);
        }
        if (forwarded) {
            // the client's X-Forwarded-For values first, then this hop
            boolean any = false;
            for (int i = 1; i < h.count; i++) {
                if (h.kind[i] != Http1Head.X_FORWARDED_FOR) continue;
                int vs = h.valueStart(b, i);
                int ve = h.valueEnd(b, i);
                if (ve == vs) continue;
                out.ensureWritable(ve - vs + 64);
                out.writeBytes(any ? COMMA : XFF_NAME);
                out.writeBytes(b, vs, ve - vs);
                any = true;
            }
            if (any) {
                out.ensureWritable(clientIp().length + fwd.length + 4);
                out.writeBytes(COMMA).writeBytes(clientIp()).writeShort(Http1Head.CRLF);
            } else {
                out.writeBytes(forwardedFor());
            }
        } else {
            out.writeBytes(forwardedFor());
        }
        out.writeBytes(fwd);
        out.writeShort(Http1Head.CRLF);
        return out;
    }

    private static final byte[] XFF_NAME = ascii("X-Forwarded-For: ");
    private static final byte[] COMMA = ascii(", ");

    private byte[] clientIp() {
        if (clientIp == null) {
            String ip = ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "";
            clientIp = ascii(ip);
        }
        return clientIp;
    }

    private byte[] forwardedFor() {
        if (forwardedFor == null) forwardedFor = ascii("X-Forwarded-For: " + new String(clientIp(), StandardCharsets.US_ASCII) + "\r\n");
        return forwardedFor;
    }

    /** X-Forwarded-Proto, -Host, -Port and X-Real-Ip, cached for the connection's last host. */
    private byte[] forwardedTail(ByteBuf b, Http1Head h, int hostLine) {
        if (!upgrade && lastForwarded != null) return lastForwarded;
        if (localPort == null) {
            localPort = ctx.channel().localAddress() instanceof InetSocketAddress a ? Integer.toString(a.getPort()) : "";
        }
        String proto = upgrade ? (scheme.equals("https") ? "wss" : "ws") : scheme;
        byte[] tail = ascii("X-Forwarded-Proto: " + proto + "\r\nX-Forwarded-Host: " + lastHostString + "\r\nX-Forwarded-Port: "
                + localPort + "\r\nX-Real-Ip: " + new String(clientIp(), StandardCharsets.US_ASCII) + "\r\n");
        if (!upgrade) lastForwarded = tail;
        return tail;
    }

    private void connected(int g, ChannelFuture f) {
        if (g != generation || !active || !ctx.channel().isActive()) {
            // the exchange is over (its pending writes were released with it)
            if (f.isSuccess()) f.channel().close();
            return;
        }
        List<ByteBuf> p = pending;
        pending = null;
        if (!f.isSuccess()) {
            if (p != null) p.forEach(ReferenceCountUtil::release);
            answer(502, "Bad Gateway", "Bad Gateway\n");
            processRequests();
            return;
        }
        attach(f.channel());
        if (p != null) {
            for (ByteBuf o : p) f.channel().write(o, f.channel().voidPromise());
        }
        f.channel().flush();
        updateReading();
    }

    private void attach(Channel up) {
        upstream = up;
        up.pipeline().get(UpstreamHandler.class).owner(this);
    }

    /** Passes on the request body bytes at hand, as slices; notes its end. */
    private void requestBody() {
        ByteBuf b = in;
        int from = b.readerIndex();
        int to;
        if (reqBody == BODY_FIXED) {
            to = from + (int) Math.min(reqRemaining, b.readableBytes());
            reqRemaining -= to - from;
            if (reqRemaining == 0) reqBody = BODY_NONE;
        } else {
            to = reqChunks.scan(b, from, b.writerIndex(), null);
            if (reqChunks.failed()) {
                // broken framing: the end of this request is unknown, so the connection can't go on
                b.skipBytes(b.readableBytes());
                reqBody = BODY_NONE;
                if (responseStarted) {
                    ctx.close();
                } else {
                    keepAlive = false;
                    requestDone = true;
                    answer(400, "Bad Request", "400 Bad Request\n");
                }
                return;
            }
            if (reqChunks.done()) reqBody = BODY_NONE;
        }
        b.readerIndex(to);
        if (to > from) forwardRequest(b.retainedSlice(from, to - from));
        if (reqBody == BODY_NONE) {
            requestDone = true;
            if (responseDone) finish();
        }
    }

    private void forwardRequest(ByteBuf part) {
        if (responseDone) {
            part.release(); // answered already (by the proxy, or early by the endpoint): the rest is dropped
        } else if (pending != null) {
            pending.add(part);
        } else if (upstream != null) {
            upstream.write(part, upstream.voidPromise());
            flushUpstream = true;
        } else {
            part.release();
        }
    }

    /** The proxy's own answer (400, 404, 502, 503); the rest of the request body is read and dropped. */
    private void answer(int status, String reason, String body) {
        if (upstream != null) {
            dropUpstream();
        }
        byte[] text = ascii(body);
        ByteBuf r = ctx.alloc().directBuffer(200 + text.length);
        r.writeCharSequence("HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "X-Content-Type-Options: nosniff\r\nContent-Length: " + text.length + "\r\n", StandardCharsets.US_ASCII);
        if (!keepAlive) r.writeBytes(CONNECTION_CLOSE);
        r.writeShort(Http1Head.CRLF).writeBytes(text);
        responseStarted = true;
        responseDone = true;
        ctx.writeAndFlush(r, ctx.voidPromise());
        if (requestDone) finish();
    }

    /** Unbinds the upstream connection of this exchange and closes it (it is in an unknown state). */
    private void dropUpstream() {
        if (upstream != null) { // null when the endpoint's close is what brought us here
            upstream.pipeline().get(UpstreamHandler.class).owner(null);
            upstream.close();
            upstream = null;
        }
        if (upIn != null) {
            upIn.release();
            upIn = null;
        }
    }

    // ---- from the endpoint -------------------------------------------------------------------------------------

    @Override
    public void upstreamRead(Channel up, Object msg) {
        if (relayPeer != null) {
            ctx.write(msg, ctx.voidPromise());
            return;
        }
        if (!(msg instanceof ByteBuf buf) || !active || upstream != up || responseDone) {
            ReferenceCountUtil.release(msg);
            return;
        }
        upIn = upIn == null ? buf : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), upIn, buf);
        processResponse();
    }

    private void processResponse() {
        while (upIn != null && upIn.isReadable() && !responseDone && relayPeer == null) {
            if (!responseStarted) {
                if (!responseHead()) break;
            } else {
                responseBody();
            }
        }
        if (upIn != null && !upIn.isReadable()) {
            upIn.release();
            upIn = null;
        }
    }

    /** Reads a response head when whole; false when more bytes are needed or the exchange moved on. */
    private boolean responseHead() {
        ByteBuf b = upIn;
        Http1Head h = respHead;
        int r = h.parse(b, b.readerIndex(), Math.min(b.writerIndex(), b.readerIndex() + MAX_HEAD));
        if (r == Http1Head.INCOMPLETE && b.readableBytes() < MAX_HEAD) return false;
        int ls = h.start[0];
        int le = h.end[0];
        int status = r == Http1Head.COMPLETE && le - ls >= 12 && Http1Head.equalsIgnoreCase(b, ls, LOWER_HTTP_1)
                && b.getByte(ls + 8) == ' ' ? statusCode(b, ls + 9) : -1;
        if (status < 0) {
            dropUpstream();
            answer(502, "Bad Gateway", "Bad Gateway\n");
            return false;
        }
        if (status == 101 && upgrade) {
            switchProtocols(b, h);
            return false;
        }
        if (status < 200) {
            b.readerIndex(h.headEnd); // an informational answer (the endpoint's own 100 Continue): dropped
            return true;
        }
        responseStarted = true;
        boolean upstream10 = b.getByte(ls + 7) == '0';
        int tokens = h.dropHopByHop(b);
        upstreamReusable = upstream10 ? (tokens & Http1Head.KEEP_ALIVE_TOKEN) != 0 : (tokens & Http1Head.CLOSE_TOKEN) == 0;
        int teLine = h.find(Http1Head.TRANSFER_ENCODING);
        int clLine = h.find(Http1Head.CONTENT_LENGTH);
        boolean bodyless = headRequest || status == 204 || status == 304;
        if (bodyless) {
            respBody = BODY_NONE;
        } else if (teLine >= 0) {
            if (clLine >= 0) h.drop[clLine] = true;
            if (lastCodingChunked(b, h)) {
                respBody = BODY_CHUNKED;
                respChunks.reset();
            } else {
                respBody = BODY_UNTIL_CLOSE;
            }
        } else if (clLine >= 0) {
            long n = parseLength(b, h.valueStart(b, clLine), h.valueEnd(b, clLine));
            if (n < 0) {
                dropUpstream();
                answer(502, "Bad Gateway", "Bad Gateway\n");
                return false;
            }
            respRemaining = n;
            respBody = n > 0 ? BODY_FIXED : BODY_NONE;
        } else {
            respBody = BODY_UNTIL_CLOSE;
        }
        if (respBody == BODY_UNTIL_CLOSE) upstreamReusable = false;
        boolean addChunked = false;
        if (client10) {
            if (respBody == BODY_CHUNKED) {
                // an HTTP/1.0 client knows no chunks: the data alone, ended by closing the connection
                dechunk = true;
                h.drop[teLine] = true;
                keepAlive = false;
            } else if (respBody == BODY_UNTIL_CLOSE) {
                keepAlive = false;
            }
        } else if (respBody == BODY_UNTIL_CLOSE && teLine < 0) {
            // a body ended by the endpoint closing: re-framed as chunks, so that the client connection stays open
            reframe = true;
            addChunked = true;
        }
        int inline = respBody == BODY_FIXED && respRemaining <= INLINE_BODY ? (int) respRemaining : 0;
        ByteBuf out = ctx.alloc().directBuffer(h.keptBytes() + 64 + inline);
        out.writeBytes(HTTP_11).writeBytes(b, ls + 8, le - ls - 8).writeShort(Http1Head.CRLF);
        for (int i = 1; i < h.count; i++) {
            if (!h.drop[i]) h.copyLine(b, i, out);
        }
        if (addChunked) out.writeBytes(TRANSFER_CHUNKED);
        if (!keepAlive) {
            out.writeBytes(CONNECTION_CLOSE);
        } else if (client10) {
            out.writeBytes(CONNECTION_KEEP_ALIVE);
        }
        out.writeShort(Http1Head.CRLF);
        b.readerIndex(h.headEnd);
        if (inline > 0 && b.readableBytes() >= inline) {
            out.writeBytes(b, inline);
            respRemaining = 0;
            respBody = BODY_NONE;
        }
        ctx.write(out, ctx.voidPromise());
        if (respBody == BODY_NONE) responseComplete();
        return true;
    }

    /** The three digits at {@code at} followed by a space or the line's end, or -1. */
    private int statusCode(ByteBuf b, int at) {
        int code = 0;
        for (int i = 0; i < 3; i++) {
            byte c = b.getByte(at + i);
            if (c < '0' || c > '9') return -1;
            code = code * 10 + (c - '0');
        }
        return code;
    }

    private void responseBody() {
        ByteBuf b = upIn;
        int from = b.readerIndex();
        switch (respBody) {
            case BODY_FIXED -> {
                int n = (int) Math.min(respRemaining, b.readableBytes());
                ctx.write(b.retainedSlice(from, n), ctx.voidPromise());
                b.skipBytes(n);
                respRemaining -= n;
                if (respRemaining == 0) responseComplete();
            }
            case BODY_CHUNKED -> {
                int to = respChunks.scan(b, from, b.writerIndex(), dechunk ? toClient : null);
                if (respChunks.failed()) {
                    // broken framing from the endpoint: the client can't be told where the body ends but by a close
                    dropUpstream();
                    ctx.close();
                    return;
                }
                if (!dechunk && to > from) ctx.write(b.retainedSlice(from, to - from), ctx.voidPromise());
                b.readerIndex(to);
                if (respChunks.done()) responseComplete();
            }
            case BODY_UNTIL_CLOSE -> {
                int n = b.readableBytes();
                if (reframe) {
                    ByteBuf size = ctx.alloc().directBuffer(10);
                    writeHex(size, n);
                    ctx.write(size, ctx.voidPromise());
                    ctx.write(b.retainedSlice(from, n), ctx.voidPromise());
                    ctx.write(Unpooled.wrappedBuffer(CRLF_BYTES), ctx.voidPromise());
                } else {
                    ctx.write(b.retainedSlice(from, n), ctx.voidPromise());
                }
                b.skipBytes(n);
            }
            default -> responseComplete();
        }
        if (respBody != BODY_NONE && !responseDone && !ctx.channel().isWritable() && upstream != null) {
            upstream.config().setAutoRead(false);
        }
    }

    private static final byte[] CRLF_BYTES = {'\r', '\n'};

    private static void writeHex(ByteBuf out, int n) {
        int shift = 28;
        while (shift > 0 && (n >>> shift) == 0) shift -= 4;
        for (; shift >= 0; shift -= 4) out.writeByte(HEX[(n >>> shift) & 0xf]);
        out.writeShort(Http1Head.CRLF);
    }

    /** The whole response is written: the upstream connection goes back to the pool if it can. */
    private void responseComplete() {
        responseDone = true;
        respBody = BODY_NONE;
        boolean leftover = upIn != null && upIn.isReadable();
        upstreamReusable = upstreamReusable && requestDone && !leftover;
        ctx.flush();
        if (requestDone) {
            finish();
        } else if (upstream != null) {
            // the endpoint answered before taking the whole body: that connection can't carry another request
            dropUpstream();
        }
    }

    @Override
    public void upstreamReadComplete() {
        ctx.flush();
    }

    @Override
    public void upstreamClosed(Channel up) {
        if (relayPeer != null) {
            ctx.close();
            return;
        }
        if (!active || upstream != up) return;
        upstream = null;
        if (upIn != null) {
            // what came before the close, e.g. a head and body in the endpoint's last packet
            processResponse();
        }
        if (!active) return;
        if (responseStarted && !responseDone && respBody == BODY_UNTIL_CLOSE) {
            if (reframe) ctx.write(Unpooled.wrappedBuffer(LAST_CHUNK), ctx.voidPromise());
            upstreamReusable = false;
            if (upIn != null) {
                upIn.release();
                upIn = null;
            }
            responseComplete();
        } else if (!responseStarted) {
            if (upIn != null) {
                upIn.release();
                upIn = null;
            }
            answer(502, "Bad Gateway", "Bad Gateway\n");
            processRequests();
        } else if (!responseDone) {
            ctx.close(); // cut in the middle of a response: the client must not mistake it for a whole one
        }
    }

    /** Both sides of an exchange are over: the upstream goes back to the pool, the next pipelined request starts. */
    private void finish() {
        active = false;
        lastActivity = System.nanoTime();
        Channel up = upstream;
        upstream = null;
        if (upIn != null) {
            upIn.release();
            upIn = null;
        }
        if (up != null) {
            if (upstreamReusable) {
                proxy.rawPool().release(up, endpoint);
            } else {
                up.pipeline().get(UpstreamHandler.class).owner(null);
                up.close();
            }
        }
        if (!keepAlive) {
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            if (in != null) {
                in.release();
                in = null;
            }
            return;
        }
        if (in != null && in.isReadable()) {
            processRequests();
            // a queued request was written from the endpoint's read, not the client's: no channelReadComplete flushes it
            if (flushUpstream && upstream != null) {
                flushUpstream = false;
                upstream.flush();
            }
        } else {
            updateReading();
        }
    }

    // ---- WebSocket and other upgrades ---------------------------------------------------------------------------

    private void switchProtocols(ByteBuf b, Http1Head h) {
        int upgradeLine = h.find(Http1Head.UPGRADE);
        h.dropHopByHop(b);
        int te = h.find(Http1Head.TRANSFER_ENCODING);
        if (te >= 0) h.drop[te] = true;
        ByteBuf out = ctx.alloc().directBuffer(h.keptBytes() + 64 + (upgradeLine < 0 ? 0 : h.end[upgradeLine] - h.start[upgradeLine]));
        h.copyLine(b, 0, out);
        for (int i = 1; i < h.count; i++) {
            if (!h.drop[i]) h.copyLine(b, i, out);
        }
        out.writeBytes(CONNECTION_UPGRADE);
        if (upgradeLine >= 0) h.copyLine(b, upgradeLine, out);
        out.writeShort(Http1Head.CRLF);
        b.readerIndex(h.headEnd);
        ctx.write(out, ctx.voidPromise());
        Channel up = upstream;
        relayPeer = up;
        active = false;
        responseStarted = true;
        // from here on the bytes are the two ends' business, those already read included
        if (b.isReadable()) ctx.write(b.retain(), ctx.voidPromise());
        upIn.release();
        upIn = null;
        ctx.flush();
        if (in != null && in.isReadable()) {
            up.write(in, up.voidPromise());
            in = null;
        }
        up.flush();
        updateReading();
    }

    // ---- back-pressure and lifecycle ----------------------------------------------------------------------------

    /** Reads from the client only while the other side can take it and no pipelined request piles up. */
    @Override
    public void updateReading() {
        Channel ch = ctx.channel();
        if (relayPeer != null) {
            ch.config().setAutoRead(relayPeer.isWritable());
            relayPeer.config().setAutoRead(ch.isWritable());
            return;
        }
        boolean read;
        if (active && reqBody == BODY_NONE && in != null && in.readableBytes() >= MAX_HEAD) {
            read = false; // pipelined requests wait their turn: hold back what follows them
        } else if (!active || requestDone) {
            // keep reading while the response is pending (a next request is queued, a close noticed): switching
            // reading off and on around every exchange would cost two epoll_ctl calls per request
            read = true;
        } else if (pending != null) {
            read = false; // connecting: hold the body back rather than buffer it
        } else {
            read = upstream == null || upstream.isWritable();
        }
        if (ch.config().isAutoRead() != read) {
            ch.config().setAutoRead(read);
            if (read) ch.read();
        }
        if (active && upstream != null) {
            boolean upRead = ch.isWritable();
            if (upstream.config().isAutoRead() != upRead) upstream.config().setAutoRead(upRead);
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
        if (in != null) {
            in.release();
            in = null;
        }
        if (upIn != null) {
            upIn.release();
            upIn = null;
        }
        if (pending != null) {
            pending.forEach(ReferenceCountUtil::release);
            pending = null;
        }
        if (relayPeer != null) relayPeer.close();
        if (active && upstream != null) {
            upstream.pipeline().get(UpstreamHandler.class).owner(null);
            upstream.close();
        }
        active = false;
        upstream = null;
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
