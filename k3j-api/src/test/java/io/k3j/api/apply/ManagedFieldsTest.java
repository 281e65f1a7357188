package io.k3j.api.apply;

import static io.k3j.api.apply.FieldSetTest.json;
import static io.k3j.api.apply.FieldSetTest.yaml;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.api.patch.PatchSchema;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class ManagedFieldsTest {
    static final String V = "apps/v1";
    final TestSchemas.MutableClock clock = new TestSchemas.MutableClock("2024-01-01T00:00:00Z");
    final ManagedFields fields = new ManagedFields(clock);
    final PatchSchema schema = TestSchemas.KUBE;

    /** What `kubectl create deployment web --image=nginx` stores after defaulting. */
    static final String CREATED = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              namespace: default
              uid: 0b9c3c8e-1111-2222-3333-444455556666
              resourceVersion: "1"
              creationTimestamp: "2024-01-01T00:00:00Z"
              labels:
                app: web
            spec:
              replicas: 1
              selector:
                matchLabels:
                  app: web
              strategy:
                type: RollingUpdate
                rollingUpdate:
                  maxSurge: 25%
                  maxUnavailable: 25%
              template:
                metadata:
                  labels:
                    app: web
                spec:
                  containers:
                  - name: nginx
                    image: nginx
                    resources: {}
                  securityContext: {}
            """;

    static final String CREATE_FIELDS = """
            {"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},\
            "f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},\
            "f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":\
            {"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:name":{},"f:resources":{}}},"f:securityContext":{}}}}}""";

    static String applyConfig(int replicas, String image) {
        return """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                  labels:
                    app: web
                spec:
                  replicas: %d
                  selector:
                    matchLabels:
                      app: web
                  template:
                    metadata:
                      labels:
                        app: web
                    spec:
                      containers:
                      - name: nginx
                        image: %s
                """.formatted(replicas, image);
    }

    static final String DEPLOY_TOOL_FIELDS = """
            {"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":\
            {"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":\
            {".":{},"f:image":{},"f:name":{}}}}}}}""";

    ObjectNode created() {
        return fields.trackUpdate(null, yaml(CREATED), "kubectl-create", V, "", schema);
    }

    static String entry(String manager, String operation, String time, String fieldsV1, String subresource) {
        return "{\"manager\":\"" + manager + "\",\"operation\":\"" + operation + "\",\"apiVersion\":\"apps/v1\","
                + (time == null ? "" : "\"time\":\"" + time + "\",") + "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":" + fieldsV1
                + (subresource == null ? "" : ",\"subresource\":\"" + subresource + "\"") + "}";
    }

    static String managedFields(JsonNode obj) {
        JsonNode mf = Json.at(obj, "metadata", "managedFields");
        return mf == null ? null : Json.string(mf);
    }

    static FieldSet owned(JsonNode obj, String manager, String operation) {
        for (JsonNode e : obj.at("/metadata/managedFields")) {
            if (e.get("manager").asText().equals(manager) && e.get("operation").asText().equals(operation)) {
                return FieldSet.fromFieldsV1(e.get("fieldsV1"));
            }
        }
        return null;
    }

    @Nested
    @DisplayName("Update tracking")
    class Updates {
        @Test
        @DisplayName("create records everything as an Update entry, new maps and pointer structs with '.'")
        void create() {
            ObjectNode obj = created();
            assertThat(managedFields(obj)).isEqualTo("[" + entry("kubectl-create", "Update", "2024-01-01T00:00:00Z",
                    CREATE_FIELDS, null) + "]");
            assertThat(obj.at("/spec/replicas").asInt()).isEqualTo(1);
        }

        @Test
        @DisplayName("trackedManagedFields gives what trackUpdate sets, on create and on update, and modifies neither input")
        void trackedManagedFieldsMatchesTrackUpdate() {
            ObjectNode fresh = yaml(CREATED);
            ObjectNode freshBefore = fresh.deepCopy();
            assertThat(Json.string(fields.trackedManagedFields(null, fresh, "kubectl-create", V, "", schema)))
                    .isEqualTo(managedFields(created()));
            assertThat(fresh).isEqualTo(freshBefore);

            ObjectNode live = created();
            clock.set("2024-01-01T00:05:00Z");
            ObjectNode edited = live.deepCopy();
            ((ObjectNode) edited.get("spec")).put("replicas", 4);
            ObjectNode liveBefore = live.deepCopy();
            ObjectNode editedBefore = edited.deepCopy();
            JsonNode tracked = fields.trackedManagedFields(live, edited, "kubectl-edit", V, "", schema);
            assertThat(Json.string(tracked)).isEqualTo(managedFields(fields.trackUpdate(live, edited, "kubectl-edit", V, "", schema)));
            assertThat(live).isEqualTo(liveBefore);
            assertThat(edited).isEqualTo(editedBefore);
            // an object nobody tracks stays untracked
            ObjectNode untracked = yaml(CREATED);
            assertThat(fields.trackedManagedFields(yaml(CREATED), untracked, "kubectl-edit", V, "", schema)).isNull();
        }

        @Test
        @DisplayName("an update by another manager takes the fields it changed, and only those")
        void updateTakesOwnership() {
            ObjectNode live = created();
            clock.set("2024-01-01T00:05:00Z");
            ObjectNode edited = live.deepCopy();
            ((ObjectNode) edited.get("spec")).put("replicas", 4);
            Json.obj((ObjectNode) edited.get("metadata"), "labels").put("tier", "front");
            ObjectNode out = fields.trackUpdate(live, edited, "kubectl-edit", V, "", schema);
            assertThat(owned(out, "kubectl-edit", "Update").toFieldsV1().toString())
                    .isEqualTo("{\"f:metadata\":{\"f:labels\":{\"f:tier\":{}}},\"f:spec\":{\"f:replicas\":{}}}");
            assertThat(owned(out, "kubectl-create", "Update").contains(FieldSetTest.path("spec", "replicas"))).isFalse();
            // Entries sort by time within an operation.
            assertThat(out.at("/metadata/managedFields/0/manager").asText()).isEqualTo("kubectl-create");
            assertThat(out.at("/metadata/managedFields/1/time").asText()).isEqualTo("2024-01-01T00:05:00Z");
        }

        @Test
        @DisplayName("an update that changes nothing adds no entry and keeps times")
        void noopUpdate() {
            ObjectNode live = created();
            clock.set("2024-01-02T00:00:00Z");
            ObjectNode out = fields.trackUpdate(live, live.deepCopy(), "kubectl-edit", V, "", schema);
            assertThat(managedFields(out)).isEqualTo(managedFields(live));
        }

        @Test
        @DisplayName("removing a field takes it from its owner; an owner left with nothing disappears")
        void removal() {
            ObjectNode live = fields.trackUpdate(null, yaml("""
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: c}
                    data: {a: "1"}
                    """), "creator", "v1", "", schema);
            ObjectNode edited = live.deepCopy();
            ((ObjectNode) edited.get("data")).remove("a");
            ((ObjectNode) edited.get("data")).put("b", "2");
            ObjectNode out = fields.trackUpdate(live, edited, "editor", "v1", "", schema);
            // The creator keeps the map itself (it created it), not the entry it no longer has.
            assertThat(Json.string(owned(out, "creator", "Update").toFieldsV1())).isEqualTo("{\"f:data\":{}}");
            assertThat(Json.string(owned(out, "editor", "Update").toFieldsV1())).isEqualTo("{\"f:data\":{\"f:b\":{}}}");

            ObjectNode emptied = out.deepCopy();
            emptied.remove("data");
            ObjectNode last = fields.trackUpdate(out, emptied, "editor", "v1", "", schema);
            assertThat(last.at("/metadata").has("managedFields")).isFalse();
        }

        @Test
        @DisplayName("managedFields: [{}] resets tracking; an untracked object stays untracked on update")
        void reset() {
            ObjectNode live = created();
            ObjectNode edited = live.deepCopy();
            ((ObjectNode) edited.get("metadata")).putArray("managedFields").addObject();
            ObjectNode out = fields.trackUpdate(live, edited, "kubectl-edit", V, "", schema);
            assertThat(out.at("/metadata").has("managedFields")).isFalse();
            ObjectNode again = out.deepCopy();
            ((ObjectNode) again.get("spec")).put("replicas", 9);
            assertThat(fields.trackUpdate(out, again, "kubectl-edit", V, "", schema).at("/metadata").has("managedFields")).isFalse();
        }

        @Test
        @DisplayName("valid managedFields sent by the client replace the stored ones; invalid ones are ignored")
        void clientManagedFields() {
            ObjectNode live = created();
            ObjectNode sent = live.deepCopy();
            ((ObjectNode) sent.get("metadata")).set("managedFields", json("""
                    [{"manager":"someone","operation":"Update","apiVersion":"apps/v1","fieldsType":"FieldsV1",
                      "fieldsV1":{"f:spec":{"f:paused":{}}}}]"""));
            ObjectNode out = fields.trackUpdate(live, sent, "kubectl-replace", V, "", schema);
            assertThat(managedFields(out)).isEqualTo("[" + entry("someone", "Update", null, "{\"f:spec\":{\"f:paused\":{}}}", null) + "]");

            ((ObjectNode) sent.get("metadata")).set("managedFields", json("[{\"manager\":\"x\",\"operation\":\"Bogus\"}]"));
            assertThat(managedFields(fields.trackUpdate(live, sent, "kubectl-replace", V, "", schema))).isEqualTo(managedFields(live));
        }

        @Test
        @DisplayName("a subresource update gets its own entry; the client's managedFields are ignored there")
        void subresource() {
            ObjectNode live = created();
            ObjectNode scaled = live.deepCopy();
            ((ObjectNode) scaled.get("spec")).put("replicas", 5);
            ((ObjectNode) scaled.get("metadata")).putArray("managedFields").addObject();
            clock.set("2024-01-01T00:00:30Z");
            ObjectNode out = fields.trackUpdate(live, scaled, "hpa", V, "scale", schema);
            assertThat(out.at("/metadata/managedFields/1").toString())
                    .isEqualTo(entry("hpa", "Update", "2024-01-01T00:00:30Z", "{\"f:spec\":{\"f:replicas\":{}}}", "scale"));
        }

        @Test
        @DisplayName("more than 10 update managers fold the oldest into ancient-changes")
        void capManagers() {
            ObjectNode obj = fields.trackUpdate(null, yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {m0: x}}"),
                    "m0", "v1", "", schema);
            for (int i = 1; i <= 10; i++) {
                clock.set("2024-01-01T00:%02d:00Z".formatted(i));
                ObjectNode next = obj.deepCopy();
                ((ObjectNode) next.get("data")).put("m" + i, "x");
                obj = fields.trackUpdate(obj, next, "m" + i, "v1", "", schema);
            }
            JsonNode mf = obj.at("/metadata/managedFields");
            assertThat(mf.size()).isEqualTo(10);
            assertThat(mf.get(0).toString()).isEqualTo("{\"manager\":\"ancient-changes\",\"operation\":\"Update\",\"apiVersion\":\"v1\","
                    + "\"time\":\"2024-01-01T00:01:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:data\":{\".\":{},\"f:m0\":{},\"f:m1\":{}}}}");
            assertThat(mf.get(1).get("manager").asText()).isEqualTo("m2");
        }

        @Test
        @DisplayName("an empty manager name is recorded as unknown")
        void unknownManager() {
            ObjectNode obj = fields.trackUpdate(null, yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: b}}"),
                    "", "v1", "", schema);
            assertThat(obj.at("/metadata/managedFields/0/manager").asText()).isEqualTo("unknown");
        }
    }

    @Nested
    @DisplayName("Server-side apply")
    class Apply {
        @Test
        @DisplayName("applying over fields another manager set differently is a 409 like kube-apiserver's")
        void conflict() {
            ObjectNode live = created();
            ApiException e = catchThrowableOfType(ApiException.class,
                    () -> fields.apply(live, yaml(applyConfig(3, "nginx")), "deploy-tool", false, V, "", schema));
            assertThat(e.code()).isEqualTo(409);
            assertThat(Json.string(e.toStatus())).isEqualTo("""
                    {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",\
                    "message":"Apply failed with 1 conflict: conflict with \\"kubectl-create\\" using apps/v1: .spec.replicas",\
                    "reason":"Conflict","details":{"causes":[{"reason":"FieldManagerConflict",\
                    "message":"conflict with \\"kubectl-create\\" using apps/v1","field":".spec.replicas"}]},"code":409}""");
        }

        @Test
        @DisplayName("several conflicts are listed per manager")
        void conflicts() {
            ObjectNode live = created();
            ApiException e = catchThrowableOfType(ApiException.class,
                    () -> fields.apply(live, yaml(applyConfig(3, "nginx:1.25")), "deploy-tool", false, V, "", schema));
            assertThat(e.getMessage()).isEqualTo("""
                    Apply failed with 2 conflicts: conflicts with "kubectl-create" using apps/v1:
                    - .spec.replicas
                    - .spec.template.spec.containers[name="nginx"].image""");
            assertThat(e.causes()).extracting(ApiException.Cause::field)
                    .containsExactly(".spec.replicas", ".spec.template.spec.containers[name=\"nginx\"].image");
        }

        @Test
        @DisplayName("force moves conflicting fields to the applier; equal values are shared")
        void force() {
            ObjectNode live = created();
            clock.set("2024-01-01T00:01:00Z");
            ApplyResult r = fields.apply(live, yaml(applyConfig(3, "nginx")), "deploy-tool", true, V, "", schema);
            assertThat(r.changed()).isTrue();
            assertThat(r.object().at("/spec/replicas").asInt()).isEqualTo(3);
            assertThat(r.object().at("/spec/strategy/type").asText()).isEqualTo("RollingUpdate");
            assertThat(managedFields(r.object())).isEqualTo("["
                    + entry("deploy-tool", "Apply", "2024-01-01T00:01:00Z", DEPLOY_TOOL_FIELDS, null) + ","
                    + entry("kubectl-create", "Update", "2024-01-01T00:00:00Z", CREATE_FIELDS.replace("\"f:replicas\":{},", ""), null)
                    + "]");
        }

        @Test
        @DisplayName("re-applying the same configuration changes nothing and keeps the time")
        void noop() {
            clock.set("2024-01-01T00:01:00Z");
            ObjectNode live = fields.apply(created(), yaml(applyConfig(3, "nginx")), "deploy-tool", true, V, "", schema).object();
            clock.set("2024-01-01T00:09:00Z");
            ApplyResult again = fields.apply(live, yaml(applyConfig(3, "nginx")), "deploy-tool", false, V, "", schema);
            assertThat(again.changed()).isFalse();
            assertThat(again.object()).isEqualTo(live);
            assertThat(managedFields(again.object())).isEqualTo(managedFields(live));
        }

        @Test
        @DisplayName("fields the applier drops are removed unless another manager owns them")
        void prune() {
            ObjectNode live = fields.apply(null, yaml("""
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: web, labels: {app: web, tier: front, team: a}}
                    spec: {replicas: 2, paused: true}
                    """), "tool-a", false, V, "", schema).object();
            live = fields.apply(live, yaml("""
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: web, labels: {team: a}}
                    """), "tool-b", false, V, "", schema).object();
            ObjectNode out = fields.apply(live, yaml("""
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: web, labels: {app: web}}
                    spec: {replicas: 2}
                    """), "tool-a", false, V, "", schema).object();
            assertThat(Json.string(out.get("metadata"))).isEqualTo("{\"name\":\"web\",\"labels\":{\"app\":\"web\",\"team\":\"a\"},"
                    // tool-b's apply changed nothing, so kube-apiserver gave its entry no time (and it sorts first).
                    + "\"managedFields\":[" + entry("tool-b", "Apply", null, "{\"f:metadata\":{\"f:labels\":{\"f:team\":{}}}}", null)
                    + "," + entry("tool-a", "Apply", "2024-01-01T00:00:00Z",
                    "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:replicas\":{}}}", null) + "]}");
            assertThat(Json.string(out.get("spec"))).isEqualTo("{\"replicas\":2}");
        }

        @Test
        @DisplayName("fields set by an Update are kept when an applier that never owned them drops its config")
        void pruneKeepsUnowned() {
            ObjectNode live = created();
            ObjectNode applied = fields.apply(live, yaml(applyConfig(1, "nginx")), "deploy-tool", false, V, "", schema).object();
            ObjectNode out = fields.apply(applied, yaml("{apiVersion: apps/v1, kind: Deployment, metadata: {name: web}}"),
                    "deploy-tool", false, V, "", schema).object();
            // kubectl-create still owns everything deploy-tool applied, so nothing goes away.
            assertThat(out.get("spec")).isEqualTo(live.get("spec"));
            assertThat(owned(out, "deploy-tool", "Apply")).isNull();
        }

        @Test
        @DisplayName("list-map items merge by key: others' items stay where they were, applied items in applied order")
        void listMapMerge() {
            ObjectNode live = fields.apply(null, yaml("""
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: p}
                    spec:
                      containers:
                      - {name: a, image: a}
                      - {name: b, image: b}
                      - {name: c, image: c, ports: [{containerPort: 80, protocol: TCP}]}
                    """), "creator", false, "v1", "", schema).object();
            ApplyResult r = fields.apply(live, yaml("""
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: p}
                    spec:
                      containers:
                      - name: c
                        ports: [{containerPort: 80}, {containerPort: 53, protocol: UDP}]
                      - {name: a, env: [{name: X, value: "1"}]}
                      - {name: d, image: d}
                    """), "sidecar", false, "v1", "", schema);
            assertThat(Json.string(r.object().at("/spec/containers"))).isEqualTo("""
                    [{"name":"b","image":"b"},\
                    {"name":"c","image":"c","ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":53,"protocol":"UDP"}]},\
                    {"name":"a","image":"a","env":[{"name":"X","value":"1"}]},{"name":"d","image":"d"}]""");
            assertThat(Json.string(owned(r.object(), "sidecar", "Apply").toFieldsV1())).isEqualTo("""
                    {"f:spec":{"f:containers":{"k:{\\"name\\":\\"a\\"}":{".":{},"f:env":{"k:{\\"name\\":\\"X\\"}":\
                    {".":{},"f:name":{},"f:value":{}}},"f:name":{}},"k:{\\"name\\":\\"c\\"}":{".":{},"f:name":{},"f:ports":\
                    {"k:{\\"containerPort\\":53,\\"protocol\\":\\"UDP\\"}":{".":{},"f:containerPort":{},"f:protocol":{}},\
                    "k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{}}}},\
                    "k:{\\"name\\":\\"d\\"}":{".":{},"f:image":{},"f:name":{}}}}}""");

            // Dropping d removes it (only sidecar owned it); a and c stay, owned by the creator too.
            ObjectNode out = fields.apply(r.object(), yaml("""
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: p}
                    spec:
                      containers:
                      - {name: a, env: [{name: X, value: "1"}]}
                    """), "sidecar", false, "v1", "", schema).object();
            assertThat(out.at("/spec/containers").findValuesAsText("name")).containsExactly("b", "c", "a", "X");
            assertThat(out.at("/spec/containers/1/ports").size()).isEqualTo(1);
        }

        @Test
        @DisplayName("sets merge by value and each applier owns its own items")
        void setMerge() {
            ObjectNode live = fields.apply(null, yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: c, finalizers: [a]}, data: {x: '1'}}"),
                    "one", false, "v1", "", schema).object();
            live = fields.apply(live, yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: c, finalizers: [b, a]}, data: {y: '2'}}"),
                    "two", false, "v1", "", schema).object();
            assertThat(Json.string(live.at("/metadata/finalizers"))).isEqualTo("[\"b\",\"a\"]");
            assertThat(Json.string(live.get("data"))).isEqualTo("{\"x\":\"1\",\"y\":\"2\"}");
            assertThat(Json.string(owned(live, "two", "Apply").toFieldsV1()))
                    .isEqualTo("{\"f:data\":{\"f:y\":{}},\"f:metadata\":{\"f:finalizers\":{\"v:\\\"a\\\"\":{},\"v:\\\"b\\\"\":{}}}}");
            ObjectNode out = fields.apply(live, yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}"),
                    "two", false, "v1", "", schema).object();
            // a is still owned by "one"; b and y were only two's.
            assertThat(Json.string(out.at("/metadata/finalizers"))).isEqualTo("[\"a\"]");
            assertThat(Json.string(out.get("data"))).isEqualTo("{\"x\":\"1\"}");
        }

        @Test
        @DisplayName("atomic lists are replaced whole and conflict as one field")
        void atomicList() {
            ObjectNode live = fields.apply(null, yaml("""
                    {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: a, args: [x, y]}]}}"""),
                    "one", false, "v1", "", schema).object();
            ApiException e = catchThrowableOfType(ApiException.class, () -> fields.apply(live, yaml("""
                    {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: a, args: [z]}]}}"""),
                    "two", false, "v1", "", schema));
            assertThat(e.getMessage()).isEqualTo("Apply failed with 1 conflict: conflict with \"one\": .spec.containers[name=\"a\"].args");
            ObjectNode out = fields.apply(live, yaml("""
                    {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: a, args: [z]}]}}"""),
                    "two", true, "v1", "", schema).object();
            assertThat(Json.string(out.at("/spec/containers/0/args"))).isEqualTo("[\"z\"]");
        }

        @Test
        @DisplayName("an Update after apply takes the field; the applier then conflicts with the updater")
        void updateThenApply() {
            clock.set("2024-01-01T00:01:00Z");
            ObjectNode live = fields.apply(created(), yaml(applyConfig(3, "nginx")), "deploy-tool", true, V, "", schema).object();
            ObjectNode scaled = live.deepCopy();
            ((ObjectNode) scaled.get("spec")).put("replicas", 7);
            clock.set("2024-01-01T00:02:00Z");
            ObjectNode afterHpa = fields.trackUpdate(live, scaled, "hpa", V, "scale", schema);
            assertThat(owned(afterHpa, "deploy-tool", "Apply").contains(FieldSetTest.path("spec", "replicas"))).isFalse();
            assertThat(managedFields(afterHpa)).endsWith(
                    entry("hpa", "Update", "2024-01-01T00:02:00Z", "{\"f:spec\":{\"f:replicas\":{}}}", "scale") + "]");
            assertThatThrownBy(() -> fields.apply(afterHpa, yaml(applyConfig(3, "nginx")), "deploy-tool", false, V, "", schema))
                    .hasMessage("Apply failed with 1 conflict: conflict with \"hpa\" with subresource \"scale\" using apps/v1: .spec.replicas");
        }

        @Test
        @DisplayName("the first apply to an untracked object attributes existing fields to before-first-apply")
        void beforeFirstApply() {
            ObjectNode live = created();
            ((ObjectNode) live.get("metadata")).remove("managedFields");
            assertThatThrownBy(() -> fields.apply(live, yaml(applyConfig(3, "nginx")), "deploy-tool", false, V, "", schema))
                    .hasMessage("Apply failed with 1 conflict: conflict with \"before-first-apply\" using apps/v1: .spec.replicas");
            ObjectNode out = fields.apply(live, yaml(applyConfig(1, "nginx")), "deploy-tool", false, V, "", schema).object();
            assertThat(out.at("/metadata/managedFields/1/manager").asText()).isEqualTo("before-first-apply");
            assertThat(out.at("/metadata/managedFields/0/time").isMissingNode()).isTrue();
        }

        @Test
        @DisplayName("kubectl apply --server-side takes over fields of its client-side last-applied configuration")
        void clientSideUpgrade() {
            String lastApplied = "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"labels\":{\"app\":\"web\"},"
                    + "\"name\":\"web\"},\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":"
                    + "{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"image\":\"nginx\",\"name\":\"nginx\"}]}}}}\n";
            ObjectNode obj = yaml(CREATED);
            Json.obj((ObjectNode) obj.get("metadata"), "annotations").put(ManagedFields.LAST_APPLIED_ANNOTATION, lastApplied);
            ObjectNode live = fields.trackUpdate(null, obj, "kubectl-client-side-apply", V, "", schema);

            ApplyResult r = fields.apply(live, yaml(applyConfig(2, "nginx")), "kubectl", false, V, "", schema);
            assertThat(r.object().at("/spec/replicas").asInt()).isEqualTo(2);
            assertThat(r.object().at("/metadata/annotations").get(ManagedFields.LAST_APPLIED_ANNOTATION).asText())
                    .isEqualTo(lastApplied.replace("\"replicas\":1", "\"replicas\":2"));
            assertThat(owned(r.object(), "kubectl-client-side-apply", "Update").contains(FieldSetTest.path("spec", "replicas"))).isFalse();

            // Another manager's change is not covered by the annotation: still a conflict, as for any manager.
            ObjectNode edited = live.deepCopy();
            ((ObjectNode) edited.at("/spec/template/spec/containers/0")).put("image", "nginx:1.24");
            ObjectNode afterEdit = fields.trackUpdate(live, edited, "kubectl-edit", V, "", schema);
            assertThatThrownBy(() -> fields.apply(afterEdit, yaml(applyConfig(2, "nginx:1.25")), "kubectl", false, V, "", schema))
                    .hasMessage("Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: "
                            + ".spec.template.spec.containers[name=\"nginx\"].image");
            // Other managers get no such allowance.
            assertThatThrownBy(() -> fields.apply(live, yaml(applyConfig(2, "nginx")), "argocd", false, V, "", schema))
                    .hasMessageStartingWith("Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\"");
        }

        @Test
        @DisplayName("apply checks its request like kube-apiserver: manager required, no managedFields, matching type")
        void validation() {
            ApiException e = catchThrowableOfType(ApiException.class,
                    () -> fields.apply(null, yaml(applyConfig(1, "nginx")), "", false, V, "", schema));
            assertThat(e.code()).isEqualTo(422);
            assertThat(e.getMessage()).isEqualTo("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");

            ObjectNode withMf = yaml(applyConfig(1, "nginx"));
            ((ObjectNode) withMf.get("metadata")).putArray("managedFields");
            assertThatThrownBy(() -> fields.apply(null, withMf, "x", false, V, "", schema)).hasMessage("metadata.managedFields must be nil");
            assertThatThrownBy(() -> fields.apply(created(), yaml(applyConfig(1, "nginx").replace("apps/v1", "apps/v1beta1")), "x", false, V, "", schema))
                    .hasMessage("invalid object type: apps/v1beta1, Kind=Deployment");
            ApiException dup = catchThrowableOfType(ApiException.class, () -> fields.apply(null, yaml("""
                    {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: d}, spec: {containers: [{name: a}, {name: a}]}}"""),
                    "x", false, "v1", "", schema));
            assertThat(dup.code()).isEqualTo(400);
            assertThat(dup.getMessage()).isEqualTo("failed to create typed patch object (d/p; /v1, Kind=Pod): "
                    + ".spec.containers: duplicate entries for key [name=\"a\"]");
        }
    }

    @Test
    @DisplayName("manager names from User-Agent as kube-apiserver derives them")
    void managerFromUserAgent() {
        assertThat(ManagedFields.managerFromUserAgent("kubectl/v1.30.0 (linux/amd64) kubernetes/7c48c2b")).isEqualTo("kubectl");
        assertThat(ManagedFields.managerFromUserAgent("Go-http-client/1.1")).isEqualTo("Go-http-client");
        assertThat(ManagedFields.managerFromUserAgent("fabric8-kubernetes-client/6.13.0")).isEqualTo("fabric8-kubernetes-client");
        assertThat(ManagedFields.managerFromUserAgent("a\tb\u0001c")).isEqualTo("abc");
        assertThat(ManagedFields.managerFromUserAgent("x".repeat(200))).hasSize(128);
        assertThat(ManagedFields.managerFromUserAgent(null)).isEmpty();
        assertThat(ManagedFields.managerOrUserAgent("kubectl-edit", "kubectl/v1.30.0")).isEqualTo("kubectl-edit");
        assertThat(ManagedFields.managerOrUserAgent("", "kubectl/v1.30.0")).isEqualTo("kubectl");
    }
}
