package io.k3j.apiserver.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.testing.TestServers;
import io.k3j.store.testing.EtcdServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import javax.net.ssl.SSLContext;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The API server on an external etcd ({@code --datastore-endpoint http://...}), driven by the real kubectl. */
class EtcdDatastoreTest {
    @TempDir static Path dir;
    private static EtcdServer etcd;
    private static ControlPlane cp;
    private static Path kubeconfig;

    @BeforeAll
    static void start() {
        EtcdServer.ensureInstalled();
        etcd = EtcdServer.start(dir.resolve("etcd"));
        kubeconfig = dir.resolve("kubeconfig");
        cp = ControlPlane.start(TestServers.config(dir.resolve("server"), kubeconfig, etcd.clientUrl().toString()));
    }

    @AfterAll
    static void stop() {
        if (cp != null) cp.close();
        if (etcd != null) etcd.close();
    }

    @Test
    @DisplayName("a ConfigMap is created, listed and watched through the API, and lands in etcd under its registry key")
    void configMap() throws Exception {
        LinkedBlockingQueue<String> watched = new LinkedBlockingQueue<>();
        Process watch = new ProcessBuilder(kubectlCommand("get", "configmaps", "-n", "default", "--watch-only",
                "--output-watch-events", "-o", "custom-columns=EVENT:type,NAME:object.metadata.name,V:object.data.k", "--no-headers"))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        CompletableFuture.runAsync(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(watch.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) watched.add(line.trim().replaceAll("\\s+", " "));
            } catch (Exception e) {
                // the process ended
            }
        });
        try {
            Thread.sleep(1000); // let the watch start; it only sees what comes after it
            kubectl(null, "create", "configmap", "settings", "-n", "default", "--from-literal=k=v1");
            kubectl(null, "patch", "configmap", "settings", "-n", "default", "-p", "{\"data\":{\"k\":\"v2\"}}");
            assertThat(kubectl(null, "get", "configmaps", "-n", "default", "-o", "jsonpath={.items[*].metadata.name}"))
                    .contains("settings");
            assertThat(kubectl(null, "get", "configmap", "settings", "-n", "default", "-o", "jsonpath={.data.k}")).isEqualTo("v2");
            kubectl(null, "delete", "configmap", "settings", "-n", "default");

            List<String> events = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (events.size() < 3 && System.nanoTime() < deadline) {
                String line = watched.poll(500, TimeUnit.MILLISECONDS);
                if (line != null && line.contains("settings")) events.add(line);
            }
            assertThat(events).containsExactly("ADDED settings v1", "MODIFIED settings v2", "DELETED settings v2");
        } finally {
            watch.destroy();
            watch.waitFor(10, TimeUnit.SECONDS);
        }

        // the store is etcd itself: the API server's object is there under its native key
        try (io.k3j.store.etcd.EtcdStore store = io.k3j.store.etcd.EtcdStore.open(List.of(etcd.clientUrl()), null)) {
            assertThat(store.range("/registry/core/namespaces/", null, 0, 0).kvs())
                    .extracting(io.k3j.store.KeyValue::key).anyMatch(k -> k.endsWith("/default"));
        }
    }

    @Test
    @DisplayName("creates per second: straight into etcd through the store, and as ConfigMaps through the API, same etcd, same run")
    void throughput() throws Exception {
        int count = 2000;
        int clients = 16;
        byte[] value = new byte[1024];
        java.util.Arrays.fill(value, (byte) 'v');
        double direct;
        try (io.k3j.store.etcd.EtcdStore store = io.k3j.store.etcd.EtcdStore.open(List.of(etcd.clientUrl()), null)) {
            direct = load(count, clients, i -> store.create("/bench/direct/" + i, value));
        }
        SSLContext tls = TestServers.adminTls(cp);
        List<HttpClient> https = new ArrayList<>();
        for (int t = 0; t < clients; t++) https.add(HttpClient.newBuilder().sslContext(tls).build());
        String url = "https://127.0.0.1:" + cp.port() + "/api/v1/namespaces/default/configmaps";
        String data = "v".repeat(900);
        double api = load(count, clients, i -> {
            HttpClient c = https.get((int) (Thread.currentThread().threadId() % clients));
            String body = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"bench-" + i + "\"},\"data\":{\"k\":\"" + data + "\"}}";
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 201) throw new AssertionError("create " + i + ": " + r.statusCode() + " " + r.body());
        });
        https.forEach(HttpClient::close);
        System.out.printf("etcd creates/s, %d from %d clients: store direct %.0f/s, API (ConfigMaps over HTTPS) %.0f/s, ratio %.2f%n",
                count, clients, direct, api, api / direct);
        // floors far below what an idle machine does, so only a broken path (e.g. a call waiting out a timeout) fails
        assertThat(direct).isGreaterThan(10);
        assertThat(api).isGreaterThan(10);
    }

    interface Op {
        void run(int i) throws Exception;
    }

    /** Runs ops 0..count-1 from {@code clients} threads; ops per second. */
    private static double load(int count, int clients, Op op) throws Exception {
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        java.util.Queue<Throwable> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int t = 0; t < clients; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i; (i = next.getAndIncrement()) < count; ) {
                    try {
                        op.run(i);
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }
            }));
        }
        for (Thread t : threads) t.join();
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(failures).isEmpty();
        return count / seconds;
    }

    private static List<String> kubectlCommand(String... args) {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/kubectl", "--kubeconfig", kubeconfig.toString(), "--cache-dir",
                dir.resolve("cache").toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static String kubectl(String stdin, String... args) throws Exception {
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        Process p = new ProcessBuilder(kubectlCommand(args)).redirectError(err.toFile()).start();
        if (stdin != null) p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kubectl finished").isTrue();
        assertThat(p.exitValue()).as("kubectl " + String.join(" ", args) + ": " + Files.readString(err)).isZero();
        return out;
    }
}
