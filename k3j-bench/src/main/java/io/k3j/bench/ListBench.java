package io.k3j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A full LIST (JSON, no Table, no limit) of the Pods of one namespace holding {@code pods} small Pods, which
 * stay Pending because there are no nodes. Request sent to last body byte read; median of {@code lists}
 * after one unmeasured LIST and once the server is quiet (the scheduler has marked every pod unschedulable).
 */
final class ListBench {

    static final double TARGET_MS = 300;

    private ListBench() {
    }

    /** @param client the load generator for the creates and the timed LISTs */
    static void run(Env env, int pods, int clients, int lists, LoadClient client) throws IOException, InterruptedException {
        System.out.printf("== list: %d Pods created by %d clients, then %d LISTs; load generator %s; server JVM flags: %s%n",
                pods, clients, lists, client.describe(), env.describeJavaOpts());
        try (K3jServer s = env.startServer("list")) {
            AdminCredentials cred = s.credentials();
            URI server = cred.server();
            HttpClient http = Http.client(cred.sslContext(), HttpClient.Version.HTTP_2);
            Env.createNamespace(http, server, "listbench");
            SslContext tls = client.netty() ? NettyLoad.tls(cred.keys(), true, client.openssl()) : null;
            Load.Result created;
            if (client.netty()) {
                try (NettyLoad gen = NettyLoad.h2(server, tls, Math.min(4, clients), client.threads())) {
                    NettyLoad.Request[] creates = new NettyLoad.Request[pods];
                    for (int i = 0; i < pods; i++) {
                        creates[i] = gen.request("POST", "/api/v1/namespaces/listbench/pods", "application/json",
                                pod(i).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    }
                    created = gen.run(creates, clients, 201, false);
                }
            } else {
                created = Load.run(pods, clients, () -> Http.client(cred.sslContext(), HttpClient.Version.HTTP_2),
                        i -> Env.json(server.resolve("/api/v1/namespaces/listbench/pods"), pod(i)), 201, false);
            }
            System.out.println("  pod creates: " + created.summary());
            System.out.printf("  server CPU after creates: %.1f s total since start%n", Machine.cpuNanos(s.pid()) / 1e9);
            HttpRequest list = HttpRequest.newBuilder(server.resolve("/api/v1/namespaces/listbench/pods"))
                    .header("Accept", "application/json").timeout(Duration.ofSeconds(60)).build();
            HttpResponse<byte[]> first = http.send(list, HttpResponse.BodyHandlers.ofByteArray());
            JsonNode body = new ObjectMapper().readTree(first.body());
            int items = body.path("items").size();
            if (first.statusCode() == 200 && items < pods && created.errors() > 0) {
                // a loaded machine times out a few connects: create what is missing, one by one
                java.util.Set<String> names = new java.util.HashSet<>();
                for (JsonNode item : body.path("items")) names.add(item.path("metadata").path("name").asText());
                for (int i = 0; i < pods; i++) {
                    if (names.contains("p-" + i)) continue;
                    int code = http.send(Env.json(server.resolve("/api/v1/namespaces/listbench/pods"), pod(i)), HttpResponse.BodyHandlers.discarding()).statusCode();
                    if (code != 201 && code != 409) throw new IOException("pod create answered " + code);
                }
                first = http.send(list, HttpResponse.BodyHandlers.ofByteArray());
                body = new ObjectMapper().readTree(first.body());
                items = body.path("items").size();
                System.out.printf("  created the %d pods that failed, one by one%n", pods - names.size());
            }
            System.out.printf("  unmeasured first LIST: %d, %d items, %d bytes%n", first.statusCode(), items, first.body().length);
            if (first.statusCode() != 200 || items != pods) {
                throw new IOException("LIST answered " + first.statusCode() + " with " + items + " items, expected " + pods);
            }
            // Each create leaves the scheduler a pod to mark unschedulable (a status write and an event), and on a
            // loaded machine it is still at it after the last create: measured, that was most of the "LIST" CPU.
            long quietFrom = System.nanoTime();
            double quietSeconds = awaitQuiet(s.pid(), Duration.ofSeconds(300));
            System.out.printf("  server quiet (< 5 %% of a CPU for 2 s) %.1f s after the first LIST (it spent %.1f s of CPU meanwhile)%n",
                    (System.nanoTime() - quietFrom) / 1e9, quietSeconds);
            NettyLoad gen = client.netty() ? NettyLoad.h2(server, tls, 1, client.threads()) : null;
            String path = "/api/v1/namespaces/listbench/pods";
            // Every timed LIST must read the same body: the size of one LIST taken once the server is quiet (the
            // scheduler's status writes grew the pods after the first LIST). The Netty generator takes that one
            // itself, unmeasured, as the JDK client's first LIST was.
            long expectedBytes = -1;
            if (gen != null) {
                Load.Result r = gen.run(new NettyLoad.Request[] {gen.request("GET", path, null, null)}, 1, 200, false);
                if (r.errors() != 0) {
                    throw new IOException("netty LIST: " + r.summary());
                }
                expectedBytes = r.responseBytes();
            }
            var threads0 = Machine.threadCpuNanosByName(s.pid());
            long cpu0 = Machine.cpuNanos(s.pid());
            long self0 = Machine.selfCpuNanos();
            double[] ms = new double[lists];
            long[] sizes = new long[lists];
            for (int i = 0; i < lists; i++) {
                if (gen != null) {
                    // request built before the clock; the latency runs from its write to the body's last byte
                    NettyLoad.Request[] one = {gen.request("GET", path, null, null)};
                    Load.Result r = gen.run(one, 1, 200, false);
                    ms[i] = r.latencySorted()[0] / 1e6;
                    sizes[i] = r.responseBytes();
                    if (r.errors() != 0) {
                        throw new IOException("LIST: " + r.summary());
                    }
                } else {
                    long t0 = System.nanoTime();
                    HttpResponse<byte[]> r = http.send(list, HttpResponse.BodyHandlers.ofByteArray());
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                    sizes[i] = r.body().length;
                    if (r.statusCode() != 200) {
                        throw new IOException("LIST answered " + r.statusCode());
                    }
                }
            }
            long self = Machine.selfCpuNanos() - self0;
            long cpu = Machine.cpuNanos(s.pid()) - cpu0;
            var threads = Machine.threadCpuDelta(threads0, Machine.threadCpuNanosByName(s.pid()), lists);
            if (gen != null) {
                gen.close();
            }
            http.close();
            long ref = expectedBytes >= 0 ? expectedBytes : sizes[0];
            if (java.util.Arrays.stream(sizes).anyMatch(n -> n != ref)) {
                throw new IOException("timed LISTs read " + java.util.Arrays.toString(sizes) + " bytes, expected " + ref + " each");
            }
            System.out.printf("  every timed LIST read the whole body: %d bytes%n", ref);
            System.out.printf("  client (this load generator) CPU per LIST: %.0f ms (mean of %d); %s%n", self / 1e6 / lists, lists, Machine.load());
            System.out.printf("  server CPU per LIST: %.0f ms (mean of %d); by thread, ms: %s%n", cpu / 1e6 / lists, lists, threads);
            double m = Stats.median(ms);
            System.out.printf("  LIST times: %s ms%n", java.util.Arrays.toString(java.util.Arrays.stream(ms).mapToLong(Math::round).toArray()));
            System.out.printf("RESULT list %d pods (load generator %s): median %.0f ms of %d (%d bytes), target <= %.0f ms, ratio %.2fx of target -> %s%n",
                    pods, client.netty() ? "netty" : "jdk", m, lists, ref, TARGET_MS, m / TARGET_MS, m <= TARGET_MS ? "MET" : "MISSED");
        }
    }

    /** Waits until the process uses under 5 % of a CPU over 2 s (or {@code max} passes); returns the CPU seconds it used. */
    static double awaitQuiet(long pid, Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        long start = Machine.cpuNanos(pid);
        long prev = start;
        while (System.nanoTime() < deadline) {
            Thread.sleep(2000);
            long now = Machine.cpuNanos(pid);
            if (now - prev < 100_000_000L) break;
            prev = now;
        }
        return (Machine.cpuNanos(pid) - start) / 1e9;
    }

    static String pod(int i) {
        return "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p-" + i + "\",\"labels\":{\"app\":\"bench\"}},"
                + "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"registry.k8s.io/pause:3.10\"}]}}";
    }
}
