package io.k3j.apiserver.watch;

import static io.k3j.apiserver.registry.TestApi.apiError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3j.api.ApiException;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.ListOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.TestApi;
import io.k3j.apiserver.resource.ResourceType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("WatchCache serves watches as kube-apiserver's cacher does")
class WatchCacheTest {
    static final String PREFIX = "/registry/core/configmaps/";

    TestApi api;

    @AfterEach
    void close() {
        if (api != null) api.close();
    }

    static List<CacheEvent> take(CacheWatcher w, int n) throws InterruptedException {
        List<CacheEvent> out = new ArrayList<>();
        while (out.size() < n) {
            CacheEvent e = w.next(5, TimeUnit.SECONDS);
            assertThat(e).as("event %d of %d", out.size() + 1, n).isNotNull();
            out.add(e);
        }
        return out;
    }

    static String describe(CacheEvent e) {
        return e.type() + " " + Meta.name(e.object()) + "@" + e.revision();
    }

    @Test
    @DisplayName("a watch from a revision in the window replays every later event, then continues live")
    void replayFromRevision() throws Exception {
        api = TestApi.start();
        api.configMap("default", "a");
        long from = api.store.currentRevision();
        api.configMap("default", "b");
        api.objects.delete(api.type("configmaps"), "default", "a", DeleteOptions.DEFAULT);
        api.cache.sync();
        long b = from + 1;
        long del = from + 2;
        try (CacheWatcher w = api.cache.cache(PREFIX).watch(from, null, 100)) {
            api.configMap("default", "c");
            List<CacheEvent> events = take(w, 3);
            assertThat(events).extracting(WatchCacheTest::describe)
                    .containsExactly("ADDED b@" + b, "DELETED a@" + del, "ADDED c@" + (del + 1));
            CacheEvent deleted = events.get(1);
            assertThat(Meta.resourceVersion(deleted.object())).as("a DELETED object carries the deletion's revision").isEqualTo(Long.toString(del));
            assertThat(Meta.resourceVersion(deleted.previous())).isEqualTo(Long.toString(from));
            assertThat(w.next(50, TimeUnit.MILLISECONDS)).isNull();
        }
    }

    @Test
    @DisplayName("Events, cached as bytes, read, list and watch like any object, with their resourceVersion and previous state")
    void eventsCachedAsBytes() throws Exception {
        api = TestApi.start();
        String events = "/registry/core/events/";
        String body = "{\"metadata\":{\"name\":\"e1\"},\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\",\"namespace\":\"default\"},"
                + "\"reason\":\"Scheduled\",\"message\":\"Successfully assigned default/p to n1\",\"type\":\"Normal\",\"count\":1}";
        api.create("events", "default", body);
        long from = api.store.currentRevision();
        ResourceType ev = api.type("events");
        api.objects.updateWith(ev, "default", "e1", "", io.k3j.apiserver.registry.WriteOptions.system("test"), o -> o.put("count", 2));
        api.objects.updateWith(ev, "default", "e1", "", io.k3j.apiserver.registry.WriteOptions.system("test"), o -> o.put("count", 3));
        long third = api.store.currentRevision();
        api.cache.sync();

        ResourceCache c = api.cache.cache(events);
        assertThat(c.bytesOnly()).isTrue();
        CachedObject cached = c.get(events + "default/e1");
        assertThat(cached.json()).as("no tree is kept, so no shared serialization either").isNull();
        assertThat(cached.object().get("count").asInt()).isEqualTo(3);
        assertThat(Meta.resourceVersion(cached.object())).isEqualTo(Long.toString(third));
        assertThat(cached.object()).as("a fresh tree per read: changing one doesn't change the cache").isNotSameAs(cached.object());

        assertThat(api.find("events", "default", "e1").get("message").asText()).isEqualTo("Successfully assigned default/p to n1");
        var list = api.objects.list(ev, "default", ListOptions.ALL);
        assertThat(list.items()).singleElement().satisfies(o -> assertThat(o.get("count").asInt()).isEqualTo(3));

        try (CacheWatcher w = c.watch(from, null, 100)) {
            List<CacheEvent> replay = take(w, 2);
            assertThat(replay).extracting(e -> e.type() + " " + e.object().get("count") + " after " + e.previous().get("count")
                    + " rv " + Meta.resourceVersion(e.object()) + " prev rv " + Meta.resourceVersion(e.previous()))
                    .containsExactly("MODIFIED 2 after 1 rv " + (from + 1) + " prev rv " + from, "MODIFIED 3 after 2 rv " + third + " prev rv " + (from + 1));
            api.objects.delete(ev, "default", "e1", DeleteOptions.DEFAULT);
            CacheEvent deleted = take(w, 1).getFirst();
            assertThat(deleted.type()).isEqualTo(CacheEvent.Type.DELETED);
            assertThat(deleted.object().get("count").asInt()).isEqualTo(3);
            assertThat(Meta.resourceVersion(deleted.previous())).isEqualTo(Long.toString(third));
        }
        api.cache.sync();
        assertThat(c.get(events + "default/e1")).isNull();
        try (CacheWatcher w = c.watch(0, events, 10)) {
            assertThat(w.hasInitial()).isFalse();
        }
    }

    @Test
    @DisplayName("a watch from a revision older than the window: 410 Expired 'too old resource version: N (M)'")
    void tooOld() {
        api = TestApi.start(3, true);
        for (int i = 0; i < 6; i++) api.configMap("default", "cm" + i);
        api.cache.sync();
        long first = api.store.currentRevision() - 5;
        ApiException e = apiError(() -> api.cache.cache(PREFIX).watch(first - 1, null, 10));
        assertThat(e.code()).isEqualTo(410);
        assertThat(e.reason()).isEqualTo("Expired");
        assertThat(e.getMessage()).matches("too old resource version: " + (first - 1) + " \\(\\d+\\)");
        // the newest three events are still there
        long inWindow = api.store.currentRevision() - 3;
        assertThat(api.cache.cache(PREFIX).watch(inWindow, null, 10).hasInitial()).isTrue();
    }

    @Test
    @DisplayName("the window is bounded in bytes too: large objects keep its newest 100 events, older revisions get 410 Expired")
    void windowBoundedInBytes() {
        api = TestApi.start();
        String big = "x".repeat(100 * 1024);
        int writes = ResourceCache.WINDOW_MIN + 50; // ~15 MB of values, more than WINDOW_BYTES (8 MiB)
        long first = api.store.currentRevision() + 1;
        for (int i = 0; i < writes; i++) {
            api.create("configmaps", "default", "{\"metadata\":{\"name\":\"cm" + i + "\"},\"data\":{\"k\":\"" + big + "\"}}");
        }
        api.cache.sync();
        long last = api.store.currentRevision();
        ResourceCache c = api.cache.cache(PREFIX);
        assertThat(apiError(() -> c.watch(first, null, writes + 10)).code()).as("the oldest events are gone").isEqualTo(410);
        long newest100 = last - ResourceCache.WINDOW_MIN;
        try (CacheWatcher w = c.watch(newest100, null, writes + 10)) {
            assertThat(w.hasInitial()).as("the newest %d events are kept whatever their size", ResourceCache.WINDOW_MIN).isTrue();
        }
        assertThat(c.list(PREFIX + "default/").objects()).as("the bound drops events, never objects").hasSize(writes);
    }

    @Test
    @DisplayName("a watch without resourceVersion starts with a synthetic ADDED for every current object, then live events")
    void initialEvents() throws Exception {
        api = TestApi.start();
        api.namespace("other");
        api.configMap("default", "a");
        api.configMap("default", "b");
        api.configMap("other", "c");
        api.cache.sync();
        try (CacheWatcher w = api.cache.cache(PREFIX).watch(0, PREFIX + "default/", 100)) {
            assertThat(w.initialRevision()).isEqualTo(api.store.currentRevision());
            api.configMap("default", "d");
            List<CacheEvent> events = take(w, 3);
            assertThat(events).extracting(e -> e.type() + " " + Meta.name(e.object()))
                    .containsExactly("ADDED a", "ADDED b", "ADDED d");
        }
    }

    @Test
    @DisplayName("events reach a watcher in revision order, one per write")
    void ordered() throws Exception {
        api = TestApi.start();
        api.configMap("default", "x");
        api.cache.sync();
        ResourceType cms = api.type("configmaps");
        try (CacheWatcher w = api.cache.cache(PREFIX).watch(api.store.currentRevision(), null, 1000)) {
            for (int i = 0; i < 50; i++) {
                api.objects.updateWith(cms, "default", "x", "", io.k3j.apiserver.registry.WriteOptions.system("t"), o -> {
                    o.withObjectProperty("data").put("n", Integer.toString(o.at("/data/n").asInt(0) + 1));
                    return o;
                });
            }
            List<CacheEvent> events = take(w, 50);
            for (int i = 1; i < events.size(); i++) {
                assertThat(events.get(i).revision()).isEqualTo(events.get(i - 1).revision() + 1);
                assertThat(events.get(i).previous()).isEqualTo(events.get(i - 1).object());
            }
            assertThat(events.getLast().object().at("/data/n").asText()).isEqualTo("50");
        }
    }

    @Test
    @DisplayName("a watcher that falls behind is terminated (the client re-watches); the others get every event")
    void slowWatcherTerminated() throws Exception {
        api = TestApi.start();
        api.cache.sync();
        ResourceCache c = api.cache.cache(PREFIX);
        long from = api.store.currentRevision();
        try (CacheWatcher slow = c.watch(from, null, 2); CacheWatcher fast = c.watch(from, null, 100)) {
            for (int i = 0; i < 10; i++) api.configMap("default", "cm" + i);
            assertThat(take(fast, 10)).extracting(e -> Meta.name(e.object())).startsWith("cm0").endsWith("cm9");
            assertThat(slow.ended()).isTrue();
            assertThatThrownBy(() -> slow.next(1, TimeUnit.SECONDS)).isInstanceOf(CacheWatcher.WatchEndedException.class);
        }
        assertThat(c.watcherCount()).isZero();
    }

    @Test
    @DisplayName("a cache created at run time (a new custom resource) loads what was written before and follows what comes after")
    void cacheCreatedAtRuntime() throws Exception {
        api = TestApi.start(100, false);
        api.configMap("default", "before");
        api.cache.sync();
        ResourceCache c = api.cache.cache(PREFIX);
        long created = c.revision();
        assertThat(created).isEqualTo(api.store.currentRevision());
        assertThat(c.list(PREFIX).objects()).extracting(o -> Meta.name(o.object())).containsExactly("before");
        assertThat(c.get(PREFIX + "default/before").modRevision()).isEqualTo(created);

        try (CacheWatcher w = c.watch(created, null, 10)) {
            api.configMap("default", "after");
            assertThat(take(w, 1)).extracting(WatchCacheTest::describe).containsExactly("ADDED after@" + (created + 1));
        }
        assertThat(api.objects.list(api.type("configmaps"), "default", ListOptions.ALL).items())
                .extracting(Meta::name).containsExactly("after", "before");
        assertThat(apiError(() -> c.watch(created - 1, null, 10)).code()).as("before the cache existed").isEqualTo(410);
    }

    @Test
    @DisplayName("waitFor returns once the revision is dispatched, and fails with 504 'Timeout: Too large resource version' when it isn't in time")
    void waitFor() {
        api = TestApi.start();
        api.configMap("default", "a");
        api.cache.waitFor(api.store.currentRevision(), 5000);
        assertThat(api.cache.revision()).isEqualTo(api.store.currentRevision());
        long target = api.store.currentRevision() + 10;
        long t0 = System.nanoTime();
        ApiException e = apiError(() -> api.cache.waitFor(target, 200));
        assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(190L, 3_000L);
        assertThat(e.code()).isEqualTo(504);
        assertThat(e.reason()).isEqualTo("Timeout");
        assertThat(e.getMessage()).isEqualTo("Timeout: Too large resource version: " + target + ", current: " + api.store.currentRevision());
    }

    @Test
    @DisplayName("closing the cache ends every watcher")
    void closeEndsWatchers() {
        api = TestApi.start();
        api.cache.sync();
        CacheWatcher w = api.cache.cache(PREFIX).watch(api.store.currentRevision(), null, 10);
        api.cache.close();
        assertThat(w.ended()).isTrue();
        assertThatThrownBy(() -> w.next(1, TimeUnit.SECONDS)).isInstanceOf(CacheWatcher.WatchEndedException.class);
    }
}
