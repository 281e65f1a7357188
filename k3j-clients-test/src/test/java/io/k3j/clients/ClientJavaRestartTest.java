package io.k3j.clients;

import static org.assertj.core.api.Assertions.assertThat;

import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1ConfigMapList;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.util.Config;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("client-java informers survive a k3j server restart on the same data dir and port")
class ClientJavaRestartTest {
    @TempDir
    Path dataDir;
    K3jServer server;
    SharedInformerFactory factory;

    @AfterEach
    void stop() {
        if (factory != null) factory.stopAllRegisteredInformers();
        if (server != null) server.close();
    }

    @Test
    @DisplayName("Given a synced informer, when the server restarts, then changes made after the restart reach it")
    void informerResyncsAfterRestart() throws Exception {
        server = K3jServer.start(dataDir);
        ApiClient client = Config.fromConfig(server.kubeconfig().toString());
        client.setHttpClient(client.getHttpClient().newBuilder().readTimeout(0, TimeUnit.SECONDS).build());
        CoreV1Api core = new CoreV1Api(client);
        core.createNamespace(new V1Namespace().metadata(new V1ObjectMeta().name("r"))).execute();
        core.createNamespacedConfigMap("r", configMap("before", "0")).execute();

        factory = new SharedInformerFactory(client);
        SharedIndexInformer<V1ConfigMap> informer = factory.sharedIndexInformerFor(
                params -> core.listNamespacedConfigMap("r").labelSelector("app=r").resourceVersion(params.resourceVersion)
                        .watch(params.watch).timeoutSeconds(params.timeoutSeconds).buildCall(null),
                V1ConfigMap.class, V1ConfigMapList.class);
        BlockingQueue<String> calls = new LinkedBlockingQueue<>();
        informer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(V1ConfigMap obj) {
                calls.add("ADD " + obj.getMetadata().getName());
            }

            @Override
            public void onUpdate(V1ConfigMap oldObj, V1ConfigMap newObj) {
                if (!oldObj.getMetadata().getResourceVersion().equals(newObj.getMetadata().getResourceVersion())) {
                    calls.add("UPDATE " + newObj.getMetadata().getName());
                }
            }

            @Override
            public void onDelete(V1ConfigMap obj, boolean deletedFinalStateUnknown) {
                calls.add("DELETE " + obj.getMetadata().getName());
            }
        });
        factory.startAllRegisteredInformers();
        assertThat(calls.poll(15, TimeUnit.SECONDS)).isEqualTo("ADD before");

        server.restart();

        // the reflector's watch broke with the server; it re-lists and watches again (as often as it takes)
        core.createNamespacedConfigMap("r", configMap("after", "1")).execute();
        assertThat(calls.poll(60, TimeUnit.SECONDS)).isEqualTo("ADD after");
        core.deleteNamespacedConfigMap("before", "r").execute();
        assertThat(calls.poll(30, TimeUnit.SECONDS)).isEqualTo("DELETE before");
        assertThat(informer.getIndexer().list()).extracting(c -> c.getMetadata().getName()).containsExactly("after");
    }

    private static V1ConfigMap configMap(String name, String value) {
        return new V1ConfigMap().metadata(new V1ObjectMeta().name(name).labels(Map.of("app", "r"))).data(Map.of("v", value));
    }
}
