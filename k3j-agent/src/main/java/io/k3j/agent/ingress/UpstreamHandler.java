package io.k3j.agent.ingress;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * Last handler of an upstream connection ({@code [HttpClientCodec →] UpstreamHandler}): hands what the endpoint sends
 * to the {@link UpstreamOwner} the connection currently serves. A pooled connection serves nobody; anything it
 * receives then is a protocol error and closes it.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {
    private UpstreamOwner owner;
    private Runnable onPooledClose;

    /** Binds the connection to a client exchange (null: back in the pool). Call on the loop. */
    void owner(UpstreamOwner owner) {
        this.owner = owner;
        this.onPooledClose = null;
    }

    void pooled(Runnable onClose) {
        this.owner = null;
        this.onPooledClose = onClose;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        UpstreamOwner o = owner;
        if (o == null) {
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        o.upstreamRead(ctx.channel(), msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        UpstreamOwner o = owner;
        if (o != null) o.upstreamReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        UpstreamOwner o = owner;
        if (o != null) o.updateReading();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        UpstreamOwner o = owner;
        if (o != null) {
            o.upstreamClosed(ctx.channel());
        } else if (onPooledClose != null) {
            onPooledClose.run();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // channelInactive follows and tells the owner (502 before any response, a cut response otherwise)
        ctx.close();
    }
}
