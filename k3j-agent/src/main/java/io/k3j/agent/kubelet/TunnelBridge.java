package io.k3j.agent.kubelet;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import java.util.List;

/**
 * Port-forward from kubectl 1.31+: a SPDY/3.1 {@code portforward.k8s.io} session tunneled in WebSocket binary
 * messages (subprotocol {@code SPDY/3.1+portforward.k8s.io}, client-go's tools/portforward tunneling connection).
 * The runtime's streaming server speaks that SPDY session directly, so the bytes inside the messages are relayed
 * unchanged: WebSocket message payloads to the runtime, the runtime's bytes back as binary messages.
 */
final class TunnelBridge {
    static final String PROTOCOL = "SPDY/3.1+portforward.k8s.io";

    private TunnelBridge() {
    }

    static void start(Channel client, Channel runtime, List<ByteBuf> early) {
        runtime.eventLoop().execute(() -> {
            for (ByteBuf buf : early) client.write(new BinaryWebSocketFrame(buf));
            client.flush();
            runtime.pipeline().addLast("tunnel", new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    if (msg instanceof ByteBuf buf) {
                        client.writeAndFlush(new BinaryWebSocketFrame(buf));
                        if (!client.isWritable()) ctx.channel().config().setAutoRead(false);
                    } else {
                        ReferenceCountUtil.release(msg);
                    }
                }

                @Override
                public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                    if (ctx.channel().isWritable()) client.config().setAutoRead(true);
                }

                @Override
                public void channelInactive(ChannelHandlerContext ctx) {
                    if (client.isActive()) client.writeAndFlush(new CloseWebSocketFrame(1000, "")).addListener(ChannelFutureListener.CLOSE);
                }

                @Override
                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    ctx.close();
                }
            });
            runtime.config().setAutoRead(true);
            runtime.read();
        });
        client.eventLoop().execute(() -> {
            client.pipeline().addLast("tunnel", new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    try {
                        if (msg instanceof BinaryWebSocketFrame f) {
                            runtime.writeAndFlush(f.content().retain());
                            if (!runtime.isWritable()) ctx.channel().config().setAutoRead(false);
                        } else if (msg instanceof PingWebSocketFrame ping) {
                            ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
                        } else if (msg instanceof CloseWebSocketFrame) {
                            ctx.writeAndFlush(new CloseWebSocketFrame(1000, "")).addListener(ChannelFutureListener.CLOSE);
                            runtime.close();
                        }
                    } finally {
                        ReferenceCountUtil.release(msg);
                    }
                }

                @Override
                public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                    if (ctx.channel().isWritable()) runtime.config().setAutoRead(true);
                }

                @Override
                public void channelInactive(ChannelHandlerContext ctx) {
                    runtime.close();
                }

                @Override
                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    ctx.close();
                }
            });
            client.config().setAutoRead(true);
            client.read();
        });
    }
}
