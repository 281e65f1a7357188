package io.k3j.apiserver.endpoints;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.testing.TestServers;
import io.k3j.apiserver.watch.ResourceCache;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A watch's thread waits for events without a timeout and a timer wakes it (see CacheWatcher.next()): the watch
 * must still end at its timeoutSeconds, and a client that goes away must free its watcher at once.
 */
@DisplayName("A watch ends at its timeout and when its client leaves")
class WatchLifetimeTest {
    @TempDir static Path dir;
    private static ControlPlane cp;
    private static HttpClient http;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        cp = TestServers.start(dir);
        base = "https://127.0.0.1:" + cp.port();
        http = HttpClient.newBuilder().sslContext(TestServers.adminTls(cp)).build();
    }

    @AfterAll
    static void stop() {
        http.shutdownNow();
        cp.close();
    }

    private static ResourceCache configMaps() {
        return cp.objects().cache().cache("/registry/core/configmaps/");
    }

    @Test
    @DisplayName("timeoutSeconds=1 ends the stream after about a second, with or without bookmarks")
    void timeout() throws Exception {
        for (String bookmarks : List.of("", "&allowWatchBookmarks=true")) {
            long t0 = System.nanoTime();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base
                    + "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1" + bookmarks)).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(ms).as("watch with timeoutSeconds=1%s lasted", bookmarks).isBetween(900L, 10_000L);
        }
    }

    @Test
    @DisplayName("a client that closes its watch frees the server's watcher, and events still reach the other watches")
    void clientGone() throws Exception {
        int before = configMaps().watcherCount();
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(base
                + "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0")).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        awaitWatchers(before + 1);
        HttpResponse<InputStream> other = http.send(HttpRequest.newBuilder(URI.create(base
                + "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0")).build(), HttpResponse.BodyHandlers.ofInputStream());
        awaitWatchers(before + 2);
        r.body().close();
        awaitWatchers(before + 1);
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/namespaces/default/configmaps"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"lifetime\"}}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).isEqualTo(201);
        try (var lines = new BufferedReader(new InputStreamReader(other.body(), StandardCharsets.UTF_8))) {
            String event;
            do {
                // the initial events (resourceVersion=0: the namespace's kube-root-ca.crt) come first
                event = lines.readLine();
                assertThat(event).as("the other watch's stream").isNotNull();
            } while (!event.contains("\"name\":\"lifetime\""));
            assertThat(event).startsWith("{\"type\":\"ADDED\",\"object\":{").endsWith("}");
        }
        awaitWatchers(before);
    }

    private static void awaitWatchers(int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (configMaps().watcherCount() != n && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(configMaps().watcherCount()).as("server-side watchers of configmaps").isEqualTo(n);
    }
}
