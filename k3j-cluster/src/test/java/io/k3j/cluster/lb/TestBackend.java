package io.k3j.cluster.lb;

import io.k3j.cluster.lb.LoadBalancerConfig.Backend;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A real TCP server on 127.0.0.1 for the tests: on each connection it writes its id and a newline, then echoes every
 * byte until the client half-closes, then closes. Can be stopped (closing its connections, as a dying node does) and
 * started again on the same port.
 */
final class TestBackend implements AutoCloseable {
    final String id;
    private final int port;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile ServerSocket server;

    TestBackend(String id) throws IOException {
        this(id, 0);
    }

    private TestBackend(String id, int port) throws IOException {
        this.id = id;
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        this.server = s;
        this.port = s.getLocalPort();
        Thread.ofVirtual().start(() -> acceptLoop(s));
    }

    Backend backend() {
        return new Backend("127.0.0.1", port);
    }

    int port() {
        return port;
    }

    private void acceptLoop(ServerSocket s) {
        while (!s.isClosed()) {
            try {
                Socket c = s.accept();
                open.add(c);
                Thread.ofVirtual().start(() -> serve(c));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket c) {
        try (c) {
            OutputStream out = c.getOutputStream();
            out.write((id + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = c.getInputStream();
            in.transferTo(out);
        } catch (IOException ignored) {
            // the client went away or the backend was stopped
        } finally {
            open.remove(c);
        }
    }

    /** Stops listening and resets every connection, as a killed process does. */
    void stop() throws IOException {
        server.close();
        for (Socket c : open) {
            try {
                c.setSoLinger(true, 0);
                c.close();
            } catch (java.net.SocketException closedMeanwhile) {
                // its serving thread closed it as we got to it (the client had finished)
            }
        }
    }

    /** Listens again on the same port. */
    void restart() throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        server = s;
        Thread.ofVirtual().start(() -> acceptLoop(s));
    }

    @Override
    public void close() throws IOException {
        stop();
    }
}
