package io.k3j.api.apply;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.k3j.api.Json;
import io.k3j.api.patch.PatchSchema;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class FieldSetTest {

    static ObjectNode yaml(String text) {
        try {
            return (ObjectNode) Json.YAML.readTree(text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static List<PathElement> path(String... names) {
        return java.util.Arrays.stream(names).map(PathElement::field).toList();
    }

    static JsonNode json(String text) {
        return Json.parse(text.getBytes(StandardCharsets.UTF_8));
    }

    static final String DEPLOYMENT = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              labels:
                app: web
            spec:
              replicas: 2
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
                    image: nginx:1.25
                    args: ["-g", "daemon off;"]
                    ports:
                    - containerPort: 80
                    env:
                    - name: A
                      value: "1"
            """;

    @Test
    @DisplayName("the fields of an applied Deployment serialize as kube-apiserver writes its Apply entry")
    void appliedDeploymentFields() {
        FieldSet set = FieldSet.fromObject(yaml(DEPLOYMENT), TestSchemas.KUBE);
        // Struct fields (spec, template, labels as a field of ObjectMeta) hold no "." of their own; list-map items
        // do; the port key carries the defaulted protocol; args is atomic, selector an atomic map.
        assertThat(Json.string(set.toFieldsV1())).isEqualTo("""
                {"f:apiVersion":{},"f:kind":{},"f:metadata":{"f:labels":{"f:app":{}},"f:name":{}},\
                "f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},\
                "f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:args":{},"f:env":{"k:{\\"name\\":\\"A\\"}":\
                {".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:name":{},"f:ports":\
                {"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{}}}}}}}}}""");
    }

    @Test
    @DisplayName("without schema objects are granular maps whose entries are owned and lists are atomic")
    void deducedSchema() {
        FieldSet set = FieldSet.fromObject(yaml("""
                spec:
                  a: 1
                  b: {c: x}
                  l: [1, 2]
                """), PatchSchema.NONE);
        assertThat(Json.string(set.toFieldsV1()))
                .isEqualTo("{\"f:spec\":{\".\":{},\"f:a\":{},\"f:b\":{\".\":{},\"f:c\":{}},\"f:l\":{}}}");
    }

    @Test
    @DisplayName("set items are v: elements with Go-escaped JSON; an applied (struct field) list has no '.' itself")
    void setItems() {
        FieldSet set = FieldSet.fromObject(yaml("""
                metadata:
                  finalizers: [b, a, "x<y"]
                """), TestSchemas.KUBE);
        assertThat(Json.string(set.toFieldsV1()))
                .isEqualTo("{\"f:metadata\":{\"f:finalizers\":{\"v:\\\"a\\\"\":{},\"v:\\\"b\\\"\":{},\"v:\\\"x\\\\u003cy\\\"\":{}}}}");
    }

    @Test
    @DisplayName("fieldsV1 parses back to the same set, and '.' marks an element that is member and parent")
    void roundTrip() {
        String fields = """
                {"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:template":{"f:spec":{"f:containers":\
                {"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:name":{}}}}}},"x:unknown":{}}""";
        FieldSet set = FieldSet.fromFieldsV1(json(fields));
        assertThat(Json.string(set.toFieldsV1())).isEqualTo(fields.replace(",\"x:unknown\":{}", ""));
        ObjectNode key = Json.object().put("name", "nginx");
        assertThat(set.contains(List.of(PathElement.field("metadata"), PathElement.field("labels")))).isTrue();
        assertThat(set.contains(List.of(PathElement.field("metadata")))).isFalse();
        List<PathElement> container = List.of(PathElement.field("spec"), PathElement.field("template"),
                PathElement.field("spec"), PathElement.field("containers"), PathElement.key(key));
        assertThat(set.contains(container)).isTrue();
        assertThat(FieldSet.pathString(container)).isEqualTo(".spec.template.spec.containers[name=\"nginx\"]");
    }

    @Test
    @DisplayName("union, intersection, difference and recursive difference follow structured-merge-diff")
    void setOperations() {
        FieldSet a = FieldSet.ofFields("spec", "replicas").union(FieldSet.ofFields("spec", "paused"))
                .union(FieldSet.ofFields("spec"));
        FieldSet b = FieldSet.ofFields("spec", "replicas").union(FieldSet.ofFields("metadata", "labels"));
        assertThat(a.intersection(b)).isEqualTo(FieldSet.ofFields("spec", "replicas"));
        assertThat(a.union(b).paths()).hasSize(4);
        assertThat(Json.string(a.difference(b).toFieldsV1())).isEqualTo("{\"f:spec\":{\".\":{},\"f:paused\":{}}}");
        // A plain difference of a member keeps what is below it; a recursive one removes it all.
        assertThat(a.difference(FieldSet.ofFields("spec"))).isEqualTo(FieldSet.ofFields("spec", "replicas")
                .union(FieldSet.ofFields("spec", "paused")));
        assertThat(a.recursiveDifference(FieldSet.ofFields("spec")).isEmpty()).isTrue();
        assertThat(a.difference(a).isEmpty()).isTrue();
    }

    @Test
    @DisplayName("path elements order fields, keys, values, indexes and print as in conflicts")
    void pathElements() {
        ObjectNode key = Json.object().put("protocol", "TCP").put("containerPort", 80);
        PathElement k = PathElement.key(key);
        assertThat(k.serialize()).isEqualTo("k:{\"containerPort\":80,\"protocol\":\"TCP\"}");
        assertThat(k.toString()).isEqualTo("[containerPort=80,protocol=\"TCP\"]");
        assertThat(PathElement.value(TextNode.valueOf("a")).toString()).isEqualTo("[=\"a\"]");
        assertThat(PathElement.index(3).serialize()).isEqualTo("i:3");
        assertThat(PathElement.field("z").compareTo(k)).isNegative();
        assertThat(k.compareTo(PathElement.value(IntNode.valueOf(1)))).isNegative();
        assertThat(PathElement.value(IntNode.valueOf(2)).compareTo(PathElement.value(TextNode.valueOf("1")))).isNegative();
        assertThat(PathElement.deserialize(k.serialize())).isEqualTo(k);
    }
}
