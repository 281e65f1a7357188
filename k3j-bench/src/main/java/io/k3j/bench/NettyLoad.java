package io.k3j.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;

/**
 * A closed-loop load generator on Netty that costs the shared CPUs little: every request (HTTP/2 header block and
 * body, or the whole HTTP/1.1 message) is built before the clock starts, all connections are served by one event-loop
 * thread (by default), a client's next request is written from the event loop the moment its answer's last byte is
 * read, and the writes of one read are flushed together. Same semantics as {@link Load}: {@code clients} clients each
 * with one request in flight, spread over the connections (HTTP/2 streams), or one HTTP/1.1 keep-alive connection per
 * client; every answer is read to its end, its status checked, its latency recorded.
 *
 * <p>Connections are opened (TLS handshake, ALPN, HTTP/2 SETTINGS) when the instance is made and reused by every
 * {@link #run}, so a warm-up run and the measured run share them and no handshake is measured.
 */
final class NettyLoad implements AutoCloseable {

    /** How long a run may go without a single answer before its connections are closed and the rest counted as errors. */
    private static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(30);

    static {
        // The default sampling leak detector records a stack trace now and then on the hot path; this JVM is a load generator.
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
    }

    /** One request ready to write, sent once (its buffer is released by the write). */
    static final class Request {
        final Http2Headers headers;
        final ByteBuf bytes;

        private Request(Http2Headers headers, ByteBuf bytes) {
            this.headers = headers;
            this.bytes = bytes;
        }
    }

    private final boolean h2;
    private final String scheme;
    private final String authority;
    private final EventLoopGroup group;
    private final List<Connection> connections = new ArrayList<>();

    private NettyLoad(boolean h2, URI server, int threads) {
        this.h2 = h2;
        this.scheme = server.getScheme();
        this.authority = server.getHost() + ":" + server.getPort();
        this.group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("netty-load", true),
                Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    }

    /**
     * Opens {@code connections} HTTP/2 connections over TLS (ALPN h2) to {@code server}, served by {@code threads}
     * event-loop threads, and waits until each has the server's SETTINGS.
     *
     * @throws IOException if a connection, handshake or the HTTP/2 preface fails or takes over 60 s
     */
    static NettyLoad h2(URI server, SslContext tls, int connections, int threads) throws IOException, InterruptedException {
        NettyLoad load = new NettyLoad(true, server, threads);
        return load.connect(server, tls, connections);
    }

    /**
     * Opens {@code connections} HTTP/1.1 keep-alive connections to {@code server}, plaintext when {@code tls} is null.
     *
     * @throws IOException if a connection or handshake fails or takes over 60 s
     */
    static NettyLoad http1(URI server, SslContext tls, int connections, int threads) throws IOException, InterruptedException {
        NettyLoad load = new NettyLoad(false, server, threads);
        return load.connect(server, tls, connections);
    }

    /**
     * A client TLS context for {@code keys}: the admin certificate, trusting the cluster CA, offering {@code h2} or
     * {@code http/1.1} by ALPN. BoringSSL (netty-tcnative, as the server uses) when {@code openssl} and available,
     * else the JDK's engine.
     */
    static SslContext tls(AdminCredentials.KeyMaterial keys, boolean h2, boolean openssl) throws SSLException {
        SslProvider provider = openssl && SslProvider.isAlpnSupported(SslProvider.OPENSSL) ? SslProvider.OPENSSL : SslProvider.JDK;
        return SslContextBuilder.forClient()
                .sslProvider(provider)
                .keyManager(keys.key(), keys.chain())
                .trustManager(keys.trusted())
                .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        h2 ? ApplicationProtocolNames.HTTP_2 : ApplicationProtocolNames.HTTP_1_1))
                .build();
    }

    /** The TLS engine a context from {@link #tls} ended up with, for the report. */
    static String provider(SslContext tls) {
        return tls.getClass().getSimpleName().contains("OpenSsl") ? "BoringSSL (netty-tcnative)" : "JDK SSLEngine";
    }

    private NettyLoad connect(URI server, SslContext tls, int count) throws IOException, InterruptedException {
        if (count < 1) {
            throw new IllegalArgumentException("connections : " + count + " (expected: >= 1)");
        }
        String host = server.getHost();
        int port = server.getPort();
        Bootstrap b = new Bootstrap().group(group)
                .channel(Epoll.isAvailable() ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000);
        try {
            for (int i = 0; i < count; i++) {
                Connection conn = h2 ? new H2Connection() : new H1Connection();
                b.handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), host, port));
                        }
                        if (!h2) {
                            ch.pipeline().addLast(new HttpResponseDecoder());
                        }
                        ch.pipeline().addLast(conn.handler());
                    }
                });
                Channel ch = b.connect(host, port).sync().channel();
                if (!conn.ready().await(60, TimeUnit.SECONDS)) {
                    throw new IOException("connection " + i + " to " + server + " not ready within 60 s");
                }
                if (!conn.ready().isSuccess()) {
                    throw new IOException("connection " + i + " to " + server + ": " + conn.ready().cause(), conn.ready().cause());
                }
                SslHandler ssl = ch.pipeline().get(SslHandler.class);
                String alpn = ssl == null ? null : ssl.applicationProtocol();
                if (ssl != null && h2 && !ApplicationProtocolNames.HTTP_2.equals(alpn)) {
                    throw new IOException(server + " negotiated " + alpn + " by ALPN (expected: h2)");
                }
                connections.add(conn);
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
        return this;
    }

    /** A request to build before the clock starts: {@code body} null for none. */
    Request request(String method, String path, String contentType, byte[] body) {
        if (h2) {
            Http2Headers headers = new DefaultHttp2Headers(false)
                    .method(method).path(path).scheme(scheme).authority(authority)
                    .add("accept", "application/json");
            if (body != null) {
                headers.add("content-type", contentType).addInt("content-length", body.length);
            }
            return new Request(headers, body == null ? null : Unpooled.wrappedBuffer(body));
        }
        StringBuilder head = new StringBuilder(160).append(method).append(' ').append(path).append(" HTTP/1.1\r\n")
                .append("host: ").append(authority).append("\r\naccept: application/json\r\n");
        if (body != null) {
            head.append("content-type: ").append(contentType).append("\r\ncontent-length: ").append(body.length).append("\r\n");
        }
        byte[] h = head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
        byte[] all = body == null ? h : Arrays.copyOf(h, h.length + body.length);
        if (body != null) {
            System.arraycopy(body, 0, all, h.length, body.length);
        }
        return new Request(null, Unpooled.wrappedBuffer(all));
    }

    /**
     * Sends every request of {@code requests} once from {@code clients} closed-loop clients (client c on connection
     * c mod connections) and waits for all answers.
     *
     * @param keepBodies keep the body of every answer with {@code expectedStatus} in {@link Load.Result#bodies()}
     */
    Load.Result run(Request[] requests, int clients, int expectedStatus, boolean keepBodies) throws InterruptedException {
        if (clients < 1) {
            throw new IllegalArgumentException("clients : " + clients + " (expected: >= 1)");
        }
        if (!h2 && clients > connections.size()) {
            throw new IllegalArgumentException("clients : " + clients + " (expected: <= " + connections.size()
                    + ", one HTTP/1.1 connection per client)");
        }
        Run run = new Run(requests, expectedStatus, keepBodies, clients);
        List<Slot> slots = new ArrayList<>(clients);
        for (int c = 0; c < clients; c++) {
            slots.add(new Slot(run, connections.get(c % connections.size())));
        }
        long t0 = System.nanoTime();
        for (Slot s : slots) {
            s.conn.channel().eventLoop().execute(() -> s.sendNext(true));
        }
        int seen = -1;
        long lastProgress = System.nanoTime();
        while (!run.done.await(1, TimeUnit.SECONDS)) {
            int now = run.completed.get();
            if (now != seen) {
                seen = now;
                lastProgress = System.nanoTime();
            } else if (System.nanoTime() - lastProgress > STALL_NANOS) {
                run.error("no answer for " + TimeUnit.NANOSECONDS.toSeconds(STALL_NANOS) + " s: connections closed");
                connections.forEach(c -> c.channel().close());
                run.done.await(10, TimeUnit.SECONDS);
                break;
            }
        }
        long elapsed = System.nanoTime() - t0;
        int total = requests.length;
        int errors = run.errors.get();
        int unanswered = total - run.completed.get();
        if (unanswered > 0) {
            errors += unanswered;
            run.error(unanswered + " requests never answered (connections closed)");
        }
        long[] latency = run.latency.clone();
        Arrays.sort(latency);
        return new Load.Result(total, errors, run.firstError.get(), elapsed, latency, run.bodies, run.bytes.get());
    }

    /** Whether every connection is still open (a server that closed one would make later runs fail). */
    boolean allOpen() {
        return connections.stream().allMatch(c -> c.channel().isActive());
    }

    @Override
    public void close() {
        for (Connection c : connections) {
            c.channel().close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    /** The shared state of one {@link #run}: which request is next, what came back. */
    static final class Run {
        final Request[] requests;
        final int expected;
        final byte[][] bodies;
        final long[] latency;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger completed = new AtomicInteger();
        final AtomicInteger errors = new AtomicInteger();
        final AtomicLong bytes = new AtomicLong();
        final AtomicReference<String> firstError = new AtomicReference<>();
        final CountDownLatch done;

        Run(Request[] requests, int expected, boolean keepBodies, int clients) {
            this.requests = requests;
            this.expected = expected;
            this.bodies = keepBodies ? new byte[requests.length][] : null;
            this.latency = new long[requests.length];
            this.done = new CountDownLatch(clients);
        }

        void error(String message) {
            errors.incrementAndGet();
            firstError.compareAndSet(null, message);
        }
    }

    /**
     * One closed-loop client: the request it has in flight and what of its answer has arrived. Touched only by its
     * connection's event loop once the run started.
     */
    static final class Slot {
        /** Error answers are kept up to this many bytes for the message. */
        private static final int ERROR_BODY_LIMIT = 2048;

        final Run run;
        final Connection conn;
        private int index;
        private long start;
        int status;
        private long bytes;
        private byte[] body = new byte[1024];
        private int bodyLength;
        private boolean finished;

        Slot(Run run, Connection conn) {
            this.run = run;
            this.conn = conn;
        }

        /** Sends the next request, or ends this client when none is left or its connection is gone. */
        void sendNext(boolean flush) {
            if (!conn.channel().isActive()) {
                finish();
                return;
            }
            int i = run.next.getAndIncrement();
            if (i >= run.requests.length) {
                finish();
                return;
            }
            index = i;
            status = 0;
            bytes = 0;
            bodyLength = 0;
            Request r = run.requests[i];
            run.requests[i] = null; // sent once: its buffer now belongs to the write
            start = System.nanoTime();
            conn.send(this, r, flush);
        }

        private void finish() {
            if (!finished) {
                finished = true;
                run.done.countDown();
            }
        }

        /** A piece of the answer's body. */
        void data(ByteBuf data) {
            int n = data.readableBytes();
            bytes += n;
            boolean keep = status == run.expected ? run.bodies != null : bodyLength < ERROR_BODY_LIMIT;
            if (keep && n > 0) {
                if (bodyLength + n > body.length) {
                    body = Arrays.copyOf(body, Math.max(body.length * 2, bodyLength + n));
                }
                data.getBytes(data.readerIndex(), body, bodyLength, n);
                bodyLength += n;
            }
        }

        /** The answer ended ({@code failure} null) or the request failed; sends the next one unflushed. */
        void complete(String failure) {
            run.latency[index] = System.nanoTime() - start;
            run.bytes.addAndGet(bytes);
            if (failure != null) {
                run.error(failure);
            } else if (status != run.expected) {
                run.error(status + " " + new String(body, 0, Math.min(bodyLength, ERROR_BODY_LIMIT), StandardCharsets.UTF_8));
            } else if (run.bodies != null) {
                run.bodies[index] = Arrays.copyOf(body, bodyLength);
            }
            run.completed.incrementAndGet();
            sendNext(false);
        }
    }

    /** A connection's handler: sends one client's request and calls {@link Slot#complete} when its answer ended. */
    interface Connection {
        io.netty.channel.ChannelHandler handler();

        /** Completes once the connection can take requests (TLS handshake done, HTTP/2 SETTINGS read). */
        io.netty.util.concurrent.Future<Void> ready();

        Channel channel();

        /**
         * Writes {@code r} for {@code slot}; flushes when {@code flush}, else the handler flushes when the read that
         * caused the write is complete. Called on the event loop.
         */
        void send(Slot slot, Request r, boolean flush);
    }
}
