package io.k3j.apiserver.crd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.ApiException.Cause;
import io.k3j.api.Json;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The docs' CronTab with {@code subresources.scale} on .spec.replicas, .status.replicas and .status.labelSelector. */
class ScaleSubresourceTest {
    private final ScaleSubresource scale = ScaleSubresource.fromCrd(yaml("""
            specReplicasPath: .spec.replicas
            statusReplicasPath: .status.replicas
            labelSelectorPath: .status.labelSelector
            """));

    private static ObjectNode yaml(String s) {
        return (ObjectNode) readYaml(s);
    }

    private static ObjectNode cr(String specAndStatus) {
        return yaml("""
                apiVersion: stable.example.com/v1
                kind: CronTab
                metadata: {name: my-new-cron-object, namespace: default, uid: u1, resourceVersion: "7", creationTimestamp: "2024-01-01T00:00:00Z"}
                """ + specAndStatus);
    }

    @Test
    @DisplayName("GET /scale reads replicas and selector from the paths")
    void toScale() {
        ObjectNode s = scale.toScale(cr("""
                spec: {replicas: 3}
                status: {replicas: 2, labelSelector: "app=cron"}
                """));
        assertThat(s).isEqualTo(yaml("""
                kind: Scale
                apiVersion: autoscaling/v1
                metadata: {name: my-new-cron-object, namespace: default, uid: u1, resourceVersion: "7", creationTimestamp: "2024-01-01T00:00:00Z"}
                spec: {replicas: 3}
                status: {replicas: 2, selector: "app=cron"}
                """));
        assertThat(scale.toScale(cr("spec: {}")).get("status")).isEqualTo(yaml("{replicas: 0}"));
    }

    @Test
    @DisplayName("a replicas path of the wrong type is an accessor error")
    void wrongType() {
        assertThatThrownBy(() -> scale.toScale(cr("spec: {replicas: three}")))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.code()).isEqualTo(500);
                    assertThat(e.getMessage()).isEqualTo(
                            "Internal error occurred: .spec.replicas accessor error: three is of the type string, expected int64");
                });
        assertThat(scale.validate(cr("spec: {replicas: 1.5}\nstatus: {replicas: -1}"), true).stream().map(Cause::render)).containsExactly(
                ".spec.replicas: Invalid value: 0: .spec.replicas accessor error: 1.5 is of the type float64, expected int64",
                ".status.replicas: Invalid value: -1: should be a non-negative integer");
        assertThat(scale.validate(cr("status: {replicas: 3000000000}"), false).stream().map(Cause::render)).containsExactly(
                ".status.replicas: Invalid value: 3000000000: should be less than or equal to 2147483647");
    }

    @Test
    @DisplayName("PUT /scale writes spec replicas back, creating the path, and carries the resourceVersion")
    void applyScale() {
        ObjectNode updated = scale.applyScale(cr("status: {replicas: 1}"),
                yaml("{metadata: {resourceVersion: \"9\"}, spec: {replicas: 5}}"));
        assertThat(updated.at("/spec/replicas").asLong()).isEqualTo(5);
        assertThat(updated.at("/metadata/resourceVersion").asText()).isEqualTo("9");

        assertThatThrownBy(() -> scale.applyScale(cr("status: {}"), yaml("{spec: {}}")))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.code()).isEqualTo(400);
                    assertThat(e.getMessage()).isEqualTo("the spec replicas field \".spec.replicas\" cannot be empty");
                });
    }

    /** YAML flow style ({a: b}) too, which Json.parseYamlOrJson would take for JSON. */
    private static com.fasterxml.jackson.databind.JsonNode readYaml(String s) {
        try {
            return Json.YAML.readTree(s);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
