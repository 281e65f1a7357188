package io.k3j.agent.dns;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Sends the questions the cluster can't answer to the upstream resolvers (CoreDNS's forward plugin). UDP queries
 * share one socket: each gets a fresh random ID (the client's IDs could collide, and a random one makes blind
 * spoofing harder), and an answer is accepted only from an upstream, with a pending ID and the same question bytes.
 * A query without an answer goes to the next upstream after half the timeout and gets SERVFAIL (a null to its
 * callback) after the whole timeout. TCP queries are forwarded over TCP, one connection each.
 */
final class Forwarder implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Forwarder.class.getName());

    private final List<InetSocketAddress> upstreams;
    private final long timeoutNanos;
    private final DatagramChannel channel;
    private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();
    private final Thread reader;
    private final Thread sweeper;
    private volatile boolean closed;

    private record Pending(int originalId, byte[] query, int questionEnd, long started, int firstUpstream, Consumer<byte[]> callback,
                           boolean[] retried) {
    }

    Forwarder(List<InetSocketAddress> upstreams, Duration timeout) throws IOException {
        this.upstreams = List.copyOf(upstreams);
        this.timeoutNanos = timeout.toNanos();
        this.channel = DatagramChannel.open();
        // the upstreams' address family decides the socket's
        channel.bind(upstreams.isEmpty() || upstreams.get(0).getAddress() instanceof java.net.Inet4Address
                ? new InetSocketAddress("0.0.0.0", 0) : new InetSocketAddress("::", 0));
        this.reader = Thread.ofPlatform().daemon().name("dns-forward-reader").start(this::read);
        this.sweeper = Thread.ofVirtual().name("dns-forward-timeouts").start(this::sweep);
    }

    boolean hasUpstreams() {
        return !upstreams.isEmpty();
    }

    /**
     * Forwards one UDP query; {@code callback} gets the answer with the client's ID put back, or null after the
     * timeout (or at once when too many queries are in flight). It runs on the forwarder's reader or sweeper thread.
     */
    void forward(byte[] query, int length, Consumer<byte[]> callback) {
        int questionEnd = questionEnd(query, length);
        if (upstreams.isEmpty() || questionEnd < 0 || closed) {
            callback.accept(null);
            return;
        }
        byte[] copy = Arrays.copyOf(query, length);
        int originalId = DnsMessage.peekId(query, length);
        int first = upstreams.size() == 1 ? 0 : ThreadLocalRandom.current().nextInt(upstreams.size());
        for (int attempt = 0; attempt < 32; attempt++) {
            int id = ThreadLocalRandom.current().nextInt(0x10000);
            Pending p = new Pending(originalId, copy, questionEnd, System.nanoTime(), first, callback, new boolean[1]);
            if (pending.putIfAbsent(id, p) != null) continue;
            copy[0] = (byte) (id >> 8);
            copy[1] = (byte) id;
            send(copy, upstreams.get(first));
            return;
        }
        callback.accept(null); // 65,536 IDs nearly all in flight: the upstreams are not keeping up
    }

    private void send(byte[] query, InetSocketAddress upstream) {
        try {
            channel.send(ByteBuffer.wrap(query), upstream);
        } catch (IOException e) {
            if (!closed) LOG.log(System.Logger.Level.DEBUG, "forwarding to {0}: {1}", upstream, e.toString());
        }
    }

    private void read() {
        ByteBuffer buf = ByteBuffer.allocateDirect(65535);
        byte[] bytes = new byte[65535];
        while (!closed) {
            SocketAddress from;
            try {
                buf.clear();
                from = channel.receive(buf);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed) return;
                LOG.log(System.Logger.Level.DEBUG, "receiving from upstream: {0}", e.toString());
                continue;
            }
            buf.flip();
            int n = buf.remaining();
            buf.get(bytes, 0, n);
            if (n < 12 || !upstreams.contains(from)) continue;
            int id = DnsMessage.peekId(bytes, n);
            Pending p = pending.get(id);
            if (p == null || n < p.questionEnd || !Arrays.equals(bytes, 12, p.questionEnd, p.query, 12, p.questionEnd)) continue;
            if (!pending.remove(id, p)) continue;
            byte[] answer = Arrays.copyOf(bytes, n);
            answer[0] = (byte) (p.originalId >> 8);
            answer[1] = (byte) p.originalId;
            deliver(p, answer);
        }
    }

    private void sweep() {
        while (!closed) {
            try {
                Thread.sleep(Math.max(10, Math.min(100, timeoutNanos / 4_000_000)));
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Map.Entry<Integer, Pending> e : pending.entrySet()) {
                Pending p = e.getValue();
                long age = now - p.started;
                if (age >= timeoutNanos) {
                    if (pending.remove(e.getKey(), p)) deliver(p, null);
                } else if (age >= timeoutNanos / 2 && upstreams.size() > 1 && !p.retried[0]) {
                    p.retried[0] = true;
                    send(p.query, upstreams.get((p.firstUpstream + 1) % upstreams.size()));
                }
            }
        }
    }

    private static void deliver(Pending p, byte[] answer) {
        try {
            p.callback.accept(answer);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "handling an upstream answer", e);
        }
    }

    /** Forwards a query over TCP (for clients that asked over TCP); null when no upstream answered in time. */
    byte[] exchangeTcp(byte[] query) {
        int timeoutMs = (int) Math.max(1, timeoutNanos / 1_000_000);
        for (InetSocketAddress upstream : upstreams) {
            try (Socket s = new Socket()) {
                s.connect(upstream, timeoutMs);
                s.setSoTimeout(timeoutMs);
                OutputStream out = s.getOutputStream();
                byte[] framed = new byte[query.length + 2];
                framed[0] = (byte) (query.length >> 8);
                framed[1] = (byte) query.length;
                System.arraycopy(query, 0, framed, 2, query.length);
                out.write(framed);
                out.flush();
                DataInputStream in = new DataInputStream(s.getInputStream());
                int len = in.readUnsignedShort();
                byte[] answer = new byte[len];
                in.readFully(answer);
                if (len >= 12 && answer[0] == query[0] && answer[1] == query[1]) return answer;
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "forwarding over TCP to {0}: {1}", upstream, e.toString());
            }
        }
        return null;
    }

    /** Where the question section of a query ends, or -1 when it has no single, uncompressed question. */
    static int questionEnd(byte[] q, int length) {
        if (length < 12 || q[4] != 0 || q[5] != 1) return -1;
        int p = 12;
        while (p < length) {
            int len = q[p] & 0xFF;
            if (len == 0) return p + 5 <= length ? p + 5 : -1;
            if ((len & 0xC0) != 0) return -1;
            p += len + 1;
        }
        return -1;
    }

    @Override
    public void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            // closing anyway
        }
        sweeper.interrupt();
        try {
            reader.join(2000);
            sweeper.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Integer id : pending.keySet()) {
            Pending p = pending.remove(id);
            if (p != null) deliver(p, null);
        }
    }
}
