package io.k3j.apiserver.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Kills a server process with SIGKILL in the middle of a concurrent write load and restarts it on the same data
 * directory: every write the server acknowledged (2xx with a resourceVersion) must still be there, at that
 * version or a later one, and the server must come back ready and writable.
 */
class KillNineTest {
    private static final int WRITERS = 4;
    private static final int UPDATES_PER_OBJECT = 5;
    private static final Duration STARTUP = Duration.ofSeconds(90);

    private final List<Process> processes = new ArrayList<>();
    private Path dataDir;

    /** The newest acknowledged state of one ConfigMap: its sequence number and resourceVersion. */
    record Ack(int seq, long resourceVersion) {}

    @AfterEach
    void cleanUp() throws IOException {
        for (Process p : processes) {
            if (p.isAlive()) {
                p.destroyForcibly();
                try {
                    p.waitFor(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        if (dataDir != null) {
            try (Stream<Path> files = Files.walk(dataDir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    @Test
    @DisplayName("every acknowledged write survives kill -9 mid-load, and the server restarts cleanly")
    void acknowledgedWritesSurviveKill() throws Exception {
        dataDir = Files.createTempDirectory("k3j-kill9-");
        Process first = start("first");
        TlsClient client = client(first, "first");
        assertThat(client.get("/readyz").code()).isEqualTo(200);

        Map<String, Ack> acked = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger writes = new AtomicInteger();
        List<String> unexpected = new ArrayList<>();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            writers.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                for (int i = 0; !stop.get(); i++) {
                    String name = "load-" + writer + "-" + i;
                    String base = "/api/v1/namespaces/default/configmaps";
                    long lastRv = 0;
                    for (int seq = 0; seq <= UPDATES_PER_OBJECT && !stop.get(); seq++) {
                        String rv = seq == 0 ? "" : ",\"resourceVersion\":\"" + lastRv + "\"";
                        String body = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" + name + "\"" + rv + "},"
                                + "\"data\":{\"seq\":\"" + seq + "\",\"payload\":\"" + "p".repeat(200 + seq) + "\"}}";
                        TlsClient.Answer a;
                        try {
                            a = seq == 0 ? client.post(base, body)
                                    : client.send("PUT", base + "/" + name, "application/json", body.getBytes(StandardCharsets.UTF_8));
                        } catch (IOException e) {
                            return; // the server is gone: what it acknowledged so far is what counts
                        }
                        if (a.code() / 100 != 2) {
                            synchronized (unexpected) {
                                unexpected.add(name + " seq " + seq + ": " + a);
                            }
                            return;
                        }
                        lastRv = Long.parseLong(a.json().path("metadata").path("resourceVersion").asText());
                        acked.put(name, new Ack(seq, lastRv));
                        writes.incrementAndGet();
                    }
                }
            }));
        }
        // let the load run until a good number of writes is in, then kill the server while writers are busy
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (writes.get() < 300 && System.nanoTime() < deadline && unexpected.isEmpty()) Thread.sleep(20);
        int atKill = writes.get();
        first.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no store close
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).as("killed server exits").isTrue();
        stop.set(true);
        for (Thread t : writers) t.join(Duration.ofSeconds(60));
        assertThat(unexpected).as("writes answered with a non-2xx before the kill").isEmpty();
        assertThat(writes.get()).as("acknowledged writes before the kill").isGreaterThanOrEqualTo(50);
        System.out.printf("kill -9 after %d acknowledged writes (%d in total, %d objects)%n", atKill, writes.get(), acked.size());

        Process second = start("second");
        TlsClient after = client(second, "second");
        assertThat(after.get("/readyz").code()).as("readyz after restart").isEqualTo(200);
        List<String> lost = new ArrayList<>();
        for (Map.Entry<String, Ack> e : acked.entrySet()) {
            TlsClient.Answer got = after.get("/api/v1/namespaces/default/configmaps/" + e.getKey());
            if (got.code() != 200) {
                lost.add(e.getKey() + " acknowledged at seq " + e.getValue().seq() + ": " + got);
                continue;
            }
            JsonNode obj = got.json();
            int seq = Integer.parseInt(obj.path("data").path("seq").asText());
            long rv = Long.parseLong(obj.path("metadata").path("resourceVersion").asText());
            if (seq < e.getValue().seq() || rv < e.getValue().resourceVersion()) {
                lost.add(e.getKey() + " acknowledged seq " + e.getValue().seq() + " rv " + e.getValue().resourceVersion()
                        + " but found seq " + seq + " rv " + rv);
            }
        }
        assertThat(lost).as("acknowledged writes lost by kill -9 (of %d objects, %d writes)", acked.size(), writes.get()).isEmpty();

        // the restarted server takes writes and its list agrees with the gets
        TlsClient.Answer created = after.post("/api/v1/namespaces/default/configmaps",
                "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"after-restart\"},\"data\":{\"k\":\"v\"}}");
        assertThat(created.code()).as("create after restart: %s", created).isEqualTo(201);
        JsonNode list = after.get("/api/v1/namespaces/default/configmaps").json();
        long listed = 0;
        for (JsonNode item : list.get("items")) if (item.path("metadata").path("name").asText().startsWith("load-")) listed++;
        assertThat(listed).as("listed load objects").isGreaterThanOrEqualTo(acked.size());
        assertThat(Long.parseLong(list.path("metadata").path("resourceVersion").asText()))
                .isGreaterThan(acked.values().stream().mapToLong(Ack::resourceVersion).max().orElse(0));
        second.destroy();
        assertThat(second.waitFor(60, TimeUnit.SECONDS)).as("restarted server stops on SIGTERM").isTrue();
    }

    private Process start(String label) throws IOException, InterruptedException {
        Path ready = dataDir.resolve("ready-" + label);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), ServerProcessMain.class.getName(), dataDir.toString(), ready.toString())
                .redirectOutput(dataDir.resolve("server-" + label + ".out").toFile())
                .redirectError(dataDir.resolve("server-" + label + ".err").toFile());
        Process p = pb.start();
        processes.add(p);
        long deadline = System.nanoTime() + STARTUP.toNanos();
        while (!Files.exists(ready)) {
            if (!p.isAlive()) throw new AssertionError("server (" + label + ") exited with " + p.exitValue() + ":\n" + log(label));
            if (System.nanoTime() > deadline) throw new AssertionError("server (" + label + ") did not start in " + STARTUP + ":\n" + log(label));
            Thread.sleep(50);
        }
        return p;
    }

    private String log(String label) throws IOException {
        Path err = dataDir.resolve("server-" + label + ".err");
        return Files.exists(err) ? Files.readString(err) : "";
    }

    private TlsClient client(Process p, String label) throws IOException {
        int port = Integer.parseInt(Files.readString(dataDir.resolve("ready-" + label)).trim());
        JsonNode kubeconfig = Json.parseYamlOrJson(Files.readAllBytes(dataDir.resolve("kubeconfig.yaml")));
        String ca = decode(kubeconfig.at("/clusters/0/cluster/certificate-authority-data").asText());
        String cert = decode(kubeconfig.at("/users/0/user/client-certificate-data").asText());
        String key = decode(kubeconfig.at("/users/0/user/client-key-data").asText());
        return new TlsClient(port, ca, cert, key);
    }

    private static String decode(String b64) {
        return new String(Base64.getDecoder().decode(b64), StandardCharsets.US_ASCII);
    }
}
