package io.k3j.clients;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("fabric8 informers survive a k3j server restart on the same data dir and port")
class Fabric8RestartTest {
    @TempDir
    Path dataDir;
    K3jServer server;
    KubernetesClient client;

    @AfterEach
    void stop() {
        if (client != null) client.close();
        if (server != null) server.close();
    }

    @Test
    @DisplayName("Given a synced informer, when the server restarts, then changes made after the restart reach it")
    void informerResyncsAfterRestart() throws Exception {
        server = K3jServer.start(dataDir);
        client = Fabric8.client(server);
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("r").endMetadata().build()).create();
        var cms = client.configMaps().inNamespace("r");
        cms.resource(Fabric8WatchTest.configMap("keep", "0")).create();
        cms.resource(Fabric8WatchTest.configMap("change", "0")).create();
        cms.resource(Fabric8WatchTest.configMap("drop", "0")).create();

        Fabric8WatchTest.Recorder rec = new Fabric8WatchTest.Recorder();
        try (SharedIndexInformer<ConfigMap> informer = cms.withLabel("app", "w").runnableInformer(0)) {
            informer.addEventHandler(rec);
            informer.start().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertThat(java.util.List.of(rec.next(), rec.next(), rec.next())).containsExactlyInAnyOrder("ADD keep=0", "ADD change=0", "ADD drop=0");
            cms.resource(Fabric8WatchTest.configMap("before", "1")).create();
            assertThat(rec.next()).isEqualTo("ADD before=1");

            // Given the server goes away and comes back on the same state and port
            server.stop();
            Thread.sleep(500);
            server.restart();

            // When objects change through the restarted server
            cms.resource(Fabric8WatchTest.configMap("after", "2")).create();
            cms.withName("change").edit(x -> new ConfigMapBuilder(x).addToData("v", "3").build());
            cms.withName("drop").delete();

            // Then the informer sees each change, and its cache ends up equal to the server's list. The restarted
            // server writes at start-up (its apiserver Lease and the kubernetes Endpoints), but its watch cache
            // serves a watch from a revision the store still has, as kube-apiserver's does from etcd's history: the
            // informer's resumed watch goes on without a relist, so the deletion arrives with its final state
            assertThat(java.util.List.of(rec.next(40), rec.next(), rec.next()))
                    .containsExactlyInAnyOrder("ADD after=2", "UPDATE change=0->3", "DELETE drop=0");
            assertThat(informer.getStore().list()).extracting(c -> c.getMetadata().getName() + "@" + c.getMetadata().getResourceVersion())
                    .containsExactlyInAnyOrderElementsOf(cms.withLabel("app", "w").list().getItems().stream()
                            .map(c -> c.getMetadata().getName() + "@" + c.getMetadata().getResourceVersion()).toList());
            // after a relist the informer starts its new watch a moment later
            for (long until = System.nanoTime() + 10_000_000_000L; !informer.isWatching() && System.nanoTime() < until; ) Thread.sleep(50);
            assertThat(informer.isWatching()).isTrue();
            assertThat(rec.calls).as("no spurious callbacks").isEmpty();
        }
    }

    @Test
    @DisplayName("Given a synced informer, when objects change while its server is down, then it catches up after the restart")
    void informerCatchesUpOnChangesMadeWhileDown() throws Exception {
        server = K3jServer.start(dataDir);
        client = Fabric8.client(server);
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("d").endMetadata().build()).create();
        var cms = client.configMaps().inNamespace("d");
        cms.resource(Fabric8WatchTest.configMap("change", "0")).create();
        cms.resource(Fabric8WatchTest.configMap("drop", "0")).create();

        Fabric8WatchTest.Recorder rec = new Fabric8WatchTest.Recorder();
        try (SharedIndexInformer<ConfigMap> informer = cms.withLabel("app", "w").runnableInformer(0)) {
            informer.addEventHandler(rec);
            informer.start().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertThat(java.util.List.of(rec.next(), rec.next())).containsExactlyInAnyOrder("ADD change=0", "ADD drop=0");

            // Given the informer's server stops, and another server on the same data dir (another port) makes changes
            server.stop();
            try (K3jServer other = K3jServer.start(dataDir, K3jServer.freePort());
                 KubernetesClient otherClient = Fabric8.client(other)) {
                var otherCms = otherClient.configMaps().inNamespace("d");
                otherCms.resource(Fabric8WatchTest.configMap("added", "1")).create();
                otherCms.withName("change").edit(x -> new ConfigMapBuilder(x).addToData("v", "1").build());
                otherCms.withName("drop").delete();
            }

            // When the server comes back on the informer's port
            server.restart();

            // Then the informer delivers what it missed and mirrors the server again. The restarted server's watch
            // cache replays the store's history to the informer's re-watch from its old resourceVersion (no 410, no
            // relist), so even the delete made while it was away arrives with its final state.
            // (the first may take a while: the watch re-connects with exponential backoff, which grew while the
            // server was down, more so on a loaded machine)
            assertThat(java.util.List.of(rec.next(40), rec.next(), rec.next()))
                    .containsExactlyInAnyOrder("ADD added=1", "UPDATE change=0->1", "DELETE drop=0");
            assertThat(informer.getStore().list()).extracting(c -> c.getMetadata().getName() + "@" + c.getMetadata().getResourceVersion())
                    .containsExactlyInAnyOrderElementsOf(cms.withLabel("app", "w").list().getItems().stream()
                            .map(c -> c.getMetadata().getName() + "@" + c.getMetadata().getResourceVersion()).toList());

            // and keeps watching
            cms.resource(Fabric8WatchTest.configMap("later", "2")).create();
            assertThat(rec.next()).isEqualTo("ADD later=2");
        }
    }
}
