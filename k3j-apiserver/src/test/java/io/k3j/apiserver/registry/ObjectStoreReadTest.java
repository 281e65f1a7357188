package io.k3j.apiserver.registry;

import static io.k3j.apiserver.registry.TestApi.apiError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.select.FieldSelector;
import io.k3j.api.select.LabelSelector;
import io.k3j.apiserver.registry.ObjectStore.ListResult;
import io.k3j.apiserver.resource.ResourceType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("ObjectStore reads follow kube-apiserver's get and list semantics")
class ObjectStoreReadTest {
    final TestApi api = TestApi.start();
    final ResourceType cms = api.type("configmaps");

    @AfterEach
    void close() {
        api.close();
    }

    static ListOptions opts(String rv, String match, long limit, String cont) {
        return new ListOptions(LabelSelector.EVERYTHING, FieldSelector.EVERYTHING, rv, match, limit, cont);
    }

    static List<String> names(ListResult r) {
        return r.items().stream().map(Meta::name).toList();
    }

    @Test
    @DisplayName("get of a missing object: 404 'configmaps \"x\" not found'")
    void getMissing() {
        ApiException e = apiError(() -> api.objects.get(cms, "default", "x", ""));
        assertThat(e.code()).isEqualTo(404);
        assertThat(e.getMessage()).isEqualTo("configmaps \"x\" not found");
    }

    @Test
    @DisplayName("get with resourceVersion \"\" is a consistent read: a write is visible at once")
    void getConsistent() {
        ObjectNode cm = api.configMap("default", "a");
        assertThat(api.objects.get(cms, "default", "a", "")).isEqualTo(cm);
        assertThat(api.objects.get(cms, "default", "a", "0").at("/metadata/uid")).isEqualTo(cm.at("/metadata/uid"));
    }

    @Test
    @DisplayName("get with a resourceVersion newer than the store waits 3 s, then 504 'Timeout: Too large resource version'")
    void getFutureResourceVersion() {
        api.configMap("default", "a");
        long future = api.store.currentRevision() + 100;
        long t0 = System.nanoTime();
        ApiException e = apiError(() -> api.objects.get(cms, "default", "a", Long.toString(future)));
        assertThat(e.code()).isEqualTo(504);
        assertThat(e.reason()).isEqualTo("Timeout");
        assertThat(e.getMessage()).isEqualTo("Timeout: Too large resource version: " + future + ", current: " + api.store.currentRevision());
        assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(2_900L, 6_000L);
    }

    @Test
    @DisplayName("a resourceVersion that is not a number: 400 'invalid resource version'")
    void badResourceVersion() {
        ApiException e = apiError(() -> api.objects.list(cms, "default", opts("abc", "", 0, "")));
        assertThat(e.code()).isEqualTo(400);
        assertThat(e.getMessage()).isEqualTo("invalid resource version \"abc\"");
    }

    @Test
    @DisplayName("list answers items in key order with the list's resourceVersion; a namespace list sees only that namespace")
    void listOrderAndScope() {
        api.namespace("other");
        api.configMap("default", "b");
        api.configMap("default", "a");
        api.configMap("other", "c");
        ListResult all = api.objects.list(cms, null, ListOptions.ALL);
        assertThat(names(all)).containsExactly("a", "b", "c");
        assertThat(all.revision()).isEqualTo(api.store.currentRevision());
        assertThat(all.continueToken()).isNull();
        assertThat(names(api.objects.list(cms, "default", ListOptions.ALL))).containsExactly("a", "b");
    }

    @Test
    @DisplayName("resourceVersionMatch=Exact lists the state at that revision, even after later writes and deletes; NotOlderThan any state since")
    void listExact() {
        api.configMap("default", "a");
        long rv = api.store.currentRevision();
        api.configMap("default", "b");
        api.objects.delete(cms, "default", "a", DeleteOptions.DEFAULT);
        ListResult r = api.objects.list(cms, "default", opts(Long.toString(rv), "Exact", 0, ""));
        assertThat(names(r)).containsExactly("a");
        assertThat(r.revision()).isEqualTo(rv);
        assertThat(r.items().get(0).at("/metadata/resourceVersion").asText()).isEqualTo(Long.toString(rv));
        // NotOlderThan (and "0") may answer any state at or after the revision, from the cache
        assertThat(api.objects.list(cms, "default", opts(Long.toString(rv), "NotOlderThan", 0, "")).revision()).isGreaterThanOrEqualTo(rv);
        assertThat(api.objects.list(cms, "default", opts(Long.toString(rv), "", 0, "")).revision()).isGreaterThanOrEqualTo(rv);
    }

    @Test
    @DisplayName("resourceVersionMatch rules of ValidateListOptions: unknown value, without resourceVersion, Exact with \"0\"")
    void listMatchValidation() {
        ApiException unknown = apiError(() -> api.objects.list(cms, "default", opts("1", "Newest", 0, "")));
        assertThat(unknown.code()).isEqualTo(422);
        ApiException noRv = apiError(() -> api.objects.list(cms, "default", opts("", "Exact", 0, "")));
        assertThat(noRv.code()).isEqualTo(422);
        assertThat(noRv.getMessage()).contains("resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided");
        ApiException exactZero = apiError(() -> api.objects.list(cms, "default", opts("0", "Exact", 0, "")));
        assertThat(exactZero.getMessage()).contains("resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
    }

    @Test
    @DisplayName("an Exact list at a compacted revision: 410 Expired 'The resourceVersion for the provided list is too old.'")
    void listExactCompacted() {
        api.configMap("default", "a");
        long old = api.store.currentRevision();
        api.configMap("default", "b");
        api.configMap("default", "c");
        api.store.compact(api.store.currentRevision());
        ApiException e = apiError(() -> api.objects.list(cms, "default", opts(Long.toString(old), "Exact", 0, "")));
        assertThat(e.code()).isEqualTo(410);
        assertThat(e.reason()).isEqualTo("Expired");
        assertThat(e.getMessage()).isEqualTo("The resourceVersion for the provided list is too old.");
    }

    @Test
    @DisplayName("limit/continue pages through a consistent snapshot: writes after the first page don't show; remainingItemCount counts the rest")
    void paging() {
        for (String n : List.of("a", "b", "c", "d", "e")) api.configMap("default", n);
        ListResult p1 = api.objects.list(cms, "default", opts("", "", 2, ""));
        assertThat(names(p1)).containsExactly("a", "b");
        assertThat(p1.continueToken()).isNotNull();
        assertThat(p1.remainingItemCount()).isEqualTo(3);

        api.configMap("default", "bb");
        api.objects.delete(cms, "default", "e", DeleteOptions.DEFAULT);

        List<String> rest = new ArrayList<>();
        String token = p1.continueToken();
        while (token != null) {
            ListResult p = api.objects.list(cms, "default", opts("", "", 2, token));
            assertThat(p.revision()).isEqualTo(p1.revision());
            rest.addAll(names(p));
            token = p.continueToken();
        }
        assertThat(rest).containsExactly("c", "d", "e");
    }

    @Test
    @DisplayName("a continue token is base64 of {\"v\":\"meta.k8s.io/v1\",\"rv\":N,\"start\":\"<key>\\u0000\"} (storage.EncodeContinue)")
    void continueTokenFormat() {
        api.configMap("default", "a");
        api.configMap("default", "b");
        ListResult p1 = api.objects.list(cms, "default", opts("", "", 1, ""));
        String decoded = new String(java.util.Base64.getUrlDecoder().decode(p1.continueToken()), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(decoded).isEqualTo("{\"v\":\"meta.k8s.io/v1\",\"rv\":" + p1.revision() + ",\"start\":\"default/a\\u0000\"}");
    }

    @Test
    @DisplayName("a continue token used after its revision was compacted: 410 Expired 'The provided continue parameter is too old ...'")
    void continueAfterCompaction() {
        for (String n : List.of("a", "b", "c")) api.configMap("default", n);
        ListResult p1 = api.objects.list(cms, "default", opts("", "", 1, ""));
        api.configMap("default", "d");
        api.store.compact(api.store.currentRevision());
        ApiException e = apiError(() -> api.objects.list(cms, "default", opts("", "", 1, p1.continueToken())));
        assertThat(e.code()).isEqualTo(410);
        assertThat(e.reason()).isEqualTo("Expired");
        assertThat(e.getMessage()).startsWith("The provided continue parameter is too old to display a consistent list result.");
    }

    @Test
    @DisplayName("continue with a resourceVersion: 400; a garbled token: 400 'continue key is not valid'")
    void continueMisuse() {
        api.configMap("default", "a");
        api.configMap("default", "b");
        ListResult p1 = api.objects.list(cms, "default", opts("", "", 1, ""));
        ApiException withRv = apiError(() -> api.objects.list(cms, "default", opts("5", "", 1, p1.continueToken())));
        assertThat(withRv.code()).isEqualTo(400);
        assertThat(withRv.getMessage()).isEqualTo("specifying resource version is not allowed when using continue");
        ApiException garbled = apiError(() -> api.objects.list(cms, "default", opts("", "", 1, "!!!")));
        assertThat(garbled.code()).isEqualTo(400);
        assertThat(garbled.getMessage()).startsWith("continue key is not valid");
    }

    @Test
    @DisplayName("label selectors filter; with a selector a page has no remainingItemCount")
    void labelSelector() {
        api.create("configmaps", "default", "{\"metadata\": {\"name\": \"a\", \"labels\": {\"app\": \"web\", \"tier\": \"fe\"}}}");
        api.create("configmaps", "default", "{\"metadata\": {\"name\": \"b\", \"labels\": {\"app\": \"db\"}}}");
        api.create("configmaps", "default", "{\"metadata\": {\"name\": \"c\", \"labels\": {\"app\": \"web\"}}}");
        api.configMap("default", "d");
        ListOptions web = new ListOptions(LabelSelector.parse("app=web"), FieldSelector.EVERYTHING, "", "", 0, "");
        assertThat(names(api.objects.list(cms, "default", web))).containsExactly("a", "c");
        ListOptions notWeb = new ListOptions(LabelSelector.parse("app!=web"), FieldSelector.EVERYTHING, "", "", 0, "");
        assertThat(names(api.objects.list(cms, "default", notWeb))).containsExactly("b", "d");
        ListOptions set = new ListOptions(LabelSelector.parse("app in (db,web),!tier"), FieldSelector.EVERYTHING, "", "", 1, "");
        ListResult page = api.objects.list(cms, "default", set);
        assertThat(names(page)).containsExactly("b");
        assertThat(page.remainingItemCount()).isNull();
        assertThat(names(api.objects.list(cms, "default", new ListOptions(LabelSelector.parse("app in (db,web),!tier"),
                FieldSelector.EVERYTHING, "", "", 1, page.continueToken())))).containsExactly("c");
    }

    @Test
    @DisplayName("metadata.name and metadata.namespace field selectors work for every type")
    void metadataFieldSelectors() {
        api.namespace("other");
        api.configMap("default", "a");
        api.configMap("default", "b");
        api.configMap("other", "a");
        ListOptions byName = new ListOptions(LabelSelector.EVERYTHING, FieldSelector.parse("metadata.name=a"), "", "", 0, "");
        assertThat(api.objects.list(cms, null, byName).items()).extracting(Meta::namespace).containsExactly("default", "other");
        ListOptions byNs = new ListOptions(LabelSelector.EVERYTHING, FieldSelector.parse("metadata.namespace!=default"), "", "", 0, "");
        assertThat(api.objects.list(cms, null, byNs).items()).extracting(Meta::namespace).containsExactly("other");
    }

    @Test
    @DisplayName("pods select by spec.nodeName and status.phase (pod field label conversion)")
    void podFieldSelectors() {
        ResourceType pods = api.type("pods");
        api.create(pods, "default", "{\"metadata\": {\"name\": \"p1\"}, \"spec\": {\"nodeName\": \"n1\", \"containers\": [{\"name\": \"c\", \"image\": \"busybox\"}]}}");
        api.create(pods, "default", "{\"metadata\": {\"name\": \"p2\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"busybox\"}]}}");
        ListOptions onNode = new ListOptions(LabelSelector.EVERYTHING, FieldSelector.parse("spec.nodeName=n1"), "", "", 0, "");
        assertThat(names(api.objects.list(pods, "default", onNode))).containsExactly("p1");
        ListOptions unscheduled = new ListOptions(LabelSelector.EVERYTHING, FieldSelector.parse("spec.nodeName="), "", "", 0, "");
        assertThat(names(api.objects.list(pods, "default", unscheduled))).containsExactly("p2");
        ListOptions pending = new ListOptions(LabelSelector.EVERYTHING, FieldSelector.parse("status.phase=Pending"), "", "", 0, "");
        assertThat(names(api.objects.list(pods, "default", pending))).containsExactly("p1", "p2");
    }

    @Test
    @DisplayName("unsupported field selectors: 400 '\"spec.x\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"' or 'field label not supported: x'")
    void unsupportedFieldSelectors() {
        ApiException generic = apiError(() -> api.objects.list(cms, "default",
                new ListOptions(LabelSelector.EVERYTHING, FieldSelector.parse("data.k=v"), "", "", 0, "")));
        assertThat(generic.code()).isEqualTo(400);
        assertThat(generic.getMessage()).isEqualTo("\"data.k\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"");
        ApiException pod = apiError(() -> api.objects.list(api.type("pods"), "default",
                new ListOptions(LabelSelector.EVERYTHING, FieldSelector.parse("spec.priority=1"), "", "", 0, "")));
        assertThat(pod.code()).isEqualTo(400);
        assertThat(pod.getMessage()).isEqualTo("field label not supported: spec.priority");
    }
}
