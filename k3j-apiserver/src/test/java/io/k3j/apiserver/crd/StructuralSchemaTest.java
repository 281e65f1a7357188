package io.k3j.apiserver.crd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.ApiException.Cause;
import io.k3j.api.Json;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Golden tests built from the CronTab CustomResourceDefinition of the Kubernetes docs ("Extend the Kubernetes API
 * with CustomResourceDefinitions"); expected texts are what kube-apiserver returns for the same input.
 */
class StructuralSchemaTest {
    private static final String P = "spec.versions[0].schema.openAPIV3Schema";

    /** The docs' CronTab schema with validation and defaulting. */
    private static final String CRONTAB = """
            type: object
            properties:
              spec:
                type: object
                properties:
                  cronSpec:
                    type: string
                    pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'
                    default: "5 0 * * *"
                  image:
                    type: string
                  replicas:
                    type: integer
                    minimum: 1
                    maximum: 10
                    default: 1
            """;

    private static JsonNode yaml(String s) {
        return readYaml(s);
    }

    private static ObjectNode obj(String s) {
        return (ObjectNode) yaml(s);
    }

    private static List<String> render(List<Cause> causes) {
        return causes.stream().map(Cause::render).toList();
    }

    private static ObjectNode cronTab(String spec) {
        return obj("""
                apiVersion: stable.example.com/v1
                kind: CronTab
                metadata:
                  name: my-new-cron-object
                spec:
                """ + spec.indent(2));
    }

    @Test
    @DisplayName("the docs' CronTab schema is structural and accepted")
    void cronTabSchemaIsAccepted() {
        assertThat(StructuralSchema.check(yaml(CRONTAB), P, false)).isEmpty();
        assertThat(StructuralSchema.check(yaml(CRONTAB), P, true)).isEmpty();
    }

    @Test
    @DisplayName("the docs' invalid CronTab is rejected with pattern and maximum errors")
    void cronTabValidation() {
        StructuralSchema schema = StructuralSchema.from(yaml(CRONTAB));
        ObjectNode cr = cronTab("""
                cronSpec: "* * * *"
                image: my-awesome-cron-image
                replicas: 15
                """);
        assertThat(render(schema.validate(cr))).containsExactly(
                "spec.cronSpec: Invalid value: \"* * * *\": spec.cronSpec in body should match "
                        + "'^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'",
                "spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10");
        assertThat(schema.validate(cr).get(1).reason()).isEqualTo("FieldValueInvalid");

        ObjectNode ok = cronTab("""
                cronSpec: "* * * * */5"
                image: my-awesome-cron-image
                replicas: 5
                """);
        assertThat(schema.validate(ok)).isEmpty();
    }

    @Test
    @DisplayName("type errors name the type of the value sent")
    void typeErrors() {
        StructuralSchema schema = StructuralSchema.from(yaml(CRONTAB));
        List<Cause> causes = schema.validate(cronTab("""
                replicas: "string"
                image: 5
                """));
        assertThat(render(causes)).containsExactly(
                "spec.image: Invalid value: \"integer\": spec.image in body must be of type string: \"integer\"",
                "spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"");
        assertThat(causes.get(0).reason()).isEqualTo("FieldValueTypeInvalid");
        assertThat(causes.get(0).field()).isEqualTo("spec.image");
    }

    @Test
    @DisplayName("defaulting fills cronSpec and replicas, keeps what was sent")
    void defaulting() {
        StructuralSchema schema = StructuralSchema.from(yaml(CRONTAB));
        ObjectNode cr = cronTab("""
                image: my-awesome-cron-image
                """);
        schema.prune(cr);
        schema.applyDefaults(cr);
        assertThat(cr.get("spec")).isEqualTo(yaml("""
                image: my-awesome-cron-image
                cronSpec: "5 0 * * *"
                replicas: 1
                """));

        ObjectNode sent = cronTab("""
                cronSpec: "* * * * */5"
                replicas: 3
                """);
        schema.applyDefaults(sent);
        assertThat(sent.path("spec").path("replicas").asInt()).isEqualTo(3);
        assertThat(sent.path("spec").path("cronSpec").asText()).isEqualTo("* * * * */5");
    }

    @Test
    @DisplayName("pruning drops someRandomField and reports it as Strict/Warn would")
    void pruning() {
        StructuralSchema schema = StructuralSchema.from(yaml(CRONTAB));
        ObjectNode cr = cronTab("""
                cronSpec: "* * * * */5"
                image: my-awesome-cron-image
                someRandomField: 42
                """);
        cr.put("status", "x");
        ((ObjectNode) cr.get("metadata")).put("bogus", true);
        assertThat(schema.unknownFields(cr)).containsExactly("metadata.bogus", "spec.someRandomField", "status");
        assertThat(cr.path("spec").has("someRandomField")).as("unknownFields does not modify").isTrue();

        List<String> pruned = schema.prune(cr);
        assertThat(pruned).containsExactly("metadata.bogus", "spec.someRandomField", "status");
        assertThat(cr).isEqualTo(cronTab("""
                cronSpec: "* * * * */5"
                image: my-awesome-cron-image
                """));
    }

    @Test
    @DisplayName("x-kubernetes-preserve-unknown-fields keeps unknown fields, nested properties are still pruned")
    void preserveUnknownFields() {
        StructuralSchema schema = StructuralSchema.from(yaml("""
                type: object
                properties:
                  spec:
                    type: object
                    x-kubernetes-preserve-unknown-fields: true
                    properties:
                      json:
                        type: object
                        properties:
                          a:
                            type: string
                """));
        ObjectNode cr = cronTab("""
                anything: {goes: [1, 2]}
                json:
                  a: x
                  b: pruned
                """);
        assertThat(schema.prune(cr)).containsExactly("spec.json.b");
        assertThat(cr.get("spec")).isEqualTo(yaml("""
                anything: {goes: [1, 2]}
                json: {a: x}
                """));
    }

    @Test
    @DisplayName("embedded resources keep apiVersion, kind and metadata and must name them")
    void embeddedResource() {
        StructuralSchema schema = StructuralSchema.from(yaml("""
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      template:
                        type: object
                        x-kubernetes-embedded-resource: true
                        properties:
                          spec:
                            type: object
                            properties:
                              x: {type: string}
                """));
        ObjectNode cr = cronTab("""
                template:
                  kind: Pod
                  metadata: {name: p, unknownMeta: 1}
                  spec: {x: a, y: b}
                  extra: 1
                """);
        assertThat(schema.prune(cr)).containsExactly("spec.template.extra", "spec.template.spec.y",
                "spec.template.metadata.unknownMeta");
        assertThat(cr.at("/spec/template")).isEqualTo(yaml("{kind: Pod, metadata: {name: p}, spec: {x: a}}"));
        assertThat(render(schema.validate(cr))).containsExactly("spec.template.apiVersion: Required value");
    }

    @Test
    @DisplayName("x-kubernetes-int-or-string takes integers and strings only")
    void intOrString() {
        String intOrString = """
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      port:
                        x-kubernetes-int-or-string: true
                        anyOf: [{type: integer}, {type: string}]
                """;
        assertThat(StructuralSchema.check(yaml(intOrString), P, false)).isEmpty();
        StructuralSchema schema = StructuralSchema.from(yaml(intOrString));
        assertThat(schema.validate(cronTab("port: 8080"))).isEmpty();
        assertThat(schema.validate(cronTab("port: http"))).isEmpty();
        assertThat(render(schema.validate(cronTab("port: true")))).containsExactly(
                "spec.port: Invalid value: \"boolean\": spec.port in body must be of type integer,string: \"boolean\"",
                "Invalid value: \"\": \"spec.port\" must validate at least one schema (anyOf)",
                "spec.port: Invalid value: \"boolean\": spec.port in body must be of type integer: \"boolean\"");
    }

    @Test
    @DisplayName("x-kubernetes-list-type set and map reject duplicates with Duplicate value")
    void listTypes() {
        StructuralSchema schema = StructuralSchema.from(yaml("""
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      tags:
                        type: array
                        x-kubernetes-list-type: set
                        items: {type: string}
                      ports:
                        type: array
                        x-kubernetes-list-type: map
                        x-kubernetes-list-map-keys: [name]
                        items:
                          type: object
                          required: [name]
                          properties:
                            name: {type: string}
                            port: {type: integer}
                """));
        List<Cause> causes = schema.validate(cronTab("""
                tags: [a, b, a, a]
                ports:
                - {name: http, port: 80}
                - {name: https, port: 443}
                - {name: http, port: 8080}
                """));
        assertThat(render(causes)).containsExactly(
                "spec.tags[2]: Duplicate value: \"a\"",
                "spec.ports[2]: Duplicate value: {\"name\":\"http\"}");
        assertThat(causes.get(0).reason()).isEqualTo("FieldValueDuplicate");
    }

    @Test
    @DisplayName("nullable: non-nullable nulls are pruned or defaulted, nullable nulls stay")
    void nullable() {
        StructuralSchema schema = StructuralSchema.from(yaml("""
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      foo:
                        type: string
                        nullable: false
                        default: "default"
                      bar:
                        type: string
                        nullable: true
                      baz:
                        type: string
                """));
        ObjectNode cr = cronTab("{foo: null, bar: null, baz: null}");
        schema.prune(cr);
        schema.applyDefaults(cr);
        assertThat(cr.get("spec")).isEqualTo(yaml("{foo: default, bar: null}"));
        assertThat(schema.validate(cr)).isEmpty();

        ObjectNode notPruned = cronTab("{baz: null}");
        assertThat(render(schema.validate(notPruned))).containsExactly(
                "spec.baz: Invalid value: \"null\": spec.baz in body must be of type string: \"null\"");
    }

    @Test
    @DisplayName("required, enum, lengths, items, properties and formats give kube-apiserver's messages")
    void keywordMessages() {
        StructuralSchema schema = StructuralSchema.from(yaml("""
                type: object
                required: [spec]
                properties:
                  spec:
                    type: object
                    required: [foo]
                    properties:
                      foo: {type: string}
                      kind: {type: string, enum: [a, b]}
                      name: {type: string, maxLength: 3, minLength: 2}
                      list: {type: array, maxItems: 1, minItems: 0, items: {type: integer, format: int32}}
                      labels:
                        type: object
                        maxProperties: 1
                        additionalProperties: {type: string}
                      when: {type: string, format: date-time}
                      ratio: {type: number, multipleOf: 0.5, exclusiveMinimum: true, minimum: 0}
                      count: {type: integer, multipleOf: 3}
                """));
        assertThat(render(schema.validate(obj("{apiVersion: v1, kind: X}")))).containsExactly("spec: Required value");
        List<Cause> causes = schema.validate(cronTab("""
                kind: x
                name: abcd
                list: [1, 3000000000]
                labels: {a: x, b: 1}
                when: yesterday
                ratio: 0
                count: 4
                """));
        assertThat(render(causes)).containsExactlyInAnyOrder(
                "spec.kind: Unsupported value: \"x\": supported values: \"a\", \"b\"",
                "spec.name: Too long: may not be more than 3 bytes",
                "Invalid value: \"\": Checked value must be of type integer with format int32 in spec.list[1]",
                "spec.list: Too many: 2: must have at most 1 item",
                "spec.labels: Too many: 2: must have at most 1 item",
                "spec.labels.b: Invalid value: \"integer\": spec.labels.b in body must be of type string: \"integer\"",
                "spec.when: Invalid value: \"yesterday\": spec.when in body must be of type date-time: \"yesterday\"",
                // kube-openapi truncates a fractional multipleOf to int64 for an integer value: a real quirk
                "spec.ratio: Invalid value: 0: factor MultipleOf declared for spec.ratio must be positive: 0",
                "spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0",
                "spec.count: Invalid value: 4: spec.count in body should be a multiple of 3",
                "spec.foo: Required value");
        assertThat(render(schema.validate(cronTab("{foo: x, name: a, when: '2024-01-02T03:04:05Z'}")))).containsExactly(
                "spec.name: Invalid value: \"a\": spec.name in body should be at least 2 chars long");
    }

    @Test
    @DisplayName("a schema that is not structural is rejected with the docs' reasons, sorted like kube-apiserver")
    void nonStructural() {
        List<Cause> causes = StructuralSchema.check(yaml("""
                properties:
                  foo:
                    pattern: "abc"
                  metadata:
                    type: object
                    properties:
                      name:
                        type: string
                        pattern: "^a"
                      finalizers:
                        type: array
                        items:
                          type: string
                          pattern: "my-finalizer"
                anyOf:
                - properties:
                    bar:
                      type: integer
                      minimum: 42
                  required: ["bar"]
                  description: "foo bar object"
                """), P, false);
        assertThat(render(causes)).containsExactly(
                P + ".anyOf[0].description: Forbidden: must be empty to be structural",
                P + ".anyOf[0].properties[bar].type: Forbidden: must be empty to be structural",
                P + ".properties[bar]: Required value: because it is defined in " + P + ".anyOf[0].properties[bar]",
                P + ".properties[foo].type: Required value: must not be empty for specified object fields",
                P + ".properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified",
                P + ".type: Required value: must not be empty at the root");
    }

    @Test
    @DisplayName("CRD-level schema rules: additionalProperties with properties, bad defaults, list-map keys")
    void crdSchemaRules() {
        List<Cause> causes = StructuralSchema.check(yaml("""
                type: object
                properties:
                  metadata:
                    type: object
                    default: {name: x}
                  spec:
                    type: object
                    additionalProperties: {type: string}
                    properties:
                      replicas: {type: integer, default: "one"}
                      ports:
                        type: array
                        x-kubernetes-list-type: map
                        x-kubernetes-list-map-keys: [name]
                        items:
                          type: object
                          properties:
                            name: {type: string}
                      mode: {type: string, x-kubernetes-list-type: set}
                """), P, false);
        assertThat(render(causes)).containsExactly(
                P + ".properties[spec].properties[replicas].default: Invalid value: \"string\":  in body must be of type integer: \"string\"",
                P + ".properties[metadata].default: Forbidden: must not be set in top-level metadata",
                P + ".properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive",
                P + ".properties[spec].properties[ports].items.properties[name].default: Required value: this property is in "
                        + "x-kubernetes-list-map-keys, so it must have a default or be a required property",
                P + ".properties[spec].properties[mode].type: Invalid value: \"string\": must be array if x-kubernetes-list-type is specified");
    }

    @Test
    @DisplayName("fromChecked fails a bad CRD with 422 Invalid")
    void fromChecked() {
        assertThatThrownBy(() -> StructuralSchema.fromChecked(yaml("{type: object, properties: {spec: {}}}"), P, false,
                "crontabs.stable.example.com"))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.code()).isEqualTo(422);
                    assertThat(e.getMessage()).isEqualTo("CustomResourceDefinition.apiextensions.k8s.io \"crontabs.stable.example.com\" "
                            + "is invalid: " + P + ".properties[spec].type: Required value: must not be empty for specified object fields");
                });
    }

    @Test
    @DisplayName("status subresource validation checks only status, rooted at status")
    void statusValidation() {
        StructuralSchema schema = StructuralSchema.from(yaml("""
                type: object
                properties:
                  spec: {type: object, properties: {replicas: {type: integer, maximum: 1}}}
                  status: {type: object, properties: {replicas: {type: integer, minimum: 0}}}
                """));
        ObjectNode cr = obj("{spec: {replicas: 5}, status: {replicas: -1}}");
        assertThat(render(schema.validateStatus(cr))).containsExactly(
                "status.replicas: Invalid value: -1: replicas in body should be greater than or equal to 0");
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
