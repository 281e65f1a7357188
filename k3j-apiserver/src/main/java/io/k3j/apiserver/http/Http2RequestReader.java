package io.k3j.apiserver.http;

import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ExecutorService;

/**
 * Reads one HTTP/2 stream's request straight from its frames and hands it to the {@link HttpHandler} on a
 * virtual thread: the only handler of a stream channel's pipeline.
 *
 * <pre>
 * Http2MultiplexHandler ─(per stream)─ Http2RequestReader ─► executor: handler.handle(request, NettyExchange)
 * </pre>
 *
 * <p>It replaces a chain of frame-to-HTTP/1 codec, aggregator and dispatcher, which per request built an HTTP/1
 * request from the HEADERS frame, a composite buffer for the body and a copy of the headers, and converted the
 * answer back: a ConfigMap create spent more of the event loop in those conversions than in reading frames.
 * The stream channel keeps doing what it did: inbound flow control (window updates as frames are read),
 * outbound flow control (the channel's writability) and close on reset. The answer is written as frames by
 * {@link NettyExchange}.
 *
 * <p>Bodies larger than the limit get a 413 Status as soon as that is known (from content-length or as the data
 * arrives) and the rest of the body is dropped; the stream is not reset, since the JDK's HttpClient then drops
 * the answer it already has.
 */
final class Http2RequestReader extends ChannelInboundHandlerAdapter {
    private static final System.Logger LOG = System.getLogger(Http2RequestReader.class.getName());
    private static final AsciiString CONTINUE = AsciiString.cached("100");

    private final HttpHandler handler;
    private final ExecutorService executor;
    private final int limit;
    private Http2Headers headers;
    private byte[] body = new byte[0];
    private int size;
    /** A 413 was sent: what else arrives is dropped. */
    private boolean refused;
    private boolean dispatched;

    Http2RequestReader(HttpHandler handler, ExecutorService executor, int limit) {
        this.handler = handler;
        this.executor = executor;
        this.limit = limit;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2HeadersFrame h) {
                if (headers == null) {
                    headers = h.headers();
                    if (!h.isEndStream()) expectBody(ctx);
                }
                // a second HEADERS frame holds trailers: they end the request and are not passed on
                if (h.isEndStream()) end(ctx);
            } else if (msg instanceof Http2DataFrame d) {
                if (headers == null) {
                    ctx.close();
                    return;
                }
                append(ctx, d.content());
                if (d.isEndStream()) end(ctx);
            }
            // other frames (a reset closes the channel by itself, window updates are the codec's) need nothing
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /** Refuses a declared oversized body up front, and answers {@code Expect: 100-continue}. */
    private void expectBody(ChannelHandlerContext ctx) {
        CharSequence length = headers.get(HttpHeaderNames.CONTENT_LENGTH);
        long declared = -1;
        if (length != null) {
            try {
                declared = Long.parseLong(length.toString().trim());
            } catch (NumberFormatException e) {
                declared = -1;
            }
        }
        if (declared > limit) {
            refuse(ctx);
            return;
        }
        if (declared > 0) body = new byte[(int) declared];
        CharSequence expect = headers.get(HttpHeaderNames.EXPECT);
        if (expect == null) return;
        if (HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect)) {
            ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status(CONTINUE), false));
        } else {
            refused = true;
            ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status(AsciiString.of("417"))
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, 0), true));
        }
    }

    private void append(ChannelHandlerContext ctx, ByteBuf data) {
        if (refused) return;
        int n = data.readableBytes();
        if (n == 0) return;
        if ((long) size + n > limit) {
            refuse(ctx);
            return;
        }
        if (size + n > body.length) body = Arrays.copyOf(body, Math.max(size + n, Math.min(limit, body.length * 2)));
        data.getBytes(data.readerIndex(), body, size, n);
        size += n;
    }

    private void refuse(ChannelHandlerContext ctx) {
        refused = true;
        body = null;
        byte[] status = Json.bytes(ApiException.requestEntityTooLarge("Request entity too large: limit is " + limit).toStatus());
        Http2Headers h = new DefaultHttp2Headers().status(AsciiString.of("413"))
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, status.length);
        ctx.write(new DefaultHttp2HeadersFrame(h, false));
        ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(status), true));
    }

    private void end(ChannelHandlerContext ctx) {
        if (refused || dispatched) return;
        dispatched = true;
        CharSequence method = headers.method();
        CharSequence path = headers.path();
        if (method == null || path == null) {
            LOG.log(System.Logger.Level.DEBUG, "HTTP/2 request without :method or :path from {0}", ctx.channel().parent().remoteAddress());
            ctx.close();
            return;
        }
        byte[] content = size == body.length ? body : Arrays.copyOf(body, size);
        body = null;
        Http2StreamChannel stream = (Http2StreamChannel) ctx.channel();
        ApiRequest request = new ApiRequest(method.toString(), path.toString(), http1Headers(headers), content,
                ApiHttpServer.peerCertificates(stream), String.valueOf(stream.parent().remoteAddress()));
        headers = null;
        ApiHttpServer.dispatch(handler, executor, request, new NettyExchange(stream, true, true, null));
    }

    /**
     * The request's headers as the API layer reads them: without pseudo-headers, with {@code host} from
     * {@code :authority} when the client sent none (as HTTP/1.1 clients always do).
     */
    static HttpHeaders http1Headers(Http2Headers h2) {
        HttpHeaders out = new DefaultHttpHeaders(false);
        for (Map.Entry<CharSequence, CharSequence> e : h2) {
            CharSequence name = e.getKey();
            if (name.length() > 0 && name.charAt(0) == ':') continue;
            out.add(name, e.getValue());
        }
        CharSequence authority = h2.authority();
        if (authority != null && !out.contains(HttpHeaderNames.HOST)) out.set(HttpHeaderNames.HOST, authority);
        return out;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(System.Logger.Level.DEBUG, "HTTP/2 stream error: {0}", cause.toString());
        ctx.close();
    }
}
