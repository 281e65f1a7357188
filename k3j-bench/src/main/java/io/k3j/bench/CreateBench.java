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

    static void run(Env env, int count, int clients, int warmup, HttpClient.Version version) throws IOException, InterruptedException {
        System.out.printf("== create: %d ConfigMaps from %d clients (%s, TLS, admin cert), warm-up %d; server JVM flags: %s%n",
                count, clients, version, warmup, env.describeJavaOpts());
        Load.Result k3j;
        try (K3jServer s = env.startServer("create")) {
            AdminCredentials cred = s.credentials();
            HttpClient admin = Http.client(cred.sslContext(), version);
            Env.createNamespace(admin, cred.server(), "bench-warmup");
            Env.createNamespace(admin, cred.server(), "bench");
            admin.close();
            if (warmup > 0) {
                Load.Result w = Load.run(warmup, clients, () -> Http.client(cred.sslContext(), version),
                        i -> configMap(cred.server(), "bench-warmup", i), 201, false);
                System.out.println("  k3j warm-up: " + w.summary());
            }
            long cpu0 = Machine.cpuNanos(s.pid());
            long self0 = Machine.selfCpuNanos();
            k3j = Load.run(count, clients, () -> Http.client(cred.sslContext(), version),
                    i -> configMap(cred.server(), "bench", i), 201, true);
            System.out.println("  k3j: " + k3j.summary());
            cpu("k3j server", Machine.cpuNanos(s.pid()) - cpu0, Machine.selfCpuNanos() - self0, count);
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
            etcd = Load.run(count, clients, () -> Http.client(null, HttpClient.Version.HTTP_1_1),
                    i -> put(e.clientUrl(), "/registry/configmaps/bench/cm-" + i, values[i] != null ? values[i] : sample), 200, false);
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

    private static HttpRequest configMap(URI server, String ns, int i) {
        return Env.json(server.resolve("/api/v1/namespaces/" + ns + "/configmaps"), configMapJson(i));
    }

    private static HttpRequest put(URI etcd, String key, byte[] value) {
        Base64.Encoder b64 = Base64.getEncoder();
        String body = "{\"key\":\"" + b64.encodeToString(key.getBytes(StandardCharsets.UTF_8)) + "\",\"value\":\"" + b64.encodeToString(value) + "\"}";
        return HttpRequest.newBuilder(etcd.resolve("/v3/kv/put")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }
}
