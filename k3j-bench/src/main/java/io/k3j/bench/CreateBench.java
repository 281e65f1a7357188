package io.k3j.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import io.netty.handler.ssl.SslContext;

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
     * @param connections how many HTTP connections the {@code clients} share; with HTTP/2 each carries
     *                    clients/connections concurrent streams (Netty's HTTP/1.1 uses one connection per client)
     * @param client      which load generator sends the requests
     */
    static void run(Env env, int count, int clients, int connections, int warmup, HttpClient.Version version, LoadClient client)
            throws IOException, InterruptedException {
        System.out.printf("== create: %d ConfigMaps from %d clients over %d connections (%s, TLS, admin cert), warm-up %d; load generator %s; server JVM flags: %s%n",
                count, clients, connections, version, warmup, client.describe(), env.describeJavaOpts());
        Load.Result k3j;
        try (K3jServer s = env.startServer("create")) {
            AdminCredentials cred = s.credentials();
            HttpClient admin = Http.client(cred.sslContext(), version);
            Env.createNamespace(admin, cred.server(), "bench-warmup");
            Env.createNamespace(admin, cred.server(), "bench");
            CpuWindow cpu;
            if (client.netty()) {
                boolean h2 = version == HttpClient.Version.HTTP_2;
                SslContext tls = NettyLoad.tls(cred.keys(), h2, client.openssl());
                System.out.println("  netty TLS: " + NettyLoad.provider(tls));
                try (NettyLoad gen = h2 ? NettyLoad.h2(cred.server(), tls, connections, client.threads())
                        : NettyLoad.http1(cred.server(), tls, clients, client.threads())) {
                    if (warmup > 0) {
                        Load.Result r = gen.run(requests(gen, "bench-warmup", warmup), clients, 201, false);
                        System.out.println("  k3j warm-up: " + r.summary());
                    }
                    // built before the clock starts: the load generator shares the CPUs with the server
                    NettyLoad.Request[] measured = requests(gen, "bench", count);
                    cpu = CpuWindow.start(s.pid());
                    k3j = gen.run(measured, clients, 201, true);
                    cpu.end();
                }
            } else {
                HttpRequest prime = HttpRequest.newBuilder(cred.server().resolve("/version")).timeout(Duration.ofSeconds(60)).build();
                if (warmup > 0) {
                    HttpRequest[] w = requests(cred.server(), "bench-warmup", warmup);
                    Load.Result r = Load.run(warmup, clients, connections, () -> Http.client(cred.sslContext(), version), prime,
                            i -> w[i], 201, false);
                    System.out.println("  k3j warm-up: " + r.summary());
                }
                // the bodies are serialized before the clock starts: the load generator shares the CPUs with the server
                HttpRequest[] measured = requests(cred.server(), "bench", count);
                cpu = CpuWindow.start(s.pid());
                k3j = Load.run(count, clients, connections, () -> Http.client(cred.sslContext(), version), prime,
                        i -> measured[i], 201, true);
                cpu.end();
            }
            System.out.println("  k3j: " + k3j.summary() + "; " + Machine.load());
            cpu("k3j server", cpu.serverNanos(), cpu.selfNanos(), count);
            System.out.println("  k3j server CPU by thread, us per write: " + cpu.serverThreads(count));
            System.out.println("  load generator CPU by thread, us per write: " + cpu.selfThreads(count));
            // a generator that miscounted cannot fake a rate: every ConfigMap must now be there
            int missing = Env.missingNames(admin, cred.server().resolve("/api/v1/namespaces/bench/configmaps"), "cm-", count);
            admin.close();
            System.out.printf("  check: LIST of namespace bench holds all %d ConfigMaps cm-0..cm-%d: %s%n", count, count - 1,
                    missing == 0 ? "yes" : "NO, " + missing + " missing");
            if (missing != 0) {
                k3j = withErrors(k3j, missing, missing + " ConfigMaps missing from the LIST after the run");
            }
        }
        Load.Result etcd;
        Path dir = env.freshDir("etcd");
        try (Etcd e = Etcd.start(dir.resolve("data"), Env.freePort(), Env.freePort(), dir.resolve("etcd.log"))) {
            byte[] sample = k3j.bodies()[0] != null ? k3j.bodies()[0] : configMapJson(0).getBytes(StandardCharsets.UTF_8);
            byte[][] values = k3j.bodies();
            CpuWindow cpu;
            if (client.netty()) {
                try (NettyLoad gen = NettyLoad.http1(e.clientUrl(), null, clients, client.threads())) {
                    if (warmup > 0) {
                        NettyLoad.Request[] w = new NettyLoad.Request[warmup];
                        for (int i = 0; i < warmup; i++) {
                            w[i] = gen.request("POST", "/v3/kv/put", "application/json", putBody("/registry/configmaps/bench-warmup/cm-" + i, sample));
                        }
                        System.out.println("  etcd warm-up: " + gen.run(w, clients, 200, false).summary());
                    }
                    NettyLoad.Request[] puts = new NettyLoad.Request[count];
                    for (int i = 0; i < count; i++) {
                        puts[i] = gen.request("POST", "/v3/kv/put", "application/json",
                                putBody("/registry/configmaps/bench/cm-" + i, values[i] != null ? values[i] : sample));
                    }
                    cpu = CpuWindow.start(e.pid());
                    etcd = gen.run(puts, clients, 200, false);
                    cpu.end();
                }
            } else {
                if (warmup > 0) {
                    Load.Result w = Load.run(warmup, clients, () -> Http.client(null, HttpClient.Version.HTTP_1_1),
                            i -> put(e.clientUrl(), "/registry/configmaps/bench-warmup/cm-" + i, sample), 200, false);
                    System.out.println("  etcd warm-up: " + w.summary());
                }
                HttpRequest[] puts = new HttpRequest[count];
                for (int i = 0; i < count; i++) {
                    puts[i] = put(e.clientUrl(), "/registry/configmaps/bench/cm-" + i, values[i] != null ? values[i] : sample);
                }
                cpu = CpuWindow.start(e.pid());
                etcd = Load.run(count, clients, () -> Http.client(null, HttpClient.Version.HTTP_1_1), i -> puts[i], 200, false);
                cpu.end();
            }
            System.out.println("  etcd (pid " + e.pid() + ", " + Etcd.version() + "): " + etcd.summary() + "; " + Machine.load());
            cpu("etcd", cpu.serverNanos(), cpu.selfNanos(), count);
            System.out.println("  load generator CPU by thread, us per write: " + cpu.selfThreads(count));
            long keys = e.count("/registry/configmaps/bench/");
            System.out.printf("  check: etcd holds %d keys under /registry/configmaps/bench/ (expected %d): %s%n", keys, count, keys == count ? "yes" : "NO");
            if (keys != count) {
                etcd = withErrors(etcd, (int) Math.abs(count - keys), "etcd holds " + keys + " keys, expected " + count);
            }
        }
        double k = k3j.perSecond();
        System.out.printf("RESULT create k3j (load generator %s): %.0f/s, errors %d, target >= %.0f/s, ratio %.2fx of target -> %s%n",
                client.netty() ? "netty" : "jdk", k, k3j.errors(), TARGET_PER_SECOND, k / TARGET_PER_SECOND,
                k >= TARGET_PER_SECOND && k3j.errors() == 0 ? "MET" : "MISSED");
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

    private static NettyLoad.Request[] requests(NettyLoad gen, String ns, int count) {
        String path = "/api/v1/namespaces/" + ns + "/configmaps";
        NettyLoad.Request[] out = new NettyLoad.Request[count];
        for (int i = 0; i < count; i++) {
            out[i] = gen.request("POST", path, "application/json", configMapJson(i).getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }

    /** {@code r} with {@code more} errors added: what the check after the run found. */
    static Load.Result withErrors(Load.Result r, int more, String why) {
        return new Load.Result(r.total(), r.errors() + more, r.firstError() != null ? r.firstError() : why, r.elapsedNanos(),
                r.latencySorted(), r.bodies(), r.responseBytes());
    }

    /** The JSON body of etcd's gRPC gateway /v3/kv/put: key and value base64-encoded. */
    private static byte[] putBody(String key, byte[] value) {
        Base64.Encoder b64 = Base64.getEncoder();
        return ("{\"key\":\"" + b64.encodeToString(key.getBytes(StandardCharsets.UTF_8)) + "\",\"value\":\"" + b64.encodeToString(value) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static HttpRequest put(URI etcd, String key, byte[] value) {
        return HttpRequest.newBuilder(etcd.resolve("/v3/kv/put")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(putBody(key, value))).build();
    }
}
