package io.k3j.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * Node objects registered over HTTP as kubelets register them (Ready, 4 CPUs, 16 GiB, 110 pods), whose Leases
 * the benchmark renews every 10 s so the node lifecycle controller keeps them Ready. No kubelet runs:
 * pods get bound, never started.
 */
final class FakeNodes implements AutoCloseable {
    private static final DateTimeFormatter MICRO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private final HttpClient http;
    private final URI server;
    private final int count;
    private final Thread heart;

    private FakeNodes(HttpClient http, URI server, int count) {
        this.http = http;
        this.server = server;
        this.count = count;
        this.heart = Thread.ofVirtual().start(() -> {
            while (true) {
                try {
                    Thread.sleep(10_000);
                    for (int i = 0; i < count; i++) renew(i);
                } catch (InterruptedException e) {
                    return;
                } catch (IOException e) {
                    System.out.println("  lease renewal failed: " + e.getMessage());
                }
            }
        });
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

    private void renew(int i) throws IOException, InterruptedException {
        String p = "{\"spec\":{\"renewTime\":\"" + MICRO.format(Instant.now()) + "\"}}";
        http.send(patch(server.resolve("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/" + name(i)), p),
                HttpResponse.BodyHandlers.discarding());
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
        heart.interrupt();
    }
}
