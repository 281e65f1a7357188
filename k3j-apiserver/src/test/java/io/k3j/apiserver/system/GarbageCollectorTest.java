package io.k3j.apiserver.system;

import static io.k3j.apiserver.registry.TestApi.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.TestApi;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceType;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("GarbageCollector collects through ownerReferences as kube-controller-manager's garbage collector does")
class GarbageCollectorTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final String DEPLOYMENT = """
            {"metadata": {"name": "web"},
             "spec": {"selector": {"matchLabels": {"app": "web"}},
                      "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
            """;

    final TestApi api = TestApi.start();
    final GarbageCollector gc = new GarbageCollector(api.objects, api.registry).start();
    final ResourceType cms = api.type("configmaps");

    @AfterEach
    void close() {
        gc.close();
        api.close();
    }

    static String ref(ObjectNode owner) {
        return "{\"apiVersion\": \"" + owner.path("apiVersion").asText() + "\", \"kind\": \"" + owner.path("kind").asText()
                + "\", \"name\": \"" + Meta.name(owner) + "\", \"uid\": \"" + Meta.uid(owner) + "\"}";
    }

    ObjectNode dependent(String name, String... ownerRefs) {
        return api.create("configmaps", "default", "{\"metadata\": {\"name\": \"" + name + "\", \"ownerReferences\": ["
                + String.join(",", ownerRefs) + "]}}");
    }

    boolean gone(String name) {
        return api.find("configmaps", "default", name) == null;
    }

    @Test
    @DisplayName("background deletion (the default): the owner goes at once, its dependents follow")
    void backgroundCascade() {
        ObjectNode owner = api.create(api.type("apps", "v1", "deployments"), "default", DEPLOYMENT);
        dependent("d1", ref(owner));
        dependent("d2", ref(owner));
        api.configMap("default", "bystander");
        assertThat(api.objects.delete(api.type("apps", "v1", "deployments"), "default", "web", DeleteOptions.DEFAULT).removed()).isTrue();
        eventually(WAIT, "dependents deleted", () -> gone("d1") && gone("d2"));
        assertThat(gone("bystander")).isFalse();
    }

    @Test
    @DisplayName("orphan deletion: the owner goes once its dependents have lost their ownerReferences; they stay")
    void orphan() {
        ObjectNode owner = api.configMap("default", "owner");
        dependent("d1", ref(owner));
        api.objects.delete(cms, "default", "owner", new DeleteOptions(null, "Orphan", null, null, false));
        eventually(WAIT, "owner deleted", () -> gone("owner"));
        ObjectNode d1 = api.find("configmaps", "default", "d1");
        assertThat(d1).isNotNull();
        assertThat(d1.at("/metadata").has("ownerReferences")).isFalse();
    }

    @Test
    @DisplayName("foreground deletion: the owner stays (deletionTimestamp, foregroundDeletion finalizer) until its blocking dependents are gone")
    void foreground() throws Exception {
        ObjectNode owner = api.configMap("default", "owner");
        String blocking = ref(owner).replace("}", ", \"blockOwnerDeletion\": true}");
        String hold = "{\"metadata\": {\"name\": \"held\", \"finalizers\": [\"example.com/hold\"], \"ownerReferences\": [" + blocking + "]}}";
        api.create("configmaps", "default", hold);
        dependent("free", ref(owner));

        api.objects.delete(cms, "default", "owner", new DeleteOptions(null, "Foreground", null, null, false));
        eventually(WAIT, "the held dependent being deleted and the free one gone",
                () -> gone("free") && Meta.deleting(api.find("configmaps", "default", "held")));
        ObjectNode waiting = api.find("configmaps", "default", "owner");
        assertThat(waiting).isNotNull();
        assertThat(Meta.deleting(waiting)).isTrue();
        assertThat(Meta.finalizers(waiting)).containsExactly("foregroundDeletion");

        ObjectNode held = api.find("configmaps", "default", "held");
        Meta.setFinalizers(held, List.of(Meta.finalizers(held).stream().filter(f -> !f.equals("example.com/hold")).toArray(String[]::new)));
        api.objects.update(cms, "default", "held", held, "", WriteOptions.system("test"));
        eventually(WAIT, "dependent and then owner deleted", () -> gone("held") && gone("owner"));
    }

    @Test
    @DisplayName("a dependent whose owner never existed (no object with that uid) is deleted")
    void danglingOwner() {
        String missing = "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"name\": \"ghost\", \"uid\": \"" + UUID.randomUUID() + "\"}";
        dependent("orphaned", missing);
        eventually(WAIT, "dependent of a missing owner deleted", () -> gone("orphaned"));
    }

    @Test
    @DisplayName("an owner of the same name but another uid doesn't count: the dependent is deleted")
    void ownerWithOtherUid() {
        api.configMap("default", "owner");
        String stale = "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"name\": \"owner\", \"uid\": \"" + UUID.randomUUID() + "\"}";
        dependent("d", stale);
        eventually(WAIT, "dependent of a recreated owner deleted", () -> gone("d"));
        assertThat(gone("owner")).isFalse();
    }

    @Test
    @DisplayName("a dependent with two owners survives the deletion of one and loses only that reference")
    void twoOwners() throws Exception {
        ObjectNode a = api.configMap("default", "owner-a");
        ObjectNode b = api.configMap("default", "owner-b");
        dependent("shared", ref(a), ref(b));
        api.objects.delete(cms, "default", "owner-a", DeleteOptions.DEFAULT);
        eventually(WAIT, "reference to owner-a removed", () -> {
            ObjectNode s = api.find("configmaps", "default", "shared");
            return s != null && s.at("/metadata/ownerReferences").size() == 1;
        });
        Thread.sleep(300);
        ObjectNode shared = api.find("configmaps", "default", "shared");
        assertThat(shared).isNotNull();
        assertThat(shared.at("/metadata/ownerReferences/0/uid").asText()).isEqualTo(Meta.uid(b));
    }
}
