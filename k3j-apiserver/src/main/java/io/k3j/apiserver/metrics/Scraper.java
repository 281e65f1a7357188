package io.k3j.apiserver.metrics;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Scrapes every Ready node's kubelet and keeps each node's last two scrapes. Scrapes run every {@code resolution}
 * on a background thread while someone asked within {@code idleAfter}; the first request after an idle spell
 * scrapes at once, twice {@code primeDelay} apart, so it has rates to answer with. A node whose kubelet can't be
 * reached is skipped (its old scrapes dropped), as metrics-server does.
 */
final class Scraper implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Scraper.class.getName());
    static final String PATH = "/metrics/resource";
    private static final int MAX_BODY = 16 << 20;

    /** The way to a kubelet: GET a path, answer the body. */
    @FunctionalInterface
    interface Kubelets {
        byte[] get(String node, String path) throws IOException;
    }

    /** A node's previous and last scrape (previous may be null). */
    record History(NodeScrape previous, NodeScrape last) {
    }

    private final Supplier<List<String>> readyNodes;
    private final Kubelets kubelets;
    private final Clock clock;
    private final Duration resolution;
    private final Duration idleAfter;
    private final Duration primeDelay;
    private final Duration timeout;
    private final ExecutorService pool = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("metrics-scrape-", 0).factory());
    private final Object scraping = new Object();
    private volatile Map<String, History> history = Map.of();
    private volatile long lastScrapeMillis;
    private volatile long lastAskedMillis;
    private Thread loop;
    private volatile boolean closed;

    Scraper(Supplier<List<String>> readyNodes, Kubelets kubelets, Clock clock, Duration resolution, Duration idleAfter,
            Duration primeDelay, Duration timeout) {
        this.readyNodes = readyNodes;
        this.kubelets = kubelets;
        this.clock = clock;
        this.resolution = resolution;
        this.idleAfter = idleAfter;
        this.primeDelay = primeDelay;
        this.timeout = timeout;
    }

    /** Each node's scrapes, fresh: scrapes now when the last one is older than two resolutions. */
    Map<String, History> current() {
        long now = clock.millis();
        lastAskedMillis = now;
        synchronized (scraping) {
            if (closed) return history;
            if (now - lastScrapeMillis > 2 * resolution.toMillis()) {
                // stale: rates over an idle spell would say little, so start over with two close scrapes
                history = Map.of();
                scrapeAll();
                if (!primeDelay.isZero()) {
                    sleep(primeDelay);
                    scrapeAll();
                }
            }
            ensureLoop();
        }
        return history;
    }

    private void ensureLoop() {
        if (loop != null && loop.isAlive()) return;
        loop = Thread.ofVirtual().name("metrics-scraper").start(() -> {
            while (!closed && clock.millis() - lastAskedMillis < idleAfter.toMillis()) {
                sleep(resolution);
                if (closed) return;
                synchronized (scraping) {
                    scrapeAll();
                }
            }
        });
    }

    /** One round: every Ready node in parallel, each within {@code timeout}. */
    void scrapeAll() {
        List<String> nodes = readyNodes.get();
        Map<String, Future<byte[]>> calls = new HashMap<>();
        for (String node : nodes) calls.put(node, pool.submit(() -> kubelets.get(node, PATH)));
        Map<String, History> next = new HashMap<>();
        Map<String, History> before = history;
        long deadline = System.nanoTime() + timeout.toNanos();
        for (var call : calls.entrySet()) {
            try {
                byte[] body = call.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                NodeScrape s = NodeScrape.parse(body, clock.millis());
                History h = before.get(call.getKey());
                next.put(call.getKey(), new History(h == null ? null : h.last(), s));
            } catch (Exception e) {
                call.getValue().cancel(true);
                if (e instanceof InterruptedException) Thread.currentThread().interrupt();
                Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
                LOG.log(System.Logger.Level.DEBUG, "skipping node " + call.getKey() + ": " + cause);
            }
        }
        history = Map.copyOf(next);
        lastScrapeMillis = clock.millis();
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (scraping) {
            if (loop != null) loop.interrupt();
        }
        pool.shutdownNow();
    }
}
