package io.k3j.apiserver.openapi;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.api.patch.PatchSchema;
import io.k3j.api.patch.PatchSchema.FieldMeta;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class OpenApiServiceTest {
    private final OpenApiService service = OpenApiService.builtin();

    private JsonNode json(OpenApiService.Response r) {
        assertThat(r.status()).isEqualTo(200);
        return Json.parse(r.body());
    }

    @Test
    @DisplayName("/openapi/v2 as JSON has Deployment with GVK, an int32 replicas with a description, and Pod patch metadata")
    void v2Json() {
        JsonNode doc = json(service.get("/openapi/v2", null, "application/json", null));
        assertThat(doc.path("swagger").asText()).isEqualTo("2.0");
        JsonNode deployment = doc.path("definitions").path("io.k8s.api.apps.v1.Deployment");
        assertThat(deployment.path("x-kubernetes-group-version-kind").get(0).toString())
                .isEqualTo("{\"group\":\"apps\",\"kind\":\"Deployment\",\"version\":\"v1\"}");
        JsonNode replicas = doc.path("definitions").path("io.k8s.api.apps.v1.DeploymentSpec").path("properties").path("replicas");
        assertThat(replicas.path("type").asText()).isEqualTo("integer");
        assertThat(replicas.path("format").asText()).isEqualTo("int32");
        assertThat(replicas.path("description").asText()).contains("Number of desired pods");
        JsonNode containers = doc.path("definitions").path("io.k8s.api.core.v1.PodSpec").path("properties").path("containers");
        assertThat(containers.path("x-kubernetes-patch-strategy").asText()).isEqualTo("merge");
        assertThat(containers.path("x-kubernetes-patch-merge-key").asText()).isEqualTo("name");
        assertThat(containers.path("x-kubernetes-list-type").asText()).isEqualTo("map");
        JsonNode patch = doc.path("paths").path("/apis/apps/v1/namespaces/{namespace}/deployments/{name}").path("patch");
        assertThat(patch.path("parameters").toString()).contains("\"fieldValidation\"");
        // every reference resolves
        List<String> refs = new ArrayList<>();
        collectRefs(doc, refs);
        assertThat(refs).isNotEmpty().allSatisfy(ref ->
                assertThat(doc.path("definitions").has(ref.substring("#/definitions/".length()))).as(ref).isTrue());
    }

    private static void collectRefs(JsonNode n, List<String> out) {
        if (n.isObject() && n.path("$ref").isTextual()) out.add(n.get("$ref").asText());
        n.forEach(c -> collectRefs(c, out));
    }

    @Test
    @DisplayName("/openapi/v2 answers client-go's protobuf Accept with a gnostic Document, and 406s an unusable Accept")
    void v2Protobuf() {
        OpenApiService.Response r = service.get("/openapi/v2", null, OpenApiService.V2_PROTOBUF, null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).isEqualTo(OpenApiService.V2_PROTOBUF_ALT);
        ProtoReader doc = new ProtoReader(r.body());
        assertThat(doc.strings(1)).containsExactly("2.0");
        ProtoReader definitions = doc.message(9).get(0);
        ProtoReader deployment = null;
        for (ProtoReader named : definitions.message(1)) {
            if (named.strings(1).get(0).equals("io.k8s.api.apps.v1.Deployment")) deployment = named.message(2).get(0);
        }
        assertThat(deployment).isNotNull();
        List<String> extensions = new ArrayList<>();
        for (ProtoReader ext : deployment.message(31)) {
            extensions.add(ext.strings(1).get(0) + "=" + ext.message(2).get(0).strings(2).get(0).trim());
        }
        assertThat(extensions).contains("x-kubernetes-group-version-kind=[{\"group\":\"apps\",\"kind\":\"Deployment\",\"version\":\"v1\"}]");
        assertThat(service.get("/openapi/v2", null, "text/html", null).status()).isEqualTo(406);
    }

    @Test
    @DisplayName("/openapi/v3 lists hashed group-version URLs; a hashed fetch is immutable, a stale hash redirects")
    void v3() {
        JsonNode index = json(service.get("/openapi/v3", null, null, null));
        String url = index.path("paths").path("apis/apps/v1").path("serverRelativeURL").asText();
        assertThat(url).startsWith("/openapi/v3/apis/apps/v1?hash=");
        assertThat(index.path("paths").has("api/v1")).isTrue();
        String hash = url.substring(url.indexOf("hash=") + 5);
        assertThat(hash).matches("[0-9A-F]{128}");

        OpenApiService.Response r = service.get("/openapi/v3/apis/apps/v1", hash, "application/json", null);
        assertThat(r.headers()).containsEntry("Cache-Control", "public, immutable").containsEntry("ETag", "\"" + hash + "\"");
        JsonNode doc = json(r);
        assertThat(doc.path("openapi").asText()).isEqualTo("3.0.0");
        JsonNode spec = doc.path("components").path("schemas").path("io.k8s.api.apps.v1.Deployment").path("properties").path("spec");
        assertThat(spec.path("allOf").get(0).path("$ref").asText()).isEqualTo("#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec");
        assertThat(doc.path("components").path("schemas").has("io.k8s.api.core.v1.PodSpec")).isTrue();
        assertThat(doc.path("paths").path("/apis/apps/v1/namespaces/{namespace}/deployments/{name}").path("patch")
                .path("x-kubernetes-group-version-kind").path("kind").asText()).isEqualTo("Deployment");

        OpenApiService.Response stale = service.get("/openapi/v3/apis/apps/v1", "ABC", "application/json", null);
        assertThat(stale.status()).isEqualTo(301);
        assertThat(stale.headers().get("Location")).isEqualTo(url);
        assertThat(service.get("/openapi/v3/apis/apps/v1", null, "application/json", "\"" + hash + "\"").status()).isEqualTo(304);
        assertThat(service.get("/openapi/v3/apis/nope/v1", null, null, null).status()).isEqualTo(404);
    }

    @Test
    @DisplayName("PatchSchema answers from the built-in definitions")
    void patchSchema() {
        PatchSchema deployment = service.patchSchema("apps", "v1", "Deployment");
        FieldMeta containers = deployment.field(List.of("spec", "template", "spec", "containers"));
        assertThat(containers.mergesList()).isTrue();
        assertThat(containers.patchMergeKey()).isEqualTo("name");
        assertThat(containers.kind()).isEqualTo(PatchSchema.Kind.LIST);
        FieldMeta ports = deployment.field(List.of("spec", "template", "spec", "containers", "ports"));
        assertThat(ports.patchMergeKey()).isEqualTo("containerPort");
        assertThat(ports.listMapKeys()).containsExactly("containerPort", "protocol");
        FieldMeta volumes = deployment.field(List.of("spec", "template", "spec", "volumes"));
        assertThat(volumes.retainsKeys()).isTrue();
        assertThat(volumes.mergesList()).isTrue();
        assertThat(deployment.field(List.of("spec", "strategy")).patchStrategy()).isEqualTo("retainKeys");
        assertThat(deployment.field(List.of("metadata", "finalizers")).mergesPrimitiveList()).isTrue();
        assertThat(deployment.field(List.of("metadata", "ownerReferences")).patchMergeKey()).isEqualTo("uid");
        assertThat(deployment.field(List.of("metadata", "labels")).kind()).isEqualTo(PatchSchema.Kind.MAP);
        assertThat(deployment.field(List.of("spec", "selector")).mapType()).isEqualTo("atomic");
        assertThat(deployment.field(List.of("spec", "replicas")).kind()).isEqualTo(PatchSchema.Kind.SCALAR);
        assertThat(deployment.field(List.of("spec", "template", "spec", "tolerations")).listType()).isEqualTo("atomic");
        assertThat(deployment.field(List.of("spec", "nope"))).isEqualTo(PatchSchema.UNKNOWN);

        PatchSchema service = this.service.patchSchema("", "v1", "Service");
        assertThat(service.field(List.of("spec", "ports")).listMapKeys()).containsExactly("port", "protocol");
        assertThat(service.field(List.of("spec", "selector")).mapType()).isEqualTo("atomic");
        PatchSchema pod = this.service.patchSchema("", "v1", "Pod");
        assertThat(pod.field(List.of("status", "conditions")).patchMergeKey()).isEqualTo("type");
        assertThat(pod.field(List.of("spec", "containers", "env")).patchMergeKey()).isEqualTo("name");
        assertThat(pod.field(List.of("spec", "containers", "volumeMounts")).patchMergeKey()).isEqualTo("mountPath");
        assertThat(pod.field(List.of("spec", "containers", "restartPolicy")).kind()).isEqualTo(PatchSchema.Kind.SCALAR);
        assertThat(this.service.patchSchema("nope", "v1", "Thing")).isSameAs(PatchSchema.NONE);
    }

    @Test
    @DisplayName("Custom resources appear in v2 (JSON and protobuf) and v3, and answer PatchSchema from their own markers")
    void customResources() {
        ObjectNode schema = (ObjectNode) Json.parse("""
                {"type":"object","properties":{"spec":{"type":"object","properties":{
                  "ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
                           "items":{"type":"object","properties":{"name":{"type":"string"}}}},
                  "size":{"x-kubernetes-int-or-string":true,"anyOf":[{"type":"integer"},{"type":"string"}]}}}}}
                """.getBytes(StandardCharsets.UTF_8));
        byte[] protoBefore = service.get("/openapi/v2", null, OpenApiService.V2_PROTOBUF, null).body();
        service.putCustomResource(new CustomResource("stable.example.com", "v1", "CronTab", null, "crontabs", true, schema));

        JsonNode v3 = json(service.get("/openapi/v3/apis/stable.example.com/v1", null, "application/json", null));
        JsonNode def = v3.path("components").path("schemas").path("com.example.stable.v1.CronTab");
        assertThat(def.path("x-kubernetes-group-version-kind").get(0).path("kind").asText()).isEqualTo("CronTab");
        assertThat(def.path("properties").path("metadata").path("allOf").get(0).path("$ref").asText())
                .isEqualTo("#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
        assertThat(v3.path("components").path("schemas").has("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")).isTrue();
        assertThat(json(service.get("/openapi/v3", null, null, null)).path("paths").has("apis/stable.example.com/v1")).isTrue();

        JsonNode v2 = json(service.get("/openapi/v2", null, "application/json", null));
        JsonNode size = v2.path("definitions").path("com.example.stable.v1.CronTab").path("properties").path("spec").path("properties").path("size");
        assertThat(size.has("anyOf")).isFalse();
        assertThat(v2.path("paths").has("/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}")).isTrue();
        byte[] protoAfter = service.get("/openapi/v2", null, OpenApiService.V2_PROTOBUF, null).body();
        assertThat(protoAfter.length).isGreaterThan(protoBefore.length);
        List<String> names = new ArrayList<>();
        for (ProtoReader defs : new ProtoReader(protoAfter).message(9)) {
            for (ProtoReader named : defs.message(1)) names.add(named.strings(1).get(0));
        }
        assertThat(names).contains("com.example.stable.v1.CronTab", "com.example.stable.v1.CronTabList", "io.k8s.api.apps.v1.Deployment");

        PatchSchema cr = service.patchSchema("stable.example.com", "v1", "CronTab");
        assertThat(cr.field(List.of("spec", "ports")).listMapKeys()).containsExactly("name");
        assertThat(cr.field(List.of("metadata", "finalizers")).listType()).isEqualTo("set");

        service.removeCustomResource("stable.example.com", "v1", "CronTab");
        assertThat(service.get("/openapi/v3/apis/stable.example.com/v1", null, null, null).status()).isEqualTo(404);
        assertThat(service.get("/openapi/v2", null, OpenApiService.V2_PROTOBUF, null).body()).isEqualTo(protoBefore);
    }

    @Test
    @DisplayName("Given a custom resource's patch schema was handed out, when its CRD changes the list type, then the next one has it")
    void patchSchemaFollowsCustomResourceChanges() {
        CustomResource v1 = new CustomResource("stable.example.com", "v1", "Widget", null, "widgets", true, (ObjectNode) Json.parse("""
                {"type":"object","properties":{"spec":{"type":"object","properties":{
                  "items":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}}}}}}
                """.getBytes(StandardCharsets.UTF_8)));
        service.putCustomResource(v1);
        PatchSchema before = service.patchSchema("stable.example.com", "v1", "Widget");
        assertThat(before.field(List.of("spec", "items")).listType()).isEqualTo("set");
        assertThat(service.patchSchema("stable.example.com", "v1", "Widget")).isSameAs(before);

        service.putCustomResource(new CustomResource("stable.example.com", "v1", "Widget", null, "widgets", true, (ObjectNode) Json.parse("""
                {"type":"object","properties":{"spec":{"type":"object","properties":{
                  "items":{"type":"array","x-kubernetes-list-type":"atomic","items":{"type":"string"}}}}}}
                """.getBytes(StandardCharsets.UTF_8))));
        assertThat(service.patchSchema("stable.example.com", "v1", "Widget").field(List.of("spec", "items")).listType()).isEqualTo("atomic");
        // a schema handed out before the change stays what it was (a write in progress keeps one view)
        assertThat(before.field(List.of("spec", "items")).listType()).isEqualTo("set");

        service.removeCustomResource("stable.example.com", "v1", "Widget");
        assertThat(service.patchSchema("stable.example.com", "v1", "Widget")).isSameAs(PatchSchema.NONE);
    }

    @Test
    @DisplayName("Accept negotiation follows q-values")
    void accept() {
        assertThat(OpenApiService.acceptedTypes("application/json;q=0.5, " + OpenApiService.V2_PROTOBUF))
                .containsExactly(OpenApiService.V2_PROTOBUF, "application/json");
        assertThat(OpenApiService.acceptedTypes("text/html;q=0")).isEmpty();
        assertThat(OpenApiService.acceptedTypes(null)).containsExactly("*/*");
    }
}
