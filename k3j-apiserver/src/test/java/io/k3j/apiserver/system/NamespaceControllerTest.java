package io.k3j.apiserver.system;

import static io.k3j.apiserver.registry.TestApi.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.TestApi;
import io.k3j.apiserver.registry.WriteOptions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("NamespaceController keeps namespaces as kube-controller-manager's namespace, service-account and root-CA controllers do")
class NamespaceControllerTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final String CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    final TestApi api = TestApi.start();
    final NamespaceController controller = new NamespaceController(api.objects, api.registry, CA).start();

    @AfterEach
    void close() {
        controller.close();
        api.close();
    }

    @Test
    @DisplayName("every namespace, old or new, gets the 'default' ServiceAccount and the 'kube-root-ca.crt' ConfigMap with the CA")
    void defaults() {
        api.namespace("team");
        for (String ns : List.of("default", "team")) {
            eventually(WAIT, "defaults in " + ns, () -> api.find("serviceaccounts", ns, "default") != null
                    && api.find("configmaps", ns, "kube-root-ca.crt") != null);
            ObjectNode cm = api.find("configmaps", ns, "kube-root-ca.crt");
            assertThat(cm.at("/data/ca.crt").asText()).isEqualTo(CA);
            assertThat(cm.at("/metadata/annotations/kubernetes.io~1description").asText()).startsWith("Contains a CA bundle");
        }
    }

    @Test
    @DisplayName("a deleted ConfigMap kube-root-ca.crt comes back when the namespace changes")
    void recreatesOnNamespaceChange() {
        api.namespace("team");
        eventually(WAIT, "root CA published", () -> api.find("configmaps", "team", "kube-root-ca.crt") != null);
        api.objects.delete(api.type("configmaps"), "team", "kube-root-ca.crt", DeleteOptions.DEFAULT);
        ObjectNode ns = api.find("namespaces", null, "team");
        Meta.metadata(ns).withObjectProperty("labels").put("touched", "yes");
        api.objects.update(api.type("namespaces"), null, "team", ns, "", WriteOptions.system("test"));
        eventually(WAIT, "root CA published again", () -> api.find("configmaps", "team", "kube-root-ca.crt") != null);
    }

    @Test
    @DisplayName("deleting a namespace deletes its contents, then the namespace; other namespaces keep theirs")
    void deletion() {
        api.namespace("doomed");
        api.namespace("kept");
        api.configMap("doomed", "a");
        api.create("secrets", "doomed", "{\"metadata\": {\"name\": \"s\"}, \"type\": \"Opaque\"}");
        api.create("pods", "doomed", "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"busybox\"}]}}");
        api.configMap("kept", "a");
        eventually(WAIT, "defaults in doomed", () -> api.find("serviceaccounts", "doomed", "default") != null);

        api.objects.delete(api.type("namespaces"), null, "doomed", DeleteOptions.DEFAULT);
        eventually(WAIT, "namespace gone", () -> api.find("namespaces", null, "doomed") == null);
        assertThat(api.find("configmaps", "doomed", "a")).isNull();
        assertThat(api.find("secrets", "doomed", "s")).isNull();
        assertThat(api.find("pods", "doomed", "p")).isNull();
        assertThat(api.find("serviceaccounts", "doomed", "default")).isNull();
        assertThat(api.find("configmaps", "kept", "a")).isNotNull();
    }

    @Test
    @DisplayName("an object with a finalizer holds its terminating namespace until the finalizer is removed")
    void finalizerHoldsNamespace() throws Exception {
        api.namespace("held");
        api.create("configmaps", "held", "{\"metadata\": {\"name\": \"a\", \"finalizers\": [\"example.com/hold\"]}}");
        api.objects.delete(api.type("namespaces"), null, "held", DeleteOptions.DEFAULT);
        eventually(WAIT, "content being deleted", () -> Meta.deleting(api.find("configmaps", "held", "a")));
        Thread.sleep(700);
        ObjectNode ns = api.find("namespaces", null, "held");
        assertThat(ns).isNotNull();
        assertThat(ns.at("/status/phase").asText()).isEqualTo("Terminating");

        ObjectNode cm = api.find("configmaps", "held", "a");
        Meta.setFinalizers(cm, List.of());
        api.objects.update(api.type("configmaps"), "held", "a", cm, "", WriteOptions.system("test"));
        eventually(WAIT, "namespace gone", () -> api.find("namespaces", null, "held") == null);
    }
}
