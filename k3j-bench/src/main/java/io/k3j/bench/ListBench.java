package io.k3j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A full LIST (JSON, no Table, no limit) of the Pods of one namespace holding {@code pods} small Pods, which
 * stay Pending because there are no nodes. Request sent to last body byte read; median of {@code lists}
 * after one unmeasured LIST.
 */
final class ListBench {

    static final double TARGET_MS = 300;

    private ListBench() {
    }

    static void run(Env env, int pods, int clients, int lists) throws IOException, InterruptedException {
        System.out.printf("== list: %d Pods created by %d clients, then %d LISTs; server JVM flags: %s%n", pods, clients, lists, env.describeJavaOpts());
        try (K3jServer s = env.startServer("list")) {
            AdminCredentials cred = s.credentials();
            URI server = cred.server();
            HttpClient http = Http.client(cred.sslContext(), HttpClient.Version.HTTP_2);
            Env.createNamespace(http, server, "listbench");
            Load.Result created = Load.run(pods, clients, () -> Http.client(cred.sslContext(), HttpClient.Version.HTTP_2),
                    i -> Env.json(server.resolve("/api/v1/namespaces/listbench/pods"), pod(i)), 201, false);
            System.out.println("  pod creates: " + created.summary());
            System.out.printf("  server CPU after creates: %.1f s total since start%n", Machine.cpuNanos(s.pid()) / 1e9);
            HttpRequest list = HttpRequest.newBuilder(server.resolve("/api/v1/namespaces/listbench/pods"))
                    .header("Accept", "application/json").timeout(Duration.ofSeconds(60)).build();
            HttpResponse<byte[]> first = http.send(list, HttpResponse.BodyHandlers.ofByteArray());
            JsonNode body = new ObjectMapper().readTree(first.body());
            int items = body.path("items").size();
            System.out.printf("  unmeasured first LIST: %d, %d items, %d bytes%n", first.statusCode(), items, first.body().length);
            if (first.statusCode() != 200 || items != pods) {
                throw new IOException("LIST answered " + first.statusCode() + " with " + items + " items, expected " + pods);
            }
            long cpu0 = Machine.cpuNanos(s.pid());
            double[] ms = new double[lists];
            for (int i = 0; i < lists; i++) {
                long t0 = System.nanoTime();
                HttpResponse<byte[]> r = http.send(list, HttpResponse.BodyHandlers.ofByteArray());
                ms[i] = (System.nanoTime() - t0) / 1e6;
                if (r.statusCode() != 200) {
                    throw new IOException("LIST answered " + r.statusCode());
                }
            }
            long cpu = Machine.cpuNanos(s.pid()) - cpu0;
            http.close();
            System.out.printf("  server CPU per LIST: %.0f ms (mean of %d)%n", cpu / 1e6 / lists, lists);
            double m = Stats.median(ms);
            System.out.printf("  LIST times: %s ms%n", java.util.Arrays.toString(java.util.Arrays.stream(ms).mapToLong(Math::round).toArray()));
            System.out.printf("RESULT list %d pods: median %.0f ms of %d (%d bytes), target <= %.0f ms, ratio %.2fx of target -> %s%n",
                    pods, m, lists, first.body().length, TARGET_MS, m / TARGET_MS, m <= TARGET_MS ? "MET" : "MISSED");
        }
    }

    static String pod(int i) {
        return "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p-" + i + "\",\"labels\":{\"app\":\"bench\"}},"
                + "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"registry.k8s.io/pause:3.10\"}]}}";
    }
}
