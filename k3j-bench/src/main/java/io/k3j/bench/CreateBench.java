package io.k3j.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;

/**
 * ConfigMap creates from concurrent clients over TLS with the admin certificate, then the same keys and
 * values PUT into etcd 3.4 through its HTTP/JSON gateway by as many clients, in the same run. Each side
 * first takes an unmeasured warm-up batch (another namespace/prefix) so JIT compilation is not measured.
 */
final class CreateBench {

    static final double TARGET_PER_SECOND = 2000;

    private CreateBench() {
    }

    /**
     * @param connections how many HTTP connections (JDK HttpClients) the {@code clients} threads share; with
     *                    HTTP/2 each carries clients/connections concurrent streams
     */
    static void run(Env env, int count, int clients, int connections, int warmup, HttpClient.Version version) throws IOException, InterruptedException {
        System.out.printf("== create: %d ConfigMaps from %d clients over %d connections (%s, TLS, admin cert), warm-up %d; server JVM flags: %s%n",
                count, clients, connections, version, warmup, env.describeJavaOpts());
        Load.Result k3j;
        try (K3jServer s = env.startServer("create")) {
            AdminCredentials cred = s.credentials();
            HttpClient admin = Http.client(cred.sslContext(), version);
            Env.createNamespace(admin, cred.server(), "bench-warmup");
            Env.createNamespace(admin, cred.server(), "bench");
            admin.close();
            HttpRequest prime = HttpRequest.newBuilder(cred.server().resolve("/version")).timeout(Duration.ofSeconds(60)).build();
            if (warmup > 0) {
                HttpRequest[] w = requests(cred.server(), "bench-warmup", warmup);
                Load.Result r = Load.run(warmup, clients, connections, () -> Http.client(cred.sslContext(), version), prime,
                        i -> w[i], 201, false);
                System.out.println("  k3j warm-up: " + r.summary());
            }
            // the bodies are serialized before the clock starts: the load generator shares the CPUs with the server
            HttpRequest[] measured = requests(cred.server(), "bench", count);
            long cpu0 = Machine.cpuNanos(s.pid());
            java.util.Map<String, Long> threads0 = Machine.threadCpuNanos(s.pid());
            long self0 = Machine.selfCpuNanos();
            k3j = Load.run(count, clients, connections, () -> Http.client(cred.sslContext(), version), prime,
                    i -> measured[i], 201, true);
            System.out.println("  k3j: " + k3j.summary());
            cpu("k3j server", Machine.cpuNanos(s.pid()) - cpu0, Machine.selfCpuNanos() - self0, count);
            StringBuilder split = new StringBuilder("  k3j server CPU by thread, us per write:");
            Machine.threadCpuNanos(s.pid()).forEach((group, nanos) -> split.append(String.format(" %s %.0f;", group,
                    (nanos - threads0.getOrDefault(group, 0L)) / 1e3 / count)));
            System.out.println(split);
        }
        Load.Result etcd;
        Path dir = env.freshDir("etcd");
        try (Etcd e = Etcd.start(dir.resolve("data"), Env.freePort(), Env.freePort(), dir.resolve("etcd.log"))) {
            byte[] sample = k3j.bodies()[0] != null ? k3j.bodies()[0] : configMapJson(0).getBytes(StandardCharsets.UTF_8);
            if (warmup > 0) {
                Load.Result w = Load.run(warmup, clients, () -> Http.client(null, HttpClient.Version.HTTP_1_1),
                        i -> put(e.clientUrl(), "/registry/configmaps/bench-warmup/cm-" + i, sample), 200, false);
                System.out.println("  etcd warm-up: " + w.summary());
            }
            byte[][] values = k3j.bodies();
            long cpu0 = Machine.cpuNanos(e.pid());
            long self0 = Machine.selfCpuNanos();
            HttpRequest[] puts = new HttpRequest[count];
            for (int i = 0; i < count; i++) {
                puts[i] = put(e.clientUrl(), "/registry/configmaps/bench/cm-" + i, values[i] != null ? values[i] : sample);
            }
            etcd = Load.run(count, clients, () -> Http.client(null, HttpClient.Version.HTTP_1_1), i -> puts[i], 200, false);
            System.out.println("  etcd (pid " + e.pid() + ", " + Etcd.version() + "): " + etcd.summary());
            cpu("etcd", Machine.cpuNanos(e.pid()) - cpu0, Machine.selfCpuNanos() - self0, count);
        }
        double k = k3j.perSecond();
        System.out.printf("RESULT create k3j: %.0f/s, errors %d, target >= %.0f/s, ratio %.2fx of target -> %s%n",
                k, k3j.errors(), TARGET_PER_SECOND, k / TARGET_PER_SECOND, k >= TARGET_PER_SECOND && k3j.errors() == 0 ? "MET" : "MISSED");
        System.out.printf("RESULT create etcd 3.4 (same values, /v3/kv/put, HTTP/1.1 plaintext): %.0f/s, errors %d; k3j/etcd ratio %.2f%n",
                etcd.perSecond(), etcd.errors(), k / etcd.perSecond());
    }

    private static void cpu(String who, long serverCpu, long selfCpu, int count) {
        System.out.printf("  CPU: %s %.2f s = %.0f us per write (=> %.0f writes/s per fully used core); this load generator %.2f s = %.0f us per write%n",
                who, serverCpu / 1e9, serverCpu / 1e3 / count, count / (serverCpu / 1e9), selfCpu / 1e9, selfCpu / 1e3 / count);
    }

    static String configMapJson(int i) {
        return "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm-" + i
                + "\",\"labels\":{\"app\":\"bench\"}},\"data\":{\"key\":\"value-" + i
                + "\",\"config.yaml\":\"replicas: 3\\nimage: registry.example/app:1.2.3\\nlogLevel: info\\n\"}}";
    }

    private static HttpRequest[] requests(URI server, String ns, int count) {
        URI uri = server.resolve("/api/v1/namespaces/" + ns + "/configmaps");
        HttpRequest[] out = new HttpRequest[count];
        for (int i = 0; i < count; i++) {
            out[i] = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json").header("Accept", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(configMapJson(i).getBytes(StandardCharsets.UTF_8))).build();
        }
        return out;
    }

    private static HttpRequest put(URI etcd, String key, byte[] value) {
        Base64.Encoder b64 = Base64.getEncoder();
        String body = "{\"key\":\"" + b64.encodeToString(key.getBytes(StandardCharsets.UTF_8)) + "\",\"value\":\"" + b64.encodeToString(value) + "\"}";
        return HttpRequest.newBuilder(etcd.resolve("/v3/kv/put")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body.getBytes(StandardCharsets.UTF_8))).build();
    }
}
