package io.k3j.apiserver.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.List;

/**
 * Joins two connections once a protocol switch has been answered: every byte read on one is written to the other,
 * with back-pressure (a side stops reading while its peer can't keep up), and either side closing closes both.
 * What the bytes mean (SPDY, WebSocket frames) is the two ends' business.
 */
final class Splice {
    private Splice() {
    }

    /**
     * Starts relaying. Both channels must have reading paused and only transport handlers (TLS) left.
     *
     * @param earlyFromB bytes already read from {@code b} (after the 101 answer), written to {@code a} first
     */
    static void join(Channel a, Channel b, List<ByteBuf> earlyFromB) {
        a.eventLoop().execute(() -> {
            for (ByteBuf buf : earlyFromB) a.write(buf);
            a.flush();
            a.pipeline().addLast("splice", new Relay(b));
            a.config().setAutoRead(true);
            a.read();
        });
        b.eventLoop().execute(() -> {
            b.pipeline().addLast("splice", new Relay(a));
            b.config().setAutoRead(true);
            b.read();
        });
    }

    /** Writes what this side reads to its peer. */
    static final class Relay extends ChannelInboundHandlerAdapter {
        private final Channel peer;

        Relay(Channel peer) {
            this.peer = peer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!peer.isActive()) {
                io.netty.util.ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            peer.writeAndFlush(msg).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    f.channel().close();
                    ctx.close();
                }
            });
            // back-pressure: stop reading until the peer has drained (see channelWritabilityChanged on the peer)
            if (!peer.isWritable()) ctx.channel().config().setAutoRead(false);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) peer.config().setAutoRead(true);
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (peer.isActive()) peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
