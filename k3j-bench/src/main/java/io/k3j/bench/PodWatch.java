package io.k3j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Follows a namespace's pods through one watch and notes, per pod, when (this JVM's nanoTime at the event's
 * arrival) the watch first showed it bound, first showed a status written by the node (hostIP set), and first
 * showed it Running with its container running; plus the server-side timestamps of that Running object.
 */
final class PodWatch implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** What the watch saw of one pod; nanoTimes are 0 until seen. */
    static final class Seen {
        volatile long boundNanos;
        volatile long nodeStatusNanos;
        volatile long runningNanos;
        volatile long deletedNanos;
        volatile Instant created;
        volatile Instant started;
    }

    private final Map<String, Seen> pods = new ConcurrentHashMap<>();
    private final Thread reader;
    private volatile InputStream body;
    private volatile boolean closed;

    PodWatch(HttpClient http, URI server, String namespace) throws InterruptedException {
        java.util.concurrent.CountDownLatch open = new java.util.concurrent.CountDownLatch(1);
        this.reader = Thread.ofPlatform().name("pod-watch").daemon().start(() -> {
            try {
                HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(server.resolve("/api/v1/namespaces/" + namespace
                        + "/pods?watch=1&allowWatchBookmarks=false")).header("Accept", "application/json").build(), HttpResponse.BodyHandlers.ofInputStream());
                body = r.body();
                open.countDown();
                try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        long now = System.nanoTime();
                        JsonNode e = MAPPER.readTree(line);
                        JsonNode obj = e.path("object");
                        Seen s = pods.computeIfAbsent(obj.path("metadata").path("name").asText(), k -> new Seen());
                        if ("DELETED".equals(e.path("type").asText())) {
                            s.deletedNanos = now;
                            continue;
                        }
                        if (s.boundNanos == 0 && !obj.path("spec").path("nodeName").asText("").isEmpty()) s.boundNanos = now;
                        JsonNode status = obj.path("status");
                        if (s.nodeStatusNanos == 0 && !status.path("hostIP").asText("").isEmpty()) s.nodeStatusNanos = now;
                        if (s.runningNanos == 0 && "Running".equals(status.path("phase").asText())) {
                            for (JsonNode c : status.path("containerStatuses")) {
                                JsonNode running = c.path("state").path("running");
                                if (running.isObject()) {
                                    s.created = Instant.parse(obj.path("metadata").path("creationTimestamp").asText());
                                    s.started = Instant.parse(running.path("startedAt").asText());
                                    s.runningNanos = now;
                                }
                            }
                        }
                    }
                }
            } catch (Exception e) {
                if (!closed) System.out.println("  pod watch ended: " + e);
            } finally {
                open.countDown();
            }
        });
        open.await();
    }

    Seen seen(String name) {
        return pods.computeIfAbsent(name, k -> new Seen());
    }

    /** Waits until {@code name} is Running; false on timeout. */
    boolean awaitRunning(String name, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        Seen s = seen(name);
        while (s.runningNanos == 0) {
            if (System.nanoTime() > deadline) return false;
            Thread.sleep(2);
        }
        return true;
    }

    @Override
    public void close() throws Exception {
        closed = true;
        InputStream b = body;
        if (b != null) b.close();
        reader.interrupt();
    }
}
