package io.k3j.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2EventAdapter;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.AsciiString;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.util.ArrayList;
import java.util.List;

/**
 * One HTTP/2 client connection of {@link NettyLoad}: requests go out as HEADERS (+ DATA) frames on new streams, answers
 * come back to a frame listener that counts DATA bytes and completes the stream's client on END_STREAM. Sits last in
 * the pipeline, after the SslHandler.
 *
 * <p>The receive windows (connection and stream) are 16 MiB so a 25 MB LIST needs two WINDOW_UPDATEs, not hundreds;
 * data is consumed as soon as it is read.
 */
final class H2Connection implements NettyLoad.Connection {

    private static final int WINDOW = 16 << 20;

    private final Promise<Void> ready = ImmediateEventExecutor.INSTANCE.newPromise();
    private final Handler handler;
    private final IntObjectHashMap<NettyLoad.Slot> inflight = new IntObjectHashMap<>();
    private ChannelHandlerContext ctx;
    private boolean windowOpened;

    H2Connection() {
        this.handler = new Builder().build();
    }

    @Override
    public ChannelHandler handler() {
        return handler;
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
    public void send(NettyLoad.Slot slot, NettyLoad.Request r, boolean flush) {
        int id = handler.connection().local().incrementAndGetNextStreamId();
        inflight.put(id, slot);
        Http2ConnectionEncoder enc = handler.encoder();
        enc.writeHeaders(ctx, id, r.headers, 0, r.bytes == null, ctx.newPromise());
        if (r.bytes != null) {
            enc.writeData(ctx, id, r.bytes, 0, true, ctx.newPromise());
        }
        if (flush) {
            handler.flush(ctx);
        }
    }

    private void failAll(String why) {
        if (inflight.isEmpty()) {
            return;
        }
        List<NettyLoad.Slot> slots = new ArrayList<>(inflight.values());
        inflight.clear();
        for (NettyLoad.Slot s : slots) {
            s.complete(why);
        }
    }

    private final class Builder extends AbstractHttp2ConnectionHandlerBuilder<Handler, Builder> {
        Builder() {
            server(false);
            // the answers' headers are only read for :status; validating every name costs the shared CPUs for nothing
            validateHeaders(false);
            Http2Settings settings = new Http2Settings().initialWindowSize(WINDOW).pushEnabled(false);
            initialSettings(settings);
        }

        @Override
        public Handler build() {
            return super.build();
        }

        @Override
        protected Handler build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings initialSettings) {
            Handler h = new Handler(decoder, encoder, initialSettings);
            frameListener(new Listener());
            return h;
        }
    }

    private final class Handler extends Http2ConnectionHandler {
        Handler(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings initialSettings) {
            super(decoder, encoder, initialSettings);
        }

        @Override
        public void handlerAdded(ChannelHandlerContext c) throws Exception {
            ctx = c;
            super.handlerAdded(c);
        }

        @Override
        public void channelInactive(ChannelHandlerContext c) throws Exception {
            ready.tryFailure(new java.io.IOException("connection closed before the HTTP/2 SETTINGS"));
            failAll("connection closed");
            super.channelInactive(c);
        }

        @Override
        protected void onConnectionError(ChannelHandlerContext c, boolean outbound, Throwable cause, Http2Exception http2Ex) {
            ready.tryFailure(cause);
            failAll("connection error: " + cause);
            super.onConnectionError(c, outbound, cause, http2Ex);
        }
    }

    private final class Listener extends Http2EventAdapter {
        @Override
        public void onSettingsRead(ChannelHandlerContext c, Http2Settings settings) throws Http2Exception {
            if (!windowOpened) {
                windowOpened = true;
                // the connection window starts at 65,535 whatever SETTINGS say; open it as wide as the streams'
                handler.connection().local().flowController()
                        .incrementWindowSize(handler.connection().connectionStream(), WINDOW - 65_535);
                ready.trySuccess(null);
            }
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding, boolean endStream) {
            NettyLoad.Slot s = inflight.get(streamId);
            if (s == null) {
                return;
            }
            CharSequence status = headers.status();
            if (status != null) {
                int code = AsciiString.of(status).parseInt();
                if (code >= 200) {
                    s.status = code;
                } else if (!endStream) {
                    return; // an interim 1xx answer: the real one follows
                }
            }
            if (endStream) {
                inflight.remove(streamId);
                s.complete(null);
            }
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int streamDependency,
                short weight, boolean exclusive, int padding, boolean endStream) {
            onHeadersRead(c, streamId, headers, padding, endStream);
        }

        @Override
        public int onDataRead(ChannelHandlerContext c, int streamId, ByteBuf data, int padding, boolean endOfStream) {
            int n = data.readableBytes() + padding;
            NettyLoad.Slot s = inflight.get(streamId);
            if (s != null) {
                s.data(data);
                if (endOfStream) {
                    inflight.remove(streamId);
                    s.complete(null);
                }
            }
            return n; // consumed: the flow controller sends WINDOW_UPDATE once half the window is used
        }

        @Override
        public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
            NettyLoad.Slot s = inflight.remove(streamId);
            if (s != null) {
                s.complete("RST_STREAM " + errorCode);
            }
        }

        @Override
        public void onGoAwayRead(ChannelHandlerContext c, int lastStreamId, long errorCode, ByteBuf debugData) {
            List<Integer> dropped = new ArrayList<>();
            for (int id : inflight.keySet()) {
                if (id > lastStreamId) {
                    dropped.add(id);
                }
            }
            for (int id : dropped) {
                inflight.remove(id).complete("GOAWAY " + errorCode + " before stream " + id + " was processed");
            }
        }
    }
}
