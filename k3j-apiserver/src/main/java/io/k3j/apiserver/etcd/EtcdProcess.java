package io.k3j.apiserver.etcd;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One etcd member process, started and supervised: restarted (after a short pause) whenever it exits while the
 * supervisor is open, stopped by PID with SIGTERM (SIGKILL after 10 s) on {@link #close()}.
 *
 * <p>Since k3s runs etcd inside its own process, a killed k3s takes its member along; k3j gets the same by starting
 * etcd through {@code setpriv --pdeathsig SIGKILL} from a long-lived platform thread (the death signal follows the
 * thread that forked). The PID is also written to {@code <pidFile>}, so a member orphaned some other way (say the
 * JVM was frozen and the machine rebooted its supervisor) is ended at the next start instead of blocking the ports.
 */
final class EtcdProcess implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EtcdProcess.class.getName());
    private static final Duration RESTART_PAUSE = Duration.ofSeconds(1);
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private final Supplier<List<String>> command;
    private final Path log;
    private final Path pidFile;
    private final Path dataDir;
    private final URI health;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Object lock = new Object();
    private Thread supervisor;
    private Process process;
    private boolean closed;
    private int starts;

    /**
     * @param command the etcd command line, asked again at every (re)start: the first start of a new member says
     *                {@code --initial-cluster-state new}, later ones needn't
     * @param dataDir the member's data dir, which tells an orphan of ours from an unrelated etcd
     * @param health  the member's plain-HTTP {@code /health} on its metrics port
     */
    EtcdProcess(Supplier<List<String>> command, Path dataDir, Path log, Path pidFile, URI health) {
        this.command = command;
        this.dataDir = dataDir;
        this.log = log;
        this.pidFile = pidFile;
        this.health = health;
    }

    /**
     * Starts the member and the thread that restarts it.
     *
     * @throws IOException if the first start fails
     */
    void start() throws IOException {
        endOrphan();
        java.util.concurrent.CompletableFuture<Void> first = new java.util.concurrent.CompletableFuture<>();
        supervisor = Thread.ofPlatform().daemon().name("etcd-supervisor").start(() -> supervise(first));
        try {
            first.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted starting etcd", e);
        } catch (java.util.concurrent.ExecutionException e) {
            close();
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    private void supervise(java.util.concurrent.CompletableFuture<Void> first) {
        while (true) {
            Process p;
            synchronized (lock) {
                if (closed) return;
                try {
                    p = launch();
                } catch (IOException e) {
                    if (!first.isDone()) {
                        first.completeExceptionally(e);
                        return;
                    }
                    LOG.log(System.Logger.Level.WARNING, "restarting etcd: " + e.getMessage());
                    p = null;
                }
                process = p;
            }
            first.complete(null);
            if (p != null) {
                int code = waitFor(p);
                synchronized (lock) {
                    if (closed) return;
                }
                LOG.log(System.Logger.Level.WARNING, "etcd (pid " + p.pid() + ") exited with " + code
                        + "; restarting it (its log: " + log + ")");
            }
            try {
                Thread.sleep(RESTART_PAUSE.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static int waitFor(Process p) {
        while (true) {
            try {
                return p.waitFor();
            } catch (InterruptedException e) {
                // close() interrupts only after it stopped the process; keep waiting for the exit status
                if (!p.isAlive()) return p.exitValue();
            }
        }
    }

    private Process launch() throws IOException {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--pdeathsig", "KILL", "--"));
        cmd.addAll(command.get());
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        // etcd reads ETCD_* variables as flags: an inherited one must not change the member's configuration
        pb.environment().keySet().removeIf(k -> k.startsWith("ETCD_"));
        Process p = pb.start();
        starts++;
        Files.writeString(pidFile, p.pid() + "\n", StandardCharsets.US_ASCII);
        LOG.log(System.Logger.Level.INFO, "started etcd, pid " + p.pid() + " (log " + log + ")");
        return p;
    }

    /** Ends a member left running by an earlier k3j on the same data (it would hold the ports and the data lock). */
    private void endOrphan() throws IOException {
        if (!Files.isRegularFile(pidFile)) return;
        long pid;
        try {
            pid = Long.parseLong(Files.readString(pidFile, StandardCharsets.US_ASCII).strip());
        } catch (NumberFormatException e) {
            return;
        }
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty() || !h.get().isAlive()) return;
        // only if it really is an etcd with our data dir: PIDs get reused
        String cmdline;
        try {
            cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline"), StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException e) {
            return;
        }
        if (!cmdline.contains("etcd") || !cmdline.contains(dataDir.toString())) return;
        LOG.log(System.Logger.Level.WARNING, "stopping etcd pid " + pid + " left running by an earlier start");
        stop(h.get());
    }

    private static void stop(ProcessHandle h) {
        h.destroy();
        try {
            h.onExit().get(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            h.destroyForcibly();
            try {
                h.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // reported by the caller's next step failing to bind
            }
        }
    }

    /** The current process's PID, or -1 between restarts. */
    long pid() {
        synchronized (lock) {
            return process != null && process.isAlive() ? process.pid() : -1;
        }
    }

    /** How many times etcd was started by this supervisor. */
    int starts() {
        synchronized (lock) {
            return starts;
        }
    }

    /** Whether the member answers {@code /health} with {@code "health":"true"}. */
    boolean healthy() {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(3)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().replace(" ", "").contains("\"health\":\"true\"");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Waits until the member is healthy (it has a leader and has caught up).
     *
     * @throws IOException on timeout, naming the log to read
     */
    void awaitHealthy(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!healthy()) {
            if (System.nanoTime() > deadline) {
                throw new IOException("etcd did not become healthy within " + timeout.toSeconds() + " s; see " + log
                        + (tail().isEmpty() ? "" : ", which ends with:\n" + tail()));
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for etcd", e);
            }
        }
    }

    private String tail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        Process p;
        synchronized (lock) {
            if (closed) return;
            closed = true;
            p = process;
        }
        if (p != null) stop(p.toHandle());
        if (supervisor != null) {
            supervisor.interrupt();
            try {
                supervisor.join(STOP_GRACE.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            Files.deleteIfExists(pidFile);
        } catch (IOException ignored) {
            // a stale pid file is checked against /proc before it is acted on
        }
    }
}
