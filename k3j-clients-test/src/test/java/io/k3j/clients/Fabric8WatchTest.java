package io.k3j.clients;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("fabric8 kubernetes-client against a real k3j server: watches and informers")
class Fabric8WatchTest {
    private static final AtomicInteger SEQ = new AtomicInteger();
    @TempDir
    static Path dataDir;
    static K3jServer server;
    static KubernetesClient client;
    String ns;

    @BeforeAll
    static void startServer() {
        server = K3jServer.start(dataDir);
        client = Fabric8.client(server);
    }

    @AfterAll
    static void stopServer() {
        if (client != null) client.close();
        if (server != null) server.close();
    }

    @BeforeEach
    void namespace() {
        ns = "w-" + SEQ.incrementAndGet();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
    }

    static ConfigMap configMap(String name, String value) {
        return new ConfigMapBuilder().withNewMetadata().withName(name).addToLabels("app", "w").endMetadata()
                .addToData("v", value).build();
    }

    record Event(Watcher.Action action, String name, String value, String resourceVersion) {
        static Event of(Watcher.Action action, ConfigMap cm) {
            return new Event(action, cm.getMetadata().getName(), cm.getData() == null ? null : cm.getData().get("v"),
                    cm.getMetadata().getResourceVersion());
        }

        @Override
        public String toString() {
            return action + " " + name + "=" + value;
        }
    }

    /** Collects watch events into a queue. */
    static final class Collector implements Watcher<ConfigMap> {
        final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        final CompletableFuture<WatcherException> closed = new CompletableFuture<>();

        @Override
        public void eventReceived(Action action, ConfigMap resource) {
            events.add(Event.of(action, resource));
        }

        @Override
        public void onClose(WatcherException cause) {
            closed.complete(cause);
        }

        @Override
        public void onClose() {
            closed.complete(null);
        }

        Event next() throws InterruptedException {
            Event e = events.poll(10, TimeUnit.SECONDS);
            assertThat(e).as("a watch event within 10s").isNotNull();
            return e;
        }
    }

    @Test
    @DisplayName("watch: ADDED, MODIFIED, DELETED in order, each with the object's new resourceVersion")
    void watchSeesChanges() throws Exception {
        var cms = client.configMaps().inNamespace(ns);
        Collector c = new Collector();
        // the label keeps out kube-root-ca.crt, which the root CA publisher adds to every namespace
        try (Watch w = cms.withLabel("app", "w").watch(c)) {
            ConfigMap created = cms.resource(configMap("a", "1")).create();
            ConfigMap updated = cms.withName("a").edit(x -> new ConfigMapBuilder(x).addToData("v", "2").build());
            cms.withName("a").delete();

            Event added = c.next();
            Event modified = c.next();
            Event deleted = c.next();
            assertThat(List.of(added, modified, deleted)).map(Event::toString)
                    .containsExactly("ADDED a=1", "MODIFIED a=2", "DELETED a=2");
            assertThat(added.resourceVersion()).isEqualTo(created.getMetadata().getResourceVersion());
            assertThat(modified.resourceVersion()).isEqualTo(updated.getMetadata().getResourceVersion());
            assertThat(Long.parseLong(deleted.resourceVersion())).isGreaterThan(Long.parseLong(modified.resourceVersion()));
        }
        assertThat(c.closed.get(5, TimeUnit.SECONDS)).as("closed by the client, no error").isNull();
    }

    @Test
    @DisplayName("watch from a resourceVersion replays what happened after it; label selectors filter events")
    void watchFromResourceVersionWithSelector() throws Exception {
        var cms = client.configMaps().inNamespace(ns);
        String rv = cms.resource(configMap("before", "0")).create().getMetadata().getResourceVersion();
        cms.resource(configMap("after", "1")).create();
        cms.resource(new ConfigMapBuilder().withNewMetadata().withName("other").addToLabels("app", "x").endMetadata().build()).create();
        cms.withName("after").edit(x -> new ConfigMapBuilder(x).addToData("v", "2").build());

        Collector c = new Collector();
        try (Watch w = cms.withLabel("app", "w").withResourceVersion(rv).watch(c)) {
            assertThat(c.next().toString()).isEqualTo("ADDED after=1");
            assertThat(c.next().toString()).isEqualTo("MODIFIED after=2");
            cms.withName("before").delete();
            assertThat(c.next().toString()).isEqualTo("DELETED before=0");
            assertThat(c.events.poll(300, TimeUnit.MILLISECONDS)).isNull();
        }
    }

    @Test
    @DisplayName("informer: initial list, then ADD / UPDATE / DELETE handler calls; the index mirrors the server")
    void informerSeesChanges() throws Exception {
        var cms = client.configMaps().inNamespace(ns);
        cms.resource(configMap("pre", "0")).create();
        Recorder rec = new Recorder();
        try (SharedIndexInformer<ConfigMap> informer = cms.withLabel("app", "w").runnableInformer(0)) {
            informer.addEventHandler(rec);
            informer.start().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertThat(informer.hasSynced()).isTrue();
            assertThat(rec.next()).isEqualTo("ADD pre=0");

            cms.resource(configMap("a", "1")).create();
            assertThat(rec.next()).isEqualTo("ADD a=1");
            cms.withName("a").edit(x -> new ConfigMapBuilder(x).addToData("v", "2").build());
            assertThat(rec.next()).isEqualTo("UPDATE a=1->2");
            cms.withName("a").delete();
            assertThat(rec.next()).isEqualTo("DELETE a=2");
            assertThat(informer.getStore().list()).extracting(x -> x.getMetadata().getName()).containsExactly("pre");
        }
    }

    @Test
    @DisplayName("informer over 1,000 objects syncs within seconds and lists every one")
    void informerSyncsManyObjects() throws Exception {
        var cms = client.configMaps().inNamespace(ns);
        // a thousand creates through the API, a few at a time
        List<CompletableFuture<Void>> writes = new java.util.ArrayList<>();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            for (int i = 0; i < 1000; i++) {
                String name = String.format("cm-%04d", i);
                writes.add(CompletableFuture.runAsync(() -> cms.resource(configMap(name, name)).create(), pool));
            }
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        } finally {
            pool.shutdown();
        }

        AtomicInteger adds = new AtomicInteger();
        long t0 = System.nanoTime();
        try (SharedIndexInformer<ConfigMap> informer = cms.withLabel("app", "w").withLimit(250L).runnableInformer(0)) {
            informer.addEventHandler(new io.fabric8.kubernetes.client.informers.ResourceEventHandler<>() {
            @Override
            public void onAdd(ConfigMap obj) {
                adds.incrementAndGet();
            }

            @Override
            public void onUpdate(ConfigMap oldObj, ConfigMap newObj) {}

            @Override
            public void onDelete(ConfigMap obj, boolean deletedFinalStateUnknown) {}
            });
            informer.start().toCompletableFuture().get(20, TimeUnit.SECONDS);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(informer.getStore().list()).hasSize(1000);
            assertThat(took).isLessThan(Duration.ofSeconds(5));
            long deadline = System.currentTimeMillis() + 5000;
            while (adds.get() < 1000 && System.currentTimeMillis() < deadline) Thread.sleep(20);
            assertThat(adds.get()).isEqualTo(1000);
            assertThat(informer.getStore().getByKey(ns + "/cm-0999").getData()).containsEntry("v", "cm-0999");
        }
    }

    /** Records informer callbacks as strings. */
    static final class Recorder implements io.fabric8.kubernetes.client.informers.ResourceEventHandler<ConfigMap> {
        final BlockingQueue<String> calls = new LinkedBlockingQueue<>();

        @Override
        public void onAdd(ConfigMap obj) {
            calls.add("ADD " + obj.getMetadata().getName() + "=" + obj.getData().get("v"));
        }

        @Override
        public void onUpdate(ConfigMap oldObj, ConfigMap newObj) {
            if (oldObj.getMetadata().getResourceVersion().equals(newObj.getMetadata().getResourceVersion())) return; // resync
            calls.add("UPDATE " + newObj.getMetadata().getName() + "=" + oldObj.getData().get("v") + "->" + newObj.getData().get("v"));
        }

        @Override
        public void onDelete(ConfigMap obj, boolean deletedFinalStateUnknown) {
            calls.add("DELETE " + obj.getMetadata().getName() + "=" + obj.getData().get("v") + (deletedFinalStateUnknown ? " (unknown)" : ""));
        }

        String next() throws InterruptedException {
            return next(10);
        }

        /** The next callback, waiting up to {@code seconds} (longer after a restart: the watch re-connects with backoff). */
        String next(int seconds) throws InterruptedException {
            String s = calls.poll(seconds, TimeUnit.SECONDS);
            assertThat(s).as("an informer callback within " + seconds + "s").isNotNull();
            return s;
        }

    }
}
