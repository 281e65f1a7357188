package io.k3j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
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
    private final java.util.concurrent.atomic.AtomicInteger rewatches = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger relists = new java.util.concurrent.atomic.AtomicInteger();
    private volatile InputStream body;
    private volatile boolean closed;
    private volatile long firstBindNanos;
    private volatile long lastBindNanos;

    BindWatch(HttpClient http, URI server, String namespace, int expected) {
        this.done = new CountDownLatch(expected);
        this.reader = Thread.ofPlatform().name("bind-watch").start(() -> {
            String resourceVersion = null;
            boolean relist = false;
            while (done.getCount() > 0 && !closed) {
                // a watch that falls too far behind is ended by the server (as kube-apiserver does): like an
                // informer, go on from the last resourceVersion seen
                try {
                    if (resourceVersion != null && relist) {
                        // the server no longer holds the events since our last resourceVersion (410): list, as an
                        // informer does, and watch from the list's revision
                        HttpResponse<InputStream> l = http.send(HttpRequest.newBuilder(server.resolve("/api/v1/namespaces/" + namespace
                                + "/pods")).header("Accept", "application/json").build(), HttpResponse.BodyHandlers.ofInputStream());
                        JsonNode list;
                        try (InputStream in = l.body()) {
                            list = MAPPER.readTree(in);
                        }
                        if (l.statusCode() != 200) throw new IOException("list answered " + l.statusCode() + ": " + list);
                        for (JsonNode obj : list.path("items")) seen(obj);
                        resourceVersion = list.path("metadata").path("resourceVersion").asText();
                        relist = false;
                        relists.incrementAndGet();
                    }
                    String from = resourceVersion == null ? "" : "&resourceVersion=" + resourceVersion;
                    HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(server.resolve("/api/v1/namespaces/" + namespace
                            + "/pods?watch=1&allowWatchBookmarks=false" + from)).header("Accept", "application/json").build(),
                            HttpResponse.BodyHandlers.ofInputStream());
                    if (r.statusCode() != 200) throw new IOException("watch answered " + r.statusCode());
                    if (resourceVersion != null) rewatches.incrementAndGet();
                    body = r.body();
                    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                        for (String line; (line = in.readLine()) != null; ) {
                            JsonNode e = MAPPER.readTree(line);
                            JsonNode obj = e.path("object");
                            if (e.path("type").asText().equals("ERROR")) {
                                if (obj.path("code").asInt() != 410) throw new IOException("watch error: " + obj);
                                relist = true;
                                break;
                            }
                            String rv = obj.path("metadata").path("resourceVersion").asText("");
                            if (!rv.isEmpty()) resourceVersion = rv;
                            if (e.path("type").asText().equals("DELETED")) deleted.incrementAndGet();
                            else seen(obj);
                        }
                    }
                } catch (Exception e) {
                    if (done.getCount() > 0 && !closed) System.out.println("  watch ended: " + e);
                    return;
                }
            }
        });
    }

    private void seen(JsonNode obj) {
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

    /** How many times the watch had to list again (410: it fell further behind than the server's window). */
    int relists() {
        return relists.get();
    }

    /** How many times the watch was taken up again after the server ended it. */
    int rewatches() {
        return rewatches.get();
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
        closed = true;
        InputStream b = body;
        if (b != null) b.close();
        reader.interrupt();
    }
}
