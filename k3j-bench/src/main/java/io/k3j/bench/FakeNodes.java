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
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Node objects registered over HTTP as kubelets register them (Ready, 4 CPUs, 16 GiB, 110 pods), whose Leases
 * the benchmark renews every 10 s so the node lifecycle controller keeps them Ready. No kubelet runs:
 * pods get bound, never started.
 * <p>
 * All Leases of a round are renewed at once (asynchronous requests multiplexed on one HTTP/2 connection of their
 * own), as every kubelet renews its own: renewed one after another, a round at 2 CPUs and load ~10 took longer
 * than the 40 s grace period, nodes went NotReady, their pods were evicted and recreated, and the run never
 * settled. A watch on the nodes notes every node that went NotReady (or got a NoExecute not-ready/unreachable
 * taint) after registration, so a figure measured while nodes flapped says so ({@link #healthSummary()}).
 */
final class FakeNodes implements AutoCloseable {
    private static final DateTimeFormatter MICRO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** kubelet's renewal interval (a quarter of the 40 s lease duration). */
    private static final long RENEW_INTERVAL_NANOS = 10_000_000_000L;
    /** A renewal unanswered this long is counted as failed (the node's grace period is 40 s). */
    private static final Duration RENEW_TIMEOUT = Duration.ofSeconds(30);

    private final HttpClient http;
    private final HttpClient heartbeats;
    private final URI server;
    private final int count;
    private final Thread heart;
    private final Thread healthWatch;
    private final Set<String> notReady = ConcurrentHashMap.newKeySet();
    private final AtomicInteger rounds = new AtomicInteger();
    private final AtomicInteger failedRenewals = new AtomicInteger();
    private final AtomicLong slowestRenewalNanos = new AtomicLong();
    private final long startNanos = System.nanoTime();
    private volatile InputStream watchBody;
    private volatile boolean closed;

    private FakeNodes(HttpClient http, URI server, int count) {
        this.http = http;
        // a connection of their own: renewals don't queue behind the benchmark's requests and watch streams
        this.heartbeats = Http.client(http.sslContext(), HttpClient.Version.HTTP_2);
        this.server = server;
        this.count = count;
        this.heart = Thread.ofPlatform().daemon().name("fake-node-leases").start(() -> {
            long next = System.nanoTime() + RENEW_INTERVAL_NANOS;
            while (true) {
                try {
                    long wait = next - System.nanoTime();
                    if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    // fixed rate from each round's start, so a slow round doesn't push the next one later
                    next += RENEW_INTERVAL_NANOS;
                    renewAll();
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        this.healthWatch = Thread.ofPlatform().daemon().name("fake-node-health").start(this::watchHealth);
    }
    static String name(int i) {
        return String.format("fake-node-%03d", i);
    }

    /** Registers {@code count} nodes, cordoned when {@code unschedulable}. */
    static FakeNodes register(HttpClient http, URI server, int count, boolean unschedulable) throws IOException, InterruptedException {
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        for (int i = 0; i < count; i++) {
            String n = name(i);
            String node = "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"" + n + "\",\"labels\":{\"kubernetes.io/hostname\":\""
                    + n + "\",\"kubernetes.io/os\":\"linux\",\"topology.kubernetes.io/zone\":\"zone-" + (i % 3) + "\"}},"
                    + "\"spec\":{\"unschedulable\":" + unschedulable + "}}";
            expect(http.send(Env.json(server.resolve("/api/v1/nodes"), node), HttpResponse.BodyHandlers.ofString()), 201, "creating node " + n);
            String status = "{\"status\":{\"capacity\":{\"cpu\":\"4\",\"memory\":\"16Gi\",\"pods\":\"110\",\"ephemeral-storage\":\"100Gi\"},"
                    + "\"allocatable\":{\"cpu\":\"4\",\"memory\":\"16Gi\",\"pods\":\"110\",\"ephemeral-storage\":\"100Gi\"},"
                    + "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",\"message\":\"kubelet is posting ready status\","
                    + "\"lastHeartbeatTime\":\"" + now + "\",\"lastTransitionTime\":\"" + now + "\"}],"
                    + "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"127.0.0.1\"}]}}";
            expect(http.send(patch(server.resolve("/api/v1/nodes/" + n + "/status"), status), HttpResponse.BodyHandlers.ofString()), 200,
                    "setting the status of node " + n);
        }
        FakeNodes nodes = new FakeNodes(http, server, count);
        for (int i = 0; i < count; i++) nodes.createLease(i);
        return nodes;
    }

    private void createLease(int i) throws IOException, InterruptedException {
        String lease = "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"" + name(i) + "\"},"
                + "\"spec\":{\"holderIdentity\":\"" + name(i) + "\",\"leaseDurationSeconds\":40,\"renewTime\":\"" + MICRO.format(Instant.now()) + "\"}}";
        expect(http.send(Env.json(server.resolve("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"), lease),
                HttpResponse.BodyHandlers.ofString()), 201, "creating lease " + name(i));
    }

    /**
     * Sends every Lease's renewal at once without waiting for the answers, so that a slow server delays no
     * later round; answers are tallied as they come ({@link #healthSummary()}).
     */
    private void renewAll() {
        int round = rounds.incrementAndGet();
        for (int i = 0; i < count; i++) {
            String n = name(i);
            String p = "{\"spec\":{\"renewTime\":\"" + MICRO.format(Instant.now()) + "\"}}";
            HttpRequest r = HttpRequest.newBuilder(server.resolve("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/" + n))
                    .timeout(RENEW_TIMEOUT).header("Content-Type", "application/merge-patch+json").header("Accept", "application/json")
                    .method("PATCH", HttpRequest.BodyPublishers.ofString(p)).build();
            long t0 = System.nanoTime();
            heartbeats.sendAsync(r, HttpResponse.BodyHandlers.discarding()).whenComplete((resp, error) -> {
                slowestRenewalNanos.accumulateAndGet(System.nanoTime() - t0, Math::max);
                if (error != null || resp.statusCode() != 200) {
                    if (failedRenewals.incrementAndGet() <= 5) {
                        System.out.printf("  lease renewal of %s (round %d) failed: %s%n", n, round, error != null ? error : "HTTP " + resp.statusCode());
                    }
                }
            });
        }
    }

    /**
     * Follows the nodes from just after registration (every one Ready then) and notes each one seen with a Ready
     * condition that isn't True or a NoExecute not-ready/unreachable taint: the node lifecycle controller gave up
     * on its heartbeats.
     */
    private void watchHealth() {
        while (!closed) {
            watchHealthOnce(); // a watch the server ends is started again; its first events are every node's current state
        }
    }

    private void watchHealthOnce() {
        try {
            HttpResponse<InputStream> r = heartbeats.send(HttpRequest.newBuilder(server.resolve("/api/v1/nodes?watch=1"))
                    .header("Accept", "application/json").build(), HttpResponse.BodyHandlers.ofInputStream());
            watchBody = r.body();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    JsonNode node = MAPPER.readTree(line).path("object");
                    String name = node.path("metadata").path("name").asText();
                    String ready = "missing";
                    for (JsonNode c : node.path("status").path("conditions")) {
                        if (c.path("type").asText().equals("Ready")) ready = c.path("status").asText();
                    }
                    boolean evicting = false;
                    for (JsonNode t : node.path("spec").path("taints")) {
                        String key = t.path("key").asText();
                        evicting |= t.path("effect").asText().equals("NoExecute")
                                && (key.equals("node.kubernetes.io/unreachable") || key.equals("node.kubernetes.io/not-ready"));
                    }
                    if ((!ready.equals("True") || evicting) && notReady.add(name)) {
                        System.out.printf("  node %s went NotReady %.0f s after registration (Ready %s%s)%n", name,
                                (System.nanoTime() - startNanos) / 1e9, ready, evicting ? ", NoExecute taint" : "");
                    }
                }
            }
        } catch (Exception e) {
            if (!closed) {
                System.out.println("  node health watch ended: " + e);
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException stop) {
                    closed = true;
                }
            }
        }
    }

    /** Nodes seen NotReady (or tainted for eviction) since registration. */
    int notReadyCount() {
        return notReady.size();
    }

    /** One line for the report: lease rounds, the slowest one, failed renewals, nodes that went NotReady. */
    String healthSummary() {
        return String.format("lease renewals: %d rounds of %d, slowest answer %.1f s, %d renewals failed; nodes that went NotReady: %d%s",
                rounds.get(), count, slowestRenewalNanos.get() / 1e9, failedRenewals.get(), notReady.size(),
                notReady.isEmpty() ? "" : " " + new java.util.TreeSet<>(notReady));
    }

    /** Uncordons every node (spec.unschedulable false). */
    void uncordonAll() throws IOException, InterruptedException {
        java.util.List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> all = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            all.add(http.sendAsync(patch(server.resolve("/api/v1/nodes/" + name(i)), "{\"spec\":{\"unschedulable\":false}}"),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < count; i++) {
            try {
                expect(all.get(i).get(), 200, "uncordoning " + name(i));
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException("uncordoning " + name(i), e.getCause());
            }
        }
    }

    static HttpRequest patch(URI uri, String body) {
        return HttpRequest.newBuilder(uri).header("Content-Type", "application/merge-patch+json").header("Accept", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body)).build();
    }

    static void expect(HttpResponse<String> r, int code, String what) throws IOException {
        if (r.statusCode() != code) throw new IOException(what + ": " + r.statusCode() + " " + r.body());
    }

    @Override
    public void close() {
        closed = true;
        heart.interrupt();
        InputStream b = watchBody;
        if (b != null) {
            try {
                b.close();
            } catch (IOException ignored) {
                // the stream is abandoned either way
            }
        }
        healthWatch.interrupt();
        heartbeats.shutdownNow();
    }
}
