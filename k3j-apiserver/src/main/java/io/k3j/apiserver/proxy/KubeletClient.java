package io.k3j.apiserver.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * HTTP/1.1 over TLS to kubelets, one connection per request (streams and upgrades hold their connection for their
 * whole life anyway). Blocking methods, meant for the API server's virtual threads; the body is read on demand, so
 * a slow client slows the kubelet down instead of filling memory.
 */
final class KubeletClient implements AutoCloseable {
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    private static final long RESPONSE_TIMEOUT_SECONDS = 60;
    /** Chunks queued before reading from the kubelet pauses. */
    private static final int HIGH_WATER = 16;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    /**
     * Connects, sends {@code request} (no body) and waits for the answer's status line and headers.
     *
     * @throws IOException naming the kubelet when it can't be reached or doesn't answer
     */
    Call send(SslContext ssl, String host, int port, HttpRequest request) throws IOException {
        Reader reader = new Reader();
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ssl != null) ch.pipeline().addLast("tls", ssl.newHandler(ch.alloc(), host, port));
                        ch.pipeline().addLast("http", new HttpClientCodec());
                        ch.pipeline().addLast("reader", reader);
                    }
                });
        String where = host + ":" + port;
        ChannelFuture connect = b.connect(host, port).awaitUninterruptibly();
        if (!connect.isSuccess()) throw new IOException("dialing kubelet at " + where + ": " + message(connect.cause()), connect.cause());
        Channel ch = connect.channel();
        ChannelFuture written = ch.writeAndFlush(request).awaitUninterruptibly();
        if (!written.isSuccess()) {
            ch.close();
            throw new IOException("sending to kubelet at " + where + ": " + message(written.cause()), written.cause());
        }
        try {
            HttpResponse head = reader.head.get(RESPONSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            return new Call(ch, head, reader);
        } catch (ExecutionException e) {
            ch.close();
            throw new IOException("reading from kubelet at " + where + ": " + message(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            ch.close();
            throw new IOException("kubelet at " + where + " did not answer within " + RESPONSE_TIMEOUT_SECONDS + "s");
        } catch (InterruptedException e) {
            ch.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for kubelet at " + where);
        }
    }

    private static String message(Throwable t) {
        if (t == null) return "unknown error";
        while (t.getCause() != null && (t.getMessage() == null || t instanceof io.netty.handler.codec.DecoderException)) t = t.getCause();
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 200, TimeUnit.MILLISECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    /** One request's answer: its head, then its body read chunk by chunk, or, after a 101, the raw connection. */
    static final class Call implements AutoCloseable {
        private final Channel channel;
        private final HttpResponse head;
        private final Reader reader;

        private Call(Channel channel, HttpResponse head, Reader reader) {
            this.channel = channel;
            this.head = head;
            this.reader = reader;
        }

        HttpResponse head() {
            return head;
        }

        /**
         * The next piece of the body, or null at its end.
         *
         * @throws IOException when the kubelet's connection broke before the end
         */
        byte[] read() throws IOException {
            try {
                Object next = reader.chunks.take();
                if (reader.chunks.size() < HIGH_WATER / 4 && !channel.config().isAutoRead()) {
                    channel.config().setAutoRead(true);
                }
                if (next instanceof byte[] b) return b;
                if (next instanceof Throwable t) throw new IOException("reading from kubelet: " + message(t), t);
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }

        /** The whole body, at most {@code max} bytes of it. */
        byte[] readAll(int max) throws IOException {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            for (byte[] b; (b = read()) != null; ) {
                out.write(b, 0, Math.min(b.length, max - out.size()));
                if (out.size() >= max) break;
            }
            return out.toByteArray();
        }

        /**
         * After a 101 answer: removes HTTP from the pipeline and pauses reading; returns the connection and the
         * bytes the kubelet already sent after its answer.
         */
        Upgraded upgraded() {
            return channel.eventLoop().submit(() -> {
                channel.config().setAutoRead(false);
                channel.pipeline().remove("reader");
                // removing the codec hands on whatever it still buffered: collect it too
                List<ByteBuf> early = new ArrayList<>(reader.early);
                reader.early.clear();
                channel.pipeline().addLast("early", new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof ByteBuf buf) early.add(buf);
                        else ReferenceCountUtil.release(msg);
                    }
                });
                channel.pipeline().remove("http");
                channel.pipeline().remove("early");
                return new Upgraded(channel, early);
            }).syncUninterruptibly().getNow();
        }

        @Override
        public void close() {
            channel.close();
        }
    }

    record Upgraded(Channel channel, List<ByteBuf> early) {
    }

    /** Collects the answer on the event loop: head, body chunks (with back-pressure), bytes after a 101. */
    private static final class Reader extends ChannelInboundHandlerAdapter {
        private static final Object END = new Object();
        final CompletableFuture<HttpResponse> head = new CompletableFuture<>();
        final LinkedBlockingQueue<Object> chunks = new LinkedBlockingQueue<>();
        final List<ByteBuf> early = new ArrayList<>();
        private boolean switched;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf buf) {
                // after a 101 the codec passes the new protocol's bytes through
                early.add(buf);
                return;
            }
            try {
                if (msg instanceof HttpResponse r) {
                    if (r.status().code() == 101) switched = true;
                    head.complete(r);
                }
                if (msg instanceof HttpContent c && !switched) {
                    if (c.content().isReadable()) {
                        byte[] b = new byte[c.content().readableBytes()];
                        c.content().readBytes(b);
                        chunks.add(b);
                    }
                    if (msg instanceof LastHttpContent) chunks.add(END);
                    if (chunks.size() >= HIGH_WATER) ctx.channel().config().setAutoRead(false);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            head.completeExceptionally(new IOException("the kubelet closed the connection without answering"));
            chunks.add(new IOException("connection closed"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            head.completeExceptionally(cause);
            chunks.add(cause);
            ctx.close();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            // nothing: early bytes are taken over by Call.upgraded
        }
    }
}
