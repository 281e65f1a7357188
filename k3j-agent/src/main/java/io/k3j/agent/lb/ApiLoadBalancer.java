package io.k3j.agent.lb;

import static java.util.Objects.requireNonNull;

import io.k3j.agent.host.EventLoops;
import io.k3j.agent.kube.KubeClient;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The agent's client-side load balancer for the API (k3s's {@code k3s-agent-load-balancer}): a TCP proxy on
 * {@code 127.0.0.1:6444} that everything on the node talking to the API uses instead of {@code --server}.
 *
 * <ul>
 * <li>It starts from the {@code --server} address (or, after a restart, the list it saved), then learns every server
 *     from the {@code default/kubernetes} Endpoints ({@link #follow(KubeClient)}), which the servers keep listing
 *     each live server.</li>
 * <li>A new connection goes to the current server while it is healthy, else to the next healthy one; a dial that
 *     fails marks the server failed and tries the next at once (k3s's dial-and-fail-over). Every server is also
 *     probed with a TCP connect each {@link Config#healthInterval()}, so a dead server is known before a client
 *     needs it, and connections to a server that fails a probe are cut (a host gone dark sends no reset; its clients
 *     would hang) while another server is healthy.</li>
 * <li>The list is saved ({@value #STATE_FILE} in the agent's {@code etc}), so an agent restarting while its
 *     {@code --server} is down still reaches another server.</li>
 * </ul>
 * It splices bytes and never terminates TLS: clients verify the server's certificate against {@code 127.0.0.1},
 * which every k3j server certificate names (as k3s's do).
 */
public final class ApiLoadBalancer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ApiLoadBalancer.class.getName());
    /** k3s's {@code --lb-server-port} default. */
    public static final int DEFAULT_PORT = 6444;
    /** The saved list's file name, in the agent data dir's {@code etc} (k3s: {@code k3s-agent-load-balancer.json}). */
    public static final String STATE_FILE = "k3j-agent-load-balancer.json";

    /**
     * @param server         {@code --server}: where to start, and the last resort when no listed server answers
     * @param listen         where clients connect: {@code 127.0.0.1:6444}, port 0 for an ephemeral one (tests)
     * @param stateFile      where the learnt list is saved (null: not saved)
     * @param healthInterval how often every server is probed
     * @param dialTimeout    how long a dial or probe may take before the server counts as failed
     */
    public record Config(URI server, InetSocketAddress listen, Path stateFile, Duration healthInterval, Duration dialTimeout) {
        public Config {
            requireNonNull(server, "server");
            requireNonNull(listen, "listen");
            requireNonNull(healthInterval, "healthInterval");
            requireNonNull(dialTimeout, "dialTimeout");
            ServerAddress.of(server);
            if (healthInterval.toMillis() < 10) throw new IllegalArgumentException("healthInterval : " + healthInterval + " (expected: >= 10ms)");
            if (dialTimeout.toMillis() < 10) throw new IllegalArgumentException("dialTimeout : " + dialTimeout + " (expected: >= 10ms)");
        }

        /** On {@code 127.0.0.1:port}, probing every second, a dial failing after one second. */
        public static Config of(URI server, int port, Path stateFile) {
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port : " + port + " (expected: 0-65535)");
            return new Config(server, new InetSocketAddress(InetAddress.getLoopbackAddress(), port), stateFile,
                    Duration.ofSeconds(1), Duration.ofSeconds(1));
        }

        public Config withHealthInterval(Duration interval) {
            return new Config(server, listen, stateFile, interval, dialTimeout);
        }
    }

    private final Config config;
    private final Backends backends;
    private final EventLoops.Lease loop;
    private final List<AutoCloseable> followers = new ArrayList<>();
    private Channel listener;
    private Thread health;
    private volatile boolean closed;

    private ApiLoadBalancer(Config config) {
        this.config = config;
        this.backends = new Backends(ServerAddress.of(config.server()));
        this.loop = EventLoops.acquire();
    }

    /**
     * Loads the saved list, binds the listener and starts probing.
     *
     * @throws IOException when the listen address cannot be bound (e.g. port 6444 is taken)
     */
    public static ApiLoadBalancer start(Config config) throws IOException {
        ApiLoadBalancer lb = new ApiLoadBalancer(requireNonNull(config, "config"));
        try {
            List<ServerAddress> saved = StateFile.load(config.stateFile(), config.server());
            if (!saved.isEmpty()) {
                lb.backends.setServers(saved);
                LOG.log(System.Logger.Level.INFO, "API load balancer: servers saved by the last run: {0}", saved);
            }
            lb.bind();
            lb.health = Thread.ofVirtual().name("api-lb-health").start(lb::probeLoop);
            LOG.log(System.Logger.Level.INFO, "API load balancer on {0} for {1}", lb.url(), config.server());
            return lb;
        } catch (IOException | RuntimeException e) {
            lb.close();
            throw e;
        }
    }

    private void bind() throws IOException {
        ServerBootstrap b = new ServerBootstrap().group(loop.group()).channel(EventLoops.serverChannel(loop.group()))
                // a restarted agent binds 6444 again while the last run's connections sit in TIME_WAIT
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new Accepted());
                    }
                });
        ChannelFuture f = b.bind(config.listen()).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new IOException("binding the API load balancer to " + config.listen() + ": " + f.cause().getMessage(), f.cause());
        }
        listener = f.channel();
    }

    /** Where clients reach the API: {@code https://127.0.0.1:<port>}. */
    public URI url() {
        InetSocketAddress a = (InetSocketAddress) listener.localAddress();
        String host = a.getAddress().getHostAddress();
        return URI.create("https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort());
    }

    /** The bound port (the configured one, or the one chosen for port 0). */
    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** The servers known besides {@code --server}, in the Endpoints' order. */
    public List<ServerAddress> servers() {
        return backends.servers();
    }

    /** The server new connections go to first, if one answered lately. */
    public Optional<ServerAddress> current() {
        return Optional.ofNullable(backends.current());
    }

    /** Whether the last dial or probe of {@code server} succeeded (a server never tried counts as healthy). */
    public boolean healthy(ServerAddress server) {
        return backends.isHealthy(server);
    }

    /**
     * Replaces the list of servers and saves it. An empty list is ignored (Endpoints without addresses say nothing
     * about which servers live). Connections to servers that left the list are closed.
     */
    public void setServers(List<ServerAddress> servers) {
        requireNonNull(servers, "servers");
        if (servers.isEmpty() || closed) return;
        Set<ServerAddress> removed = backends.setServers(servers);
        if (removed == null) return;
        LOG.log(System.Logger.Level.INFO, "API load balancer: servers {0}", backends.servers());
        for (ServerAddress s : removed) backends.closeConnections(s);
        if (config.stateFile() != null) {
            try {
                StateFile.save(config.stateFile(), config.server(), backends.servers());
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "saving the API load balancer''s servers to {0}: {1}", config.stateFile(), e.toString());
            }
        }
    }

    /**
     * Follows the {@code default/kubernetes} Endpoints through {@code client} (which should itself use this load
     * balancer, as k3s's agent does) and keeps the list equal to their addresses. Stops when this load balancer
     * closes; the client stays the caller's.
     */
    public void follow(KubeClient client) {
        requireNonNull(client, "client");
        ServerAddress first = ServerAddress.of(config.server());
        EndpointsFollower f = new EndpointsFollower(client, servers -> setServers(reachableFrom(first, servers)));
        synchronized (followers) {
            if (closed) return;
            followers.add(f);
        }
        f.start();
    }

    /**
     * The addresses a node that reached its first server at {@code first} can use: a server that advertises a
     * loopback address (a server started without {@code --node-ip} or {@code --advertise-address}) is reachable only
     * from its own host, so such addresses are dropped unless {@code first} is a loopback address too.
     */
    static List<ServerAddress> reachableFrom(ServerAddress first, List<ServerAddress> servers) {
        if (isLoopback(first.host())) return servers;
        return servers.stream().filter(s -> !isLoopback(s.host())).toList();
    }

    private static boolean isLoopback(String host) {
        return host.startsWith("127.") || host.equals("::1") || host.equalsIgnoreCase("localhost");
    }

    // ---- relaying -------------------------------------------------------------------------------------------

    /** The first handler of an accepted connection: dials a server, then gives way to a {@link Relay}. */
    private final class Accepted extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            dial(ctx.channel(), backends.dialOrder(), 0);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private void dial(Channel inbound, List<ServerAddress> order, int i) {
        if (!inbound.isActive()) return;
        if (i == order.size()) {
            LOG.log(System.Logger.Level.DEBUG, "API load balancer: no server answered ({0})", order);
            inbound.close();
            return;
        }
        ServerAddress target = order.get(i);
        new Bootstrap().group(inbound.eventLoop()).channel(EventLoops.socketChannel(loop.group()))
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.dialTimeout().toMillis())
                .handler(new Relay(inbound))
                .connect(target.socketAddress())
                .addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        if (backends.failed(target)) {
                            LOG.log(System.Logger.Level.INFO, "API load balancer: server {0} failed: {1}", target, String.valueOf(f.cause()));
                        }
                        dial(inbound, order, i + 1);
                        return;
                    }
                    Channel outbound = f.channel();
                    if (!inbound.isActive()) {
                        outbound.close();
                        return;
                    }
                    backends.connected(target, inbound);
                    inbound.pipeline().remove(Accepted.class);
                    inbound.pipeline().addLast(new Relay(outbound));
                    inbound.read();
                });
    }

    // ---- health ---------------------------------------------------------------------------------------------

    private void probeLoop() {
        while (!closed) {
            try {
                probeAll();
                Thread.sleep(config.healthInterval());
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "API load balancer health check: " + e);
            }
        }
    }

    /** Probes every server at once (a dark host costs one dial timeout, not one per server). */
    void probeAll() throws InterruptedException {
        List<Thread> probes = new ArrayList<>();
        for (ServerAddress s : backends.everything()) probes.add(Thread.ofVirtual().name("api-lb-probe " + s).start(() -> probe(s)));
        for (Thread t : probes) t.join();
    }

    private void probe(ServerAddress s) {
        try (Socket socket = new Socket()) {
            socket.connect(s.socketAddress(), (int) config.dialTimeout().toMillis());
            backends.healthy(s);
        } catch (IOException e) {
            if (closed) return;
            if (backends.failed(s)) {
                LOG.log(System.Logger.Level.INFO, "API load balancer: server {0} failed its health check: {1}", s, e.toString());
            }
            if (backends.othersHealthy(s)) {
                int cut = backends.closeConnections(s);
                if (cut > 0) LOG.log(System.Logger.Level.INFO, "API load balancer: closed {0} connections to {1}", cut, s);
            }
        }
    }

    /** Stops listening, probing and following, and closes every relayed connection. */
    @Override
    public void close() {
        synchronized (followers) {
            if (closed) return;
            closed = true;
        }
        for (AutoCloseable f : followers) {
            try {
                f.close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.DEBUG, "stopping the endpoints watch: " + e);
            }
        }
        if (health != null) {
            health.interrupt();
            try {
                health.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (listener != null) listener.close().awaitUninterruptibly();
        backends.closeAll();
        loop.close();
    }
}
