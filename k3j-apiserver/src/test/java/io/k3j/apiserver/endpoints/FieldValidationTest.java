package io.k3j.apiserver.endpoints;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.testing.TestServers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fieldValidation (KEP-2885) on a real in-process server: the status codes, messages and Warning headers are
 * kube-apiserver's (handlers/create.go, update.go, patch.go; sigs.k8s.io/json error texts).
 */
class FieldValidationTest {
    @TempDir static Path dir;
    private static ControlPlane cp;
    private static HttpClient http;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        cp = TestServers.start(dir);
        base = "https://127.0.0.1:" + cp.port();
        http = HttpClient.newBuilder().sslContext(TestServers.adminTls(cp)).build();
    }

    @AfterAll
    static void stop() {
        if (cp != null) cp.close();
    }

    record Answer(int code, JsonNode body, List<String> warnings) {
        String message() {
            return body.path("message").asText();
        }
    }

    static Answer call(String method, String path, String contentType, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).header("Accept", "application/json");
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", contentType).method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Answer(r.statusCode(), Json.parse(r.body()), r.headers().allValues("Warning"));
    }

    private static final String DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments";

    static String deployment(String name, String extraSpec, String extraContainer) {
        return """
                {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"%s"},
                 "spec":{"replicas":1,%s"selector":{"matchLabels":{"app":"x"}},
                  "template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"nginx"%s}]}}}}"""
                .formatted(name, extraSpec, extraContainer);
    }

    @Nested
    @DisplayName("create")
    class Create {
        @Test
        @DisplayName("Strict: 400 naming every unknown and duplicate field in document order; nothing is created")
        void strict() throws Exception {
            Answer a = call("POST", DEPLOYMENTS + "?fieldValidation=Strict", "application/json",
                    deployment("strict", "\"foo\":1,\"replicas\":2,", ",\"imagePullPolice\":\"Always\""));
            assertThat(a.code()).isEqualTo(400);
            assertThat(a.body().path("reason").asText()).isEqualTo("BadRequest");
            assertThat(a.message()).isEqualTo("Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: "
                    + "unknown field \"spec.foo\", duplicate field \"spec.replicas\", "
                    + "unknown field \"spec.template.spec.containers[0].imagePullPolice\"");
            assertThat(call("GET", DEPLOYMENTS + "/strict", null, null).code()).isEqualTo(404);
        }

        @Test
        @DisplayName("Warn (the default): created without the unknown fields, one Warning per field")
        void warn() throws Exception {
            Answer a = call("POST", DEPLOYMENTS, "application/json",
                    deployment("warn", "\"foo\":1,", ",\"imagePullPolice\":\"Always\""));
            assertThat(a.code()).isEqualTo(201);
            assertThat(a.warnings()).hasSize(1);
            assertThat(a.warnings().get(0)).isEqualTo("299 - \"unknown field \\\"spec.foo\\\"\", "
                    + "299 - \"unknown field \\\"spec.template.spec.containers[0].imagePullPolice\\\"\"");
            JsonNode stored = call("GET", DEPLOYMENTS + "/warn", null, null).body();
            assertThat(stored.path("spec").has("foo")).isFalse();
            assertThat(stored.at("/spec/template/spec/containers/0").has("imagePullPolice")).isFalse();
            assertThat(stored.at("/spec/template/spec/containers/0/image").asText()).isEqualTo("nginx");
        }

        @Test
        @DisplayName("Ignore: created without the unknown fields, silently")
        void ignore() throws Exception {
            Answer a = call("POST", DEPLOYMENTS + "?fieldValidation=Ignore", "application/json", deployment("ignore", "\"foo\":1,", ""));
            assertThat(a.code()).isEqualTo(201);
            assertThat(a.warnings()).isEmpty();
            assertThat(a.body().path("spec").has("foo")).isFalse();
        }

        @Test
        @DisplayName("YAML bodies: duplicate keys as go-yaml reports them, by line")
        void yaml() throws Exception {
            String body = """
                    apiVersion: v1
                    kind: ConfigMap
                    metadata:
                      name: y
                    data:
                      a: "1"
                      a: "2"
                    extra: true
                    """;
            Answer strict = call("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", "application/yaml", body);
            assertThat(strict.code()).isEqualTo(400);
            assertThat(strict.message()).isEqualTo("ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: "
                    + "yaml: unmarshal errors:\n  line 7: key \"a\" already set in map, unknown field \"extra\"");
            Answer warn = call("POST", "/api/v1/namespaces/default/configmaps", "application/yaml", body);
            assertThat(warn.code()).isEqualTo(201);
            assertThat(warn.warnings()).containsExactly("299 - \"line 7: key \\\"a\\\" already set in map\", 299 - \"unknown field \\\"extra\\\"\"");
        }

        @Test
        @DisplayName("an unknown fieldValidation value is refused")
        void badDirective() throws Exception {
            Answer a = call("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Loud", "application/json",
                    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"loud\"}}");
            assertThat(a.code()).isEqualTo(400);
        }
    }

    @Nested
    @DisplayName("update")
    class Update {
        @Test
        @DisplayName("PUT: Strict 400 with kube's create/update text; Warn updates and warns")
        void put() throws Exception {
            Answer created = call("POST", DEPLOYMENTS, "application/json", deployment("put", "", ""));
            assertThat(created.code()).isEqualTo(201);
            String body = deployment("put", "\"paused\":true,\"bogus\":{\"x\":1},", "");
            Answer strict = call("PUT", DEPLOYMENTS + "/put?fieldValidation=Strict", "application/json", body);
            assertThat(strict.code()).isEqualTo(400);
            assertThat(strict.message()).isEqualTo("Deployment in version \"v1\" cannot be handled as a Deployment: "
                    + "strict decoding error: unknown field \"spec.bogus\"");

            String rv = created.body().at("/metadata/resourceVersion").asText();
            Answer warn = call("PUT", DEPLOYMENTS + "/put", "application/json",
                    body.replace("\"name\":\"put\"", "\"name\":\"put\",\"resourceVersion\":\"" + rv + "\""));
            assertThat(warn.code()).as(warn.body().toString()).isEqualTo(200);
            assertThat(warn.warnings()).containsExactly("299 - \"unknown field \\\"spec.bogus\\\"\"");
            assertThat(warn.body().at("/spec/paused").asBoolean()).isTrue();
            assertThat(warn.body().path("spec").has("bogus")).isFalse();
        }
    }

    @Nested
    @DisplayName("patch")
    class Patch {
        @Test
        @DisplayName("merge patch: Strict 422 with the patched object (sorted keys) as the invalid value; Warn drops and warns")
        void merge() throws Exception {
            call("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"m\"},\"data\":{\"k\":\"v\"}}");
            String path = "/api/v1/namespaces/default/configmaps/m";
            Answer strict = call("PATCH", path + "?fieldValidation=Strict", "application/merge-patch+json", "{\"zeta\":1,\"alpha\":{\"b\":2},\"data\":{\"k\":\"w\"}}");
            assertThat(strict.code()).isEqualTo(422);
            assertThat(strict.body().path("reason").asText()).isEqualTo("Invalid");
            assertThat(strict.message()).startsWith(" \"\" is invalid: patch: Invalid value: \"{\\\"alpha\\\":{\\\"b\\\":2},\\\"apiVersion\\\":\\\"v1\\\",\\\"data\\\":{\\\"k\\\":\\\"w\\\"}");
            assertThat(strict.message()).endsWith("\": strict decoding error: unknown field \"alpha\", unknown field \"zeta\"");
            JsonNode cause = strict.body().at("/details/causes/0");
            assertThat(cause.path("field").asText()).isEqualTo("patch");
            assertThat(cause.path("reason").asText()).isEqualTo("FieldValueInvalid");

            Answer warn = call("PATCH", path, "application/merge-patch+json", "{\"zeta\":1,\"data\":{\"k\":\"w\"}}");
            assertThat(warn.code()).isEqualTo(200);
            assertThat(warn.warnings()).containsExactly("299 - \"unknown field \\\"zeta\\\"\"");
            assertThat(warn.body().has("zeta")).isFalse();
            assertThat(warn.body().at("/data/k").asText()).isEqualTo("w");

            Answer dup = call("PATCH", path + "?fieldValidation=Strict", "application/merge-patch+json", "{\"data\":{\"k\":\"1\",\"k\":\"2\"}}");
            assertThat(dup.code()).isEqualTo(422);
            assertThat(dup.message()).endsWith("strict decoding error: duplicate field \"data.k\"");
        }

        @Test
        @DisplayName("strategic merge patch: Strict 422 with Go's %+v of the patch and the errors sorted")
        void strategic() throws Exception {
            call("POST", DEPLOYMENTS, "application/json", deployment("smp", "", ""));
            Answer strict = call("PATCH", DEPLOYMENTS + "/smp?fieldValidation=Strict", "application/strategic-merge-patch+json",
                    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"imagePullPolice\":\"Always\"}]}},\"foo\":\"bar\"}}");
            assertThat(strict.code()).isEqualTo(422);
            assertThat(strict.message()).isEqualTo(" \"\" is invalid: patch: Invalid value: "
                    + "\"map[spec:map[foo:bar template:map[spec:map[containers:[map[imagePullPolice:Always name:c]]]]]]\": "
                    + "strict decoding error: unknown field \"spec.foo\", unknown field \"spec.template.spec.containers[0].imagePullPolice\"");
            Answer ignore = call("PATCH", DEPLOYMENTS + "/smp?fieldValidation=Ignore", "application/strategic-merge-patch+json",
                    "{\"spec\":{\"foo\":\"bar\",\"paused\":true}}");
            assertThat(ignore.code()).isEqualTo(200);
            assertThat(ignore.warnings()).isEmpty();
            assertThat(ignore.body().path("spec").has("foo")).isFalse();
            assertThat(ignore.body().at("/spec/paused").asBoolean()).isTrue();
        }

        @Test
        @DisplayName("JSON patch: unknown fields of the result, and the patch's own op fields as 'json patch ...'")
        void jsonPatch() throws Exception {
            call("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"j\"}}");
            Answer warn = call("PATCH", "/api/v1/namespaces/default/configmaps/j", "application/json-patch+json",
                    "[{\"op\":\"add\",\"path\":\"/extra\",\"value\":1,\"bogus\":true}]");
            assertThat(warn.code()).isEqualTo(200);
            assertThat(warn.warnings()).containsExactly("299 - \"json patch unknown field \\\"[0].bogus\\\"\", 299 - \"unknown field \\\"extra\\\"\"");
            assertThat(warn.body().has("extra")).isFalse();
        }
    }

    @Nested
    @DisplayName("server-side apply")
    class Apply {
        @Test
        @DisplayName("undeclared fields fail whatever fieldValidation says, with structured-merge-diff's paths (400: kube-apiserver answers 500, but a client mistake must not be one)")
        void undeclared() throws Exception {
            Answer a = call("PATCH", DEPLOYMENTS + "/ssa?fieldManager=t&fieldValidation=Ignore", "application/apply-patch+yaml",
                    deployment("ssa", "", ",\"imagePullPolice\":\"Always\"").replace("\"metadata\":{\"name\":\"ssa\"}",
                            "\"metadata\":{\"name\":\"ssa\",\"namespace\":\"default\"}"));
            assertThat(a.code()).isEqualTo(400);
            assertThat(a.message()).isEqualTo("failed to create typed patch object (default/ssa; apps/v1, Kind=Deployment): "
                    + ".spec.template.spec.containers[name=\"c\"].imagePullPolice: field not declared in schema");
        }

        @Test
        @DisplayName("duplicate keys: Strict 400 'error strict decoding patch', Warn applies and warns by line")
        void duplicates() throws Exception {
            String body = """
                    apiVersion: v1
                    kind: ConfigMap
                    metadata:
                      name: ssa-dup
                    data:
                      a: "1"
                      a: "2"
                    """;
            String path = "/api/v1/namespaces/default/configmaps/ssa-dup?fieldManager=t";
            Answer strict = call("PATCH", path + "&fieldValidation=Strict", "application/apply-patch+yaml", body);
            assertThat(strict.code()).isEqualTo(400);
            assertThat(strict.message()).isEqualTo("error strict decoding patch: error converting YAML to JSON: yaml: unmarshal errors:\n"
                    + "  line 7: key \"a\" already set in map");
            Answer warn = call("PATCH", path, "application/apply-patch+yaml", body);
            assertThat(warn.code()).isEqualTo(201);
            assertThat(warn.warnings()).containsExactly("299 - \"line 7: key \\\"a\\\" already set in map\"");
        }
    }
}
