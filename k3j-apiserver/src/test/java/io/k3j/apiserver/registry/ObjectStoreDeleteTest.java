package io.k3j.apiserver.registry;

import static io.k3j.apiserver.registry.TestApi.apiError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.apiserver.registry.ObjectStore.Deleted;
import io.k3j.apiserver.resource.ResourceType;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("ObjectStore.delete follows kube-apiserver's graceful deletion, finalizers and preconditions")
class ObjectStoreDeleteTest {
    static final String POD_ON_NODE = """
            {"metadata": {"name": "p"}, "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}]}}
            """;

    final TestApi api = TestApi.start();
    final ResourceType cms = api.type("configmaps");
    final ResourceType pods = api.type("pods");

    @AfterEach
    void close() {
        api.close();
    }

    static DeleteOptions grace(long seconds) {
        return new DeleteOptions(seconds, null, null, null, false);
    }

    static DeleteOptions policy(String policy) {
        return new DeleteOptions(null, policy, null, null, false);
    }

    @Test
    @DisplayName("an object without finalizers or grace period is removed at once; the answer carries the deletion's resourceVersion")
    void immediate() {
        api.configMap("default", "a");
        Deleted d = api.objects.delete(cms, "default", "a", DeleteOptions.DEFAULT);
        assertThat(d.removed()).isTrue();
        assertThat(d.object().at("/metadata/resourceVersion").asText()).isEqualTo(Long.toString(api.store.currentRevision()));
        assertThat(apiError(() -> api.objects.get(cms, "default", "a", "")).code()).isEqualTo(404);
        assertThat(apiError(() -> api.objects.delete(cms, "default", "a", DeleteOptions.DEFAULT)).getMessage())
                .isEqualTo("configmaps \"a\" not found");
    }

    @Test
    @DisplayName("a gracePeriodSeconds on a type without graceful deletion (all but pods) deletes at once (no RESTGracefulDeleteStrategy)")
    void graceIgnoredForOtherTypes() {
        api.configMap("default", "a");
        assertThat(api.objects.delete(cms, "default", "a", grace(30)).removed()).isTrue();
        assertThat(api.find("configmaps", "default", "a")).isNull();
    }

    @Test
    @DisplayName("an explicit grace period doesn't make the deletion of an unscheduled pod graceful (podStrategy.CheckGracefulDelete)")
    void unscheduledPodIgnoresGrace() {
        api.create(pods, "default", POD_ON_NODE.replace("\"nodeName\": \"n1\", ", ""));
        assertThat(api.objects.delete(pods, "default", "p", grace(30)).removed()).isTrue();
    }

    @Test
    @DisplayName("a second delete without a grace period leaves a pending graceful deletion alone, finalizers included")
    void pendingGracefulUntouched() {
        api.create(pods, "default", POD_ON_NODE);
        api.objects.delete(pods, "default", "p", DeleteOptions.DEFAULT);
        long rev = api.store.currentRevision();
        Deleted again = api.objects.delete(pods, "default", "p", policy("Orphan"));
        assertThat(again.removed()).isFalse();
        assertThat(Meta.finalizers(again.object())).isEmpty();
        assertThat(api.store.currentRevision()).isEqualTo(rev);
    }

    @Test
    @DisplayName("a pod not bound to a node is deleted at once, whatever its terminationGracePeriodSeconds")
    void unscheduledPodImmediate() {
        api.create(pods, "default", POD_ON_NODE.replace("\"nodeName\": \"n1\", ", ""));
        assertThat(api.objects.delete(pods, "default", "p", DeleteOptions.DEFAULT).removed()).isTrue();
    }

    @Test
    @DisplayName("a pod on a node is deleted gracefully: deletionTimestamp = now + 30 s, deletionGracePeriodSeconds = 30; it stays")
    void gracefulPod() {
        api.create(pods, "default", POD_ON_NODE);
        Deleted d = api.objects.delete(pods, "default", "p", DeleteOptions.DEFAULT);
        assertThat(d.removed()).isFalse();
        assertThat(d.object().at("/metadata/deletionTimestamp").asText()).isEqualTo("2025-01-02T03:04:35Z");
        assertThat(d.object().at("/metadata/deletionGracePeriodSeconds").asLong()).isEqualTo(30);
        ObjectNode stored = api.find("pods", "default", "p");
        assertThat(stored.at("/metadata/deletionTimestamp").asText()).isEqualTo("2025-01-02T03:04:35Z");
    }

    @Test
    @DisplayName("a second delete may only shorten the grace period, counted from the first request's time and never into the past (rest.BeforeDelete)")
    void shorterGracePeriod() {
        api.create(pods, "default", POD_ON_NODE);
        api.objects.delete(pods, "default", "p", grace(30));
        api.clock.advance(Duration.ofSeconds(2));

        // longer or equal: nothing changes
        long rev = api.store.currentRevision();
        Deleted longer = api.objects.delete(pods, "default", "p", grace(60));
        assertThat(longer.removed()).isFalse();
        assertThat(longer.object().at("/metadata/deletionTimestamp").asText()).isEqualTo("2025-01-02T03:04:35Z");
        assertThat(api.store.currentRevision()).isEqualTo(rev);

        // shorter: the timestamp moves back by the difference (T0 + 10 s), not to now + 10 s
        Deleted shorter = api.objects.delete(pods, "default", "p", grace(10));
        assertThat(shorter.object().at("/metadata/deletionTimestamp").asText()).isEqualTo("2025-01-02T03:04:15Z");
        assertThat(shorter.object().at("/metadata/deletionGracePeriodSeconds").asLong()).isEqualTo(10);

        // shorter, but already overdue: clamped to now with the minimum graceful period of 1 s
        api.clock.advance(Duration.ofSeconds(10));
        Deleted overdue = api.objects.delete(pods, "default", "p", grace(5));
        assertThat(overdue.removed()).isFalse();
        assertThat(overdue.object().at("/metadata/deletionTimestamp").asText()).isEqualTo("2025-01-02T03:04:17Z");
        assertThat(overdue.object().at("/metadata/deletionGracePeriodSeconds").asLong()).isEqualTo(1);

        // zero: gone
        assertThat(api.objects.delete(pods, "default", "p", grace(0)).removed()).isTrue();
        assertThat(api.find("pods", "default", "p")).isNull();
    }

    @Test
    @DisplayName("gracePeriodSeconds=0 deletes a pod on a node at once (kubectl delete --force --grace-period=0)")
    void forceDelete() {
        api.create(pods, "default", POD_ON_NODE);
        assertThat(api.objects.delete(pods, "default", "p", grace(0)).removed()).isTrue();
    }

    @Test
    @DisplayName("a negative gracePeriodSeconds is treated as 1 s (rest.BeforeDelete)")
    void negativeGrace() {
        api.create(pods, "default", POD_ON_NODE);
        Deleted d = api.objects.delete(pods, "default", "p", grace(-5));
        assertThat(d.removed()).isFalse();
        assertThat(d.object().at("/metadata/deletionGracePeriodSeconds").asLong()).isEqualTo(1);
        assertThat(d.object().at("/metadata/deletionTimestamp").asText()).isEqualTo("2025-01-02T03:04:06Z");
    }

    @Test
    @DisplayName("finalizers keep a deleted object (deletionTimestamp = now, grace 0) until the last one is removed; then it is gone")
    void finalizers() {
        api.create("configmaps", "default", "{\"metadata\": {\"name\": \"a\", \"finalizers\": [\"example.com/a\", \"example.com/b\"]}}");
        Deleted d = api.objects.delete(cms, "default", "a", DeleteOptions.DEFAULT);
        assertThat(d.removed()).isFalse();
        assertThat(d.object().at("/metadata/deletionTimestamp").asText()).isEqualTo("2025-01-02T03:04:05Z");
        assertThat(d.object().at("/metadata/deletionGracePeriodSeconds").asLong()).isZero();

        // deleting again changes nothing
        long rev = api.store.currentRevision();
        api.clock.advance(Duration.ofSeconds(5));
        assertThat(api.objects.delete(cms, "default", "a", DeleteOptions.DEFAULT).removed()).isFalse();
        assertThat(api.store.currentRevision()).isEqualTo(rev);

        ObjectNode one = api.find("configmaps", "default", "a");
        Meta.setFinalizers(one, List.of("example.com/b"));
        ObjectNode kept = api.objects.update(cms, "default", "a", one, "", WRITE);
        assertThat(Meta.finalizers(kept)).containsExactly("example.com/b");
        assertThat(api.find("configmaps", "default", "a")).isNotNull();

        Meta.setFinalizers(kept, List.of());
        api.objects.update(cms, "default", "a", kept, "", WRITE);
        assertThat(api.find("configmaps", "default", "a")).isNull();
    }

    static final WriteOptions WRITE = WriteOptions.system("test");

    @Test
    @DisplayName("the first deletion of an object with a generation bumps it (markAsDeleting / rest.BeforeDelete)")
    void generationBumpOnDeletion() {
        ResourceType deployments = api.type("apps", "v1", "deployments");
        api.create(deployments, "default", ObjectStoreCreateTest.DEPLOYMENT.replace("\"name\": \"web\"",
                "\"name\": \"web\", \"finalizers\": [\"example.com/keep\"]"));
        Deleted d = api.objects.delete(deployments, "default", "web", DeleteOptions.DEFAULT);
        assertThat(d.object().at("/metadata/generation").asLong()).isEqualTo(2);
        Deleted again = api.objects.delete(deployments, "default", "web", DeleteOptions.DEFAULT);
        assertThat(again.object().at("/metadata/generation").asLong()).isEqualTo(2);
    }

    @Test
    @DisplayName("propagationPolicy Orphan adds the 'orphan' finalizer, Foreground adds 'foregroundDeletion' (deletionFinalizersForGarbageCollection)")
    void propagationFinalizers() {
        api.configMap("default", "o");
        api.configMap("default", "f");
        Deleted o = api.objects.delete(cms, "default", "o", policy("Orphan"));
        assertThat(o.removed()).isFalse();
        assertThat(Meta.finalizers(o.object())).containsExactly("orphan");
        assertThat(o.object().at("/metadata/deletionTimestamp").isMissingNode()).isFalse();
        Deleted f = api.objects.delete(cms, "default", "f", policy("Foreground"));
        assertThat(Meta.finalizers(f.object())).containsExactly("foregroundDeletion");
        assertThat(Meta.finalizers(api.find("configmaps", "default", "f"))).containsExactly("foregroundDeletion");
    }

    @Test
    @DisplayName("propagationPolicy Background deletes at once; an unknown policy: 422 Unsupported value")
    void backgroundAndUnknownPolicy() {
        api.configMap("default", "b");
        assertThat(api.objects.delete(cms, "default", "b", policy("Background")).removed()).isTrue();
        api.configMap("default", "x");
        ApiException e = apiError(() -> api.objects.delete(cms, "default", "x", policy("Later")));
        assertThat(e.code()).isEqualTo(422);
        assertThat(e.getMessage()).contains("propagationPolicy: Unsupported value: \"Later\"");
    }

    @Test
    @DisplayName("a uid precondition that doesn't match: 409 'Operation cannot be fulfilled on ConfigMap \"a\": the UID in the precondition ...'")
    void uidPrecondition() {
        ObjectNode cm = api.configMap("default", "a");
        ApiException e = apiError(() -> api.objects.delete(cms, "default", "a", new DeleteOptions(null, null, "other-uid", null, false)));
        assertThat(e.code()).isEqualTo(409);
        assertThat(e.reason()).isEqualTo("Conflict");
        assertThat(e.getMessage()).isEqualTo("Operation cannot be fulfilled on ConfigMap \"a\": the UID in the precondition (other-uid) "
                + "does not match the UID in record (" + Meta.uid(cm) + "). The object might have been deleted and then recreated");
        assertThat(api.find("configmaps", "default", "a")).isNotNull();
        assertThat(api.objects.delete(cms, "default", "a", new DeleteOptions(null, null, Meta.uid(cm), null, false)).removed()).isTrue();
    }

    @Test
    @DisplayName("a resourceVersion precondition that doesn't match: 409 '... the ResourceVersion in the precondition (1) does not match ...'")
    void resourceVersionPrecondition() {
        api.create(api.type("apps", "v1", "deployments"), "default", ObjectStoreCreateTest.DEPLOYMENT);
        String rv = api.objects.get(api.type("apps", "v1", "deployments"), "default", "web", "").at("/metadata/resourceVersion").asText();
        ApiException e = apiError(() -> api.objects.delete(api.type("apps", "v1", "deployments"), "default", "web",
                new DeleteOptions(null, null, null, "1", false)));
        assertThat(e.code()).isEqualTo(409);
        assertThat(e.getMessage()).isEqualTo("Operation cannot be fulfilled on Deployment.apps \"web\": the ResourceVersion in the precondition (1) "
                + "does not match the ResourceVersion in record (" + rv + "). The object might have been modified");
    }

    @Test
    @DisplayName("dryRun delete answers as if deleted but writes nothing")
    void dryRunDelete() {
        api.configMap("default", "a");
        api.create(pods, "default", POD_ON_NODE);
        long rev = api.store.currentRevision();
        assertThat(api.objects.delete(cms, "default", "a", new DeleteOptions(null, null, null, null, true)).removed()).isTrue();
        Deleted pod = api.objects.delete(pods, "default", "p", new DeleteOptions(null, null, null, null, true));
        assertThat(pod.object().at("/metadata/deletionTimestamp").asText()).isEqualTo("2025-01-02T03:04:35Z");
        assertThat(api.store.currentRevision()).isEqualTo(rev);
        assertThat(api.find("configmaps", "default", "a")).isNotNull();
        assertThat(api.find("pods", "default", "p").at("/metadata").has("deletionTimestamp")).isFalse();
    }

    @Test
    @DisplayName("a namespace is not removed by delete: it turns Terminating with its 'kubernetes' finalizer in spec.finalizers")
    void namespaceTerminates() {
        api.namespace("ns1");
        Deleted d = api.objects.delete(api.type("namespaces"), null, "ns1", DeleteOptions.DEFAULT);
        assertThat(d.removed()).isFalse();
        assertThat(d.object().at("/status/phase").asText()).isEqualTo("Terminating");
        assertThat(d.object().at("/spec/finalizers/0").asText()).isEqualTo("kubernetes");
        assertThat(d.object().at("/metadata/deletionTimestamp").asText()).isEqualTo("2025-01-02T03:04:05Z");
    }
}
