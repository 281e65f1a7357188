package io.k3j.cluster.lb;

import io.k3j.cluster.lb.LoadBalancerConfig.Backend;
import io.k3j.cluster.lb.LoadBalancerConfig.Listener;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * One UDP listening socket. Datagrams from one client address form a session: a socket connected to one backend
 * (round-robin per new session), whose replies go back to that client from the listening socket. A session ends after
 * the idle timeout, or at once when the backend answers with ICMP port unreachable, so the client's next datagram
 * (a DNS retry, say) goes to the next backend. UDP backends get no active checks.
 */
final class UdpListener implements LoadBalancer.Running {
    private static final Logger LOG = Logger.getLogger(UdpListener.class.getName());
    private static final int MAX_DATAGRAM = 65535;

    private final Listener config;
    private final DatagramSocket server;
    private final Supplier<Duration> idleTimeout;
    private final Map<SocketAddress, Session> sessions = new ConcurrentHashMap<>();
    private final AtomicInteger next = new AtomicInteger();
    private volatile List<Backend> backends;
    private volatile boolean closed;

    private UdpListener(Listener config, DatagramSocket server, Supplier<Duration> idleTimeout) {
        this.config = config;
        this.server = server;
        this.idleTimeout = idleTimeout;
        this.backends = config.backends();
    }

    /** Binds the socket and starts receiving. */
    static UdpListener open(Listener config, Supplier<Duration> idleTimeout) throws IOException {
        DatagramSocket server = new DatagramSocket(null);
        try {
            server.bind(new InetSocketAddress(config.bind(), config.port()));
        } catch (IOException e) {
            server.close();
            throw e;
        }
        UdpListener l = new UdpListener(config, server, idleTimeout);
        Thread.ofVirtual().name("lb-udp-" + config.name()).start(l::receiveLoop);
        return l;
    }

    @Override
    public int port() {
        return server.getLocalPort();
    }

    @Override
    public void backends(List<Backend> newBackends) {
        backends = List.copyOf(newBackends);
    }

    /** Client addresses with a live session. */
    int sessionCount() {
        return sessions.size();
    }

    private void receiveLoop() {
        byte[] buf = new byte[MAX_DATAGRAM];
        while (!closed) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                server.receive(p);
            } catch (IOException e) {
                if (closed || server.isClosed()) return;
                LOG.fine(() -> "listener " + config.name() + ": receive failed: " + e);
                continue;
            }
            SocketAddress client = p.getSocketAddress();
            Session s = sessions.get(client);
            if (s == null) {
                s = newSession(client);
                if (s == null) continue;
            }
            try {
                s.upstream.send(new DatagramPacket(p.getData(), p.getOffset(), p.getLength()));
                s.lastActive = System.nanoTime();
            } catch (IOException e) {
                s.close();
            }
        }
    }

    private Session newSession(SocketAddress client) {
        List<Backend> all = backends;
        if (all.isEmpty()) return null;
        Backend b = all.get(Math.floorMod(next.getAndIncrement(), all.size()));
        try {
            DatagramSocket upstream = new DatagramSocket();
            upstream.connect(new InetSocketAddress(b.host(), b.port()));
            Session s = new Session(client, b, upstream);
            sessions.put(client, s);
            Thread.ofVirtual().name("lb-udp-session-" + config.name()).start(s::replyLoop);
            return s;
        } catch (IOException e) {
            LOG.fine(() -> "listener " + config.name() + ": no session to " + b + ": " + e);
            return null;
        }
    }

    @Override
    public void close() {
        closed = true;
        server.close();
        for (Session s : sessions.values()) s.close();
    }

    private final class Session {
        final SocketAddress client;
        final Backend backend;
        final DatagramSocket upstream;
        volatile long lastActive = System.nanoTime();

        Session(SocketAddress client, Backend backend, DatagramSocket upstream) {
            this.client = client;
            this.backend = backend;
            this.upstream = upstream;
        }

        void replyLoop() {
            byte[] buf = new byte[MAX_DATAGRAM];
            try {
                while (!closed) {
                    long idle = idleTimeout.get().toNanos();
                    long left = idle - (System.nanoTime() - lastActive);
                    if (left <= 0) break;
                    upstream.setSoTimeout((int) Math.max(1, left / 1_000_000));
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    try {
                        upstream.receive(p);
                    } catch (SocketTimeoutException e) {
                        continue;
                    }
                    lastActive = System.nanoTime();
                    server.send(new DatagramPacket(p.getData(), p.getOffset(), p.getLength(), client));
                }
            } catch (PortUnreachableException e) {
                LOG.fine(() -> "listener " + config.name() + ": " + backend + " is not listening; the next datagram picks another backend");
            } catch (IOException e) {
                LOG.fine(() -> "listener " + config.name() + ": session of " + client + " ended: " + e);
            } finally {
                close();
            }
        }

        void close() {
            sessions.remove(client, this);
            upstream.close();
        }
    }
}
