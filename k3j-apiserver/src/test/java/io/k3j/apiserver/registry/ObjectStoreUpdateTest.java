package io.k3j.apiserver.registry;

import static io.k3j.apiserver.registry.TestApi.apiError;
import static io.k3j.apiserver.registry.TestApi.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.apiserver.resource.ResourceType;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("ObjectStore updates follow kube-apiserver's optimistic concurrency and subresource rules")
class ObjectStoreUpdateTest {
    static final WriteOptions WRITE = WriteOptions.system("test");
    static final WriteOptions DRY_RUN = new WriteOptions(true, "test", WriteOptions.FieldValidation.IGNORE, null);

    final TestApi api = TestApi.start();
    final ResourceType cms = api.type("configmaps");
    final ResourceType deployments = api.type("apps", "v1", "deployments");

    @AfterEach
    void close() {
        api.close();
    }

    ObjectNode deployment() {
        return api.create(deployments, "default", ObjectStoreCreateTest.DEPLOYMENT);
    }

    @Test
    @DisplayName("an update with the current resourceVersion is stored with a new resourceVersion; uid and creationTimestamp stay")
    void updateCurrent() {
        ObjectNode cm = api.configMap("default", "a");
        ObjectNode body = cm.deepCopy();
        body.withObjectProperty("data").put("k", "v2");
        body.withObjectProperty("metadata").put("uid", "forged").put("creationTimestamp", "2000-01-01T00:00:00Z");
        api.clock.advance(Duration.ofMinutes(5));
        ObjectNode out = api.objects.update(cms, "default", "a", body, "", WRITE);
        assertThat(out.at("/data/k").asText()).isEqualTo("v2");
        assertThat(Long.parseLong(out.at("/metadata/resourceVersion").asText())).isGreaterThan(Long.parseLong(cm.at("/metadata/resourceVersion").asText()));
        assertThat(out.at("/metadata/uid")).isEqualTo(cm.at("/metadata/uid"));
        assertThat(out.at("/metadata/creationTimestamp").asText()).isEqualTo("2025-01-02T03:04:05Z");
        assertThat(api.find("configmaps", "default", "a")).isEqualTo(out);
    }

    @Test
    @DisplayName("an update with a stale resourceVersion: 409 Conflict 'Operation cannot be fulfilled on configmaps \"a\": the object has been modified; ...'")
    void staleResourceVersion() {
        ObjectNode cm = api.configMap("default", "a");
        ObjectNode first = cm.deepCopy();
        first.withObjectProperty("data").put("k", "one");
        api.objects.update(cms, "default", "a", first, "", WRITE);
        ObjectNode second = cm.deepCopy();
        second.withObjectProperty("data").put("k", "two");
        ApiException e = apiError(() -> api.objects.update(cms, "default", "a", second, "", WRITE));
        assertThat(e.code()).isEqualTo(409);
        assertThat(e.reason()).isEqualTo("Conflict");
        assertThat(e.getMessage()).isEqualTo("Operation cannot be fulfilled on configmaps \"a\": "
                + "the object has been modified; please apply your changes to the latest version and try again");
        assertThat(api.find("configmaps", "default", "a").at("/data/k").asText()).isEqualTo("one");

        ObjectNode d = deployment();
        ObjectNode stale = d.deepCopy();
        stale.withObjectProperty("metadata").put("resourceVersion", "1");
        assertThat(apiError(() -> api.objects.update(deployments, "default", "web", stale, "", WRITE)).getMessage())
                .startsWith("Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified");
    }

    @Test
    @DisplayName("an update without resourceVersion is unconditional: a concurrent change makes the mutation run again on the newer object")
    void unconditionalRetries() {
        api.configMap("default", "a");
        AtomicInteger calls = new AtomicInteger();
        ObjectNode out = api.objects.updateWith(cms, "default", "a", "", WRITE, current -> {
            if (calls.incrementAndGet() == 1) {
                // someone else writes between our read and our write
                ObjectNode other = current.deepCopy();
                other.withObjectProperty("data").put("other", "x");
                api.objects.update(cms, "default", "a", other, "", WRITE);
            }
            current.withObjectProperty("data").put("mine", "y");
            current.withObjectProperty("metadata").remove("resourceVersion");
            return current;
        });
        assertThat(calls.get()).isEqualTo(2);
        assertThat(out.at("/data/other").asText()).isEqualTo("x");
        assertThat(out.at("/data/mine").asText()).isEqualTo("y");
    }

    @Test
    @DisplayName("updating a missing object: 404; a body naming another object: 400")
    void missingOrMisnamed() {
        assertThat(apiError(() -> api.objects.update(cms, "default", "nope", json("{\"metadata\": {\"name\": \"nope\"}}"), "", WRITE)).code())
                .isEqualTo(404);
        api.configMap("default", "a");
        ApiException e = apiError(() -> api.objects.update(cms, "default", "a", json("{\"metadata\": {\"name\": \"b\"}}"), "", WRITE));
        assertThat(e.code()).isEqualTo(400);
        assertThat(e.getMessage()).isEqualTo("the name of the object (b) does not match the name on the URL (a)");
    }

    @Test
    @DisplayName("an update that changes nothing keeps the resourceVersion and writes nothing")
    void noOpUpdate() {
        ObjectNode cm = api.configMap("default", "a");
        long rev = api.store.currentRevision();
        ObjectNode out = api.objects.update(cms, "default", "a", cm.deepCopy(), "", WRITE);
        assertThat(out.at("/metadata/resourceVersion")).isEqualTo(cm.at("/metadata/resourceVersion"));
        assertThat(api.store.currentRevision()).isEqualTo(rev);
    }

    @Test
    @DisplayName("re-sending the original manifest (defaults left out) is a no-op: same resourceVersion and generation, nothing written")
    void replaceWithOriginalManifest() {
        ObjectNode d = deployment();
        long rev = api.store.currentRevision();
        ObjectNode manifest = json(ObjectStoreCreateTest.DEPLOYMENT);
        ObjectNode out = api.objects.update(deployments, "default", "web", manifest, "", WRITE);
        assertThat(out.at("/metadata/resourceVersion")).isEqualTo(d.at("/metadata/resourceVersion"));
        assertThat(out.at("/metadata/generation").asLong()).isEqualTo(1);
        assertThat(api.store.currentRevision()).isEqualTo(rev);
    }

    @Test
    @DisplayName("metadata.generation is bumped by a spec change only, not by metadata or status changes")
    void generationOnSpecChange() {
        ObjectNode d = deployment();
        ObjectNode labelled = d.deepCopy();
        labelled.withObjectProperty("metadata").withObjectProperty("labels").put("x", "y");
        labelled = api.objects.update(deployments, "default", "web", labelled, "", WRITE);
        assertThat(labelled.at("/metadata/generation").asLong()).isEqualTo(1);

        ObjectNode status = labelled.deepCopy();
        status.withObjectProperty("status").put("observedGeneration", 1);
        status = api.objects.update(deployments, "default", "web", status, "status", WRITE);
        assertThat(status.at("/metadata/generation").asLong()).isEqualTo(1);

        ObjectNode scaled = status.deepCopy();
        scaled.withObjectProperty("spec").put("replicas", 3);
        scaled = api.objects.update(deployments, "default", "web", scaled, "", WRITE);
        assertThat(scaled.at("/metadata/generation").asLong()).isEqualTo(2);

        ObjectNode forged = scaled.deepCopy();
        forged.withObjectProperty("metadata").put("generation", 42);
        assertThat(api.objects.update(deployments, "default", "web", forged, "", WRITE).at("/metadata/generation").asLong()).isEqualTo(2);
    }

    @Test
    @DisplayName("a main-resource update keeps the stored status (status subresource semantics)")
    void mainUpdateKeepsStatus() {
        ObjectNode d = deployment();
        ObjectNode withStatus = d.deepCopy();
        withStatus.withObjectProperty("status").put("replicas", 2);
        withStatus = api.objects.update(deployments, "default", "web", withStatus, "status", WRITE);
        ObjectNode body = withStatus.deepCopy();
        body.withObjectProperty("status").put("replicas", 99);
        body.withObjectProperty("spec").put("replicas", 5);
        ObjectNode out = api.objects.update(deployments, "default", "web", body, "", WRITE);
        assertThat(out.at("/spec/replicas").asInt()).isEqualTo(5);
        assertThat(out.at("/status/replicas").asInt()).isEqualTo(2);
    }

    @Test
    @DisplayName("a status update changes only status: the spec sent with it is ignored")
    void statusUpdateKeepsSpec() {
        ObjectNode d = deployment();
        ObjectNode body = d.deepCopy();
        body.withObjectProperty("spec").put("replicas", 7);
        body.withObjectProperty("status").put("replicas", 4);
        ObjectNode out = api.objects.update(deployments, "default", "web", body, "status", WRITE);
        assertThat(out.at("/status/replicas").asInt()).isEqualTo(4);
        assertThat(out.at("/spec/replicas").asInt()).isEqualTo(1);
    }

    @Test
    @DisplayName("dryRun update answers the result but stores nothing")
    void dryRunUpdate() {
        ObjectNode cm = api.configMap("default", "a");
        long rev = api.store.currentRevision();
        ObjectNode body = cm.deepCopy();
        body.withObjectProperty("data").put("k", "dry");
        ObjectNode out = api.objects.update(cms, "default", "a", body, "", DRY_RUN);
        assertThat(out.at("/data/k").asText()).isEqualTo("dry");
        assertThat(api.store.currentRevision()).isEqualTo(rev);
        assertThat(api.find("configmaps", "default", "a").at("/data/k").asText()).isEqualTo("v");
    }

    @Test
    @DisplayName("no new finalizers on an object being deleted: 422 'no new finalizers can be added if the object is being deleted'")
    void noNewFinalizersWhileDeleting() {
        api.create("configmaps", "default", "{\"metadata\": {\"name\": \"a\", \"finalizers\": [\"example.com/keep\"]}}");
        ObjectNode deleting = api.objects.delete(cms, "default", "a", DeleteOptions.DEFAULT).object();
        ObjectNode body = deleting.deepCopy();
        body.withObjectProperty("metadata").withArrayProperty("finalizers").add("example.com/more");
        ApiException e = apiError(() -> api.objects.update(cms, "default", "a", body, "", WRITE));
        assertThat(e.code()).isEqualTo(422);
        assertThat(e.getMessage()).contains("no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/more\"}");
    }
}
