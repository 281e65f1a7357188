package io.k3j.cluster.lb;

import io.k3j.cluster.lb.LoadBalancerConfig.Backend;
import io.k3j.cluster.lb.LoadBalancerConfig.Listener;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One TCP listening socket. Each accepted connection gets a virtual thread that picks a backend (round-robin, healthy
 * ones first, then the ones marked down as a last resort), connects with the connect timeout, tries the next backend
 * on failure, and then copies bytes both ways, one virtual thread per direction. End of stream in one direction is
 * passed on as a half-close ({@code shutdownOutput}); the connection is closed when both directions have ended or
 * either fails.
 */
final class TcpListener implements LoadBalancer.Running {
    private static final Logger LOG = Logger.getLogger(TcpListener.class.getName());
    private static final int BUFFER = 64 * 1024;

    private final Listener config;
    private final ServerSocketChannel server;
    private final Backends health;
    private final Supplier<Duration> connectTimeout;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger next = new AtomicInteger();
    private volatile List<Backend> backends;
    private volatile boolean closed;

    private TcpListener(Listener config, ServerSocketChannel server, Backends health, Supplier<Duration> connectTimeout) {
        this.config = config;
        this.server = server;
        this.health = health;
        this.connectTimeout = connectTimeout;
        this.backends = config.backends();
    }

    /** Binds the socket and starts accepting. */
    static TcpListener open(Listener config, Backends health, Supplier<Duration> connectTimeout) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress(config.bind(), config.port()), 1024);
        } catch (IOException e) {
            server.close();
            throw e;
        }
        TcpListener l = new TcpListener(config, server, health, connectTimeout);
        Thread.ofVirtual().name("lb-accept-" + config.name()).start(l::acceptLoop);
        return l;
    }

    @Override
    public int port() {
        return ((InetSocketAddress) server.socket().getLocalSocketAddress()).getPort();
    }

    @Override
    public void backends(List<Backend> newBackends) {
        backends = List.copyOf(newBackends);
    }

    /** Connections being forwarded now. */
    int connectionCount() {
        return connections.size();
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed) return;
                // EMFILE and friends: back off briefly rather than spin; the listener stays up.
                LOG.warning("listener " + config.name() + ": accept failed: " + e.getMessage());
                sleep(50);
                continue;
            }
            Thread.ofVirtual().name("lb-conn-" + config.name()).start(() -> serve(client));
        }
    }

    private void serve(SocketChannel client) {
        SocketChannel upstream = connect();
        if (upstream == null) {
            close(client);
            return;
        }
        Connection c = new Connection(client, upstream);
        connections.add(c);
        if (closed) {
            c.close();
            return;
        }
        try {
            client.setOption(StandardSocketOptions.TCP_NODELAY, true);
            upstream.setOption(StandardSocketOptions.TCP_NODELAY, true);
        } catch (IOException e) {
            c.close();
            return;
        }
        Thread.ofVirtual().name("lb-down-" + config.name()).start(() -> c.pump(upstream, client));
        c.pump(client, upstream);
    }

    /** A connected backend channel, or null when none accepted within the connect timeout. */
    private SocketChannel connect() {
        List<Backend> all = backends;
        if (all.isEmpty()) return null;
        int start = Math.floorMod(next.getAndIncrement(), all.size());
        List<Backend> order = new ArrayList<>(all.size());
        List<Backend> down = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            Backend b = all.get((start + i) % all.size());
            (health.healthy(b) ? order : down).add(b);
        }
        order.addAll(down);
        int timeout = (int) Math.max(1, connectTimeout.get().toMillis());
        for (Backend b : order) {
            SocketChannel ch = null;
            try {
                ch = SocketChannel.open();
                // The Socket adaptor is the only way to connect a channel with a timeout.
                ch.socket().connect(new InetSocketAddress(b.host(), b.port()), timeout);
                health.connectSucceeded(b);
                return ch;
            } catch (IOException e) {
                close(ch);
                health.connectFailed(b, e);
                LOG.fine(() -> "listener " + config.name() + ": connect to " + b + " failed: " + e);
            }
        }
        LOG.fine(() -> "listener " + config.name() + ": no backend accepted a connection");
        return null;
    }

    @Override
    public void close() {
        closed = true;
        close(server);
        for (Connection c : connections) c.close();
    }

    private static void close(java.io.Closeable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (IOException ignored) {
            // closing is best effort; the peer sees a reset or EOF either way
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A client and its backend; closed when both directions are done or one fails. */
    private final class Connection {
        private final SocketChannel client;
        private final SocketChannel upstream;
        private final AtomicInteger open = new AtomicInteger(2);

        Connection(SocketChannel client, SocketChannel upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void pump(SocketChannel from, SocketChannel to) {
            ByteBuffer buf = ByteBuffer.allocate(BUFFER);
            try {
                while (from.read(buf) >= 0) {
                    buf.flip();
                    while (buf.hasRemaining()) to.write(buf);
                    buf.clear();
                }
                to.shutdownOutput();
                if (open.decrementAndGet() == 0) close();
            } catch (IOException e) {
                LOG.log(Level.FINEST, "listener " + config.name() + ": connection ended", e);
                close();
            }
        }

        void close() {
            connections.remove(this);
            TcpListener.close(client);
            TcpListener.close(upstream);
        }
    }
}
