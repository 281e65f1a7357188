package io.k3j.bench;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;

/**
 * One HTTP/1.1 keep-alive client connection of {@link NettyLoad}, one request at a time (no pipelining): the
 * prebuilt message bytes are written as they are (no encoder), the answer is parsed by the HttpResponseDecoder in front
 * of this handler (Content-Length or chunked), and its end completes the client.
 */
final class H1Connection extends ChannelInboundHandlerAdapter implements NettyLoad.Connection {

    private final Promise<Void> ready = ImmediateEventExecutor.INSTANCE.newPromise();
    private ChannelHandlerContext ctx;
    private NettyLoad.Slot current;
    private boolean tls;

    @Override
    public ChannelHandler handler() {
        return this;
    }

    @Override
    public Future<Void> ready() {
        return ready;
    }

    @Override
    public Channel channel() {
        return ctx.channel();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext c) {
        ctx = c;
        tls = c.pipeline().get(io.netty.handler.ssl.SslHandler.class) != null;
    }

    @Override
    public void channelActive(ChannelHandlerContext c) throws Exception {
        if (!tls) {
            ready.trySuccess(null);
        }
        super.channelActive(c);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext c, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent e) {
            if (e.isSuccess()) {
                ready.trySuccess(null);
            } else {
                ready.tryFailure(e.cause());
            }
        }
        super.userEventTriggered(c, evt);
    }

    @Override
    public void send(NettyLoad.Slot slot, NettyLoad.Request r, boolean flush) {
        current = slot;
        // a failed write closes the connection, which completes the slot in channelInactive
        ctx.write(r.bytes, ctx.voidPromise());
        if (flush) {
            ctx.flush();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext c, Object msg) {
        try {
            NettyLoad.Slot s = current;
            if (s == null || !(msg instanceof HttpObject o)) {
                return;
            }
            if (o.decoderResult().isFailure()) {
                current = null;
                s.complete("bad answer: " + o.decoderResult().cause());
                c.close();
                return;
            }
            if (o instanceof HttpResponse r) {
                s.status = r.status().code();
            }
            if (o instanceof HttpContent content) {
                s.data(content.content());
                if (content instanceof LastHttpContent) {
                    current = null;
                    s.complete(null);
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext c) {
        c.flush(); // the next requests written while the answers were read
    }

    @Override
    public void channelInactive(ChannelHandlerContext c) throws Exception {
        ready.tryFailure(new java.io.IOException("connection closed"));
        NettyLoad.Slot s = current;
        current = null;
        if (s != null) {
            s.complete("connection closed");
        }
        super.channelInactive(c);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
        ready.tryFailure(cause);
        c.close();
    }
}
