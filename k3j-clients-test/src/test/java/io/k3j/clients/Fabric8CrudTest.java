package io.k3j.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ConfigMapList;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("fabric8 kubernetes-client against a real k3j server: CRUD, lists, conflicts, patches, apply")
class Fabric8CrudTest {
    private static final AtomicInteger SEQ = new AtomicInteger();
    @TempDir
    static Path dataDir;
    static K3jServer server;
    static KubernetesClient client;
    String ns;

    @BeforeAll
    static void startServer() throws Exception {
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
        ns = "f8-" + SEQ.incrementAndGet();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
    }

    private static ConfigMap configMap(String name, Map<String, String> labels, Map<String, String> data) {
        return new ConfigMapBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata().withData(data).build();
    }

    @Test
    @DisplayName("ConfigMap: create, get, update, delete; get after delete is null")
    void configMapCrud() {
        ConfigMap created = client.configMaps().inNamespace(ns).resource(configMap("cm", Map.of("app", "a"), Map.of("k", "v"))).create();
        assertThat(created.getMetadata().getUid()).isNotBlank();
        assertThat(created.getMetadata().getResourceVersion()).isNotBlank();
        assertThat(created.getMetadata().getCreationTimestamp()).isNotBlank();
        assertThat(created.getMetadata().getNamespace()).isEqualTo(ns);

        ConfigMap got = client.configMaps().inNamespace(ns).withName("cm").get();
        assertThat(got.getData()).containsExactlyEntriesOf(Map.of("k", "v"));

        got.getData().put("k2", "v2");
        ConfigMap updated = client.configMaps().inNamespace(ns).resource(got).update();
        assertThat(updated.getData()).containsEntry("k2", "v2");
        assertThat(Long.parseLong(updated.getMetadata().getResourceVersion()))
                .isGreaterThan(Long.parseLong(created.getMetadata().getResourceVersion()));

        ConfigMap edited = client.configMaps().inNamespace(ns).withName("cm").edit(c -> {
            c.getData().remove("k");
            return c;
        });
        assertThat(edited.getData()).containsOnlyKeys("k2");

        assertThat(client.configMaps().inNamespace(ns).withName("cm").delete()).hasSize(1);
        assertThat(client.configMaps().inNamespace(ns).withName("cm").get()).isNull();
        assertThat(client.configMaps().inNamespace(ns).withName("cm").delete()).isEmpty();
    }

    @Test
    @DisplayName("Creating an object twice is 409 AlreadyExists")
    void alreadyExists() {
        client.configMaps().inNamespace(ns).resource(configMap("dup", Map.of(), Map.of())).create();
        assertThatThrownBy(() -> client.configMaps().inNamespace(ns).resource(configMap("dup", Map.of(), Map.of())).create())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(409);
                    assertThat(e.getStatus().getReason()).isEqualTo("AlreadyExists");
                    assertThat(e.getStatus().getDetails().getName()).isEqualTo("dup");
                    assertThat(e.getStatus().getDetails().getKind()).isEqualTo("configmaps");
                });
    }

    @Test
    @DisplayName("Updating with a stale resourceVersion is 409 Conflict")
    void staleUpdateConflicts() {
        ConfigMap first = client.configMaps().inNamespace(ns).resource(configMap("rv", Map.of(), Map.of("n", "0"))).create();
        ConfigMap stale = new ConfigMapBuilder(first).build();
        first.getData().put("n", "1");
        client.configMaps().inNamespace(ns).resource(first).update();

        stale.getData().put("n", "2");
        assertThatThrownBy(() -> client.configMaps().inNamespace(ns).resource(stale).update())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(409);
                    assertThat(e.getStatus().getReason()).isEqualTo("Conflict");
                    assertThat(e.getStatus().getMessage()).contains("the object has been modified");
                });
        assertThat(client.configMaps().inNamespace(ns).withName("rv").get().getData()).containsEntry("n", "1");
    }

    @Test
    @DisplayName("Secret: stringData is folded into base64 data; type defaults to Opaque")
    void secretCrud() {
        Secret s = new SecretBuilder().withNewMetadata().withName("s").endMetadata()
                .withStringData(Map.of("password", "hunter2")).build();
        Secret created = client.secrets().inNamespace(ns).resource(s).create();
        assertThat(created.getType()).isEqualTo("Opaque");
        assertThat(created.getStringData()).isNullOrEmpty();
        assertThat(new String(Base64.getDecoder().decode(created.getData().get("password")), StandardCharsets.UTF_8)).isEqualTo("hunter2");

        Secret got = client.secrets().inNamespace(ns).withName("s").get();
        got.getData().put("user", Base64.getEncoder().encodeToString("root".getBytes(StandardCharsets.UTF_8)));
        client.secrets().inNamespace(ns).resource(got).update();
        assertThat(client.secrets().inNamespace(ns).withName("s").get().getData()).containsOnlyKeys("password", "user");

        assertThat(client.secrets().inNamespace(ns).withName("s").delete()).hasSize(1);
        assertThat(client.secrets().inNamespace(ns).list().getItems()).isEmpty();
    }

    @Test
    @DisplayName("Deployment: defaults applied, generation bumps on spec change, scale subresource")
    void deploymentCrud() {
        Deployment d = new DeploymentBuilder().withNewMetadata().withName("web").endMetadata()
                .withNewSpec().withNewSelector().addToMatchLabels("app", "web").endSelector()
                .withNewTemplate().withNewMetadata().addToLabels("app", "web").endMetadata()
                .withNewSpec().addNewContainer().withName("c").withImage("nginx:1.27").endContainer().endSpec()
                .endTemplate().endSpec().build();
        Deployment created = client.apps().deployments().inNamespace(ns).resource(d).create();
        assertThat(created.getMetadata().getGeneration()).isEqualTo(1L);
        assertThat(created.getSpec().getReplicas()).isEqualTo(1);
        assertThat(created.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
        assertThat(created.getSpec().getRevisionHistoryLimit()).isEqualTo(10);
        assertThat(created.getSpec().getProgressDeadlineSeconds()).isEqualTo(600);
        assertThat(created.getSpec().getTemplate().getSpec().getRestartPolicy()).isEqualTo("Always");
        assertThat(created.getSpec().getTemplate().getSpec().getContainers().get(0).getImagePullPolicy()).isEqualTo("IfNotPresent");

        Deployment edited = client.apps().deployments().inNamespace(ns).withName("web").edit(x -> {
            x.getSpec().getTemplate().getSpec().getContainers().get(0).setImage("nginx:1.28");
            return x;
        });
        assertThat(edited.getMetadata().getGeneration()).isEqualTo(2L);

        Deployment labelled = client.apps().deployments().inNamespace(ns).withName("web").edit(x -> {
            x.getMetadata().setLabels(Map.of("tier", "front"));
            return x;
        });
        assertThat(labelled.getMetadata().getGeneration()).as("metadata changes do not bump generation").isEqualTo(2L);

        var scale = client.apps().deployments().inNamespace(ns).withName("web").scale();
        assertThat(scale.getSpec().getReplicas()).isEqualTo(1);
        client.apps().deployments().inNamespace(ns).withName("web").scale(3);
        assertThat(client.apps().deployments().inNamespace(ns).withName("web").get().getSpec().getReplicas()).isEqualTo(3);

        assertThat(client.apps().deployments().inNamespace(ns).withName("web").delete()).hasSize(1);
        assertThat(client.apps().deployments().inNamespace(ns).withName("web").get()).isNull();
    }

    @Test
    @DisplayName("Service: a cluster IP is allocated from the service CIDR and released on delete")
    void serviceClusterIp() {
        Service created = client.services().inNamespace(ns).resource(service("svc", null)).create();
        String ip = created.getSpec().getClusterIP();
        assertThat(ip).startsWith("10.43.");
        assertThat(created.getSpec().getClusterIPs()).containsExactly(ip);
        assertThat(created.getSpec().getType()).isEqualTo("ClusterIP");
        assertThat(created.getSpec().getPorts().get(0).getProtocol()).isEqualTo("TCP");
        assertThat(created.getSpec().getPorts().get(0).getTargetPort().getIntVal()).isEqualTo(8080);

        assertThatThrownBy(() -> client.services().inNamespace(ns).resource(service("other", ip)).create())
                .as("the IP is taken")
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(422));

        client.services().inNamespace(ns).withName("svc").delete();
        Service reuse = client.services().inNamespace(ns).resource(service("other", ip)).create();
        assertThat(reuse.getSpec().getClusterIP()).as("released on delete").isEqualTo(ip);
    }

    private static Service service(String name, String clusterIp) {
        return new ServiceBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withClusterIP(clusterIp).addToSelector("app", name)
                .addNewPort().withPort(80).withNewTargetPort(8080).endPort().endSpec().build();
    }

    @Test
    @DisplayName("Namespace: created Active with its name label; delete leaves it Terminating behind its finalizer")
    void namespaceLifecycle() {
        String name = ns + "-x";
        Namespace created = client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build()).create();
        assertThat(created.getStatus().getPhase()).isEqualTo("Active");
        assertThat(created.getMetadata().getLabels()).containsEntry("kubernetes.io/metadata.name", name);
        assertThat(client.namespaces().withLabel("kubernetes.io/metadata.name", name).list().getItems()).hasSize(1);

        client.namespaces().withName(name).delete();
        Namespace deleting = client.namespaces().withName(name).get();
        assertThat(deleting.getMetadata().getDeletionTimestamp()).isNotBlank();
        assertThat(deleting.getStatus().getPhase()).isEqualTo("Terminating");
        assertThat(deleting.getSpec().getFinalizers()).containsExactly("kubernetes");
    }

    @Test
    @DisplayName("Lists: label selectors (equality, set, existence), field selectors")
    void selectors() {
        var cms = client.configMaps().inNamespace(ns);
        waitForRootCa();
        cms.resource(configMap("a", Map.of("app", "x", "tier", "db"), Map.of())).create();
        cms.resource(configMap("b", Map.of("app", "y", "tier", "db"), Map.of())).create();
        cms.resource(configMap("c", Map.of("app", "x"), Map.of())).create();

        assertThat(names(cms.withLabel("app", "x").list())).containsExactly("a", "c");
        assertThat(names(cms.withLabel("tier").list())).containsExactly("a", "b");
        assertThat(names(cms.withoutLabel("tier").list())).containsExactly("c", "kube-root-ca.crt");
        assertThat(names(cms.withLabelIn("app", "x", "y").withLabel("tier", "db").list())).containsExactly("a", "b");
        assertThat(names(cms.withLabelNotIn("app", "x").list())).containsExactly("b", "kube-root-ca.crt");
        assertThat(names(cms.withLabelSelector("app!=y,tier").list())).containsExactly("a");

        assertThat(names(cms.withField("metadata.name", "b").list())).containsExactly("b");
        assertThat(names(cms.withoutField("metadata.name", "b").list())).containsExactly("a", "c", "kube-root-ca.crt");
        assertThat(names(client.configMaps().inAnyNamespace().withField("metadata.namespace", ns).withLabel("app").list()))
                .containsExactly("a", "b", "c");

        assertThatThrownBy(() -> cms.withField("data.k", "v").list())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(400));
    }

    @Test
    @DisplayName("Lists: pagination with limit and continue returns every object once")
    void pagination() {
        var cms = client.configMaps().inNamespace(ns);
        for (int i = 0; i < 7; i++) cms.resource(configMap(String.format("p%02d", i), Map.of("page", i % 2 == 0 ? "even" : "odd"), Map.of())).create();

        // the root CA publisher adds kube-root-ca.crt to every new namespace; it is part of the list
        waitForRootCa();
        List<String> seen = new ArrayList<>();
        List<Long> remaining = new ArrayList<>();
        String cont = null;
        do {
            ConfigMapList page = cms.list(new ListOptionsBuilder().withLimit(3L).withContinue(cont).build());
            seen.addAll(names(page));
            remaining.add(page.getMetadata().getRemainingItemCount());
            cont = page.getMetadata().getContinue();
        } while (cont != null && !cont.isEmpty());
        assertThat(seen).containsExactly("kube-root-ca.crt", "p00", "p01", "p02", "p03", "p04", "p05", "p06");
        assertThat(remaining).hasSize(3).first().isEqualTo(5L);
        assertThat(remaining).last().isNull();

        // with a selector the count of what is left is unknown: kube-apiserver leaves remainingItemCount unset
        ConfigMapList even = cms.withLabel("page", "even").list(new ListOptionsBuilder().withLimit(2L).build());
        assertThat(names(even)).containsExactly("p00", "p02");
        assertThat(even.getMetadata().getContinue()).isNotEmpty();
        assertThat(even.getMetadata().getRemainingItemCount()).isNull();
        ConfigMapList rest = cms.withLabel("page", "even").list(new ListOptionsBuilder().withLimit(2L)
                .withContinue(even.getMetadata().getContinue()).build());
        assertThat(names(rest)).containsExactly("p04", "p06");

    }

    @Test
    @DisplayName("Patches: JSON patch, merge patch, strategic merge patch")
    void patches() {
        var cms = client.configMaps().inNamespace(ns);
        cms.resource(configMap("p", Map.of("a", "1"), Map.of("x", "1", "y", "2"))).create();

        ConfigMap json = cms.withName("p").patch(PatchContext.of(PatchType.JSON),
                "[{\"op\":\"replace\",\"path\":\"/data/x\",\"value\":\"10\"},{\"op\":\"remove\",\"path\":\"/data/y\"}]");
        assertThat(json.getData()).containsExactlyEntriesOf(Map.of("x", "10"));

        ConfigMap merge = cms.withName("p").patch(PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"labels\":{\"a\":null,\"b\":\"2\"}},\"data\":{\"z\":\"3\"}}");
        assertThat(merge.getMetadata().getLabels()).containsExactlyEntriesOf(Map.of("b", "2"));
        assertThat(merge.getData()).containsOnlyKeys("x", "z");

        ConfigMap strategic = cms.withName("p").patch(PatchContext.of(PatchType.STRATEGIC_MERGE), "{\"data\":{\"x\":null}}");
        assertThat(strategic.getData()).containsOnlyKeys("z");

        // strategic merge merges containers by name, where a merge patch would replace the list
        Deployment d = new DeploymentBuilder().withNewMetadata().withName("sm").endMetadata()
                .withNewSpec().withNewSelector().addToMatchLabels("app", "sm").endSelector()
                .withNewTemplate().withNewMetadata().addToLabels("app", "sm").endMetadata()
                .withNewSpec().addNewContainer().withName("a").withImage("img:a").endContainer()
                .addNewContainer().withName("b").withImage("img:b").endContainer().endSpec()
                .endTemplate().endSpec().build();
        client.apps().deployments().inNamespace(ns).resource(d).create();
        Deployment patched = client.apps().deployments().inNamespace(ns).withName("sm").patch(PatchContext.of(PatchType.STRATEGIC_MERGE),
                "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"img:b2\"}]}}}}");
        assertThat(patched.getSpec().getTemplate().getSpec().getContainers())
                .extracting(c -> c.getName() + "=" + c.getImage()).containsExactly("a=img:a", "b=img:b2");

        // the client's default patch(item) diffs against the server copy and sends a JSON patch
        ConfigMap current = cms.withName("p").get();
        current.getData().put("w", "4");
        assertThat(cms.resource(current).patch().getData()).containsOnlyKeys("z", "w");

        assertThatThrownBy(() -> cms.withName("nope").patch(PatchContext.of(PatchType.JSON_MERGE), "{\"data\":{}}"))
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(404));
    }

    @Test
    @DisplayName("Server-side apply: create, re-apply, field manager conflicts and forceConflicts")
    void serverSideApply() {
        var cms = client.configMaps().inNamespace(ns);
        ConfigMap applied = cms.resource(configMap("ssa", Map.of("owner", "one"), Map.of("a", "1"))).fieldManager("one").serverSideApply();
        assertThat(applied.getData()).containsExactlyEntriesOf(Map.of("a", "1"));
        assertThat(applied.getMetadata().getManagedFields()).extracting(m -> m.getManager() + "/" + m.getOperation())
                .containsExactly("one/Apply");

        // a second manager sets another key: both stay
        ConfigMap second = cms.resource(configMap("ssa", Map.of(), Map.of("b", "2"))).fieldManager("two").serverSideApply();
        assertThat(second.getData()).containsExactlyInAnyOrderEntriesOf(Map.of("a", "1", "b", "2"));

        // the second manager tries to take a field the first owns: conflict
        assertThatThrownBy(() -> cms.resource(configMap("ssa", Map.of(), Map.of("a", "x", "b", "2"))).fieldManager("two").serverSideApply())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(409);
                    assertThat(e.getStatus().getReason()).isEqualTo("Conflict");
                    assertThat(e.getStatus().getMessage()).contains("conflict").contains(".data.a");
                });
        ConfigMap forced = cms.resource(configMap("ssa", Map.of(), Map.of("a", "x", "b", "2"))).fieldManager("two").forceConflicts().serverSideApply();
        assertThat(forced.getData()).containsEntry("a", "x");

        // manager one re-applies without "a": it gives the field up, and the owner label goes away
        ConfigMap dropped = cms.resource(configMap("ssa", Map.of(), Map.of())).fieldManager("one").serverSideApply();
        assertThat(dropped.getMetadata().getLabels()).doesNotContainKey("owner");
        assertThat(dropped.getData()).containsExactlyInAnyOrderEntriesOf(Map.of("a", "x", "b", "2"));
    }

    private void waitForRootCa() {
        client.configMaps().inNamespace(ns).withName("kube-root-ca.crt").waitUntilCondition(java.util.Objects::nonNull, 10, java.util.concurrent.TimeUnit.SECONDS);
    }

    private static List<String> names(io.fabric8.kubernetes.api.model.KubernetesResourceList<?> list) {
        return list.getItems().stream().map(o -> ((io.fabric8.kubernetes.api.model.HasMetadata) o).getMetadata().getName()).toList();
    }
}
