package io.k3j.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A single-member etcd on loopback with its own data dir, the anchor for write throughput; stopped by PID. */
final class Etcd implements AutoCloseable {

    private final Process process;
    private final URI client;

    private Etcd(Process process, URI client) {
        this.process = process;
        this.client = client;
    }

    /**
     * Starts {@code etcd} (from PATH) and waits until {@code /health} answers.
     *
     * @throws IOException if etcd is missing, exits, or is not healthy within 30 s
     */
    static Etcd start(Path dataDir, int clientPort, int peerPort, Path log) throws IOException, InterruptedException {
        Files.createDirectories(dataDir);
        String c = "http://127.0.0.1:" + clientPort;
        String p = "http://127.0.0.1:" + peerPort;
        Process proc = new ProcessBuilder(List.of("etcd", "--name", "bench", "--data-dir", dataDir.toString(),
                "--listen-client-urls", c, "--advertise-client-urls", c,
                "--listen-peer-urls", p, "--initial-advertise-peer-urls", p,
                "--initial-cluster", "bench=" + p, "--initial-cluster-state", "new",
                "--log-level", "warn"))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Processes.track(proc);
        Etcd etcd = new Etcd(proc, URI.create(c));
        HttpClient http = Http.client(null, HttpClient.Version.HTTP_1_1);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (!proc.isAlive()) {
                throw new IOException("etcd exited with " + proc.exitValue() + "; log: " + log);
            }
            try {
                if (http.send(HttpRequest.newBuilder(etcd.client.resolve("/health")).build(),
                        HttpResponse.BodyHandlers.ofString()).body().contains("true")) {
                    http.close();
                    return etcd;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(20);
        }
        etcd.close();
        throw new IOException("etcd not healthy within 30 s; log: " + log);
    }

    URI clientUrl() {
        return client;
    }

    long pid() {
        return process.pid();
    }

    /**
     * How many keys start with {@code prefix}, by the gateway's /v3/kv/range with count_only.
     *
     * @throws IOException if etcd does not answer 200
     */
    long count(String prefix) throws IOException, InterruptedException {
        byte[] p = prefix.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] end = p.clone();
        end[end.length - 1]++;
        java.util.Base64.Encoder b64 = java.util.Base64.getEncoder();
        String body = "{\"key\":\"" + b64.encodeToString(p) + "\",\"range_end\":\"" + b64.encodeToString(end) + "\",\"count_only\":true}";
        HttpClient http = Http.client(null, HttpClient.Version.HTTP_1_1);
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(client.resolve("/v3/kv/range"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IOException("etcd /v3/kv/range answered " + r.statusCode() + " " + r.body());
            }
            // int64 fields are JSON strings in the gateway's answer, and left out when 0
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("count").asLong(0);
        } finally {
            http.close();
        }
    }

    /** The version line of the etcd binary on PATH. */
    static String version() {
        try {
            Process p = new ProcessBuilder("etcd", "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor();
            return out.lines().findFirst().orElse("?").strip();
        } catch (IOException | InterruptedException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        Processes.stop(process);
    }
}
