package io.k3j.agent.ingress;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A tiny HTTP server standing in for a pod: answers every request with what it saw (its name, the path, the
 * forwarding headers, the client port it was reached from), counts uploaded bytes on {@code /upload}, and, when
 * asked, echoes WebSocket text frames on {@code /ws} (a Netty server, since the JDK has no WebSocket server).
 */
final class Backend implements AutoCloseable {
    final String name;
    private final HttpServer http;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    /** Bytes of the upload in progress received so far. */
    final AtomicLong uploaded = new AtomicLong();

    Backend(String name, String ip, int port) throws IOException {
        this.name = name;
        this.http = HttpServer.create(new InetSocketAddress(ip, port), 64);
        http.setExecutor(executor);
        http.createContext("/", this::handle);
        http.start();
    }

    int port() {
        return http.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        long n = 0;
        try (InputStream in = ex.getRequestBody()) {
            byte[] buf = new byte[64 * 1024];
            for (int r = in.read(buf); r >= 0; r = in.read(buf)) {
                n += r;
                if (ex.getRequestURI().getPath().startsWith("/upload")) uploaded.set(n);
            }
        }
        var h = ex.getRequestHeaders();
        String body = "name=" + name + "\n"
                + "path=" + ex.getRequestURI() + "\n"
                + "host=" + h.getFirst("Host") + "\n"
                + "xff=" + h.getFirst("X-Forwarded-For") + "\n"
                + "proto=" + h.getFirst("X-Forwarded-Proto") + "\n"
                + "xhost=" + h.getFirst("X-Forwarded-Host") + "\n"
                + "xport=" + h.getFirst("X-Forwarded-Port") + "\n"
                + "realip=" + h.getFirst("X-Real-Ip") + "\n"
                + "conn=" + ex.getRemoteAddress().getPort() + "\n"
                + "bytes=" + n + "\n";
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain");
        ex.sendResponseHeaders(200, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    @Override
    public void close() {
        http.stop(0);
        executor.close();
    }

    /** A WebSocket echo server on {@code /ws}: every text frame comes back prefixed with "echo: ". */
    static final class WebSocketEcho implements AutoCloseable {
        private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        private final Channel server;

        WebSocketEcho(String ip) throws InterruptedException {
            server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                    new WebSocketServerProtocolHandler("/ws"),
                                    new SimpleChannelInboundHandler<TextWebSocketFrame>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame f) {
                                            ctx.writeAndFlush(new TextWebSocketFrame("echo: " + f.text()));
                                        }
                                    });
                        }
                    }).bind(ip, 0).sync().channel();
        }

        int port() {
            return ((InetSocketAddress) server.localAddress()).getPort();
        }

        @Override
        public void close() {
            server.close().syncUninterruptibly();
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /**
     * A backend speaking raw HTTP/1.x from a script, to see the bytes the proxy sends and how it copes with framings
     * a well-behaved server library would not produce: {@code /raw/echo} answers with the request head and body as
     * they arrived; {@code /raw/close} answers HTTP/1.0 without a length and closes; {@code /raw/chunked} answers
     * chunked with hop-by-hop fields (Keep-Alive, a field named by Connection) that must not reach the client.
     */
    static final class Scripted implements AutoCloseable {
        private final ServerSocket server;
        private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

        Scripted(String ip) throws IOException {
            server = new ServerSocket(0, 64, java.net.InetAddress.getByName(ip));
            executor.submit(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        executor.submit(() -> serve(s));
                    } catch (IOException e) {
                        return null;
                    }
                }
                return null;
            });
        }

        int port() {
            return server.getLocalPort();
        }

        private Void serve(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                while (true) {
                    StringBuilder head = new StringBuilder();
                    int length = 0;
                    String first = null;
                    for (String line = line(in); ; line = line(in)) {
                        if (line == null) return null;
                        head.append(line).append("\r\n");
                        if (line.isEmpty()) break;
                        if (first == null) first = line;
                        if (line.regionMatches(true, 0, "content-length:", 0, 15)) length = Integer.parseInt(line.substring(15).trim());
                    }
                    byte[] body = in.readNBytes(length);
                    String path = first.split(" ")[1];
                    if (path.startsWith("/raw/close")) {
                        out.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil-close".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        return null;
                    } else if (path.startsWith("/raw/chunked")) {
                        out.write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive, X-Secret\r\n"
                                + "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nX-Kept: yes\r\n\r\n5\r\nhello\r\n5;ext=1\r\nworld\r\n0\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                    } else {
                        byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
                        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + (h.length + body.length) + "\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                        out.write(h);
                        out.write(body);
                    }
                    out.flush();
                }
            } catch (IOException e) {
                return null;
            }
        }

        /** One line without its CR LF, or null at the end of the stream. */
        private static String line(InputStream in) throws IOException {
            StringBuilder sb = new StringBuilder();
            for (int ch = in.read(); ch != '\n'; ch = in.read()) {
                if (ch < 0) return null;
                if (ch != '\r') sb.append((char) ch);
            }
            return sb.toString();
        }

        @Override
        public void close() throws IOException {
            server.close();
            executor.shutdownNow();
        }
    }
}
