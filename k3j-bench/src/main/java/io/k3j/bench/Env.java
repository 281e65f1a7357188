package io.k3j.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/** Where benchmarks run: the repo with ./k3j, a scratch folder, and the server JVM flags in force. */
record Env(Path repo, Path work, String javaOpts) {

    private static final AtomicInteger SEQ = new AtomicInteger();

    /** A fresh, empty folder under the scratch folder. */
    Path freshDir(String name) throws IOException {
        Path d = work.resolve(name + "-" + SEQ.incrementAndGet());
        Files.createDirectories(d);
        return d;
    }

    /** Starts a server on a fresh data dir, with {@code extraArgs} after the standard flags, and waits for readyz. */
    K3jServer startServer(String name, String... extraArgs) throws IOException, InterruptedException {
        Path d = freshDir(name);
        K3jServer s = K3jServer.start(repo, d.resolve("data"), d.resolve("kubeconfig.yaml"), freePort(), javaOpts, d.resolve("server.log"), extraArgs);
        try {
            // generous: on a shared 2-CPU machine at load 20+ the server took 45-60 s to be ready (the startup
            // benchmark, which times this, keeps its own 60 s limit)
            s.awaitReady(Duration.ofSeconds(180));
        } catch (IOException | InterruptedException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** The flags the server JVM gets: K3J_JAVA_OPTS or, when unset, the launcher's default. */
    String describeJavaOpts() {
        return javaOpts != null ? javaOpts : System.getenv("K3J_JAVA_OPTS") != null ? System.getenv("K3J_JAVA_OPTS") : "(launcher default)";
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** POSTs a namespace; 201, or 409 when it already exists, are both fine. */
    static void createNamespace(HttpClient http, URI server, String name) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(json(server.resolve("/api/v1/namespaces"),
                "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + name + "\"}}"), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201 && r.statusCode() != 409) {
            throw new IOException("creating namespace " + name + ": " + r.statusCode() + " " + r.body());
        }
    }

    /**
     * GETs the list at {@code listUri} and returns how many of the names {@code prefix + 0 .. prefix + (count - 1)} it
     * lacks: the check after a load run that every answered create really made its object.
     *
     * @throws IOException if the LIST does not answer 200
     */
    static int missingNames(HttpClient http, URI listUri, String prefix, int count) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(listUri).header("Accept", "application/json")
                .timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new IOException("LIST " + listUri + " answered " + r.statusCode());
        }
        boolean[] seen = new boolean[count];
        for (com.fasterxml.jackson.databind.JsonNode item : new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("items")) {
            String name = item.path("metadata").path("name").asText();
            if (name.startsWith(prefix)) {
                try {
                    int i = Integer.parseInt(name.substring(prefix.length()));
                    if (i >= 0 && i < count) {
                        seen[i] = true;
                    }
                } catch (NumberFormatException other) {
                    // not one of ours
                }
            }
        }
        int missing = 0;
        for (boolean b : seen) {
            if (!b) missing++;
        }
        return missing;
    }

    static HttpRequest json(URI uri, String body) {
        return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }
}
