package io.k3j.apiserver.endpoints;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.testing.TestServers;
import io.k3j.store.testing.MariaDb;
import io.k3j.store.testing.Postgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API server on the external SQL datastores (--datastore-endpoint postgres:// and mysql://): ConfigMaps are
 * created, listed and watched through HTTPS, and a second server on the same database sees the first one's
 * writes through its own watch, as in an HA setup with an external database.
 */
class ExternalDatastoreApiTest {
    @TempDir Path dir;

    @Test
    @DisplayName("postgres://: create, list and watch ConfigMaps through the API; a second server watches the first")
    void postgres() throws Exception {
        try (Postgres pg = Postgres.start()) {
            scenario(pg.endpoint("k3j_api"));
        }
    }

    @Test
    @DisplayName("mysql://: create, list and watch ConfigMaps through the API; a second server watches the first")
    void mysql() throws Exception {
        try (MariaDb db = MariaDb.start()) {
            scenario(db.endpoint("k3j_api"));
        }
    }

    private void scenario(String endpoint) throws Exception {
        try (ControlPlane first = start(endpoint, dir.resolve("server-0"))) {
            Api a = new Api(first);
            JsonNode created = a.call("POST", CONFIGMAPS, configMap("one", "1"));
            assertThat(created.path("metadata").path("name").asText()).isEqualTo("one");
            JsonNode list = a.call("GET", CONFIGMAPS + "?" + SELECTOR, null);
            assertThat(list.path("items")).extracting(i -> i.path("metadata").path("name").asText()).containsExactly("one");
            String rv = list.path("metadata").path("resourceVersion").asText();

            // a second server of the same cluster has the same CA (k3s hands it over at join)
            copyTree(first.config().serverDir().resolve("tls"), dir.resolve("server-1").resolve("server").resolve("tls"));
            try (ControlPlane second = start(endpoint, dir.resolve("server-1"))) {
                Api b = new Api(second);
                // the second server's list already has what the first wrote; a client watches from the
                // resourceVersion of a list it got from the same server (a fresh server's watch cache starts at
                // its own start, and answers an older resourceVersion with 410 Gone, as kube-apiserver does)
                JsonNode list2 = b.call("GET", CONFIGMAPS + "?" + SELECTOR, null);
                assertThat(list2.path("items")).extracting(i -> i.path("metadata").path("name").asText()).containsExactly("one");
                String rv2 = list2.path("metadata").path("resourceVersion").asText();
                try (Watcher onFirst = a.watch(CONFIGMAPS + "?" + SELECTOR + "&watch=true&resourceVersion=" + rv);
                     Watcher onSecond = b.watch(CONFIGMAPS + "?" + SELECTOR + "&watch=true&resourceVersion=" + rv2)) {
                    writeAndWatch(a, b, onFirst, onSecond);
                }
            }
        }
    }

    /** Writes through both servers; each server's watch sees every change, in order. */
    private static void writeAndWatch(Api a, Api b, Watcher onFirst, Watcher onSecond) throws Exception {
        a.call("POST", CONFIGMAPS, configMap("two", "2"));
        JsonNode changed = a.call("GET", CONFIGMAPS + "/one", null);
        ((com.fasterxml.jackson.databind.node.ObjectNode) changed.path("data")).put("k", "changed");
        a.call("PUT", CONFIGMAPS + "/one", Json.string(changed));
        b.call("DELETE", CONFIGMAPS + "/two", null);

        for (Watcher w : List.of(onFirst, onSecond)) {
            assertThat(w.next()).isEqualTo("ADDED two 2");
            assertThat(w.next()).isEqualTo("MODIFIED one changed");
            assertThat(w.next()).isEqualTo("DELETED two 2");
        }
    }

    private static final String CONFIGMAPS = "/api/v1/namespaces/default/configmaps";
    /** Leaves out the servers' own kube-root-ca.crt ConfigMap. */
    private static final String SELECTOR = "labelSelector=test%3Djdbc";

    private static String configMap(String name, String value) {
        return """
                {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s","labels":{"test":"jdbc"}},"data":{"k":"%s"}}""".formatted(name, value);
    }

    private static ControlPlane start(String endpoint, Path serverDir) throws Exception {
        Files.createDirectories(serverDir);
        return ControlPlane.start(TestServers.config(serverDir, null, endpoint));
    }

    private static void copyTree(Path from, Path to) throws java.io.IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    /** An HTTPS client of one server, authenticated as its admin. */
    private static final class Api {
        private final HttpClient http;
        private final String base;

        Api(ControlPlane cp) throws Exception {
            this.http = HttpClient.newBuilder().sslContext(TestServers.adminTls(cp)).build();
            this.base = "https://127.0.0.1:" + cp.port();
        }

        JsonNode call(String method, String path, String body) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                    .header("Accept", "application/json");
            b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                    : b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isBetween(200, 299);
            return Json.parse(r.body().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }

        Watcher watch(String path) throws Exception {
            HttpRequest req = HttpRequest.newBuilder(URI.create(base + path)).header("Accept", "application/json").build();
            HttpResponse<Stream<String>> r = http.send(req, HttpResponse.BodyHandlers.ofLines());
            assertThat(r.statusCode()).isEqualTo(200);
            return new Watcher(r.body());
        }
    }

    /** The events of one watch stream as "TYPE name data.k", read on a virtual thread. */
    private static final class Watcher implements AutoCloseable {
        private final Stream<String> lines;
        private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
        private final CompletableFuture<Void> reader;

        Watcher(Stream<String> lines) {
            this.lines = lines;
            this.reader = CompletableFuture.runAsync(() -> {
                Iterator<String> it = lines.iterator();
                while (it.hasNext()) {
                    String line = it.next();
                    if (line.isBlank()) continue;
                    JsonNode e = Json.parse(line.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    if (e.path("type").asText().equals("BOOKMARK")) continue;
                    JsonNode o = e.path("object");
                    if (e.path("type").asText().equals("ERROR")) {
                        events.add("ERROR " + o.path("code").asText() + " " + o.path("message").asText());
                        continue;
                    }
                    events.add(e.path("type").asText() + " " + o.path("metadata").path("name").asText() + " "
                            + o.path("data").path("k").asText());
                }
            }, r -> Thread.ofVirtual().start(r));
        }

        String next() throws InterruptedException {
            String e = events.poll(20, TimeUnit.SECONDS);
            assertThat(e).as("a watch event within 20 s").isNotNull();
            return e;
        }

        @Override
        public void close() {
            lines.close();
            reader.cancel(true);
        }
    }
}
