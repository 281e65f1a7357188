package io.k3j.apiserver.watch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.testing.TestServers;
import io.k3j.store.sqlite.SqliteStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client's watch resumed across a server restart, as informers do: kube-apiserver's watch cache starts empty
 * too, but serves a watch from a revision etcd still has. Real control planes on one SQLite data dir.
 */
@DisplayName("A watch resumed after a restart replays what it missed from the store's history")
class RestartWatchResumeTest {
    /** Nothing in a bare control plane writes Secrets, so every event of the prefix is the test's. */
    static final String PREFIX = "/registry/core/secrets/";

    @TempDir Path dir;
    ControlPlane cp;

    @AfterEach
    void stop() {
        if (cp != null) cp.close();
    }

    private ControlPlane start() {
        return ControlPlane.start(TestServers.config(dir, null, ""));
    }

    private ResourceType secrets() {
        return cp.registry().find("", "v1", "secrets").orElseThrow();
    }

    private ObjectNode secret(String name, String value) {
        ObjectNode s = Json.object();
        s.putObject("metadata").put("name", name);
        s.putObject("stringData").put("k", value);
        return cp.objects().create(secrets(), "default", s, WriteOptions.system("test"));
    }

    private static String describe(CacheEvent e) {
        return e.type() + " " + Meta.name(e.object()) + "@" + e.revision();
    }

    @Test
    @DisplayName("Given a client that saw revision R, when the server restarts, then a watch from R gets exactly the later events")
    void resumeAfterRestart() throws Exception {
        cp = start();
        long seen = Long.parseLong(Meta.resourceVersion(secret("a", "1")));
        long b = Long.parseLong(Meta.resourceVersion(secret("b", "1")));
        long a2 = Long.parseLong(Meta.resourceVersion(cp.objects().updateWith(secrets(), "default", "a", "", WriteOptions.system("test"),
                o -> ((ObjectNode) o.get("data")).put("k", "Mg=="))));
        long bGone = Long.parseLong(Meta.resourceVersion(cp.objects().delete(secrets(), "default", "b", DeleteOptions.DEFAULT).object()));
        cp.close();

        cp = start(); // writes at start-up (its Lease, the kubernetes Endpoints): the revision moves on
        long c = Long.parseLong(Meta.resourceVersion(secret("c", "1")));
        try (CacheWatcher w = cp.objects().cache().cache(PREFIX).watch(seen, null, 100)) {
            List<CacheEvent> events = take(w, 4);
            assertThat(events).extracting(RestartWatchResumeTest::describe)
                    .containsExactly("ADDED b@" + b, "MODIFIED a@" + a2, "DELETED b@" + bGone, "ADDED c@" + c);
            assertThat(Meta.resourceVersion(events.get(2).object())).as("a DELETED object carries the deletion's revision")
                    .isEqualTo(Long.toString(bGone));
            assertThat(events.get(1).previous().path("data").path("k").asText()).as("a MODIFIED event's previous state").isEqualTo("MQ==");
            assertThat(new String(events.get(1).json().bytes(), java.nio.charset.StandardCharsets.UTF_8)).as("the JSON a watcher is sent").contains("\"resourceVersion\":\"" + a2 + "\"");
            assertThat(w.next(200, TimeUnit.MILLISECONDS)).as("nothing else").isNull();
        }
        try (CacheWatcher w = cp.objects().cache().cache(PREFIX).watch(a2, null, 100)) {
            assertThat(take(w, 2)).extracting(RestartWatchResumeTest::describe).containsExactly("DELETED b@" + bGone, "ADDED c@" + c);
        }
    }

    @Test
    @DisplayName("Given history compacted while the server was down, then a watch from before the compaction gets 410 and one after it replays")
    void compactedGetsGone() throws Exception {
        cp = start();
        long seen = Long.parseLong(Meta.resourceVersion(secret("a", "1")));
        secret("b", "1");
        long c = Long.parseLong(Meta.resourceVersion(secret("c", "1")));
        cp.close();
        cp = null;
        try (SqliteStore store = SqliteStore.open(dir.resolve("server").resolve("db").resolve("state.db"))) {
            store.compact(c);
        }

        cp = start();
        ResourceCache cache = cp.objects().cache().cache(PREFIX);
        assertThatThrownBy(() -> cache.watch(seen, null, 100)).isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(410));
        secret("d", "1");
        try (CacheWatcher w = cache.watch(c - 1, null, 100)) {
            assertThat(take(w, 2)).extracting(e -> Meta.name(e.object())).containsExactly("c", "d");
        }
    }

    private static List<CacheEvent> take(CacheWatcher w, int n) throws InterruptedException {
        List<CacheEvent> out = new ArrayList<>();
        while (out.size() < n) {
            CacheEvent e = w.next(5, TimeUnit.SECONDS);
            assertThat(e).as("event %d of %d (got %s)", out.size() + 1, n, out.stream().map(RestartWatchResumeTest::describe).toList()).isNotNull();
            out.add(e);
        }
        return out;
    }
}
