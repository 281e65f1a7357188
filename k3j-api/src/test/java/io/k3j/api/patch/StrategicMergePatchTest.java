package io.k3j.api.patch;

import static io.k3j.api.patch.PatchTesting.WORKLOADS;
import static io.k3j.api.patch.PatchTesting.bytes;
import static io.k3j.api.patch.PatchTesting.json;
import static io.k3j.api.patch.PatchTesting.yaml;
import static io.k3j.api.patch.PatchTesting.yamlBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.ApiException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Golden tests: original + patch = result, with results as kube-apiserver produces them (the kubectl patch task
 * page, the strategic-merge-patch design doc and apimachinery's strategicpatch fixtures).
 */
class StrategicMergePatchTest {

    private static JsonNode smp(String original, String patch) {
        return StrategicMergePatch.apply(yaml(original), yamlBytes(patch), WORKLOADS);
    }

    private static ApiException failure(String original, String patch) {
        try {
            smp(original, patch);
        } catch (ApiException e) {
            return e;
        }
        throw new AssertionError("patch applied");
    }

    @Nested
    @DisplayName("docs: Update API Objects in Place Using kubectl patch")
    class KubectlPatchTask {
        private static final String DEPLOYMENT = """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: patch-demo
                spec:
                  replicas: 2
                  selector:
                    matchLabels:
                      app: nginx
                  template:
                    metadata:
                      labels:
                        app: nginx
                    spec:
                      containers:
                      - name: patch-demo-ctr
                        image: nginx
                      tolerations:
                      - effect: NoSchedule
                        key: dedicated
                        value: test-team
                """;

        @Test
        @DisplayName("patch-file-containers.yaml: the new container is merged in by name, before the existing one")
        void containersMergeByName() {
            JsonNode out = smp(DEPLOYMENT, """
                    spec:
                      template:
                        spec:
                          containers:
                          - name: patch-demo-ctr-2
                            image: redis
                    """);
            assertThat(out.at("/spec/template/spec/containers")).isEqualTo(yaml("""
                    - name: patch-demo-ctr-2
                      image: redis
                    - name: patch-demo-ctr
                      image: nginx
                    """));
            assertThat(out.at("/spec/template/spec/tolerations").size()).isEqualTo(1);
        }

        @Test
        @DisplayName("patch-file-tolerations.yaml: tolerations have no patch strategy, so the list is replaced")
        void tolerationsAreReplaced() {
            JsonNode out = smp(DEPLOYMENT, """
                    spec:
                      template:
                        spec:
                          tolerations:
                          - effect: NoSchedule
                            key: disktype
                            value: ssd
                    """);
            assertThat(out.at("/spec/template/spec/tolerations")).isEqualTo(yaml("""
                    - effect: NoSchedule
                      key: disktype
                      value: ssd
                    """));
            assertThat(out.at("/spec/template/spec/containers").size()).isEqualTo(1);
        }

        @Test
        @DisplayName("patch-file-retainkeys.yaml: $retainKeys [type] clears rollingUpdate")
        void retainKeysStrategy() {
            String deployment = """
                    metadata:
                      name: retainkeys-demo
                    spec:
                      selector:
                        matchLabels:
                          app: nginx
                      strategy:
                        rollingUpdate:
                          maxSurge: 30%
                      template:
                        metadata:
                          labels:
                            app: nginx
                    """;
            JsonNode withoutRetainKeys = smp(deployment, """
                    spec:
                      strategy:
                        type: Recreate
                    """);
            assertThat(withoutRetainKeys.at("/spec/strategy")).isEqualTo(yaml("""
                    rollingUpdate:
                      maxSurge: 30%
                    type: Recreate
                    """));
            JsonNode out = smp(deployment, """
                    spec:
                      strategy:
                        $retainKeys:
                        - type
                        type: Recreate
                    """);
            assertThat(out.at("/spec/strategy")).isEqualTo(yaml("type: Recreate"));
            assertThat(out.at("/spec/template/metadata/labels/app").asText()).isEqualTo("nginx");
        }
    }

    @Nested
    @DisplayName("design doc: strategic-merge-patch.md")
    class DesignDoc {

        @Test
        @DisplayName("adding a container merges by name (the log-tailer example)")
        void addContainer() {
            JsonNode out = smp("""
                    spec:
                      containers:
                        - name: nginx
                          image: nginx-1.0
                    """, """
                    spec:
                      containers:
                        - name: log-tailer
                          image: log-tailer-1.0
                    """);
            assertThat(out.at("/spec/containers")).isEqualTo(yaml("""
                    - name: log-tailer
                      image: log-tailer-1.0
                    - name: nginx
                      image: nginx-1.0
                    """));
        }

        @Test
        @DisplayName("$patch: replace in a map takes the map literally")
        void replaceMap() {
            JsonNode out = smp("""
                    spec:
                      containers:
                      - name: nginx
                        image: nginx-0.9
                      - name: log-tailer
                        image: log-tailer-1.0
                      restartPolicy: Always
                    """, """
                    spec:
                      $patch: replace
                      containers:
                      - name: nginx
                        image: nginx-1.0
                    """);
            assertThat(out.get("spec")).isEqualTo(yaml("""
                    containers:
                    - name: nginx
                      image: nginx-1.0
                    """));
        }

        @Test
        @DisplayName("$patch: replace as a list item replaces the merging list")
        void replaceList() {
            JsonNode out = smp("""
                    spec:
                      containers:
                      - name: nginx
                        image: nginx-0.9
                      - name: log-tailer
                        image: log-tailer-1.0
                    """, """
                    spec:
                      containers:
                        - name: nginx
                          image: nginx-1.0
                        - $patch: replace
                    """);
            assertThat(out.at("/spec/containers")).isEqualTo(yaml("""
                    - name: nginx
                      image: nginx-1.0
                    """));
        }

        @Test
        @DisplayName("$patch: delete as a list item deletes every item with that merge key")
        void deleteListItem() {
            JsonNode out = smp("""
                    spec:
                      containers:
                      - name: nginx
                        image: nginx-0.9
                      - name: log-tailer
                        image: log-tailer-1.0
                      - name: log-tailer
                        image: log-tailer-0.1
                    """, """
                    spec:
                      containers:
                        - name: nginx
                          image: nginx-1.0
                        - $patch: delete
                          name: log-tailer
                    """);
            assertThat(out.at("/spec/containers")).isEqualTo(yaml("""
                    - name: nginx
                      image: nginx-1.0
                    """));
        }

        @Test
        @DisplayName("$patch: delete in a map empties it, as null does... except that the key stays")
        void deleteMap() {
            String deployment = """
                    spec:
                      strategy:
                        type: RollingUpdate
                        rollingUpdate:
                          maxSurge: 1
                    """;
            assertThat(smp(deployment, """
                    spec:
                      strategy:
                        rollingUpdate:
                          $patch: delete
                    """).at("/spec/strategy")).isEqualTo(yaml("type: RollingUpdate\nrollingUpdate: {}"));
            assertThat(smp(deployment, """
                    spec:
                      strategy:
                        rollingUpdate: null
                    """).at("/spec/strategy")).isEqualTo(yaml("type: RollingUpdate"));
        }

        @Test
        @DisplayName("$deleteFromPrimitiveList/finalizers removes b and c")
        void deleteFromPrimitiveList() {
            JsonNode out = smp("""
                    metadata:
                      finalizers: [a, b, c]
                    """, """
                    metadata:
                      $deleteFromPrimitiveList/finalizers: [b, c]
                    """);
            assertThat(out.at("/metadata/finalizers")).isEqualTo(yaml("[a]"));
        }

        @Test
        @DisplayName("$setElementOrder/finalizers reorders a primitive list")
        void setElementOrderPrimitives() {
            JsonNode out = smp("""
                    metadata:
                      finalizers: [a, b, c]
                    """, """
                    metadata:
                      $setElementOrder/finalizers: [b, c, a]
                    """);
            assertThat(out.at("/metadata/finalizers")).isEqualTo(yaml("[b, c, a]"));
        }

        @Test
        @DisplayName("$setElementOrder/containers reorders a list of maps by merge key")
        void setElementOrderMaps() {
            JsonNode out = smp("""
                    spec:
                      containers:
                      - {name: a, image: x}
                      - {name: b, image: y}
                      - {name: c, image: z}
                    """, """
                    spec:
                      $setElementOrder/containers:
                      - name: b
                      - name: c
                      - name: a
                    """);
            assertThat(out.at("/spec/containers")).isEqualTo(yaml("""
                    - {name: b, image: y}
                    - {name: c, image: z}
                    - {name: a, image: x}
                    """));
        }

        @Test
        @DisplayName("$retainKeys on a union clears the fields not listed")
        void retainKeysUnion() {
            JsonNode out = smp("""
                    union:
                      foo: a
                      other: b
                    """, """
                    union:
                      $retainKeys: [another, bar]
                      another: d
                      bar: c
                    """);
            assertThat(out.get("union")).isEqualTo(yaml("{another: d, bar: c}"));
        }
    }

    @Nested
    @DisplayName("apimachinery strategicpatch fixtures")
    class Fixtures {

        @Test
        @DisplayName("set elements order in a list with server-only items 2")
        void serverOnlyItemsStayInPlace() {
            JsonNode out = smp("""
                    mergingList:
                      - name: 1
                        other: a
                      - name: 2
                        value: 2
                      - name: 9
                      - name: 3
                        value: 3
                      - name: 4
                        value: 4
                    """, """
                    $setElementOrder/mergingList:
                      - name: 2
                      - name: 1
                      - name: 4
                      - name: 3
                    """);
            assertThat(out.get("mergingList")).isEqualTo(yaml("""
                    - {name: 2, value: 2}
                    - {name: 1, other: a}
                    - {name: 9}
                    - {name: 4, value: 4}
                    - {name: 3, value: 3}
                    """));
        }

        @Test
        @DisplayName("set elements order in a list with server-only items 3")
        void severalServerOnlyItems() {
            JsonNode out = smp("""
                    mergingList: [{name: 1, other: a}, {name: 2, value: 2}, {name: 7}, {name: 9}, {name: 8}, {name: 3, value: 3}, {name: 4, value: 4}]
                    """, """
                    $setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}]
                    """);
            assertThat(out.get("mergingList")).isEqualTo(yaml("""
                    [{name: 2, value: 2}, {name: 1, other: a}, {name: 7}, {name: 9}, {name: 8}, {name: 4, value: 4}, {name: 3, value: 3}]
                    """));
        }

        @Test
        @DisplayName("set element order with a patch list: listed items in that order, 2 stays after 1 as on the server")
        void setElementOrderWithChanges() {
            JsonNode out = smp("""
                    mergingList: [{name: 1}, {name: 3, value: 3}, {name: 4, value: 4}, {name: 2, value: 2}]
                    """, """
                    $setElementOrder/mergingList: [{name: 4}, {name: 5}, {name: 1}]
                    mergingList: [{name: 5, value: 5}, {name: 1, value: 1}]
                    """);
            assertThat(out.get("mergingList")).isEqualTo(yaml("""
                    [{name: 3, value: 3}, {name: 4, value: 4}, {name: 5, value: 5}, {name: 1, value: 1}, {name: 2, value: 2}]
                    """));
        }

        @Test
        @DisplayName("behavior of set element order for a merging int list with duplicate")
        void duplicatesInIntList() {
            JsonNode out = smp("mergingIntList: [1, 2, 3, 2, 4]", "$setElementOrder/mergingIntList: [2, 1, 4, 3, 2]");
            assertThat(out.get("mergingIntList")).isEqualTo(yaml("[2, 2, 1, 4, 3]"));
        }

        @Test
        @DisplayName("$setElementOrder contains item that is not present in the int list to be merged")
        void orderNamesAbsentItem() {
            assertThat(smp("mergingIntList: [1, 3]", "$setElementOrder/mergingIntList: [3, 2, 1]").get("mergingIntList"))
                    .isEqualTo(yaml("[3, 1]"));
        }

        @Test
        @DisplayName("$deleteFromPrimitiveList: of an absent item, on an absent list, on a non-merging list")
        void deleteFromPrimitiveListEdges() {
            assertThat(smp("mergingIntList: [1, 2]", "$deleteFromPrimitiveList/mergingIntList: [3]"))
                    .isEqualTo(yaml("mergingIntList: [1, 2]"));
            assertThat(smp("foo: [bar]", "$deleteFromPrimitiveList/mergingIntList: [3]")).isEqualTo(yaml("foo: [bar]"));
            assertThat(smp("nonMergingIntList: [1, 2, 3]", "$deleteFromPrimitiveList/nonMergingIntList: [2]"))
                    .isEqualTo(yaml("nonMergingIntList: [1, 3]"));
        }

        @Test
        @DisplayName("should check if order in $setElementOrder and patch list match")
        void orderMismatch() {
            ApiException e = failure("mergingList: [{name: 1}, {name: 3}, {name: 2}]", """
                    $setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}]
                    mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]
                    """);
            assertThat(e.code()).isEqualTo(400);
            assertThat(e.getMessage()).isEqualTo("The order in patch list:\n[map[name:3 value:3] map[name:1 value:1]]\n"
                    + " doesn't match $setElementOrder list:\n[map[name:1] map[name:2] map[name:3]]\n");
        }

        @Test
        @DisplayName("missing merge key should error out")
        void missingMergeKey() {
            ApiException e = failure("mergingList: [{name: 1, value: a}]", "mergingList: [{value: b}]");
            assertThat(e.code()).isEqualTo(400);
            assertThat(e.getMessage()).isEqualTo("map: map[value:b] does not contain declared merge key: name");
        }
    }

    @Nested
    @DisplayName("merging")
    class Merging {

        @Test
        @DisplayName("nested merge lists: env by name, ports by containerPort; untouched items keep their place")
        void nestedLists() {
            JsonNode out = smp("""
                    spec:
                      template:
                        spec:
                          containers:
                          - name: web
                            image: nginx:1.25
                            env:
                            - {name: A, value: "1"}
                            - {name: B, value: "1"}
                            ports:
                            - {containerPort: 80, protocol: TCP}
                          - name: sidecar
                            image: busybox
                    """, """
                    spec:
                      template:
                        spec:
                          containers:
                          - name: web
                            image: nginx:1.27
                            env:
                            - {name: B, value: "2"}
                            ports:
                            - {containerPort: 80, name: http}
                    """);
            assertThat(out.at("/spec/template/spec/containers")).isEqualTo(yaml("""
                    - name: web
                      image: nginx:1.27
                      env:
                      - {name: A, value: "1"}
                      - {name: B, value: "2"}
                      ports:
                      - {containerPort: 80, protocol: TCP, name: http}
                    - name: sidecar
                      image: busybox
                    """));
        }

        @Test
        @DisplayName("a primitive list with strategy merge is a union: new values first, then the server's")
        void primitiveUnion() {
            assertThat(smp("metadata: {finalizers: [a, b]}", "metadata: {finalizers: [c, a]}").at("/metadata/finalizers"))
                    .isEqualTo(yaml("[c, a, b]"));
        }

        @Test
        @DisplayName("kubectl apply's patch: $setElementOrder plus the changed item and a deletion")
        void kubectlApplyShape() {
            JsonNode out = smp("""
                    spec:
                      containers:
                      - {name: a, image: a:1}
                      - {name: b, image: b:1}
                      - {name: c, image: c:1}
                    """, """
                    spec:
                      $setElementOrder/containers: [{name: a}, {name: c}]
                      containers:
                      - {name: c, image: c:2}
                      - {$patch: delete, name: b}
                    """);
            assertThat(out.at("/spec/containers")).isEqualTo(yaml("[{name: a, image: a:1}, {name: c, image: c:2}]"));
        }

        @Test
        @DisplayName("null deletes fields; maps merge; a field with strategy replace is replaced")
        void mapsAndNulls() {
            JsonNode out = smp("""
                    metadata:
                      labels: {a: "1", b: "2"}
                    replacingMap: {x: 1, y: 2}
                    spec: {replicas: 3, paused: true}
                    """, """
                    metadata:
                      labels: {b: null, c: "3"}
                    replacingMap: {z: 3}
                    spec: {paused: null}
                    """);
            assertThat(out).isEqualTo(yaml("""
                    metadata:
                      labels: {a: "1", c: "3"}
                    replacingMap: {z: 3}
                    spec: {replicas: 3}
                    """));
        }

        @Test
        @DisplayName("values taken from the patch lose nulls and directives")
        void newValuesAreCleaned() {
            JsonNode out = smp("spec: {}", """
                    spec:
                      strategy: {type: Recreate, rollingUpdate: null}
                      template:
                        spec:
                          containers:
                          - {name: a, image: null, resources: {$patch: delete}}
                          - {name: gone, $patch: delete}
                    """);
            assertThat(out).isEqualTo(yaml("""
                    spec:
                      strategy: {type: Recreate}
                      template:
                        spec:
                          containers:
                          - {name: a}
                    """));
        }

        @Test
        @DisplayName("PatchSchema.NONE (custom resources) makes it a merge patch: lists are replaced")
        void noSchema() {
            JsonNode out = StrategicMergePatch.apply(yaml("spec: {containers: [{name: a}], x: 1}"),
                    yamlBytes("spec: {containers: [{name: b}]}"), PatchSchema.NONE);
            assertThat(out).isEqualTo(yaml("spec: {containers: [{name: b}], x: 1}"));
        }

        @Test
        @DisplayName("the target and the parsed patch are left untouched")
        void inputsUntouched() {
            JsonNode target = yaml("spec: {containers: [{name: a, image: x}]}");
            var patch = (com.fasterxml.jackson.databind.node.ObjectNode) yaml(
                    "spec: {$setElementOrder/containers: [{name: b}, {name: a}], containers: [{name: b, image: y}]}");
            JsonNode targetBefore = target.deepCopy();
            JsonNode patchBefore = patch.deepCopy();
            JsonNode out = StrategicMergePatch.apply(target, patch, WORKLOADS);
            assertThat(out.at("/spec/containers")).isEqualTo(yaml("[{name: b, image: y}, {name: a, image: x}]"));
            assertThat(target).isEqualTo(targetBefore);
            assertThat(patch).isEqualTo(patchBefore);
        }

        @Test
        @DisplayName("a JSON null body leaves the object unchanged")
        void nullBody() {
            assertThat(StrategicMergePatch.apply(json("{\"a\":1}"), bytes("null"), WORKLOADS)).isEqualTo(json("{\"a\":1}"));
        }
    }

    @Nested
    @DisplayName("errors")
    class Errors {

        @Test
        void bodyMustBeAnObject() {
            assertThatThrownBy(() -> StrategicMergePatch.apply(json("{}"), bytes("[1]"), WORKLOADS))
                    .isInstanceOfSatisfying(ApiException.class, e -> {
                        assertThat(e.code()).isEqualTo(400);
                        assertThat(e.getMessage()).isEqualTo("json: cannot unmarshal array into Go value of type map[string]interface {}");
                    });
            assertThatThrownBy(() -> StrategicMergePatch.apply(json("{}"), bytes("{"), WORKLOADS))
                    .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(400));
        }

        @Test
        void directiveErrors() {
            assertThat(failure("spec: {containers: [{name: a}]}", "spec: {containers: [{$patch: merge, name: a}]}").getMessage())
                    .isEqualTo("merging lists cannot yet be specified in the patch");
            assertThat(failure("spec: {x: {a: 1}}", "spec: {x: {$patch: merge}}").getMessage())
                    .isEqualTo("unknown patch type: merge in map: map[$patch:merge]");
            assertThat(failure("spec: {x: 1}", "spec: {$retainKeys: [y], x: 2}").getMessage())
                    .isEqualTo("invalid patch format of retainKeys");
            assertThat(failure("metadata: {finalizers: [a]}", "metadata: {$deleteFromPrimitiveListfinalizers: [a]}").getMessage())
                    .isEqualTo("invalid patch format of primitive list");
            assertThat(failure("metadata: {finalizers: [a]}", "metadata: {$setElementOrder/finalizers: a}").getMessage())
                    .isEqualTo("expected a []interface {}, but received a string");
        }

        @Test
        void elementTypesMustAgree() {
            ApiException e = failure("mergingIntList: [1, 2]", "mergingIntList: [\"3\"]");
            assertThat(e.code()).isEqualTo(400);
            assertThat(e.getMessage()).isEqualTo("list element types are not identical: [[1 2] [3]]");
        }

        @Test
        @DisplayName("lists of lists are 422 with the generic message, as kube-apiserver answers ErrNoListOfLists")
        void listOfLists() {
            ApiException e = failure("mergingIntList: [[1]]", "mergingIntList: [[2]]");
            assertThat(e.code()).isEqualTo(422);
            assertThat(e.reason()).isEqualTo("Invalid");
            assertThat(e.getMessage()).isEqualTo(PatchErrors.REJECTED);
        }
    }
}
