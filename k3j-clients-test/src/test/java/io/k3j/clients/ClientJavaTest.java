package io.k3j.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.reflect.TypeToken;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1ConfigMapList;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1DeploymentSpec;
import io.kubernetes.client.openapi.models.V1LabelSelector;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1Status;
import io.kubernetes.client.util.Config;
import io.kubernetes.client.util.PatchUtils;
import io.kubernetes.client.util.Watch;
import io.kubernetes.client.util.generic.GenericKubernetesApi;
import io.kubernetes.client.util.generic.KubernetesApiResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("official client-java against a real k3j server")
class ClientJavaTest {
    private static final AtomicInteger SEQ = new AtomicInteger();
    @TempDir
    static Path dataDir;
    static K3jServer server;
    static ApiClient client;
    static CoreV1Api core;
    static AppsV1Api apps;
    String ns;

    @BeforeAll
    static void startServer() throws Exception {
        server = K3jServer.start(dataDir);
        client = Config.fromConfig(server.kubeconfig().toString());
        // watches are long requests: no read timeout, as the client-java examples set it up
        client.setHttpClient(client.getHttpClient().newBuilder().readTimeout(0, TimeUnit.SECONDS).build());
        core = new CoreV1Api(client);
        apps = new AppsV1Api(client);
    }

    @AfterAll
    static void stopServer() {
        if (server != null) server.close();
    }

    @BeforeEach
    void namespace() throws ApiException {
        ns = "cj-" + SEQ.incrementAndGet();
        core.createNamespace(new V1Namespace().metadata(new V1ObjectMeta().name(ns))).execute();
    }

    /** Patches go through PatchUtils, which sets the patch Content-Type (a plain execute() sends application/json: 415). */
    private V1ConfigMap mergePatch(String name, String patch) throws ApiException {
        return PatchUtils.patch(V1ConfigMap.class, () -> core.patchNamespacedConfigMap(name, ns, new V1Patch(patch)).buildCall(null),
                V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, client);
    }

    /** The Status a failed call carried in its body. */
    private static V1Status status(ApiException e) {
        return client.getJSON().deserialize(e.getResponseBody(), V1Status.class);
    }

    private static V1ConfigMap configMap(String name, Map<String, String> labels, Map<String, String> data) {
        return new V1ConfigMap().apiVersion("v1").kind("ConfigMap").metadata(new V1ObjectMeta().name(name).labels(labels)).data(data);
    }

    @Test
    @DisplayName("CoreV1Api: ConfigMap create, read, replace, patch, list by label and field, delete")
    void configMapCrud() throws ApiException {
        var response = core.createNamespacedConfigMap(ns, configMap("cm", Map.of("app", "j"), Map.of("k", "v"))).executeWithHttpInfo();
        assertThat(response.getStatusCode()).isEqualTo(201);
        V1ConfigMap created = response.getData();
        assertThat(created.getMetadata().getUid()).isNotBlank();
        assertThat(created.getMetadata().getCreationTimestamp()).isNotNull();

        V1ConfigMap read = core.readNamespacedConfigMap("cm", ns).execute();
        assertThat(read.getData()).containsEntry("k", "v");
        read.getData().put("k2", "v2");
        V1ConfigMap replaced = core.replaceNamespacedConfigMap("cm", ns, read).execute();
        assertThat(replaced.getData()).containsOnlyKeys("k", "k2");

        V1ConfigMap patched = PatchUtils.patch(V1ConfigMap.class,
                () -> core.patchNamespacedConfigMap("cm", ns, new V1Patch("{\"data\":{\"k\":null}}")).buildCall(null),
                V1Patch.PATCH_FORMAT_STRATEGIC_MERGE_PATCH, client);
        assertThat(patched.getData()).containsOnlyKeys("k2");
        V1ConfigMap jsonPatched = PatchUtils.patch(V1ConfigMap.class,
                () -> core.patchNamespacedConfigMap("cm", ns, new V1Patch("[{\"op\":\"add\",\"path\":\"/data/k3\",\"value\":\"3\"}]")).buildCall(null),
                V1Patch.PATCH_FORMAT_JSON_PATCH, client);
        assertThat(jsonPatched.getData()).containsOnlyKeys("k2", "k3");
        V1ConfigMap applied = PatchUtils.patch(V1ConfigMap.class,
                () -> core.patchNamespacedConfigMap("cm", ns, new V1Patch("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\"},\"data\":{\"a\":\"1\"}}"))
                        .fieldManager("cj").force(true).buildCall(null),
                V1Patch.PATCH_FORMAT_APPLY_YAML, client);
        assertThat(applied.getData()).containsOnlyKeys("k2", "k3", "a");

        core.createNamespacedConfigMap(ns, configMap("other", Map.of("app", "k"), Map.of())).execute();
        assertThat(core.listNamespacedConfigMap(ns).labelSelector("app=j").execute().getItems())
                .extracting(c -> c.getMetadata().getName()).containsExactly("cm");
        assertThat(core.listNamespacedConfigMap(ns).labelSelector("app in (j,k)").execute().getItems())
                .extracting(c -> c.getMetadata().getName()).containsExactly("cm", "other");
        assertThat(core.listNamespacedConfigMap(ns).fieldSelector("metadata.name=other").execute().getItems())
                .extracting(c -> c.getMetadata().getName()).containsExactly("other");

        V1ConfigMapList page = core.listNamespacedConfigMap(ns).labelSelector("app").limit(1).execute();
        assertThat(page.getItems()).hasSize(1);
        assertThat(page.getMetadata().getContinue()).isNotEmpty();
        V1ConfigMapList rest = core.listNamespacedConfigMap(ns).labelSelector("app").limit(1)._continue(page.getMetadata().getContinue()).execute();
        assertThat(rest.getItems()).extracting(c -> c.getMetadata().getName()).containsExactly("other");

        V1Status deleted = core.deleteNamespacedConfigMap("cm", ns).execute();
        assertThat(deleted.getStatus()).as("a ConfigMap delete answers with a Status").isEqualTo("Success");
        assertThat(deleted.getDetails().getName()).isEqualTo("cm");
        assertThat(deleted.getDetails().getUid()).isEqualTo(created.getMetadata().getUid());
        assertThatThrownBy(() -> core.readNamespacedConfigMap("cm", ns).execute()).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.getCode()).isEqualTo(404);
            V1Status status = status(e);
            assertThat(status.getReason()).isEqualTo("NotFound");
            assertThat(status.getMessage()).isEqualTo("configmaps \"cm\" not found");
            assertThat(status.getDetails().getKind()).isEqualTo("configmaps");
        });
    }

    @Test
    @DisplayName("404 ApiException for a missing object, namespace and delete")
    void notFound() {
        assertThatThrownBy(() -> apps.readNamespacedDeployment("nope", ns).execute())
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.getCode()).isEqualTo(404));
        assertThatThrownBy(() -> core.deleteNamespacedConfigMap("nope", ns).execute())
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.getCode()).isEqualTo(404));
        assertThatThrownBy(() -> core.readNamespace("no-such-namespace").execute())
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.getResponseBody()).contains("namespaces \\\"no-such-namespace\\\" not found"));
    }

    @Test
    @DisplayName("409: create of an existing object, and replace with a stale resourceVersion")
    void conflicts() throws ApiException {
        V1ConfigMap first = core.createNamespacedConfigMap(ns, configMap("c", Map.of(), Map.of("n", "0"))).execute();
        assertThatThrownBy(() -> core.createNamespacedConfigMap(ns, configMap("c", Map.of(), Map.of())).execute())
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(409);
                    assertThat(status(e).getReason()).isEqualTo("AlreadyExists");
                });
        String staleRv = first.getMetadata().getResourceVersion();
        first.getData().put("n", "1");
        core.replaceNamespacedConfigMap("c", ns, first).execute();
        V1ConfigMap stale = configMap("c", Map.of(), Map.of("n", "2"));
        stale.getMetadata().resourceVersion(staleRv);
        assertThatThrownBy(() -> core.replaceNamespacedConfigMap("c", ns, stale).execute())
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(409);
                    V1Status status = status(e);
                    assertThat(status.getReason()).isEqualTo("Conflict");
                    assertThat(status.getMessage()).isEqualTo("Operation cannot be fulfilled on configmaps \"c\": "
                            + "the object has been modified; please apply your changes to the latest version and try again");
                });
    }

    @Test
    @DisplayName("AppsV1Api: Deployment create (defaulted), replace bumps generation, scale, list by label, delete")
    void deploymentCrud() throws ApiException {
        V1Deployment d = new V1Deployment().apiVersion("apps/v1").kind("Deployment")
                .metadata(new V1ObjectMeta().name("web").labels(Map.of("app", "web")))
                .spec(new V1DeploymentSpec().replicas(2).selector(new V1LabelSelector().matchLabels(Map.of("app", "web")))
                        .template(new V1PodTemplateSpec().metadata(new V1ObjectMeta().labels(Map.of("app", "web")))
                                .spec(new V1PodSpec().containers(List.of(new V1Container().name("c").image("nginx"))))));
        V1Deployment created = apps.createNamespacedDeployment(ns, d).execute();
        assertThat(created.getMetadata().getGeneration()).isEqualTo(1L);
        assertThat(created.getSpec().getStrategy().getRollingUpdate().getMaxSurge().toString()).isEqualTo("25%");
        assertThat(created.getSpec().getTemplate().getSpec().getContainers().get(0).getImagePullPolicy())
                .as(":latest (no tag) pulls Always").isEqualTo("Always");

        created.getSpec().getTemplate().getSpec().getContainers().get(0).image("nginx:1.27");
        V1Deployment replaced = apps.replaceNamespacedDeployment("web", ns, created).execute();
        assertThat(replaced.getMetadata().getGeneration()).isEqualTo(2L);

        var scale = apps.readNamespacedDeploymentScale("web", ns).execute();
        assertThat(scale.getSpec().getReplicas()).isEqualTo(2);
        scale.getSpec().replicas(5);
        apps.replaceNamespacedDeploymentScale("web", ns, scale).execute();
        assertThat(apps.readNamespacedDeployment("web", ns).execute().getSpec().getReplicas()).isEqualTo(5);

        assertThat(apps.listNamespacedDeployment(ns).labelSelector("app=web").execute().getItems()).hasSize(1);
        assertThat(apps.listNamespacedDeployment(ns).labelSelector("app=nope").execute().getItems()).isEmpty();
        assertThat(apps.listDeploymentForAllNamespaces().fieldSelector("metadata.namespace=" + ns).execute().getItems()).hasSize(1);

        V1Status status = apps.deleteNamespacedDeployment("web", ns).execute();
        assertThat(status.getDetails().getGroup()).isEqualTo("apps");
        assertThat(status.getDetails().getKind()).isEqualTo("deployments");
        assertThatThrownBy(() -> apps.readNamespacedDeployment("web", ns).execute())
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.getCode()).isEqualTo(404));
    }

    @Test
    @DisplayName("Watch.createWatch: ADDED / MODIFIED / DELETED for a labelled ConfigMap")
    void watch() throws Exception {
        String rv = core.listNamespacedConfigMap(ns).execute().getMetadata().getResourceVersion();
        List<String> seen = new ArrayList<>();
        try (Watch<V1ConfigMap> watch = Watch.createWatch(client,
                core.listNamespacedConfigMap(ns).labelSelector("app=w").resourceVersion(rv).watch(true).timeoutSeconds(30).buildCall(null),
                new TypeToken<Watch.Response<V1ConfigMap>>() {}.getType())) {
            core.createNamespacedConfigMap(ns, configMap("w", Map.of("app", "w"), Map.of("v", "1"))).execute();
            core.createNamespacedConfigMap(ns, configMap("unrelated", Map.of(), Map.of())).execute();
            mergePatch("w", "{\"data\":{\"v\":\"2\"}}");
            core.deleteNamespacedConfigMap("w", ns).execute();
            for (Watch.Response<V1ConfigMap> event : watch) {
                seen.add(event.type + " " + event.object.getMetadata().getName() + "=" + event.object.getData().get("v"));
                if (event.type.equals("DELETED")) break;
            }
        }
        assertThat(seen).containsExactly("ADDED w=1", "MODIFIED w=2", "DELETED w=2");
    }

    @Test
    @DisplayName("GenericKubernetesApi: create, get, list, update, delete; errors as status codes")
    void genericApi() {
        GenericKubernetesApi<V1ConfigMap, V1ConfigMapList> api =
                new GenericKubernetesApi<>(V1ConfigMap.class, V1ConfigMapList.class, "", "v1", "configmaps", client);
        KubernetesApiResponse<V1ConfigMap> created = api.create(ns, configMap("g", Map.of("app", "g"), Map.of("x", "1")),
                new io.kubernetes.client.util.generic.options.CreateOptions());
        assertThat(created.isSuccess()).isTrue();
        V1ConfigMap got = api.get(ns, "g").getObject();
        got.getData().put("x", "2");
        assertThat(api.update(got).getObject().getData()).containsEntry("x", "2");
        assertThat(api.list(ns).getObject().getItems()).extracting(c -> c.getMetadata().getName()).contains("g");
        assertThat(api.delete(ns, "g").isSuccess()).isTrue();
        KubernetesApiResponse<V1ConfigMap> missing = api.get(ns, "g");
        assertThat(missing.getObject()).isNull();
        assertThat(missing.isSuccess()).isFalse();
        assertThat(missing.getHttpStatusCode()).isEqualTo(404);
        assertThat(missing.getStatus()).extracting(V1Status::getReason).isEqualTo("NotFound");
    }

    @Test
    @DisplayName("SharedInformerFactory: informer syncs, sees add / update / delete")
    void informer() throws Exception {
        core.createNamespacedConfigMap(ns, configMap("pre", Map.of("app", "i"), Map.of("v", "0"))).execute();
        SharedInformerFactory factory = new SharedInformerFactory(client);
        SharedIndexInformer<V1ConfigMap> informer = factory.sharedIndexInformerFor(
                params -> core.listNamespacedConfigMap(ns).labelSelector("app=i").resourceVersion(params.resourceVersion)
                        .watch(params.watch).timeoutSeconds(params.timeoutSeconds).buildCall(null),
                V1ConfigMap.class, V1ConfigMapList.class);
        BlockingQueue<String> calls = new LinkedBlockingQueue<>();
        informer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(V1ConfigMap obj) {
                calls.add("ADD " + obj.getMetadata().getName() + "=" + obj.getData().get("v"));
            }

            @Override
            public void onUpdate(V1ConfigMap oldObj, V1ConfigMap newObj) {
                calls.add("UPDATE " + newObj.getMetadata().getName() + "=" + oldObj.getData().get("v") + "->" + newObj.getData().get("v"));
            }

            @Override
            public void onDelete(V1ConfigMap obj, boolean deletedFinalStateUnknown) {
                calls.add("DELETE " + obj.getMetadata().getName());
            }
        });
        factory.startAllRegisteredInformers();
        try {
            long deadline = System.currentTimeMillis() + 10_000;
            while (!informer.hasSynced() && System.currentTimeMillis() < deadline) Thread.sleep(20);
            assertThat(informer.hasSynced()).isTrue();
            assertThat(calls.poll(10, TimeUnit.SECONDS)).isEqualTo("ADD pre=0");

            core.createNamespacedConfigMap(ns, configMap("a", Map.of("app", "i"), Map.of("v", "1"))).execute();
            assertThat(calls.poll(10, TimeUnit.SECONDS)).isEqualTo("ADD a=1");
            mergePatch("a", "{\"data\":{\"v\":\"2\"}}");
            assertThat(calls.poll(10, TimeUnit.SECONDS)).isEqualTo("UPDATE a=1->2");
            core.deleteNamespacedConfigMap("a", ns).execute();
            assertThat(calls.poll(10, TimeUnit.SECONDS)).isEqualTo("DELETE a");
            assertThat(informer.getIndexer().list()).extracting(c -> c.getMetadata().getName()).containsExactly("pre");
        } finally {
            factory.stopAllRegisteredInformers();
        }
    }
}
