package io.k3j.apiserver.registry;

import static io.k3j.apiserver.registry.TestApi.apiError;
import static io.k3j.apiserver.registry.TestApi.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("ObjectStore.create follows kube-apiserver's create path")
class ObjectStoreCreateTest {
    static final String DEPLOYMENT = """
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
             "spec": {"selector": {"matchLabels": {"app": "web"}},
                      "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
            """;

    final TestApi api = TestApi.start();

    @AfterEach
    void close() {
        api.close();
    }

    @Test
    @DisplayName("a created object gets a uid, the creationTimestamp of the server clock, a resourceVersion and no generation for types without one")
    void systemFields() {
        ObjectNode cm = api.configMap("default", "a");
        ObjectNode meta = (ObjectNode) cm.get("metadata");
        assertThat(meta.path("uid").asText()).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
        assertThat(meta.path("creationTimestamp").asText()).isEqualTo("2025-01-02T03:04:05Z");
        assertThat(Long.parseLong(meta.path("resourceVersion").asText())).isEqualTo(api.store.currentRevision());
        assertThat(meta.has("generation")).isFalse();
        assertThat(cm.path("apiVersion").asText()).isEqualTo("v1");
        assertThat(cm.path("kind").asText()).isEqualTo("ConfigMap");
        assertThat(api.find("configmaps", "default", "a")).isEqualTo(cm);
    }

    @Test
    @DisplayName("uid, creationTimestamp and deletionTimestamp sent by the client are replaced (rest.FillObjectMetaSystemFields)")
    void clientSystemFieldsIgnored() {
        ObjectNode cm = api.create("configmaps", "default", """
                {"metadata": {"name": "a", "uid": "mine", "creationTimestamp": "2001-01-01T00:00:00Z",
                              "deletionTimestamp": "2001-01-01T00:00:00Z", "deletionGracePeriodSeconds": 5, "generation": 7}}
                """);
        assertThat(cm.at("/metadata/uid").asText()).isNotEqualTo("mine");
        assertThat(cm.at("/metadata/creationTimestamp").asText()).isEqualTo("2025-01-02T03:04:05Z");
        assertThat(cm.at("/metadata").has("deletionTimestamp")).isFalse();
        assertThat(cm.at("/metadata").has("deletionGracePeriodSeconds")).isFalse();
        assertThat(cm.at("/metadata").has("generation")).isFalse();
    }

    @Test
    @DisplayName("createWithJson gives the created object's JSON byte for byte as serializing it would, or none for a dry run")
    void createdJsonIsTheObjectsJson() {
        ObjectStore.Created d = api.objects.createWithJson(api.type("apps", "v1", "deployments"), "default", json(DEPLOYMENT),
                WriteOptions.system("test"));
        assertThat(d.json()).isNotNull();
        assertThat(new String(d.json(), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo(new String(Json.bytes(d.object()), java.nio.charset.StandardCharsets.UTF_8));
        // kind and apiVersion last, an empty resourceVersion, an empty metadata otherwise: still the same bytes when made
        for (String body : new String[] {
                "{\"data\": {\"k\": \"v\"}, \"metadata\": {\"name\": \"b\", \"resourceVersion\": \"\"}, \"kind\": \"ConfigMap\", \"apiVersion\": \"v1\"}",
                "{\"metadata\": {\"generateName\": \"g-\", \"annotations\": {\"a\": \"}\\\"{\"}}}"}) {
            ObjectStore.Created c = api.objects.createWithJson(api.type("configmaps"), "default", json(body), WriteOptions.system("test"));
            if (c.json() != null) {
                assertThat(new String(c.json(), java.nio.charset.StandardCharsets.UTF_8))
                        .isEqualTo(new String(Json.bytes(c.object()), java.nio.charset.StandardCharsets.UTF_8));
            }
            assertThat(api.find("configmaps", "default", c.object().at("/metadata/name").asText())).isEqualTo(c.object());
        }
        ObjectStore.Created dry = api.objects.createWithJson(api.type("configmaps"), "default", json("{\"metadata\": {\"name\": \"dry\"}}"),
                new WriteOptions(true, "test", WriteOptions.FieldValidation.IGNORE, null));
        assertThat(dry.json()).isNull();
    }

    @Test
    @DisplayName("types that track generation start at metadata.generation 1")
    void generationStartsAtOne() {
        ObjectNode d = api.create(api.type("apps", "v1", "deployments"), "default", DEPLOYMENT);
        assertThat(d.at("/metadata/generation").asLong()).isEqualTo(1);
    }

    @Test
    @DisplayName("generateName appends 5 random characters from Kubernetes' alphabet (names.SimpleNameGenerator)")
    void generateName() {
        ObjectNode a = api.create("configmaps", "default", "{\"metadata\": {\"generateName\": \"job-\"}}");
        ObjectNode b = api.create("configmaps", "default", "{\"metadata\": {\"generateName\": \"job-\"}}");
        assertThat(a.at("/metadata/name").asText()).matches("job-[bcdfghjklmnpqrstvwxz2456789]{5}");
        assertThat(a.at("/metadata/name").asText()).isNotEqualTo(b.at("/metadata/name").asText());
        assertThat(a.at("/metadata/generateName").asText()).isEqualTo("job-");
    }

    @Test
    @DisplayName("neither name nor generateName: 422 'name or generateName is required'")
    void nameRequired() {
        ApiException e = apiError(() -> api.create("configmaps", "default", "{\"metadata\": {}}"));
        assertThat(e.code()).isEqualTo(422);
        assertThat(e.getMessage()).isEqualTo("ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required");
    }

    @Test
    @DisplayName("creating in a namespace that doesn't exist: 404 namespaces \"nope\" not found (NamespaceLifecycle)")
    void missingNamespace() {
        ApiException e = apiError(() -> api.configMap("nope", "a"));
        assertThat(e.code()).isEqualTo(404);
        assertThat(e.getMessage()).isEqualTo("namespaces \"nope\" not found");
    }

    @Test
    @DisplayName("creating in a terminating namespace: 403 'configmaps \"a\" is forbidden: unable to create new content in namespace gone because it is being terminated'")
    void terminatingNamespace() {
        api.namespace("gone");
        api.objects.delete(api.type("namespaces"), null, "gone", DeleteOptions.DEFAULT);
        // admission reads namespaces from the cache, as kube-apiserver's NamespaceLifecycle reads its informer
        api.cache.sync();
        ApiException e = apiError(() -> api.configMap("gone", "a"));
        assertThat(e.code()).isEqualTo(403);
        assertThat(e.reason()).isEqualTo("Forbidden");
        assertThat(e.getMessage()).isEqualTo(
                "configmaps \"a\" is forbidden: unable to create new content in namespace gone because it is being terminated");
    }

    @Test
    @DisplayName("a body whose metadata.namespace differs from the request's: 400 (rest.BeforeCreate)")
    void namespaceMismatch() {
        api.namespace("other");
        ApiException e = apiError(() -> api.create("configmaps", "default", "{\"metadata\": {\"name\": \"a\", \"namespace\": \"other\"}}"));
        assertThat(e.code()).isEqualTo(400);
        assertThat(e.getMessage()).isEqualTo("the namespace of the provided object does not match the namespace sent on the request");
    }

    @Test
    @DisplayName("a cluster-scoped object drops a namespace sent in its body")
    void clusterScopedDropsNamespace() {
        ObjectNode ns = api.create("namespaces", null, "{\"metadata\": {\"name\": \"x\", \"namespace\": \"default\"}}");
        assertThat(ns.at("/metadata").has("namespace")).isFalse();
    }

    @Test
    @DisplayName("a body with resourceVersion: 400 'resourceVersion should not be set on objects to be created'")
    void resourceVersionSet() {
        ApiException e = apiError(() -> api.create("configmaps", "default", "{\"metadata\": {\"name\": \"a\", \"resourceVersion\": \"5\"}}"));
        assertThat(e.code()).isEqualTo(400);
        assertThat(e.getMessage()).isEqualTo("resourceVersion should not be set on objects to be created");
    }

    @Test
    @DisplayName("a second object with the same name: 409 AlreadyExists 'configmaps \"a\" already exists', qualified by group for others")
    void alreadyExists() {
        api.configMap("default", "a");
        ApiException e = apiError(() -> api.configMap("default", "a"));
        assertThat(e.code()).isEqualTo(409);
        assertThat(e.reason()).isEqualTo("AlreadyExists");
        assertThat(e.getMessage()).isEqualTo("configmaps \"a\" already exists");

        api.create(api.type("apps", "v1", "deployments"), "default", DEPLOYMENT);
        ApiException d = apiError(() -> api.create(api.type("apps", "v1", "deployments"), "default", DEPLOYMENT));
        assertThat(d.getMessage()).isEqualTo("deployments.apps \"web\" already exists");
    }

    @Test
    @DisplayName("the same name in another namespace is another object")
    void namesArePerNamespace() {
        api.namespace("other");
        api.configMap("default", "a");
        assertThat(api.configMap("other", "a").at("/metadata/namespace").asText()).isEqualTo("other");
    }

    @Test
    @DisplayName("a body of another kind or apiVersion: 400 naming what was expected")
    void wrongKind() {
        ApiException e = apiError(() -> api.create("configmaps", "default", "{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {\"name\": \"a\"}}"));
        assertThat(e.code()).isEqualTo(400);
        assertThat(e.getMessage()).isEqualTo("the kind in the data (Secret) does not match the expected kind (ConfigMap)");
    }

    @Test
    @DisplayName("dryRun create validates and answers the object but stores nothing and has no resourceVersion")
    void dryRun() {
        long before = api.store.currentRevision();
        ObjectNode out = api.objects.create(api.type("configmaps"), "default", json("{\"metadata\": {\"name\": \"a\"}}"),
                new WriteOptions(true, "test", WriteOptions.FieldValidation.IGNORE, null));
        assertThat(out.at("/metadata/uid").asText()).isNotEmpty();
        assertThat(out.at("/metadata").has("resourceVersion")).isFalse();
        assertThat(api.store.currentRevision()).isEqualTo(before);
        assertThat(api.find("configmaps", "default", "a")).isNull();
    }

    @Test
    @DisplayName("a status sent on create is dropped for types with a status subresource")
    void statusDroppedOnCreate() {
        ObjectNode d = api.create(api.type("apps", "v1", "deployments"), "default",
                DEPLOYMENT.replace("\"spec\":", "\"status\": {\"replicas\": 9}, \"spec\":"));
        assertThat(d.path("status").path("replicas").isMissingNode()).isTrue();
    }

    @Test
    @DisplayName("objects are stored without resourceVersion (the revision is the truth)")
    void storedWithoutResourceVersion() {
        api.configMap("default", "a");
        byte[] raw = api.store.get("/registry/core/configmaps/default/a").orElseThrow().value();
        assertThat(Json.parseObject(raw).at("/metadata").has("resourceVersion")).isFalse();
    }
}
