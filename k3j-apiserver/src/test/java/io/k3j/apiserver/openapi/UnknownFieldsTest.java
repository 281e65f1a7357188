package io.k3j.apiserver.openapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Pruning of built-in objects as decoding into the Go types does it; the paths are the ones kube-apiserver puts
 * in {@code unknown field "..."} (sigs.k8s.io/json: fields joined by '.', list items as {@code [i]}, map keys as
 * {@code .key}).
 */
class UnknownFieldsTest {
    private static final OpenApiService SERVICE = OpenApiService.builtin();

    private static ObjectNode yaml(String s) {
        try {
            return (ObjectNode) Json.YAML.readTree(s);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    @DisplayName("a Deployment with typos deep inside: every unknown field reported in document order and dropped")
    void deployment() {
        ObjectNode d = yaml("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, labelz: {a: b}, labels: {app: web, anything.io/goes: x}}
                spec:
                  replicas: 2
                  replica: 3
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    kind: Pod
                    spec:
                      containers:
                      - name: a
                        image: nginx
                        imagePullPolice: Always
                        resources: {limits: {cpu: 100m, memory: 1Gi}, requests: {cpu: 1}}
                        ports: [{containerPort: 80, hostport: 8080}]
                        env: [{name: X, valueFrom: {fieldRef: {fieldPath: metadata.name, foo: 1}}}]
                      - name: b
                        image: busybox
                        livenessProbe: {httpGet: {port: http, path: /}, bogus: null}
                  strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 1}}
                status: {replicas: 1, extra: true}
                """);
        assertThat(SERVICE.pruneUnknownFields("apps", "v1", "Deployment", d)).containsExactly(
                "metadata.labelz",
                "spec.replica",
                "spec.template.kind",
                "spec.template.spec.containers[0].imagePullPolice",
                "spec.template.spec.containers[0].ports[0].hostport",
                "spec.template.spec.containers[0].env[0].valueFrom.fieldRef.foo",
                "spec.template.spec.containers[1].livenessProbe.bogus",
                "status.extra");
        assertThat(d).isEqualTo(yaml("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, labels: {app: web, anything.io/goes: x}}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers:
                      - name: a
                        image: nginx
                        resources: {limits: {cpu: 100m, memory: 1Gi}, requests: {cpu: 1}}
                        ports: [{containerPort: 80}]
                        env: [{name: X, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
                      - name: b
                        image: busybox
                        livenessProbe: {httpGet: {port: http, path: /}}
                  strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 1}}
                status: {replicas: 1}
                """));
    }

    @Test
    @DisplayName("free-form values keep everything: RawExtension, CRD JSON defaults, managedFields' fieldsV1, ConfigMap data")
    void freeForm() {
        ObjectNode rev = yaml("""
                {apiVersion: apps/v1, kind: ControllerRevision, metadata: {name: r,
                 managedFields: [{manager: m, operation: Update, fieldsV1: {"f:spec": {"f:x": {}}}, whatever: 1}]},
                 revision: 1, data: {spec: {anything: [1, {b: 2}]}}}""");
        assertThat(SERVICE.pruneUnknownFields("apps", "v1", "ControllerRevision", rev)).containsExactly("metadata.managedFields[0].whatever");
        assertThat(rev.at("/data/spec/anything/1/b").asInt()).isEqualTo(2);
        assertThat(rev.at("/metadata/managedFields/0/fieldsV1/f:spec/f:x").isObject()).isTrue();

        ObjectNode cm = yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: '1'}, binaryData: {b: AA==}, dat: {}}");
        assertThat(SERVICE.pruneUnknownFields("", "v1", "ConfigMap", cm)).containsExactly("dat");

        ObjectNode crd = yaml("""
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata: {name: crontabs.stable.example.com}
                spec:
                  group: stable.example.com
                  names: {plural: crontabs, kind: CronTab, singular: crontab}
                  scope: Namespaced
                  versions:
                  - name: v1
                    served: true
                    storage: true
                    schema:
                      openAPIV3Schema:
                        type: object
                        typo: 1
                        properties:
                          spec:
                            type: object
                            default: {free: {form: true}}
                            x-kubernetes-preserve-unknown-fields: true
                            items: {anything: goes}
                            propertiez: {}
                """);
        assertThat(SERVICE.pruneUnknownFields("apiextensions.k8s.io", "v1", "CustomResourceDefinition", crd)).containsExactly(
                "spec.versions[0].schema.openAPIV3Schema.typo",
                "spec.versions[0].schema.openAPIV3Schema.properties.spec.propertiez");
        assertThat(crd.at("/spec/versions/0/schema/openAPIV3Schema/properties/spec/default/free/form").asBoolean()).isTrue();
    }

    @Test
    @DisplayName("maps of objects name their keys with a dot; int-or-string and quantities take any scalar; wrong types aren't descended")
    void mapsAndScalars() {
        ObjectNode svc = yaml("""
                {apiVersion: v1, kind: Service, metadata: {name: s},
                 spec: {ports: [{port: 80, targetPort: http}, {port: 81, targetPort: 8081, nodeport: 1}], selector: {a: b},
                        sessionAffinityConfig: "not an object"}}""");
        assertThat(SERVICE.pruneUnknownFields("", "v1", "Service", svc)).containsExactly("spec.ports[1].nodeport");
        assertThat(svc.at("/spec/sessionAffinityConfig").asText()).isEqualTo("not an object");
        ObjectNode lr = yaml("""
                {apiVersion: v1, kind: LimitRange, metadata: {name: l},
                 spec: {limits: [{type: Container, max: {cpu: 2, memory: 1Gi}, defaultz: {cpu: 1}}]}}""");
        assertThat(SERVICE.pruneUnknownFields("", "v1", "LimitRange", lr)).containsExactly("spec.limits[0].defaultz");
    }

    @Test
    @DisplayName("kinds served only as subresources have definitions too; unknown kinds are refused")
    void kinds() {
        assertThat(SERVICE.isBuiltinKind("autoscaling", "v1", "Scale")).isTrue();
        assertThat(SERVICE.isBuiltinKind("policy", "v1", "Eviction")).isTrue();
        assertThat(SERVICE.isBuiltinKind("stable.example.com", "v1", "CronTab")).isFalse();
        ObjectNode scale = yaml("{apiVersion: autoscaling/v1, kind: Scale, metadata: {name: d}, spec: {replicas: 3, replica: 1}}");
        assertThat(SERVICE.pruneUnknownFields("autoscaling", "v1", "Scale", scale)).containsExactly("spec.replica");
        assertThatThrownBy(() -> SERVICE.pruneUnknownFields("stable.example.com", "v1", "CronTab", Json.object()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("server-side apply's spelling: associative list items by key, atomic lists by index")
    void applyPaths() {
        ObjectNode d = yaml("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  template:
                    spec:
                      containers:
                      - name: a
                        imagePullPolice: Always
                        ports: [{containerPort: 80, protocol: TCP, hostport: 1}]
                        args: [x]
                      tolerations: [{key: k, effectt: NoSchedule}]
                  foo: 1
                """);
        assertThat(SERVICE.undeclaredApplyFields("apps", "v1", "Deployment", d)).containsExactly(
                ".spec.template.spec.containers[name=\"a\"].imagePullPolice",
                ".spec.template.spec.containers[name=\"a\"].ports[containerPort=80,protocol=\"TCP\"].hostport",
                ".spec.template.spec.tolerations[0].effectt",
                ".spec.foo");
        assertThat(d.at("/spec/foo").asInt()).isEqualTo(1);
    }
}
