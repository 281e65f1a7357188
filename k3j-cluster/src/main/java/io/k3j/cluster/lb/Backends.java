package io.k3j.cluster.lb;

import io.k3j.cluster.lb.LoadBalancerConfig.Backend;
import io.k3j.cluster.lb.LoadBalancerConfig.HealthCheck;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * The health of every TCP backend, shared by all listeners (a backend behind two listeners has one state). A virtual
 * thread connects to each backend every {@link HealthCheck#interval()}; a client connect that fails marks the backend
 * down at once (passive check), so at most one new connection pays the connect timeout for a backend that just died.
 * A backend nobody has checked yet counts as up: a connect to it is then just tried, and on failure the next one is.
 */
final class Backends implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Backends.class.getName());

    private final Map<Backend, State> states = new ConcurrentHashMap<>();
    private volatile HealthCheck settings;
    private final Thread checker;
    private volatile boolean closed;

    Backends(HealthCheck settings) {
        this.settings = settings;
        this.checker = Thread.ofVirtual().name("lb-health").start(this::checkLoop);
    }

    /** The backends to check from now on (those of the TCP listeners) and how. Forgets the others. */
    void update(Set<Backend> tcpBackends, HealthCheck newSettings) {
        settings = newSettings;
        states.keySet().retainAll(tcpBackends);
        for (Backend b : tcpBackends) states.computeIfAbsent(b, State::new);
    }

    /** False only when the backend is marked down. */
    boolean healthy(Backend b) {
        State s = states.get(b);
        return s == null || s.up;
    }

    /** A client's connect failed: the backend is down until a check succeeds. */
    void connectFailed(Backend b, IOException cause) {
        State s = states.get(b);
        if (s != null) s.failed(1, cause);
    }

    /** A client's connect succeeded: the backend is evidently up. */
    void connectSucceeded(Backend b) {
        State s = states.get(b);
        if (s != null && !s.up) s.succeeded(1);
    }

    private void checkLoop() {
        while (!closed) {
            HealthCheck hc = settings;
            for (State s : states.values()) {
                // One virtual thread per check so that a backend that blackholes SYNs doesn't delay the others.
                if (s.checking.compareAndSet(false, true)) Thread.ofVirtual().name("lb-check-" + s.backend).start(() -> check(s, hc));
            }
            try {
                Thread.sleep(hc.interval());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void check(State s, HealthCheck hc) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(s.backend.host(), s.backend.port()), (int) hc.timeout().toMillis());
            s.succeeded(hc.rise());
        } catch (IOException e) {
            s.failed(hc.fall(), e);
        } finally {
            s.checking.set(false);
        }
    }

    @Override
    public void close() {
        closed = true;
        checker.interrupt();
    }

    private static final class State {
        final Backend backend;
        final java.util.concurrent.atomic.AtomicBoolean checking = new java.util.concurrent.atomic.AtomicBoolean();
        volatile boolean up = true;
        private int failures;
        private int successes;

        State(Backend backend) {
            this.backend = backend;
        }

        synchronized void failed(int fall, IOException cause) {
            successes = 0;
            if (++failures >= fall && up) {
                up = false;
                LOG.warning("backend " + backend + " is down: " + cause.getMessage());
            }
        }

        synchronized void succeeded(int rise) {
            failures = 0;
            if (++successes >= rise && !up) {
                up = true;
                LOG.info("backend " + backend + " is up");
            }
        }
    }
}
