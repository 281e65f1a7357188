package io.k3j.agent.containerd;

import io.k3j.agent.cri.CriClient;
import io.k3j.agent.cri.CriException;
import io.k3j.agent.cri.v1.VersionRequest;
import io.k3j.agent.host.Processes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One node's containerd, started from a generated config and supervised: when it dies it is started again (after a
 * short backoff that grows while it keeps dying) and the {@link Listener} hears of it. Pods live on when containerd
 * stops or restarts (their shims are separate processes); stopping pods is the agent's job, never this class's.
 *
 * <p>{@link #start} adopts a containerd a previous agent run left behind (recorded in {@link ContainerdConfig#pidFile()},
 * still alive, same config, answering on the socket) instead of starting a second one on the same directories.
 */
public final class Containerd implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Containerd.class.getName());
    private static final VersionRequest VERSION = VersionRequest.newBuilder().setVersion("v1").build();
    static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

    /**
     * What the supervisor tells: a containerd exit it did not ask for, and the start that replaced it. Called on the
     * supervisor's thread: return quickly (hand work to another thread); an exception is logged and ignored.
     */
    public interface Listener {
        /** containerd {@code pid} exited on its own ({@code exitCode} -1 when it was not our child). */
        default void exited(long pid, int exitCode) {
        }

        /** A new containerd {@code pid} answers CRI after a restart. */
        default void restarted(long pid) {
        }

        /** A restart attempt failed; the supervisor tries again after a backoff. */
        default void restartFailed(Exception cause) {
        }
    }

    private final ContainerdConfig config;
    private final Listener listener;
    private final CriClient cri;
    private final Object lock = new Object();
    private volatile ProcessHandle process;
    private volatile boolean closed;
    private final boolean adopted;
    private final Thread supervisor;

    private Containerd(ContainerdConfig config, Listener listener, ProcessHandle process, boolean adopted) {
        this.config = config;
        this.listener = listener;
        this.process = process;
        this.adopted = adopted;
        this.cri = CriClient.connect(config.socket());
        this.supervisor = Thread.ofPlatform().daemon().name("k3j-containerd-supervisor").unstarted(this::supervise);
    }

    /** As {@link #start(ContainerdConfig, Listener)} with a listener that only logs. */
    public static Containerd start(ContainerdConfig config) {
        return start(config, new Listener() { });
    }

    /**
     * Writes the config, then adopts the containerd of a previous run or starts one, and returns once it answers CRI
     * Version (polled every 15 ms).
     *
     * @throws IllegalStateException when containerd exits or does not answer within 30 s (the log's tail is included)
     */
    public static Containerd start(ContainerdConfig config, Listener listener) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(listener, "listener");
        writeConfig(config);
        Optional<ProcessHandle> previous = adoptable(config);
        Containerd c;
        if (previous.isPresent()) {
            LOG.info(() -> "adopting containerd " + previous.get().pid() + " on " + config.socket());
            c = new Containerd(config, listener, previous.get(), true);
        } else {
            c = new Containerd(config, listener, launch(config), false);
            try {
                c.awaitReady(c.process, READY_TIMEOUT);
            } catch (RuntimeException e) {
                c.close();
                throw e;
            }
        }
        c.supervisor.start();
        return c;
    }

    /** The generated config.toml's content for {@code config}. */
    public static String configToml(ContainerdConfig config) {
        return ConfigToml.render(config);
    }

    /** The CRI client for this containerd; shared, reconnects after restarts, closed by {@link #close()}. */
    public CriClient cri() {
        return cri;
    }

    /** The current containerd's PID. */
    public long pid() {
        return process.pid();
    }

    /** True when this instance took over a containerd a previous agent run started. */
    public boolean adopted() {
        return adopted;
    }

    public ContainerdConfig config() {
        return config;
    }

    /**
     * Stops supervising and stops containerd (SIGTERM, SIGKILL after 10 s). Running pods are left alone: their shims
     * keep them running and a later containerd on the same root and state finds them again.
     */
    @Override
    public void close() {
        ProcessHandle p;
        synchronized (lock) {
            if (closed) return;
            closed = true;
            lock.notifyAll();
            // the supervisor launches under the lock: this is the latest containerd, none can follow
            p = process;
        }
        supervisor.interrupt();
        if (p != null) Processes.terminate(p, STOP_GRACE);
        try {
            supervisor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        cri.close();
        try {
            if (p != null && !p.isAlive()) Files.deleteIfExists(config.pidFile());
        } catch (IOException ignored) {
            // a stale pid file is checked against /proc on the next start
        }
    }

    /**
     * Stops supervising and closes the client but leaves containerd running, for a next agent process to
     * {@linkplain #start adopt} (an agent upgrade, or a test standing in for an agent that died).
     */
    public void detach() {
        synchronized (lock) {
            if (closed) return;
            closed = true;
            lock.notifyAll();
        }
        supervisor.interrupt();
        try {
            supervisor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        cri.close();
    }

    private void supervise() {
        Duration backoff = Duration.ofMillis(100);
        while (!closed) {
            ProcessHandle current = process;
            try {
                current.onExit().get();
            } catch (InterruptedException e) {
                if (closed) return;
                continue;
            } catch (Exception e) {
                // onExit does not fail; keep supervising
            }
            if (closed) return;
            int code = exitCode(current);
            LOG.warning(() -> "containerd " + current.pid() + " exited (" + code + "), restarting");
            notify(() -> listener.exited(current.pid(), code));
            long startedAt = System.nanoTime();
            while (!closed) {
                try {
                    ProcessHandle next;
                    synchronized (lock) {
                        if (closed) return;
                        lock.wait(backoff.toMillis());
                        if (closed) return;
                        next = launch(config);
                        process = next;
                    }
                    awaitReady(next, READY_TIMEOUT);
                    notify(() -> listener.restarted(next.pid()));
                    break;
                } catch (InterruptedException e) {
                    if (closed) return;
                } catch (RuntimeException e) {
                    if (closed) return;
                    LOG.log(Level.WARNING, "restarting containerd failed", e);
                    notify(() -> listener.restartFailed(e));
                    backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
                }
            }
            // a containerd that ran a while earns a quick restart next time; one that keeps dying waits longer
            if (Duration.ofNanos(System.nanoTime() - startedAt).compareTo(Duration.ofSeconds(30)) > 0) backoff = Duration.ofMillis(100);
            else backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) < 0 ? a : b;
    }

    private void notify(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "containerd listener failed", e);
        }
    }

    private static int exitCode(ProcessHandle p) {
        if (p instanceof ProcessHandleWithExit w) return w.exitCode();
        return -1;
    }

    private void awaitReady(ProcessHandle p, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        CriClient probe = cri.withTimeout(Duration.ofSeconds(2));
        CriException last = null;
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("containerd exited during startup: " + logTail(config.logFile()));
            }
            if (Files.exists(config.socket())) {
                try {
                    probe.version(VERSION);
                    return;
                } catch (CriException e) {
                    last = e;
                }
            }
            try {
                Thread.sleep(15);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for containerd", e);
            }
        }
        throw new IllegalStateException("containerd " + p.pid() + " did not answer CRI Version on " + config.socket() + " within "
                + timeout + (last == null ? "" : " (" + last.getMessage() + ")") + ": " + logTail(config.logFile()));
    }

    /** Starts containerd (no waiting) and records its PID. */
    private static ProcessHandle launch(ContainerdConfig config) {
        try {
            Files.createDirectories(config.root());
            Files.createDirectories(config.state());
            Files.createDirectories(config.socket().getParent());
            Files.createDirectories(config.cniConfDir());
            Files.createDirectories(config.optDir());
            // nobody answers on it (else it would have been adopted): a stale socket from a killed containerd
            Files.deleteIfExists(config.socket());
        } catch (IOException e) {
            throw new UncheckedIOException("preparing containerd directories: " + e.getMessage(), e);
        }
        Process p = Processes.startDaemon(List.of("containerd", "--config", config.configFile().toString()),
                config.logFile(), Map.of());
        try {
            Files.writeString(config.pidFile(), Long.toString(p.pid()));
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + config.pidFile() + ": " + e.getMessage(), e);
        }
        return new ProcessHandleWithExit(p);
    }

    private static void writeConfig(ContainerdConfig config) {
        try {
            Files.createDirectories(config.configFile().getParent());
            Path tmp = config.configFile().resolveSibling(config.configFile().getFileName() + ".tmp");
            Files.writeString(tmp, ConfigToml.render(config));
            Files.move(tmp, config.configFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + config.configFile() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The containerd recorded in the pid file if it is alive, runs this config and answers on the socket. One that is
     * ours but does not answer within {@link #READY_TIMEOUT} is killed: a second containerd on the same root would
     * only wait forever for the first one's boltdb lock.
     */
    private static Optional<ProcessHandle> adoptable(ContainerdConfig config) {
        long pid;
        try {
            pid = Long.parseLong(Files.readString(config.pidFile()).trim());
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
        Optional<ProcessHandle> p = Processes.alive(pid);
        if (p.isEmpty()) return Optional.empty();
        String cmd = Processes.commandLine(pid);
        // a recycled PID belongs to some other program: only our own containerd with this very config qualifies
        if (!cmd.contains("containerd") || !cmd.contains(config.configFile().toString())) {
            LOG.info(() -> "pid " + pid + " of " + config.pidFile() + " is not this node's containerd (" + cmd + ")");
            return Optional.empty();
        }
        // the first call of a cold JVM (gRPC, Netty, protobuf classes) can take seconds on a busy machine: a short
        // probe timeout made a restarted agent start a second containerd next to the one it should have adopted
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        CriException last = null;
        try (CriClient probe = CriClient.connect(config.socket(), Duration.ofSeconds(5))) {
            while (System.nanoTime() < deadline && p.get().isAlive()) {
                try {
                    probe.version(VERSION);
                    return p;
                } catch (CriException e) {
                    last = e;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        String why = last == null ? "it exited" : last.getMessage();
        LOG.warning(() -> "containerd " + pid + " on " + config.socket() + " does not answer (" + why + "): killing it");
        p.get().destroyForcibly();
        try {
            p.get().onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warning(() -> "containerd " + pid + " did not exit after SIGKILL: " + e);
        }
        return Optional.empty();
    }

    private static String logTail(Path log) {
        try {
            String s = Files.readString(log, StandardCharsets.UTF_8).strip();
            return s.length() > 3000 ? "..." + s.substring(s.length() - 3000) : s;
        } catch (IOException e) {
            return "(no log at " + log + ")";
        }
    }
}
