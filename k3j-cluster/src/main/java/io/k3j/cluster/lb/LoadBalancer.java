package io.k3j.cluster.lb;

import io.k3j.cluster.lb.LoadBalancerConfig.Backend;
import io.k3j.cluster.lb.LoadBalancerConfig.Listener;
import io.k3j.cluster.lb.LoadBalancerConfig.Protocol;
import java.io.IOException;
import java.net.BindException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The cluster's load balancer, in this process: TCP and UDP listeners forwarding to backends, with active health
 * checks, reconfigured live by {@link #reload}. {@code k3j loadbalancer --config FILE} runs one as its own process and
 * reloads it whenever the file changes.
 *
 * <pre>{@code
 * try (LoadBalancer lb = LoadBalancer.start(LoadBalancerConfig.read(file))) {
 *     lb.reload(LoadBalancerConfig.read(file));   // after the file changed
 * }
 * }</pre>
 *
 * Thread-safe. Listeners, connections and checks run on virtual threads; {@link #close()} ends them all.
 */
public final class LoadBalancer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LoadBalancer.class.getName());

    /** A bound listener of either protocol. */
    interface Running extends AutoCloseable {
        int port();

        void backends(List<Backend> backends);

        @Override
        void close();
    }

    private final Backends health;
    private final Map<String, Running> running = new LinkedHashMap<>();
    private final Map<String, String> errors = new LinkedHashMap<>();
    private volatile LoadBalancerConfig config;
    private boolean closed;

    private LoadBalancer(LoadBalancerConfig config) {
        this.config = config;
        this.health = new Backends(config.healthCheck());
    }

    /**
     * Binds every listener and starts forwarding. All or nothing: when one listener can't bind, the others are closed
     * again and the error names the fix.
     *
     * @throws BindException naming the port, the process holding it (when it can be found) and the flag to change, e.g.
     *                       {@code port 6445 is in use by pid 1234 (java): choose another --api-port}
     */
    public static LoadBalancer start(LoadBalancerConfig config) throws BindException {
        LoadBalancer lb = new LoadBalancer(config);
        try {
            lb.apply(config);
        } catch (BindException e) {
            lb.close();
            throw e;
        }
        return lb;
    }

    /**
     * Moves to {@code newConfig}: listeners that are gone are closed (with their connections), new ones are bound,
     * ones whose address or protocol changed are rebound, and ones whose backends changed keep their socket and their
     * established connections and send new connections to the new backends. Listeners not changed are not touched.
     * Health-check settings and timeouts apply from now on.
     *
     * @throws BindException when some listeners could not be bound; every other change is applied nonetheless, and
     *                       {@link #status()} shows which listener failed
     */
    public synchronized void reload(LoadBalancerConfig newConfig) throws BindException {
        if (closed) throw new IllegalStateException("the load balancer is closed");
        apply(newConfig);
    }

    private synchronized void apply(LoadBalancerConfig newConfig) throws BindException {
        LoadBalancerConfig old = this.config;
        this.config = newConfig;
        Set<Backend> tcpBackends = new HashSet<>();
        for (Listener l : newConfig.listeners()) if (l.protocol() == Protocol.TCP) tcpBackends.addAll(l.backends());
        health.update(tcpBackends, newConfig.healthCheck());

        // Close what is gone or moves first, so that a listener moving to a port another one leaves can bind it.
        for (var it = running.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            Listener now = newConfig.listener(e.getKey());
            Listener before = old.listener(e.getKey());
            if (now == null || before == null || !before.sameSocket(now)) {
                e.getValue().close();
                it.remove();
                LOG.info("listener " + e.getKey() + " (" + describe(before) + ") is down");
            }
        }
        errors.keySet().retainAll(newConfig.listeners().stream().map(Listener::name).toList());
        List<String> failures = new ArrayList<>();
        for (Listener l : newConfig.listeners()) {
            Running r = running.get(l.name());
            if (r != null) {
                r.backends(l.backends());
                Listener before = old.listener(l.name());
                if (before != null && !before.backends().equals(l.backends())) {
                    LOG.info("listener " + l.name() + " now forwards to " + l.backends());
                }
                continue;
            }
            try {
                r = l.protocol() == Protocol.TCP
                        ? TcpListener.open(l, health, () -> config.connectTimeout())
                        : UdpListener.open(l, () -> config.udpIdleTimeout());
                running.put(l.name(), r);
                errors.remove(l.name());
                LOG.info("listener " + l.name() + " is up on " + l.bind() + ":" + r.port() + "/" + l.protocol().id() + " → " + l.backends());
            } catch (IOException | java.nio.channels.UnresolvedAddressException e) {
                String message = bindError(l, e);
                errors.put(l.name(), message);
                failures.add(message);
                LOG.severe("listener " + l.name() + ": " + message);
            }
        }
        if (!failures.isEmpty()) throw new BindException(String.join("; ", failures));
    }

    /** The configuration in force. */
    public LoadBalancerConfig config() {
        return config;
    }

    /** Every configured listener, in config order, with its bound port or the reason it isn't bound. */
    public synchronized List<ListenerStatus> status() {
        List<ListenerStatus> out = new ArrayList<>();
        for (Listener l : config.listeners()) {
            Running r = running.get(l.name());
            out.add(new ListenerStatus(l.name(), l.protocol(), l.bind(), r == null ? 0 : r.port(), r == null ? errors.get(l.name()) : null));
        }
        return out;
    }

    /**
     * The port the listener {@code name} is bound to (useful when the config said 0).
     *
     * @throws IllegalArgumentException when there is no such listener bound
     */
    public synchronized int port(String name) {
        Running r = running.get(name);
        if (r == null) throw new IllegalArgumentException("no listener " + name + " is bound");
        return r.port();
    }

    /** Whether a TCP backend is currently considered up (not marked down by a check or a failed connect). */
    public boolean healthy(Backend backend) {
        return health.healthy(backend);
    }

    /** Closes every listener and connection and stops the checks. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (var e : running.entrySet()) {
            e.getValue().close();
            LOG.info("listener " + e.getKey() + " is down");
        }
        running.clear();
        health.close();
    }

    private static String describe(Listener l) {
        return l == null ? "?" : l.bind() + ":" + l.port() + "/" + l.protocol().id();
    }

    /** A bind failure as a sentence that names the fix. */
    static String bindError(Listener l, Exception e) {
        String fix = l.name().equals("api") ? "choose another --api-port" : "choose another host port in --port";
        String reason = String.valueOf(e.getMessage());
        if (reason.contains("in use")) {
            String owner = PortOwner.describe(l.protocol(), l.port());
            return "port " + l.port() + (l.protocol() == Protocol.UDP ? "/udp" : "") + " is in use"
                    + (owner == null ? "" : " by " + owner) + ": " + fix;
        }
        if (reason.contains("Permission denied") || reason.contains("Access denied")) {
            return "port " + l.port() + " is privileged (below 1024) and needs root or CAP_NET_BIND_SERVICE: " + fix;
        }
        if (reason.contains("assign requested address") || e instanceof java.nio.channels.UnresolvedAddressException || reason.contains("Unresolved")) {
            return "address " + l.bind() + " is not on this machine: use 127.0.0.1, 0.0.0.0 or one of its addresses";
        }
        return "cannot listen on " + describe(l) + ": " + reason;
    }
}
