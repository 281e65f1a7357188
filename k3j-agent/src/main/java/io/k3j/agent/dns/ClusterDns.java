package io.k3j.agent.dns;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.kube.Informer;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The cluster DNS (CoreDNS's job in k3s) inside the agent: answers {@code <svc>.<ns>.svc.<domain>}, headless
 * Services' endpoints, SRV for named ports, ExternalName CNAMEs, pod names ({@code 10-42-0-5.<ns>.pod.<domain>}),
 * PTR for Service and endpoint IPs and node names from Services, EndpointSlices and Nodes informers, and forwards
 * every other question to the upstream resolvers. Served over UDP (a {@link DatagramChannel} read by a platform
 * thread) and TCP (a virtual thread per connection) on one address and port; in the agent that is the node's pod
 * gateway address, port 53, where the service proxy sends the kube-dns Service's traffic.
 *
 * <p>The informers are the caller's: this class only registers handlers on them in its constructor (they may be
 * loaded from the disk cache while the server is unreachable; the answers follow what they hold).
 *
 * <pre>{@code
 * ClusterDns dns = new ClusterDns(ClusterDns.Config.of(new InetSocketAddress(gateway, 53), "cluster.local",
 *         ClusterDns.upstreamsFromResolvConf(Path.of("/etc/resolv.conf"))), services, endpointSlices, nodes);
 * dns.start();
 * }</pre>
 */
public final class ClusterDns implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ClusterDns.class.getName());
    /** The EDNS0 UDP payload size this server offers and honours at most (the DNS flag day 2020 value). */
    static final int UDP_PAYLOAD = 1232;
    private static final int TCP_IDLE_MS = 10_000;
    private static final int MAX_TCP_CONNECTIONS = 256;

    /**
     * What the server serves and where.
     *
     * @param bind            the UDP and TCP address (port 0: an ephemeral port, the same for both)
     * @param domain          the cluster domain, {@code cluster.local}
     * @param upstreams       resolvers for every other name (may be empty: those questions get REFUSED)
     * @param upstreamTimeout how long a forwarded question may wait before SERVFAIL
     * @param ttl             the TTL of cluster records (CoreDNS's kubernetes plugin: 5 s)
     * @param udpThreads      platform threads reading the UDP socket
     */
    public record Config(InetSocketAddress bind, String domain, List<InetSocketAddress> upstreams, Duration upstreamTimeout, long ttl,
                         int udpThreads) {
        public Config {
            requireNonNull(bind, "bind");
            requireNonNull(domain, "domain");
            upstreams = List.copyOf(upstreams);
            requireNonNull(upstreamTimeout, "upstreamTimeout");
            if (domain.isEmpty()) throw new IllegalArgumentException("domain : \"\" (expected: a DNS name such as cluster.local)");
            if (upstreamTimeout.isNegative() || upstreamTimeout.isZero()) {
                throw new IllegalArgumentException("upstreamTimeout : " + upstreamTimeout + " (expected: > 0)");
            }
            if (ttl < 0) throw new IllegalArgumentException("ttl : " + ttl + " (expected: >= 0)");
            if (udpThreads < 1) throw new IllegalArgumentException("udpThreads : " + udpThreads + " (expected: >= 1)");
        }

        /**
         * Defaults: 2 s upstream timeout (CoreDNS's forward plugin gives up after about that), TTL 5, one UDP thread
         * (the channel's receive is serialized anyway: on 2 CPUs a second reader measured 29k instead of 52k queries/s).
         */
        public static Config of(InetSocketAddress bind, String domain, List<InetSocketAddress> upstreams) {
            return new Config(bind, domain, upstreams, Duration.ofSeconds(2), 5, 1);
        }

        public Config withUpstreamTimeout(Duration d) {
            return new Config(bind, domain, upstreams, d, ttl, udpThreads);
        }

        public Config withUdpThreads(int n) {
            return new Config(bind, domain, upstreams, upstreamTimeout, ttl, n);
        }
    }

    /**
     * The nameservers of a resolv.conf as port-53 upstreams, without loopback ones (a local stub such as
     * systemd-resolved's 127.0.0.53 is the host's, and pods' queries sent there would not come back the same way;
     * a loopback entry can also be this server itself). When only loopback ones are listed and
     * {@code /run/systemd/resolve/resolv.conf} exists, its nameservers are used instead, as k3s does.
     */
    public static List<InetSocketAddress> upstreamsFromResolvConf(Path resolvConf) {
        List<InetSocketAddress> out = nameservers(resolvConf);
        if (out.isEmpty()) {
            Path systemd = Path.of("/run/systemd/resolve/resolv.conf");
            if (!systemd.equals(resolvConf) && Files.isReadable(systemd)) out = nameservers(systemd);
        }
        return out;
    }

    private static List<InetSocketAddress> nameservers(Path resolvConf) {
        List<InetSocketAddress> out = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(resolvConf);
        } catch (IOException e) {
            return out;
        }
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 2 || !f[0].equals("nameserver")) continue;
            String ip = f[1];
            int zone = ip.indexOf('%');
            if (zone >= 0) ip = ip.substring(0, zone);
            InetAddress a = Ips.parse(ip);
            if (a == null || a.isLoopbackAddress() || a.isAnyLocalAddress()) continue;
            InetSocketAddress s = new InetSocketAddress(a, 53);
            if (!out.contains(s)) out.add(s);
        }
        return out;
    }

    private final Config config;
    private final ClusterRecords records;
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    private final Semaphore tcpSlots = new Semaphore(MAX_TCP_CONNECTIONS);
    private final List<Thread> threads = new ArrayList<>();
    private volatile DatagramChannel udp;
    private volatile ServerSocket tcp;
    private volatile Forwarder forwarder;
    private volatile boolean closed;

    /**
     * Registers handlers on the informers (add this before they start, to see every object).
     *
     * @param services       {@code /api/v1/services}
     * @param endpointSlices {@code /apis/discovery.k8s.io/v1/endpointslices}
     * @param nodes          {@code /api/v1/nodes} (for node names), or null to serve none
     */
    public ClusterDns(Config config, Informer services, Informer endpointSlices, Informer nodes) {
        this.config = requireNonNull(config, "config");
        this.records = new ClusterRecords(config.domain(), config.ttl());
        requireNonNull(services, "services").addHandler(Informer.Handler.of(records::putService, records::removeService));
        requireNonNull(endpointSlices, "endpointSlices").addHandler(Informer.Handler.of(records::putSlice, records::removeSlice));
        if (nodes != null) {
            nodes.addHandler(Informer.Handler.of(records::putNode, records::removeNode));
        }
    }

    /**
     * Binds UDP and TCP and starts serving.
     *
     * @throws UncheckedIOException when the address can't be bound (e.g. port 53 taken, or the gateway address not
     *                              yet on the bridge)
     */
    public synchronized ClusterDns start() {
        if (udp != null) throw new IllegalStateException("already started");
        try {
            forwarder = new Forwarder(config.upstreams(), config.upstreamTimeout());
            bind();
        } catch (IOException e) {
            close();
            throw new UncheckedIOException("cannot serve DNS on " + config.bind(), e);
        }
        for (int i = 0; i < config.udpThreads(); i++) {
            threads.add(Thread.ofPlatform().daemon().name("dns-udp-" + i).start(this::serveUdp));
        }
        threads.add(Thread.ofVirtual().name("dns-tcp-accept").start(this::acceptTcp));
        LOG.log(System.Logger.Level.INFO, "cluster DNS for {0} on {1} (udp+tcp), upstreams {2}", config.domain(), address(),
                config.upstreams());
        return this;
    }

    /** UDP first (a port 0 becomes an ephemeral port), then TCP on the same port; retried if that port is taken for TCP. */
    private void bind() throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            DatagramChannel u = DatagramChannel.open(config.bind().getAddress() instanceof java.net.Inet6Address
                    ? java.net.StandardProtocolFamily.INET6 : java.net.StandardProtocolFamily.INET);
            try {
                u.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
                u.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
                u.bind(config.bind());
                int port = ((InetSocketAddress) u.getLocalAddress()).getPort();
                ServerSocket t = new ServerSocket();
                try {
                    t.setReuseAddress(true);
                    t.bind(new InetSocketAddress(config.bind().getAddress(), port), 128);
                } catch (IOException e) {
                    t.close();
                    throw e;
                }
                udp = u;
                tcp = t;
                return;
            } catch (IOException e) {
                u.close();
                last = e;
                if (config.bind().getPort() != 0) break;
            }
        }
        throw last;
    }

    /** The bound address (UDP and TCP share it). */
    public InetSocketAddress address() {
        DatagramChannel u = udp;
        if (u == null) throw new IllegalStateException("not started");
        try {
            return (InetSocketAddress) u.getLocalAddress();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- UDP ---------------------------------------------------------------------------------------------------

    private void serveUdp() {
        ByteBuffer in = ByteBuffer.allocateDirect(65535);
        byte[] bytes = new byte[65535];
        DatagramChannel ch = udp;
        while (!closed) {
            SocketAddress client;
            try {
                in.clear();
                client = ch.receive(in);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed) return;
                LOG.log(System.Logger.Level.DEBUG, "receiving a DNS query: {0}", e.toString());
                continue;
            }
            in.flip();
            int n = in.remaining();
            in.get(bytes, 0, n);
            try {
                handleUdp(bytes, n, client);
            } catch (RuntimeException e) {
                // one bad query must not take the server down
                LOG.log(System.Logger.Level.WARNING, "answering a DNS query from " + client, e);
            }
        }
    }

    private void handleUdp(byte[] bytes, int n, SocketAddress client) {
        DnsMessage query;
        try {
            query = DnsMessage.parse(bytes, n);
        } catch (DnsMessage.FormatException e) {
            byte[] formerr = formErr(bytes, n);
            if (formerr != null) sendUdp(formerr, client);
            return;
        }
        if (query.qr) return; // never answer an answer: that is how reflection loops start
        DnsMessage reply = query.reply();
        switch (resolve(query, reply)) {
            case ANSWERED -> sendUdp(reply.encode(query.maxUdpReply()), client);
            case FORWARD -> {
                if (!forwarder.hasUpstreams()) {
                    reply.rcode = DnsMessage.REFUSED;
                    sendUdp(reply.encode(query.maxUdpReply()), client);
                    return;
                }
                forwarder.forward(bytes, n, answer -> sendUdp(answer != null ? answer : servfail(query), client));
            }
            case CHASE -> Thread.ofVirtual().name("dns-chase").start(() -> {
                chase(query, reply);
                sendUdp(reply.encode(query.maxUdpReply()), client);
            });
        }
    }

    private void sendUdp(byte[] answer, SocketAddress client) {
        try {
            udp.send(ByteBuffer.wrap(answer), client);
        } catch (IOException e) {
            if (!closed) LOG.log(System.Logger.Level.DEBUG, "answering {0}: {1}", client, e.toString());
        }
    }

    // ---- TCP (RFC 7766) ----------------------------------------------------------------------------------------

    private void acceptTcp() {
        ServerSocket server = tcp;
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (closed) return;
                LOG.log(System.Logger.Level.DEBUG, "accepting a DNS connection: {0}", e.toString());
                continue;
            }
            if (!tcpSlots.tryAcquire()) {
                closeQuietly(s);
                continue;
            }
            connections.add(s);
            Thread.ofVirtual().name("dns-tcp").start(() -> {
                try {
                    serveTcp(s);
                } finally {
                    connections.remove(s);
                    closeQuietly(s);
                    tcpSlots.release();
                }
            });
        }
    }

    private void serveTcp(Socket s) {
        try {
            s.setSoTimeout(TCP_IDLE_MS);
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            while (!closed) {
                int len;
                try {
                    len = in.readUnsignedShort();
                } catch (EOFException | SocketTimeoutException e) {
                    return;
                }
                byte[] bytes = new byte[len];
                in.readFully(bytes);
                byte[] answer = answerTcp(bytes);
                if (answer == null) return;
                byte[] framed = new byte[answer.length + 2];
                framed[0] = (byte) (answer.length >> 8);
                framed[1] = (byte) answer.length;
                System.arraycopy(answer, 0, framed, 2, answer.length);
                out.write(framed);
                out.flush();
            }
        } catch (IOException e) {
            if (!closed) LOG.log(System.Logger.Level.DEBUG, "DNS over TCP from {0}: {1}", s.getRemoteSocketAddress(), e.toString());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "answering a DNS query over TCP from " + s.getRemoteSocketAddress(), e);
        }
    }

    /** The answer to a query received over TCP, or null to close the connection (malformed beyond a reply). */
    private byte[] answerTcp(byte[] bytes) {
        DnsMessage query;
        try {
            query = DnsMessage.parse(bytes);
        } catch (DnsMessage.FormatException e) {
            return formErr(bytes, bytes.length);
        }
        if (query.qr) return null;
        DnsMessage reply = query.reply();
        switch (resolve(query, reply)) {
            case ANSWERED -> {
                return reply.encode();
            }
            case CHASE -> {
                chase(query, reply);
                return reply.encode();
            }
            default -> {
                if (!forwarder.hasUpstreams()) {
                    reply.rcode = DnsMessage.REFUSED;
                    return reply.encode();
                }
                byte[] answer = forwarder.exchangeTcp(bytes);
                return answer != null ? answer : servfail(query);
            }
        }
    }

    // ---- both ----------------------------------------------------------------------------------------------------

    /** Fills {@code reply} for the questions this server answers itself; says so when they must be forwarded. */
    private ClusterRecords.Outcome resolve(DnsMessage query, DnsMessage reply) {
        reply.ra = true;
        if (query.opcode != 0) {
            reply.rcode = DnsMessage.NOTIMP;
            return ClusterRecords.Outcome.ANSWERED;
        }
        if (query.questions.size() != 1) {
            reply.rcode = DnsMessage.FORMERR;
            return ClusterRecords.Outcome.ANSWERED;
        }
        if (query.udpSize >= 0 && query.ednsVersion > 0) {
            reply.rcode = DnsMessage.BADVERS; // RFC 6891 section 6.1.3: we speak EDNS version 0
            return ClusterRecords.Outcome.ANSWERED;
        }
        DnsMessage.Question q = query.questions.get(0);
        if (q.klass() != DnsMessage.IN && q.klass() != DnsMessage.ANY) return ClusterRecords.Outcome.FORWARD;
        return records.answer(reply, nameservers());
    }

    /** The zone's name server addresses: the kube-dns Service's clusterIPs, else this server's own address. */
    private List<InetAddress> nameservers() {
        List<InetAddress> ips = records.clusterIps("kube-system", "kube-dns");
        if (!ips.isEmpty()) return ips;
        InetAddress own = config.bind().getAddress();
        return own.isAnyLocalAddress() ? List.of() : List.of(own);
    }

    /** Resolves the external target of an ExternalName CNAME upstream and appends its records (blocking). */
    private void chase(DnsMessage query, DnsMessage reply) {
        DnsMessage.Rr cname = reply.answers.get(reply.answers.size() - 1);
        String target = ((DnsMessage.Name) cname.data()).target();
        if (!forwarder.hasUpstreams()) return; // the client's resolver can still follow the CNAME itself
        DnsMessage sub = DnsMessage.query(query.id, target, query.questions.get(0).type());
        byte[] bytes = sub.encode();
        CompletableFuture<byte[]> done = new CompletableFuture<>();
        forwarder.forward(bytes, bytes.length, done::complete);
        try {
            byte[] answer = done.get(config.upstreamTimeout().toMillis() + 500, TimeUnit.MILLISECONDS);
            if (answer == null) {
                reply.rcode = DnsMessage.SERVFAIL;
                return;
            }
            DnsMessage up = DnsMessage.parse(answer);
            reply.aa = false;
            reply.rcode = up.rcode;
            reply.answers.addAll(up.answers);
            if (up.answers.isEmpty()) reply.authority.addAll(up.authority);
        } catch (Exception e) {
            reply.rcode = DnsMessage.SERVFAIL;
        }
    }

    private static byte[] servfail(DnsMessage query) {
        DnsMessage r = query.reply();
        r.ra = true;
        r.rcode = DnsMessage.SERVFAIL;
        return r.encode(query.maxUdpReply());
    }

    /** FORMERR for a query whose header could be read (RFC 1035 section 4.1.1); null (drop it) otherwise. */
    private static byte[] formErr(byte[] bytes, int n) {
        if (n < 12 || (bytes[2] & 0x80) != 0) return null;
        byte[] r = new byte[12];
        r[0] = bytes[0];
        r[1] = bytes[1];
        r[2] = (byte) (0x80 | (bytes[2] & 0x79)); // QR, the query's opcode and RD
        r[3] = (byte) DnsMessage.FORMERR;
        return r;
    }

    // ---- lifecycle -----------------------------------------------------------------------------------------------

    /** Stops serving: closes the sockets and waits for the server's threads. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        closeQuietly(udp);
        closeQuietly(tcp);
        for (Socket s : connections) closeQuietly(s);
        if (forwarder != null) forwarder.close();
        for (Thread t : threads) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (Exception e) {
            // closing anyway
        }
    }
}
