package io.k3j.cluster.lb;

import java.io.IOException;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A {@link LoadBalancer} driven by its config file: what {@code k3j loadbalancer --config FILE} runs. The file is
 * re-read every poll interval (500 ms) or at once on {@link #reloadNow()} (SIGHUP), and applied when its content
 * changed. A file that can't be parsed is reported (log and status file) and the config in force stays. After start
 * and after every change it rewrites the status file ({@link LoadBalancerStatus}) when one is given.
 */
public final class FileLoadBalancer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(FileLoadBalancer.class.getName());
    /** How often the config file is looked at. */
    public static final Duration DEFAULT_POLL = Duration.ofMillis(500);

    private final Path configFile;
    private final Path statusFile;
    private final Duration poll;
    private final LoadBalancer lb;
    private final Semaphore wake = new Semaphore(0);
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread watcher;
    private String seenDigest;
    private String error;

    private FileLoadBalancer(Path configFile, Path statusFile, Duration poll, LoadBalancer lb, String digest) {
        this.configFile = configFile;
        this.statusFile = statusFile;
        this.poll = poll;
        this.lb = lb;
        this.seenDigest = digest;
        this.watcher = Thread.ofPlatform().daemon().name("lb-config-watch").start(this::watchLoop);
    }

    /**
     * Reads the config file, binds every listener and starts watching the file.
     *
     * @param statusFile where to report (null = nowhere); also written when start fails, with the bind errors
     * @throws BindException            when a listener can't bind (the message names the port's owner and the fix)
     * @throws IllegalArgumentException when the config file is not valid (the message names the field)
     * @throws IOException              when the config file can't be read
     */
    public static FileLoadBalancer start(Path configFile, Path statusFile, Duration poll) throws IOException {
        byte[] bytes = Files.readAllBytes(configFile);
        String digest = LoadBalancerConfig.sha256(bytes);
        LoadBalancerConfig config;
        try {
            config = LoadBalancerConfig.parse(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configFile + ": " + e.getMessage(), e);
        }
        LoadBalancer lb;
        try {
            lb = LoadBalancer.start(config);
        } catch (BindException e) {
            if (statusFile != null) {
                List<ListenerStatus> failed = config.listeners().stream()
                        .map(l -> new ListenerStatus(l.name(), l.protocol(), l.bind(), 0, e.getMessage())).toList();
                new LoadBalancerStatus(ProcessHandle.current().pid(), digest, e.getMessage(), failed).write(statusFile);
            }
            throw e;
        }
        FileLoadBalancer f = new FileLoadBalancer(configFile, statusFile, poll, lb, digest);
        f.writeStatus();
        return f;
    }

    /** The load balancer it drives. */
    public LoadBalancer loadBalancer() {
        return lb;
    }

    /** Re-reads the config file now instead of at the next poll (what SIGHUP does). */
    public void reloadNow() {
        wake.release();
    }

    /** Blocks until {@link #close()}. */
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    private void watchLoop() {
        while (closed.getCount() > 0) {
            try {
                wake.tryAcquire(poll.toMillis(), TimeUnit.MILLISECONDS);
                wake.drainPermits();
            } catch (InterruptedException e) {
                return;
            }
            if (closed.getCount() == 0) return;
            check();
        }
    }

    private synchronized void check() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(configFile);
        } catch (NoSuchFileException e) {
            seenDigest = null;
            report("config file " + configFile + " is missing; keeping the config in force");
            return;
        } catch (IOException e) {
            seenDigest = null;
            report("config file " + configFile + " can't be read: " + e.getMessage() + "; keeping the config in force");
            return;
        }
        String digest = LoadBalancerConfig.sha256(bytes);
        // Unchanged, whether applied or found broken (and reported) last time.
        if (digest.equals(seenDigest)) return;
        seenDigest = digest;
        LoadBalancerConfig config;
        try {
            config = LoadBalancerConfig.parse(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            report(configFile + ": " + e.getMessage() + "; keeping the config in force");
            return;
        }
        error = null;
        LOG.info("config file changed; reloading");
        try {
            lb.reload(config);
        } catch (BindException e) {
            // logged per listener by the load balancer; the status file names the failed listeners
        } catch (IllegalStateException e) {
            return; // closed meanwhile
        }
        writeStatus();
    }

    private void report(String message) {
        if (!message.equals(error)) LOG.severe(message);
        error = message;
        writeStatus();
    }

    private void writeStatus() {
        if (statusFile == null) return;
        try {
            new LoadBalancerStatus(ProcessHandle.current().pid(), seenDigest, error, lb.status()).write(statusFile);
        } catch (IOException e) {
            LOG.warning("can't write the status file " + statusFile + ": " + e.getMessage());
        }
    }

    /** Stops watching, closes the load balancer and removes the status file. */
    @Override
    public void close() {
        if (closed.getCount() == 0) return;
        closed.countDown();
        watcher.interrupt();
        synchronized (this) {
            lb.close();
        }
        if (statusFile != null) {
            try {
                Files.deleteIfExists(statusFile);
            } catch (IOException e) {
                LOG.warning("can't remove the status file " + statusFile + ": " + e.getMessage());
            }
        }
    }
}
