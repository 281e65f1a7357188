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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Follows a namespace's pods through a watch and notes when each first shows a spec.nodeName: the moment the
 * scheduler's binding became visible to clients.
 */
final class BindWatch implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Set<String> bound = ConcurrentHashMap.newKeySet();
    private final Set<String> unschedulable = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicInteger deleted = new java.util.concurrent.atomic.AtomicInteger();
    private final CountDownLatch done;
    private final Thread reader;
    private volatile InputStream body;
    private volatile long firstBindNanos;
    private volatile long lastBindNanos;

    BindWatch(HttpClient http, URI server, String namespace, int expected) {
        this.done = new CountDownLatch(expected);
        this.reader = Thread.ofPlatform().name("bind-watch").start(() -> {
            try {
                HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(server.resolve("/api/v1/namespaces/" + namespace
                        + "/pods?watch=1&allowWatchBookmarks=false")).header("Accept", "application/json").build(), HttpResponse.BodyHandlers.ofInputStream());
                body = r.body();
                try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        JsonNode e = MAPPER.readTree(line);
                        JsonNode obj = e.path("object");
                        if (e.path("type").asText().equals("DELETED")) deleted.incrementAndGet();
                        for (JsonNode c : obj.path("status").path("conditions")) {
                            if (c.path("type").asText().equals("PodScheduled") && c.path("status").asText().equals("False")) {
                                unschedulable.add(obj.path("metadata").path("name").asText());
                            }
                        }
                        if (!obj.path("spec").path("nodeName").asText("").isEmpty() && bound.add(obj.path("metadata").path("name").asText())) {
                            long now = System.nanoTime();
                            if (firstBindNanos == 0) firstBindNanos = now;
                            lastBindNanos = now;
                            done.countDown();
                        }
                    }
                }
            } catch (Exception e) {
                if (done.getCount() > 0) System.out.println("  watch ended: " + e);
            }
        });
    }

    boolean await(long seconds) throws InterruptedException {
        return done.await(seconds, TimeUnit.SECONDS);
    }

    /** Pods seen with PodScheduled=False: the scheduler has tried them and found no node. */
    int unschedulable() {
        return unschedulable.size();
    }

    /** Pods deleted while watched (evicted from a NotReady node, or scaled away). */
    int deleted() {
        return deleted.get();
    }

    int bound() {
        return bound.size();
    }

    long firstBindNanos() {
        return firstBindNanos;
    }

    long lastBindNanos() {
        return lastBindNanos;
    }

    @Override
    public void close() throws Exception {
        InputStream b = body;
        if (b != null) b.close();
        reader.interrupt();
    }
}
